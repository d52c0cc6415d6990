package storetest

import (
	"errors"
	"fmt"
	"slices"
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

// testRideWebhooks: the webhooks of several sends riding one router
// transaction are enqueued together, yet each send's are born under its
// own lease (or due at once without one), and each send learns exactly
// which of its events were new: an id enqueued before, or twice in the
// transaction, is added once, to the first send that has it.
func testRideWebhooks(t *testing.T, e *env) {
	app := e.ids.Next()
	url := "http://127.0.0.1:9/ride-hooks-" + app.String()
	ev := func(name string) webhook.Event {
		return webhook.Event{ID: "ride-hooks." + app.String() + "." + name, App: app, URL: url, Body: []byte(`{"n":"` + name + `"}`), Created: t0}
	}
	old := ev("old")
	if _, err := e.db.EnqueueWebhooks(e.ctx, []webhook.Event{old}, t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	var many []webhook.Event // more than one statement's rows
	for i := range 40 {
		many = append(many, ev(fmt.Sprint("many-", i)))
	}
	lease := webhook.Lease{Token: int64(e.ids.Next()), Until: t0.Add(time.Minute)}
	twice, leased := ev("twice"), ev("leased")
	rides := []*endpoint.TxWrites{
		{Now: t0},
		{Now: t0, Hooks: many},
		{Now: t0, Hooks: []webhook.Event{old, twice, twice}},
		{Now: t0, Lease: lease, Hooks: []webhook.Event{leased, twice, many[3]}},
	}
	want := [][]webhook.Event{nil, many, {twice}, {leased}}
	err := e.db.Tx(e.ctx, func(tx router.Tx) error {
		for _, w := range rides {
			tx.(endpoint.WritesTx).AddEndpointWrites(w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(evs []webhook.Event) []string {
		out := []string{}
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	for i, w := range rides {
		if got, want := ids(w.Added), ids(want[i]); !slices.Equal(got, want) {
			t.Errorf("ride %d added %v, want %v", i, got, want)
		}
	}
	due := func(now time.Time) []string {
		t.Helper()
		ds, err := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: now, Until: now.Add(time.Second), Token: int64(e.ids.Next()),
			Want: []webhook.Want{{URL: url, Limit: 100}}})
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		slices.Sort(out)
		return out
	}
	// Due at once: the old event and those born without a lease; the
	// leased one only when its lease runs out (the claim above took the
	// others for a second).
	wantNow := append(ids(many), old.ID, twice.ID)
	slices.Sort(wantNow)
	if got := due(t0); !slices.Equal(got, wantNow) {
		t.Fatalf("due at t0: %v, want %v", got, wantNow)
	}
	// Before the lease's end, settling under its token records the
	// attempt: the event was born under that lease.
	err = e.db.SettleWebhooks(e.ctx, []webhook.Result{{ID: leased.ID, Lease: lease.Token, Outcome: webhook.OutcomeDelivered,
		At: t0.Add(time.Second), Status: 200, Tried: true}})
	if err != nil {
		t.Fatal(err)
	}
	recent, err := e.db.RecentWebhooks(e.ctx, app, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 1 || recent[0].ID != leased.ID || recent[0].State != webhook.Delivered {
		t.Fatalf("after settling the leased event under its lease: recent %+v", recent)
	}
}
