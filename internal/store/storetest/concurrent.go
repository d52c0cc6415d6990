package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
)

// Goroutines call t.Errorf, never t.Fatal; each test waits for its own.

// testConcurrentTx: many goroutines committing at once, with readers
// pulling meanwhile, lose no entry and no claim.
func testConcurrentTx(t *testing.T, e *env) {
	const writers, txs, perTx = 16, 20, 3
	devs := []kontor.ID{e.ids.Next(), e.ids.Next(), e.ids.Next(), e.ids.Next()}
	sender := e.ids.Next()
	want := map[kontor.ID]map[kontor.ID]string{}
	for _, d := range devs {
		want[d] = map[kontor.ID]string{}
	}
	var mu sync.Mutex // guards want
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range txs {
				var batch []router.Entry
				for k := range perTx {
					en := e.entry(devs[(w+i+k)%len(devs)], fmt.Sprintf("w%d tx%d e%d", w, i, k))
					batch = append(batch, en)
				}
				ref, id := fmt.Sprintf("w%d-%d", w, i), e.ids.Next()
				err := e.db.Tx(e.ctx, func(tx router.Tx) error {
					got, fresh, err := tx.ClaimRef(sender, ref, id, 1)
					if err != nil {
						return err
					}
					if !fresh || got != id {
						return fmt.Errorf("ClaimRef(%s) = %v, %v; want a fresh claim", ref, got, fresh)
					}
					return tx.Insert(batch)
				})
				if err != nil {
					t.Errorf("writer %d, tx %d: %v", w, i, err)
					return
				}
				mu.Lock()
				for _, en := range batch {
					want[en.Device][en.ID] = string(en.Body)
				}
				mu.Unlock()
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.db.Pull(e.ctx, devs[r], 0, 50); err != nil {
					t.Errorf("Pull while writing: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if t.Failed() {
		return
	}

	total := 0
	for _, d := range devs {
		got := e.queue(d)
		total += len(got)
		seen := map[kontor.ID]bool{}
		for _, en := range got {
			if body, ok := want[d][en.ID]; !ok || body != string(en.Body) || seen[en.ID] {
				t.Errorf("device %d: unexpected entry %s", d, describe([]router.Entry{en}))
			}
			seen[en.ID] = true
		}
		if len(got) != len(want[d]) {
			t.Errorf("device %d holds %d entries, want %d", d, len(got), len(want[d]))
		}
	}
	if total != writers*txs*perTx {
		t.Errorf("%d entries stored, want %d", total, writers*txs*perTx)
	}
	for w := range writers {
		for i := range txs {
			if _, fresh := e.claim(sender, fmt.Sprintf("w%d-%d", w, i), e.ids.Next(), 2); fresh {
				t.Fatalf("ref w%d-%d was lost", w, i)
			}
		}
	}
}

// testConcurrentClaimRef: of many transactions claiming one ref at once,
// one wins and all the others get its id; only the winner inserts.
func testConcurrentClaimRef(t *testing.T, e *env) {
	const n = 16
	sender, dev := e.ids.Next(), e.ids.Next()
	got := make([]kontor.ID, n)
	fresh := make([]bool, n)
	mine := make([]kontor.ID, n)
	var wg sync.WaitGroup
	for i := range n {
		mine[i] = e.ids.Next()
		wg.Go(func() {
			err := e.db.Tx(e.ctx, func(tx router.Tx) error {
				id, ok, err := tx.ClaimRef(sender, "the ref", mine[i], 1)
				if err != nil {
					return err
				}
				got[i], fresh[i] = id, ok
				if !ok {
					return nil
				}
				en := e.entry(dev, fmt.Sprint("from ", i))
				en.ID = id
				return tx.Insert([]router.Entry{en})
			})
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if fresh[i] {
			if winner >= 0 {
				t.Errorf("claims %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no claim won: %v", got)
	}
	for i := range n {
		if got[i] != mine[winner] {
			t.Errorf("claim %d got id %v, want the winner's %v", i, got[i], mine[winner])
		}
	}
	if q := e.queue(dev); len(q) != 1 || q[0].ID != mine[winner] {
		t.Errorf("queue = %s, want only the winner's entry", describe(q))
	}
}

// testConcurrentDelete: devices acking the same entries at once get each
// entry back once in all (so each makes one delivery receipt).
func testConcurrentDelete(t *testing.T, e *env) {
	const entries, ackers = 100, 8
	dev := e.ids.Next()
	var all []router.Entry
	var ids []kontor.ID
	for i := range entries {
		en := e.entry(dev, fmt.Sprint(i))
		all = append(all, en)
		ids = append(ids, en.ID)
	}
	e.insert(all...)
	results := make([][]router.Entry, ackers)
	var wg sync.WaitGroup
	for i := range ackers {
		wg.Go(func() {
			err := e.db.Tx(e.ctx, func(tx router.Tx) error {
				var err error
				results[i], err = tx.Delete(dev, ids)
				return err
			})
			if err != nil {
				t.Errorf("acker %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var got []router.Entry
	for _, r := range results {
		got = append(got, r...)
	}
	if !sameEntries(byID(got), meta(all...)) {
		t.Errorf("concurrent Deletes returned %d entries (%s), want each of %d once", len(got), describe(byID(got)), entries)
	}
	e.checkQueue("after concurrent Deletes", dev)
}

// testConcurrentExpire: janitors of several nodes expiring at once report
// each expired entry once (so each makes one failed receipt).
func testConcurrentExpire(t *testing.T, e *env) {
	const entries, janitors, now = 200, 6, 1000
	var expired []router.Entry
	for i := range entries {
		en := e.entry(e.ids.Next(), fmt.Sprint(i))
		en.Expires = int64(i)
		expired = append(expired, en)
	}
	live := e.entry(e.ids.Next(), "live")
	live.Expires = now
	e.insert(append(expired, live)...)

	results := make([][]router.Entry, janitors+1)
	expire := func(i int) {
		for range entries + 1 { // each round expires one entry at least
			var es []router.Entry
			err := e.db.Tx(e.ctx, func(tx router.Tx) error {
				var err error
				es, err = tx.Expire(now, 7)
				return err
			})
			if err != nil {
				t.Errorf("janitor %d: %v", i, err)
				return
			}
			if len(es) == 0 {
				return
			}
			results[i] = append(results[i], es...)
		}
		t.Errorf("janitor %d: Expire still returns entries after %d rounds", i, entries+1)
	}
	var wg sync.WaitGroup
	for i := range janitors {
		wg.Go(func() { expire(i) })
	}
	wg.Wait()
	expire(janitors) // whatever a janitor gave up on while another held it
	var got []router.Entry
	for _, r := range results {
		got = append(got, r...)
	}
	if !sameEntries(byID(got), byID(meta(expired...))) {
		t.Errorf("concurrent Expires returned %d entries, want each of %d once", len(got), entries)
	}
	e.checkQueue("the live entry", live.Device, live)
}

// testConcurrentAddDevice: linking many devices at once stops at max, with
// distinct numbers.
func testConcurrentAddDevice(t *testing.T, e *env) {
	const tries, max = 12, 5
	a, _ := e.register(phoneA)
	added := make([]identity.Device, tries)
	errs := make([]error, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			added[i], errs[i] = e.db.AddDevice(e.ctx, identity.Device{ID: e.ids.Next(), AccountID: a.ID, Name: fmt.Sprint(i), SecretHash: hash("x"), Created: t0}, max)
		})
	}
	wg.Wait()
	ok, seen := 0, map[int]bool{1: true}
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			if seen[added[i].Num] {
				t.Errorf("number %d given twice", added[i].Num)
			}
			seen[added[i].Num] = true
		case kontor.KindOf(err) != kontor.Conflict:
			t.Errorf("AddDevice %d: %v, want success or kind conflict", i, err)
		}
	}
	if ok != max-1 {
		t.Errorf("%d of %d AddDevice calls succeeded, want %d", ok, tries, max-1)
	}
	if ds, err := e.db.Devices(e.ctx, a.ID); err != nil || len(ds) != max {
		t.Errorf("the account has %d devices (%v), want %d", len(ds), err, max)
	}
}

// testConcurrentRegister: registering one new phone from many places at
// once makes one account, which ends with one device.
func testConcurrentRegister(t *testing.T, e *env) {
	const n = 8
	accts := make([]identity.Account, n)
	devs := make([]identity.Device, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			accts[i], devs[i], err = e.db.Register(e.ctx,
				identity.Account{ID: e.ids.Next(), Phone: phoneA, Created: t0, LastSeenPrivacy: identity.PrivacyEveryone},
				identity.Device{ID: e.ids.Next(), Name: fmt.Sprint(i), SecretHash: hash("x"), Created: t0})
			if err != nil {
				t.Errorf("Register %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	last, seen := devs[0], map[int]bool{}
	for i := range n {
		if accts[i].ID != accts[0].ID {
			t.Errorf("Register %d made account %v, Register 0 made %v", i, accts[i].ID, accts[0].ID)
		}
		if seen[devs[i].Num] {
			t.Errorf("device number %d given twice", devs[i].Num)
		}
		seen[devs[i].Num] = true
		if devs[i].Num > last.Num {
			last = devs[i]
		}
	}
	ds, err := e.db.Devices(e.ctx, accts[0].ID)
	if err != nil || len(ds) != 1 || ds[0].ID != last.ID {
		t.Errorf("the account has devices %v (%v), want only the last registered, number %d", nums(ds), err, last.Num)
	}
}
