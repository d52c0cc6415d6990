package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/endpoint"
)

// testEntryPoint: a referral is kept per contact; only one of many
// racing answers opens its window, and an answer to an older referral
// does not count for a newer one; sent messages keep whether they went
// out in a window.
func testEntryPoint(_ *testing.T, e *env) {
	_, n := e.newBusiness("+4930666666")
	ref := t0.Add(time.Hour)
	if err := e.db.NoteReferral(e.ctx, n.ID, phoneA, ref); err != nil {
		e.t.Fatal(err)
	}
	c, err := e.db.Contact(e.ctx, n.ID, phoneA)
	if err != nil || !c.EntryPoint.Referral.Equal(ref) || !c.EntryPoint.Opened.IsZero() || !c.LastInbound.IsZero() {
		e.t.Fatalf("contact after a referral: %+v %v", c, err)
	}
	// Ten answers race: one opens the window.
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := 0
	for i := range 10 {
		wg.Go(func() {
			ok, err := e.db.OpenEntryPoint(e.ctx, n.ID, phoneA, ref, ref.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				e.t.Error(err)
			}
			if ok {
				mu.Lock()
				opened++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if opened != 1 {
		e.t.Fatalf("%d answers opened the window, want 1", opened)
	}
	c, _ = e.db.Contact(e.ctx, n.ID, phoneA)
	if c.EntryPoint.Opened.Before(ref) || c.EntryPoint.Opened.After(ref.Add(10*time.Minute)) {
		e.t.Fatalf("opened at %v", c.EntryPoint.Opened)
	}
	// The inbound window is kept apart.
	if err := e.db.NoteInbound(e.ctx, n.ID, phoneA, ref); err != nil {
		e.t.Fatal(err)
	}
	if c2, _ := e.db.Contact(e.ctx, n.ID, phoneA); !c2.LastInbound.Equal(ref) || c2.EntryPoint != c.EntryPoint {
		e.t.Fatalf("after an inbound message: %+v, was %+v", c2, c)
	}
	// A newer referral: the old opening does not count; an answer naming
	// the old referral opens nothing.
	ref2 := ref.Add(100 * time.Hour)
	if err := e.db.NoteReferral(e.ctx, n.ID, phoneA, ref2); err != nil {
		e.t.Fatal(err)
	}
	if ok, err := e.db.OpenEntryPoint(e.ctx, n.ID, phoneA, ref, ref2.Add(time.Minute)); err != nil || ok {
		e.t.Fatalf("an answer to the old referral opened: %v %v", ok, err)
	}
	if ok, err := e.db.OpenEntryPoint(e.ctx, n.ID, phoneA, ref2, ref2.Add(time.Minute)); err != nil || !ok {
		e.t.Fatalf("the answer to the new referral: %v %v", ok, err)
	}
	if c, _ = e.db.Contact(e.ctx, n.ID, phoneA); !c.EntryPoint.Opened.Equal(ref2.Add(time.Minute)) {
		e.t.Fatalf("opened at %v", c.EntryPoint.Opened)
	}
	if c, _ = e.db.Contact(e.ctx, n.ID, phoneB); !c.EntryPoint.Referral.IsZero() {
		e.t.Fatalf("another person's contact: %+v", c)
	}
	m := endpoint.MessageRecord{Number: n.ID, ID: e.ids.Next(), Peer: phoneA, Outgoing: true, Category: "marketing", Created: ref2, EntryPoint: true}
	if err := e.db.PutMessages(e.ctx, []endpoint.MessageRecord{m}); err != nil {
		e.t.Fatal(err)
	}
	if got, err := e.db.Message(e.ctx, n.ID, m.ID); err != nil || !got.EntryPoint {
		e.t.Fatalf("a message sent in the window: %+v %v", got, err)
	}
}
