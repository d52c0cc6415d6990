package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestDirectoryChangesTwoNodes: two nodes on one PostgreSQL and one NATS,
// each caching tokens and numbers for an hour (--directory-cache 1h), so
// that only the bus's hint can make node 2 see what node 1 changed: a
// token revoked on node 1 is refused on node 2, a number's throughput
// raised on node 1 shows on node 2, and a partner's grant taken away on
// node 1 refuses the partner's token on node 2.
func TestDirectoryChangesTwoNodes(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	n1 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "1", "--directory-cache", "1h")
	n2 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "2", "--directory-cache", "1h")
	var biz struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
	}
	if code := kontortest.Call(t, n1.URL, http.MethodPost, "/admin/v1/businesses", n1.Token(), map[string]any{"name": "Blumen Anna", "phone": "+4930444444"}, &biz); code != 200 {
		t.Fatalf("create business: %d", code)
	}
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"access_token"`
	}
	if code := kontortest.Call(t, n1.URL, http.MethodPost, "/admin/v1/tokens", n1.Token(), map[string]any{"business_id": biz.WABA, "scopes": "messaging,management"}, &tok); code != 200 {
		t.Fatalf("create token: %d", code)
	}
	var partner struct {
		ID string `json:"partner_id"`
	}
	var ptok struct {
		Token string `json:"access_token"`
	}
	if code := kontortest.Call(t, n1.URL, http.MethodPost, "/admin/v1/partners", n1.Token(), map[string]any{"name": "Agentur"}, &partner); code != 200 {
		t.Fatalf("create partner: %d", code)
	}
	if code := kontortest.Call(t, n1.URL, http.MethodPost, "/admin/v1/partners/"+partner.ID+"/grants", n1.Token(), map[string]any{"business_id": biz.WABA}, nil); code != 200 {
		t.Fatalf("grant: %d", code)
	}
	if code := kontortest.Call(t, n1.URL, http.MethodPost, "/admin/v1/tokens", n1.Token(), map[string]any{"partner_id": partner.ID, "scopes": "messaging,management"}, &ptok); code != 200 {
		t.Fatalf("create partner token: %d", code)
	}
	type numberJSON struct {
		Throughput struct {
			Level string `json:"level"`
		} `json:"throughput"`
		Error struct {
			Code int    `json:"code"`
			Type string `json:"type"`
		} `json:"error"`
	}
	getWith := func(n *kontortest.Process, token string) (int, numberJSON) {
		t.Helper()
		var out numberJSON
		code := kontortest.Call(t, n.URL, http.MethodGet, "/v21.0/"+biz.Number, token, nil, &out)
		return code, out
	}
	get := func(n *kontortest.Process) (int, numberJSON) { return getWith(n, tok.Token) }
	// Node 2 reads (and caches) the tokens, the number and the grant.
	for range 2 {
		if code, out := get(n2); code != 200 || out.Throughput.Level != "STANDARD" {
			t.Fatalf("node 2 before the changes: %d %+v", code, out)
		}
		if code, out := getWith(n2, ptok.Token); code != 200 {
			t.Fatalf("node 2 with the partner's token before the changes: %d %+v", code, out)
		}
	}
	// until polls node 2 with token until ok: the hint crosses the bus
	// asynchronously.
	untilWith := func(token, what string, ok func(int, numberJSON) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, out := getWith(n2, token)
			if ok(code, out) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node 2 never saw %s: %d %+v", what, code, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	until := func(what string, ok func(int, numberJSON) bool) { t.Helper(); untilWith(tok.Token, what, ok) }
	if code := kontortest.Call(t, n1.URL, http.MethodDelete, "/admin/v1/partners/"+partner.ID+"/grants/"+biz.WABA, n1.Token(), nil, nil); code != 200 {
		t.Fatalf("ungrant on node 1: %d", code)
	}
	untilWith(ptok.Token, "the grant taken away", func(code int, _ numberJSON) bool { return code == http.StatusForbidden })
	if code := kontortest.Call(t, n1.URL, http.MethodPost, "/admin/v1/numbers/"+biz.Number, n1.Token(), map[string]any{"mps": 1000}, nil); code != 200 {
		t.Fatalf("set mps on node 1: %d", code)
	}
	until("the raised throughput", func(code int, out numberJSON) bool { return code == 200 && out.Throughput.Level == "HIGH" })
	if code := kontortest.Call(t, n1.URL, http.MethodDelete, "/admin/v1/tokens/"+tok.ID, n1.Token(), nil, nil); code != 200 {
		t.Fatalf("revoke on node 1: %d", code)
	}
	// On node 1 at once.
	if code, out := get(n1); code != http.StatusUnauthorized || out.Error.Code != 190 {
		t.Fatalf("node 1 right after the revocation: %d %+v", code, out)
	}
	until("the revocation", func(code int, out numberJSON) bool {
		return code == http.StatusUnauthorized && out.Error.Code == 190 && out.Error.Type == "OAuthException"
	})
}
