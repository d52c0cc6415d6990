package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/netguard"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// TestDialGuard: with the platform's guard as Dial, a webhook URL on a
// network the operator did not allow fails its attempt (retried, a dead
// letter in the end) without reaching the receiver; with the network
// allowed it is delivered.
func TestDialGuard(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, tc := range []struct {
		name, allow string
		delivered   bool
	}{
		{"public only", "", false},
		{"loopback allowed", "127.0.0.0/8", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			nets, err := netguard.ParseNetworks(tc.allow)
			if err != nil {
				t.Fatal(err)
			}
			db := openDB(t, "sqlite:"+t.TempDir()+"/kontor.db")
			d := start(t, webhook.Config{Dial: netguard.New(nets).DialContext, MaxAge: time.Hour}, db, newSecrets(1, "s"), newClock())
			if err := d.Enqueue(t.Context(), []webhook.Event{event("e1", srv.URL+"/hook")}); err != nil {
				t.Fatal(err)
			}
			dl := settled(t, db, 1, "e1", 1)
			if tc.delivered {
				if dl.State != webhook.Delivered || hits.Load() != 1 {
					t.Fatalf("state %v, response %q, %d hits; want delivered", dl.State, dl.LastResponse, hits.Load())
				}
				return
			}
			if dl.State != webhook.Pending || dl.LastStatus != 0 || !strings.Contains(dl.LastResponse, "not a public address") || hits.Load() != 0 {
				t.Fatalf("state %v, status %d, response %q, %d hits; want a refused attempt", dl.State, dl.LastStatus, dl.LastResponse, hits.Load())
			}
		})
	}
}
