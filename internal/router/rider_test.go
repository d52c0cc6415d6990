package router_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// rider records what the router asks of it; fail makes Ride fail.
type rider struct {
	mu    sync.Mutex
	fail  error
	rides []kontor.ID // the ids Ride was called with
	rode  []bool      // what Rode said, in order
	txs   []router.Tx // the transactions Ride got
}

func (r *rider) Ride(tx router.Tx, id kontor.ID, _ int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rides = append(r.rides, id)
	r.txs = append(r.txs, tx)
	return r.fail
}

func (r *rider) Rode(committed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rode = append(r.rode, committed)
}

func (e *env) sendWith(s router.Sender, to, ref string, rd router.Rider) router.SendResult {
	e.t.Helper()
	res := make(chan router.SendResult, 1)
	f := &wire.Frame{Type: wire.TSend, Ref: ref, To: kontor.Phone(to), Payloads: []wire.Payload{{DeviceID: 1, Body: []byte("hi")}}}
	e.r.SendWith(context.Background(), s, f, rd, func(r router.SendResult) { res <- r })
	return <-res
}

// TestRider: a send's rider rides its transaction once, with the id the
// send gets, and hears whether it committed before the sender does; a
// repeated ref does not ride again; a rider's failure fails the send and
// leaves nothing queued.
func TestRider(t *testing.T) {
	e := setup(t)
	ann, ben := e.person("+4915100000001"), e.person("+4915100000002")

	rd := &rider{}
	res := e.sendWith(ann, string(ben.Phone), "r1", rd)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(rd.rides) != 1 || rd.rides[0] != res.ID || len(rd.rode) != 1 || !rd.rode[0] {
		t.Fatalf("rider of a fresh send: rides %v rode %v; want one ride with %v, committed", rd.rides, rd.rode, res.ID)
	}
	if _, ok := rd.txs[0].(interface{ Insert([]router.Entry) error }); !ok {
		t.Fatalf("Ride got %T", rd.txs[0])
	}

	again := &rider{}
	if res2 := e.sendWith(ann, string(ben.Phone), "r1", again); res2.Err != nil || res2.ID != res.ID {
		t.Fatalf("repeated ref: %+v; want the first id %v", res2, res.ID)
	}
	if len(again.rides) != 0 || len(again.rode) != 1 || again.rode[0] {
		t.Fatalf("rider of a repeated ref: rides %v rode %v; want no ride, not committed", again.rides, again.rode)
	}

	boom := errors.New("boom")
	bad := &rider{fail: boom}
	before := len(e.queue(ben.Device))
	if res3 := e.sendWith(ann, string(ben.Phone), "r2", bad); res3.Err == nil || !errors.Is(res3.Err, boom) {
		t.Fatalf("send whose rider failed: %+v", res3)
	}
	if len(bad.rides) != 1 || len(bad.rode) != 1 || bad.rode[0] {
		t.Fatalf("failed rider: rides %v rode %v; want one ride, not committed", bad.rides, bad.rode)
	}
	if q := e.queue(ben.Device); len(q) != before {
		t.Fatalf("a send whose rider failed queued %d entries", len(q)-before)
	}
	// Without a rider, as before.
	if res4 := e.send(ann, string(ben.Phone), "r3", "plain"); res4.Err != nil {
		t.Fatal(res4.Err)
	}

	// Sends at once: when one rider fails a group commit, the others are
	// committed one by one, each rider with the id its send got at last.
	const n = 24
	riders := make([]*rider, n)
	results := make([]router.SendResult, n)
	var wg sync.WaitGroup
	for i := range n {
		riders[i] = &rider{}
		if i == n/2 {
			riders[i].fail = boom
		}
		wg.Go(func() { results[i] = e.sendWith(ann, string(ben.Phone), fmt.Sprint("many-", i), riders[i]) })
	}
	wg.Wait()
	for i, rd := range riders {
		if i == n/2 {
			if results[i].Err == nil || len(rd.rode) != 1 || rd.rode[0] {
				t.Fatalf("the failing rider's send: %+v, rode %v", results[i], rd.rode)
			}
			continue
		}
		if results[i].Err != nil || len(rd.rode) != 1 || !rd.rode[0] || len(rd.rides) == 0 || rd.rides[len(rd.rides)-1] != results[i].ID {
			t.Fatalf("send %d: %+v; rides %v rode %v; want the last ride with its id, committed once", i, results[i], rd.rides, rd.rode)
		}
	}
}
