package bizapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestOperatorChangesApplyAtOnce: the node caches the token, the number
// and the business that every messages call reads (store/dircache.go),
// yet what an operator changes applies to the very next call: a revoked
// token is refused with the public 190, a new webhook URL gets the next
// status, a new throughput limits (or frees) the next send.
func TestOperatorChangesApplyAtOnce(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		first, second := newReceiver(t), newReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930333333", "webhook_url": first.srv.URL}, first, second)
		waba, number, token := biz.WABA, biz.Number, biz.Token
		ann := newPerson(ctx, t, s, "+4915100000011")
		if _, err := ann.c.Send(ctx, "+4930333333", wire.Content{V: 1, Type: wire.ContentText, Text: "hallo"}); err != nil {
			t.Fatal(err)
		}
		first.wait("Ann's message", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 })
		send := func(what, tok string, wantCode int) string {
			t.Helper()
			msg := map[string]any{"messaging_product": "whatsapp", "to": "4915100000011", "text": map[string]any{"body": what}}
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, msg)
			if wantCode == 0 {
				if code != http.StatusOK {
					t.Fatalf("%s: HTTP %d %v", what, code, out)
				}
				ms, _ := out["messages"].([]any)
				m, _ := ms[0].(map[string]any)
				return m["id"].(string)
			}
			if errCode(out) != wantCode {
				t.Fatalf("%s: HTTP %d %v, want code %d", what, code, out, wantCode)
			}
			return ""
		}

		// A second token, used (so the node has it cached), then revoked.
		var tok struct {
			ID    string `json:"id"`
			Token string `json:"access_token"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/tokens", s.Token, map[string]any{"business_id": waba, "scopes": "messaging"}, &tok); code != 200 {
			t.Fatalf("create token: %d", code)
		}
		send("with the second token", tok.Token, 0)
		send("again", tok.Token, 0)
		if code := s.Call(t, http.MethodDelete, "/admin/v1/tokens/"+tok.ID, s.Token, nil, nil); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		msg := map[string]any{"messaging_product": "whatsapp", "to": "4915100000011", "text": map[string]any{"body": "revoked"}}
		code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok.Token, msg)
		e, _ := out["error"].(map[string]any)
		if code != http.StatusUnauthorized || errCode(out) != cloudapi.CodeAccessToken || e["type"] != "OAuthException" {
			t.Fatalf("the revoked token's next call: HTTP %d %v", code, out)
		}
		send("the first token still works", token, 0)

		// A new webhook URL gets the next message's status.
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+waba+"/webhook", s.Token, map[string]any{"webhook_url": second.srv.URL}, nil); code != 200 {
			t.Fatalf("set webhook: %d", code)
		}
		id := send("to the new URL", token, 0)
		second.wait("the sent status at the new URL", statusOf(id, "sent"))

		// Throughput: 1 a second refuses the next send in the same second;
		// raised again, the next send goes.
		if code := s.Call(t, http.MethodPost, "/admin/v1/numbers/"+number, s.Token, map[string]any{"mps": 1}, nil); code != 200 {
			t.Fatalf("set mps: %d", code)
		}
		send("at 1/s", token, 0)
		send("the second in the second", token, cloudapi.CodeThroughput)
		if code := s.Call(t, http.MethodPost, "/admin/v1/numbers/"+number, s.Token, map[string]any{"mps": 1000}, nil); code != 200 {
			t.Fatalf("set mps: %d", code)
		}
		send("at 1000/s", token, 0)
	})
}
