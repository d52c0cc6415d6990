package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// qualityBusiness stores a business with a webhook URL and returns its
// number's quality state and its app.
func (e *env) qualityBusiness(phone kontor.Phone, url string) (business.QualityState, kontor.ID) {
	e.t.Helper()
	b := business.Business{ID: e.ids.Next(), Name: "Blumen " + string(phone), WebhookURL: url, Created: t0}
	n := business.Number{ID: e.ids.Next(), Business: b.ID, Phone: phone, Account: e.ids.Next(), VerifiedName: b.Name,
		Quality: "GREEN", Tier: "TIER_250", MPS: 80, Created: t0}
	a := business.App{ID: e.ids.Next(), Business: b.ID, Secret: "s3cret", Created: t0}
	tok := business.Token{ID: e.ids.Next(), Hash: []byte("hash-" + string(phone)), Business: b.ID, Scopes: business.ScopeMessaging, Created: t0}
	if err := e.db.CreateBusiness(e.ctx, b, n, a, tok); err != nil {
		e.t.Fatal(err)
	}
	st, err := e.db.QualityState(e.ctx, n.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return st, a.ID
}

// testQualitySignals: a number's rating counts the people it wrote to in
// the window and those of them who block it since the window began; its
// reach counts the business's initiated messages since the time asked.
func testQualitySignals(_ *testing.T, e *env) {
	n, _ := e.qualityBusiness("+4930666666", "")
	other, _ := e.qualityBusiness("+4930777777", "")
	const phoneD kontor.Phone = "+4915100000004"
	accts := map[kontor.Phone]kontor.ID{}
	for _, p := range []kontor.Phone{phoneA, phoneB, phoneC, phoneD} {
		a, _ := e.register(p)
		accts[p] = a.ID
	}
	put := func(num kontor.ID, peer kontor.Phone, at time.Time, outgoing, initiated bool) {
		if err := e.db.PutMessage(e.ctx, endpoint.MessageRecord{Number: num, ID: e.ids.Next(), Peer: peer, Outgoing: outgoing, Created: at, Initiated: initiated}); err != nil {
			e.t.Fatal(err)
		}
	}
	block := func(p, whom kontor.Phone, at time.Time) {
		if err := e.db.Block(e.ctx, accts[p], whom, at); err != nil {
			e.t.Fatal(err)
		}
	}
	week := 7 * 24 * time.Hour
	put(n.ID, phoneA, t0, true, true)
	put(n.ID, phoneA, t0, true, true)                      // the same person counts once
	put(n.ID, phoneB, t0, true, false)                     // a reply inside the window: reached, not initiated
	put(n.ID, phoneC, t0.Add(-8*24*time.Hour), true, true) // before the window
	put(n.ID, phoneD, t0, false, false)                    // D wrote; the number did not write to D
	put(other.ID, phoneB, t0, true, true)                  // another business
	block(phoneA, n.Phone, t0.Add(time.Hour))              // counts
	block(phoneC, n.Phone, t0.Add(time.Hour))              // written to before the window: does not count
	block(phoneD, n.Phone, t0.Add(time.Hour))              // never written to: does not count
	block(phoneB, other.Phone, t0.Add(time.Hour))          // blocks another business
	now := t0.Add(2 * time.Hour)
	s, err := e.db.QualitySignals(e.ctx, n.ID, now.Add(-week), now.Add(-week))
	if err != nil || s != (business.Signals{Reached: 2, Complaints: 1, Reach: 1}) {
		e.t.Fatalf("signals: %+v %v", s, err)
	}
	// Reach since a later tier change leaves out what came before it.
	if s, _ := e.db.QualitySignals(e.ctx, n.ID, now.Add(-week), t0.Add(time.Millisecond)); s.Reach != 0 || s.Reached != 2 {
		e.t.Fatalf("reach since the tier change: %+v", s)
	}
	// A block older than the window does not count; an unblock lifts it.
	if err := e.db.Unblock(e.ctx, accts[phoneA], n.Phone); err != nil {
		e.t.Fatal(err)
	}
	block(phoneB, n.Phone, t0.Add(-time.Hour)) // B blocked before the window began: does not count
	if s, _ := e.db.QualitySignals(e.ctx, n.ID, t0, t0); s.Complaints != 0 || s.Reached != 2 {
		e.t.Fatalf("after the unblock, with an earlier block: %+v", s)
	}
	if s, _ := e.db.QualitySignals(e.ctx, other.ID, now.Add(-week), now.Add(-week)); s != (business.Signals{Reached: 1, Complaints: 1, Reach: 1}) {
		e.t.Fatalf("the other business: %+v", s)
	}
	// Reports count as blocks do; a person who blocked and reported
	// counts once; a report renewed in the window counts.
	if err := e.db.Report(e.ctx, accts[phoneB], other.Phone, t0.Add(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	if s, _ := e.db.QualitySignals(e.ctx, other.ID, now.Add(-week), now.Add(-week)); s.Complaints != 1 {
		e.t.Fatalf("blocked and reported: %+v", s)
	}
	if err := e.db.Report(e.ctx, accts[phoneA], n.Phone, t0.Add(-time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	if s, _ := e.db.QualitySignals(e.ctx, n.ID, t0, t0); s.Complaints != 0 {
		e.t.Fatalf("a report before the window: %+v", s)
	}
	if err := e.db.Report(e.ctx, accts[phoneA], n.Phone, t0.Add(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	if s, _ := e.db.QualitySignals(e.ctx, n.ID, t0, t0); s.Complaints != 1 {
		e.t.Fatalf("a renewed report: %+v", s)
	}
}

// testQualityChange: a change of rating and tier is stored with its
// webhooks in one transaction, once; a change whose webhook cannot be
// written leaves the number as it was.
func testQualityChange(_ *testing.T, e *env) {
	const url = "http://127.0.0.1:9/quality"
	n, app := e.qualityBusiness("+4930888888", url)
	if n.Seq != 0 || !n.TierChanged.Equal(t0) || n.Quality != "GREEN" || n.Tier != "TIER_250" {
		e.t.Fatalf("new number: %+v", n)
	}
	t1 := t0.Add(time.Hour)

	// A change whose webhook fails to go into the outbox changes nothing.
	bad, _, err := business.NewQualityChange(n, "RED", "TIER_50", t1)
	if err != nil {
		e.t.Fatal(err)
	}
	bad.Events[0].Body = nil // NOT NULL
	if ok, err := e.db.ChangeQuality(e.ctx, bad); err == nil || ok {
		e.t.Fatalf("a change with a broken webhook: %v %v", ok, err)
	}
	if got, _ := e.db.QualityState(e.ctx, n.ID); got.Quality != "GREEN" || got.Tier != "TIER_250" || got.Seq != 0 {
		e.t.Fatalf("after the failed change: %+v", got)
	}

	c, ok, err := business.NewQualityChange(n, "RED", "TIER_50", t1)
	if err != nil || !ok || len(c.Events) != 2 {
		e.t.Fatalf("change: %+v %v %v", c, ok, err)
	}
	if ok, err := e.db.ChangeQuality(e.ctx, c); err != nil || !ok {
		e.t.Fatalf("apply: %v %v", ok, err)
	}
	// The same change again (another node's sweep) finds a newer Seq.
	if ok, err := e.db.ChangeQuality(e.ctx, c); err != nil || ok {
		e.t.Fatalf("applied twice: %v %v", ok, err)
	}
	got, err := e.db.QualityState(e.ctx, n.ID)
	if err != nil || got.Quality != "RED" || got.Tier != "TIER_50" || got.Seq != 1 || !got.TierChanged.Equal(t1) {
		e.t.Fatalf("after the change: %+v %v", got, err)
	}
	if num, _ := e.db.Number(e.ctx, n.ID); num.Quality != "RED" || num.Tier != "TIER_50" {
		e.t.Fatalf("the Business API's read: %+v", num)
	}
	due, err := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: t1, Until: t1.Add(time.Minute), Token: 5, Want: []webhook.Want{{URL: url, Limit: 10}}})
	if err != nil || len(due) != 2 {
		e.t.Fatalf("outbox: %+v %v", due, err)
	}
	ids := map[string]bool{}
	for _, d := range due {
		ids[d.ID] = true
		if d.App != app || d.URL != url || !d.Created.Equal(t1) || len(d.Body) == 0 {
			e.t.Fatalf("webhook: %+v", d)
		}
	}
	if !ids[c.Events[0].ID] || !ids[c.Events[1].ID] {
		e.t.Fatalf("webhook ids %v, want %s and %s", ids, c.Events[0].ID, c.Events[1].ID)
	}

	// A rating change alone keeps when the tier last changed.
	c2, _, _ := business.NewQualityChange(got, "GREEN", "TIER_50", t1.Add(time.Hour))
	if ok, err := e.db.ChangeQuality(e.ctx, c2); err != nil || !ok {
		e.t.Fatalf("unflag: %v %v", ok, err)
	}
	if got, _ := e.db.QualityState(e.ctx, n.ID); got.Quality != "GREEN" || got.Seq != 2 || !got.TierChanged.Equal(t1) {
		e.t.Fatalf("after the unflag: %+v", got)
	}

	// A business without a webhook URL gets the change, no webhook.
	quiet, _ := e.qualityBusiness("+4930999999", "")
	cq, _, _ := business.NewQualityChange(quiet, "YELLOW", "TIER_250", t1)
	if ok, err := e.db.ChangeQuality(e.ctx, cq); err != nil || !ok {
		e.t.Fatalf("no webhook URL: %v %v", ok, err)
	}
	if _, err := e.db.QualityState(e.ctx, e.ids.Next()); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("unknown number: %v", err)
	}
	cq.Number = e.ids.Next()
	if _, err := e.db.ChangeQuality(e.ctx, cq); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("change of an unknown number: %v", err)
	}
}

// testQualityChangeRace: of concurrent changes computed from one state,
// exactly one applies, and only its webhooks are in the outbox.
func testQualityChangeRace(_ *testing.T, e *env) {
	const url = "http://127.0.0.1:9/race"
	n, _ := e.qualityBusiness("+4930123123", url)
	const racers = 8
	var wg sync.WaitGroup
	applied := make(chan business.QualityChange, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tier := "TIER_1K"
			if i%2 == 1 {
				tier = "TIER_50"
			}
			c, _, err := business.NewQualityChange(n, "GREEN", tier, t0.Add(time.Duration(i)*time.Millisecond))
			if err != nil {
				e.t.Error(err)
				return
			}
			ok, err := e.db.ChangeQuality(e.ctx, c)
			if err != nil {
				e.t.Error(err)
			}
			if ok {
				applied <- c
			}
		}()
	}
	wg.Wait()
	close(applied)
	var won []business.QualityChange
	for c := range applied {
		won = append(won, c)
	}
	if len(won) != 1 {
		e.t.Fatalf("%d changes applied, want 1", len(won))
	}
	got, _ := e.db.QualityState(e.ctx, n.ID)
	if got.Tier != won[0].Tier || got.Seq != 1 {
		e.t.Fatalf("state %+v after winner %+v", got, won[0])
	}
	due, err := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: t0.Add(time.Second), Until: t0.Add(time.Minute), Token: 9, Want: []webhook.Want{{URL: url, Limit: 10}}})
	if err != nil || len(due) != 1 || due[0].ID != won[0].Events[0].ID {
		e.t.Fatalf("outbox %+v %v, want only %s", due, err, won[0].Events[0].ID)
	}
}
