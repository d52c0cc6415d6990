package router_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/wire"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

type rings struct {
	mu      sync.Mutex
	entries []router.Entry
}

func (r *rings) Ring(es []router.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, es...)
}

type env struct {
	t     *testing.T
	db    *store.DB
	r     *router.Router
	clock *clock
	ids   *kontor.IDs
	rings *rings
}

func setup(t *testing.T) *env {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := newClock()
	ids := kontor.NewIDs(c, 1)
	rg := &rings{}
	r := router.New(router.Config{TTL: time.Hour, JanitorEvery: time.Hour}, db, rg, nil, ids, c, slog.New(slog.DiscardHandler))
	r.Start()
	t.Cleanup(r.Close)
	return &env{t: t, db: db, r: r, clock: c, ids: ids, rings: rg}
}

// person registers phone with one device and returns it as a Sender.
func (e *env) person(phone string) router.Sender {
	e.t.Helper()
	a, d, err := e.db.Register(context.Background(),
		identity.Account{ID: e.ids.Next(), Phone: kontor.Phone(phone), Created: e.clock.Now(), LastSeenPrivacy: "everyone"},
		identity.Device{ID: e.ids.Next(), SecretHash: []byte("h"), Created: e.clock.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	return router.Sender{Account: a.ID, Phone: a.Phone, Device: d.ID, Num: d.Num}
}

func (e *env) send(s router.Sender, to, ref, text string) router.SendResult {
	e.t.Helper()
	res := make(chan router.SendResult, 1)
	f := &wire.Frame{Type: wire.TSend, Ref: ref, To: kontor.Phone(to), Payloads: []wire.Payload{{DeviceID: 1, Body: []byte(text)}}}
	e.r.Send(context.Background(), s, f, func(r router.SendResult) { res <- r })
	return <-res
}

func (e *env) queue(device kontor.ID) []router.Entry {
	e.t.Helper()
	es, err := e.db.Pull(context.Background(), device, 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func TestExpiryFailsUndelivered(t *testing.T) {
	e := setup(t)
	ann, ben := e.person("+4915100000001"), e.person("+4915100000002")
	res := e.send(ann, string(ben.Phone), "r1", "never read")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if n := e.r.Sweep(); n != 0 {
		t.Fatalf("swept %d before the TTL", n)
	}
	e.clock.Add(time.Hour + time.Minute)
	if n := e.r.Sweep(); n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
	if q := e.queue(ben.Device); len(q) != 0 {
		t.Fatalf("ben's queue after expiry: %+v", q)
	}
	q := e.queue(ann.Device)
	if len(q) != 1 || q[0].Kind != router.KindReceipt {
		t.Fatalf("ann's queue: %+v", q)
	}
	rc, err := router.DecodeReceipt(q[0].Body)
	if err != nil || rc.Status != wire.StatusFailed || len(rc.IDs) != 1 || rc.IDs[0] != res.ID {
		t.Fatalf("failed receipt: %+v %v", rc, err)
	}
	// The failed receipt itself expires later without making another.
	e.clock.Add(2 * time.Hour)
	if n := e.r.Sweep(); n != 1 {
		t.Fatalf("second sweep: %d", n)
	}
	if q := e.queue(ann.Device); len(q) != 0 {
		t.Fatalf("ann's queue after the second sweep: %+v", q)
	}
}

func TestAckMakesDeliveredReceipt(t *testing.T) {
	e := setup(t)
	ann, ben := e.person("+4915100000001"), e.person("+4915100000002")
	res := e.send(ann, string(ben.Phone), "r1", "hi")
	done := make(chan error, 1)
	e.r.Ack(ben, []kontor.ID{res.ID, 999}, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	q := e.queue(ann.Device)
	if len(q) != 1 {
		t.Fatalf("ann's queue: %+v", q)
	}
	rc, _ := router.DecodeReceipt(q[0].Body)
	if rc.Status != wire.StatusDelivered || rc.IDs[0] != res.ID || q[0].From != ben.Phone {
		t.Fatalf("receipt %+v from %s", rc, q[0].From)
	}
	// Acking again (a duplicate ack) makes no second receipt.
	e.r.Ack(ben, []kontor.ID{res.ID}, func(err error) { done <- err })
	<-done
	if q := e.queue(ann.Device); len(q) != 1 {
		t.Fatalf("after a repeated ack: %d entries", len(q))
	}
	// Acking the receipt makes nothing.
	e.r.Ack(ann, []kontor.ID{q[0].ID}, func(err error) { done <- err })
	<-done
	if q := e.queue(ann.Device); len(q) != 0 {
		t.Fatalf("after acking the receipt: %+v", q)
	}
	if q := e.queue(ben.Device); len(q) != 0 {
		t.Fatalf("ben got something from an ack: %+v", q)
	}
}

// TestGroupCommitConcurrent has many senders at once; every send commits,
// each sender's messages keep their order, and nothing is lost or doubled.
func TestGroupCommitConcurrent(t *testing.T) {
	e := setup(t)
	const senders, each = 40, 50
	target := e.person("+4915100009999")
	var ss []router.Sender
	for i := range senders {
		ss = append(ss, e.person(fmt.Sprintf("+49151000%05d", i)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inner sync.WaitGroup
			for j := range each {
				inner.Add(1)
				f := &wire.Frame{Type: wire.TSend, Ref: fmt.Sprint(j), To: target.Phone, Payloads: []wire.Payload{{DeviceID: 1, Body: []byte(fmt.Sprint(j))}}}
				e.r.Send(context.Background(), s, f, func(r router.SendResult) {
					if r.Err != nil {
						errs <- r.Err
					}
					inner.Done()
				})
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	q := e.queue(target.Device)
	if len(q) != senders*each {
		t.Fatalf("queue has %d entries, want %d", len(q), senders*each)
	}
	next := map[kontor.Phone]int{}
	for _, en := range q {
		if string(en.Body) != fmt.Sprint(next[en.From]) {
			t.Fatalf("from %s: got %s, want %d", en.From, en.Body, next[en.From])
		}
		next[en.From]++
	}
	e.rings.mu.Lock()
	defer e.rings.mu.Unlock()
	if len(e.rings.entries) != senders*each {
		t.Fatalf("rang %d entries, want %d", len(e.rings.entries), senders*each)
	}
}

// TestStaleCacheIsCheckedBeforeRefusing adds a device behind the cache's
// back: the send that names it must still be accepted.
func TestStaleCacheIsCheckedBeforeRefusing(t *testing.T) {
	e := setup(t)
	ann, ben := e.person("+4915100000001"), e.person("+4915100000002")
	if r := e.send(ann, string(ben.Phone), "r1", "one"); r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, err := e.db.AddDevice(context.Background(), identity.Device{ID: e.ids.Next(), AccountID: ben.Account, SecretHash: []byte("h")}, 5); err != nil {
		t.Fatal(err)
	}
	res := make(chan router.SendResult, 1)
	f := &wire.Frame{Type: wire.TSend, Ref: "r2", To: ben.Phone, Payloads: []wire.Payload{{DeviceID: 1, Body: []byte("x")}, {DeviceID: 2, Body: []byte("x")}}}
	e.r.Send(context.Background(), ann, f, func(r router.SendResult) { res <- r })
	if r := <-res; r.Err != nil {
		t.Fatalf("send to the new device list: %v", r.Err)
	}
	// The old list is now refused, naming the missing device.
	f = &wire.Frame{Type: wire.TSend, Ref: "r3", To: ben.Phone, Payloads: []wire.Payload{{DeviceID: 1, Body: []byte("x")}}}
	e.r.Send(context.Background(), ann, f, func(r router.SendResult) { res <- r })
	r := <-res
	var mm *router.MismatchError
	if !asMismatch(r.Err, &mm) || len(mm.Missing) != 1 || mm.Missing[0].DeviceID != 2 {
		t.Fatalf("old list: %v", r.Err)
	}
}

func TestSendAfterClose(t *testing.T) {
	e := setup(t)
	ann, ben := e.person("+4915100000001"), e.person("+4915100000002")
	e.r.Close()
	r := e.send(ann, string(ben.Phone), "r1", "late")
	if kontor.KindOf(r.Err) != kontor.Unavailable {
		t.Fatalf("send after close: %v", r.Err)
	}
}
