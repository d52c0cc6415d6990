package business_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// TestSweep: with a clock of its own, the sweep moves a number up once
// when its business reached half its limit, does nothing when run again or
// when the reach has aged out of the window, and the operator's tier
// change goes through the same path; every change is in the outbox.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	f := newService(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	svc, db, c, ids := f.Service, f.db, f.clock, f.ids
	q := business.NewQuality(db, business.QualityRules{}, c)
	svc.SetQuality(q)
	const url = "http://127.0.0.1:9/hook"
	biz, err := svc.Create(ctx, business.CreateRequest{Name: "Blumen", Phone: "+493010000", WebhookURL: url})
	if err != nil {
		t.Fatal(err)
	}
	number := biz.PhoneNumberID
	sweep := func(want int) []business.QualityChange {
		t.Helper()
		cs, err := q.Sweep(ctx)
		if err != nil || len(cs) != want {
			t.Fatalf("sweep at %s: %+v %v, want %d changes", c.t, cs, err, want)
		}
		return cs
	}
	tier := func(want string) {
		t.Helper()
		if n, err := db.Number(ctx, number); err != nil || n.Tier != want || n.Quality != "GREEN" {
			t.Fatalf("number: %+v %v, want %s", n, err, want)
		}
	}
	reach := func(n int) {
		for i := range n {
			if err := db.PutMessage(ctx, endpoint.MessageRecord{Number: number, ID: ids.Next(), Peer: kontor.Phone(fmt.Sprintf("+4915100%05d", i)),
				Outgoing: true, Initiated: true, Created: c.t}); err != nil {
				t.Fatal(err)
			}
		}
	}

	sweep(0)
	reach(124) // one short of half of TIER_250
	sweep(0)
	reach(125)
	c.t = c.t.Add(time.Hour)
	cs := sweep(1)
	if cs[0].OldTier != "TIER_250" || cs[0].Tier != "TIER_1K" || len(cs[0].Events) != 1 {
		t.Fatalf("upgrade: %+v", cs[0])
	}
	tier("TIER_1K")
	sweep(0) // idempotent: the reach before the change does not count again
	c.t = c.t.Add(8 * 24 * time.Hour)
	sweep(0) // nor a week later

	// The operator's change sends its webhook; the same tier again sends none.
	if err := svc.SetTier(ctx, number, "TIER_250"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetTier(ctx, number, "TIER_250"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetTier(ctx, number, "TIER_3K"); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("a bogus tier: %v", err)
	}
	if err := svc.SetTier(ctx, ids.Next(), "TIER_1K"); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("an unknown number: %v", err)
	}
	tier("TIER_250")
	due, err := db.DueWebhooks(ctx, webhook.Claim{Now: c.t, Until: c.t.Add(time.Minute), Token: 1, Want: []webhook.Want{{URL: url, Limit: 10}}})
	if err != nil || len(due) != 2 {
		t.Fatalf("outbox: %+v %v", due, err)
	}
	got := map[string]bool{due[0].ID: true, due[1].ID: true}
	if !got["phone_number_quality_update."+number.String()+".1.upgrade"] || !got["phone_number_quality_update."+number.String()+".2.downgrade"] {
		t.Fatalf("webhook ids: %v", got)
	}
}
