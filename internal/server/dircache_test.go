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
// token revoked on node 1 is refused on node 2, and a number's throughput
// raised on node 1 shows on node 2.
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
	type numberJSON struct {
		Throughput struct {
			Level string `json:"level"`
		} `json:"throughput"`
		Error struct {
			Code int    `json:"code"`
			Type string `json:"type"`
		} `json:"error"`
	}
	get := func(n *kontortest.Process) (int, numberJSON) {
		t.Helper()
		var out numberJSON
		code := kontortest.Call(t, n.URL, http.MethodGet, "/v21.0/"+biz.Number, tok.Token, nil, &out)
		return code, out
	}
	// Node 2 reads (and caches) the token and the number.
	for range 2 {
		if code, out := get(n2); code != 200 || out.Throughput.Level != "STANDARD" {
			t.Fatalf("node 2 before the changes: %d %+v", code, out)
		}
	}
	// until polls node 2 until ok: the hint crosses the bus asynchronously.
	until := func(what string, ok func(int, numberJSON) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, out := get(n2)
			if ok(code, out) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node 2 never saw %s: %d %+v", what, code, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
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
