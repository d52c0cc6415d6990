package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// testRideTx: a hosted endpoint's writes for a send, added to the
// router's transaction (endpoint.WritesTx), commit with the send's queue
// entries or not at all.
func testRideTx(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930777777")
	url := "http://127.0.0.1:9/ride-" + n.ID.String()
	errBoom := errors.New("boom")
	for _, tt := range []struct {
		name string
		ret  error // what the router's fn returns after adding the writes
	}{
		{"commit", nil},
		{"rollback", errBoom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dev := e.ids.Next()
			entry := e.entry(dev, "hello "+tt.name)
			rec := endpoint.MessageRecord{Number: n.ID, ID: entry.ID, Peer: phoneA, Outgoing: true, Category: "service", Created: t0}
			in := endpoint.InboxMessage{Number: n.ID, ID: entry.ID, Peer: phoneA, Outgoing: true, Type: "text", Text: "hello",
				JSON: []byte(`{}`), At: t0, Status: endpoint.InboxSent}
			ev := webhook.Event{ID: "ride." + entry.ID.String(), App: e.ids.Next(), URL: url, Body: []byte(`{"x":1}`), Created: t0}
			w := &endpoint.TxWrites{Msgs: []endpoint.MessageRecord{rec}, Inbox: endpoint.InboxWrites{Messages: []endpoint.InboxMessage{in}},
				Hooks: []webhook.Event{ev}, Now: t0}
			err := e.db.Tx(e.ctx, func(tx router.Tx) error {
				if err := tx.Insert([]router.Entry{entry}); err != nil {
					return err
				}
				wt, ok := tx.(endpoint.WritesTx)
				if !ok {
					t.Fatalf("the store's router.Tx %T is no endpoint.WritesTx", tx)
				}
				wt.AddEndpointWrites(w)
				return tt.ret
			})
			_, recErr := e.db.Message(e.ctx, n.ID, rec.ID)
			logged, _ := e.db.InboxMessages(e.ctx, n.ID, phoneA, 0, 100)
			inLog := false
			for _, m := range logged {
				inLog = inLog || m.ID == rec.ID
			}
			due, dueErr := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: t0, Until: t0.Add(time.Minute), Token: int64(e.ids.Next()),
				Want: []webhook.Want{{URL: url, Limit: 10}}})
			if dueErr != nil {
				t.Fatal(dueErr)
			}
			if tt.ret != nil {
				if !errors.Is(err, tt.ret) {
					t.Fatalf("Tx = %v, want %v", err, tt.ret)
				}
				e.checkQueue("rolled back", dev)
				if kontor.KindOf(recErr) != kontor.NotFound || inLog || len(due) != 0 {
					t.Fatalf("rolled back, yet the record (%v), the inbox entry (%v) or the webhook (%d due) is there", recErr, inLog, len(due))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e.checkQueue("committed", dev, entry)
			if recErr != nil || !inLog || len(due) != 1 || due[0].ID != ev.ID || len(w.Added) != 1 {
				t.Fatalf("committed: record %v, in the log %v, due %+v, added %+v", recErr, inLog, due, w.Added)
			}
		})
	}
}
