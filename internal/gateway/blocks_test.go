package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestBlock: a number Ben blocked reaches none of his devices, without
// being told; once unblocked, its next message arrives.
func TestBlock(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		annCred, benCred := s.Account(t, ann).Credential, s.Account(t, ben).Credential
		a := kontortest.Dial(t, s.WS, annCred)
		b := kontortest.Dial(t, s.WS, benCred)
		if code := s.Call(t, http.MethodPut, "/v1/blocks/"+ann, benCred, nil, nil); code != http.StatusNoContent {
			t.Fatalf("block: %d", code)
		}
		var list wire.BlocksResponse
		if code := s.Call(t, http.MethodGet, "/v1/blocks", benCred, nil, &list); code != 200 || len(list.Blocked) != 1 || list.Blocked[0] != ann {
			t.Fatalf("blocks: %d %+v", code, list)
		}
		if sent := a.Text("r1", ben, []int{1}, "are you there?"); sent.Type != wire.TSent {
			t.Fatalf("send to someone who blocked me: %+v", sent)
		}
		if f, err := b.NextWithin(500 * time.Millisecond); err == nil {
			t.Fatalf("Ben got a frame from a number he blocked: %+v", f)
		}
		// (A read that timed out closes the connection: Ben connects again,
		// and nothing of the blocked message waits in his queue either.)
		b = kontortest.Dial(t, s.WS, benCred)
		if code := s.Call(t, http.MethodDelete, "/v1/blocks/"+ann, benCred, nil, nil); code != http.StatusNoContent {
			t.Fatalf("unblock: %d", code)
		}
		// The block is gone at once (the routers' caches hear of it), and the
		// first thing Ben gets is the message sent after it.
		a.Text("r2", ben, []int{1}, "now?")
		m := b.Expect(wire.TMsg)
		if !strings.Contains(string(m.Body), "now?") {
			t.Fatalf("after unblocking: %+v", m)
		}
		for _, bad := range []string{"/v1/blocks/12345", "/v1/blocks/+49"} {
			if code := s.Call(t, http.MethodPut, bad, benCred, nil, nil); code != 400 {
				t.Errorf("PUT %s: %d", bad, code)
			}
		}
	})
}
