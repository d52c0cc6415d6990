package storetest

import (
	"sync"
	"testing"

	"github.com/kontor-chat/kontor/internal/router"
)

// testDeadlockRetried: two router transactions that lock the same two
// rows in opposite orders deadlock on PostgreSQL; the one PostgreSQL
// aborts is run again (store.DB.Retries counts it), and both commit all
// they wrote. SQLite has one writer: the two cannot overlap there.
func testDeadlockRetried(t *testing.T, e *env) {
	if e.db.Dialect() != "postgres" {
		t.Skip("one writer: transactions cannot wait for each other")
	}
	dev := e.ids.Next()
	a, b := e.entry(dev, "a"), e.entry(dev, "b")
	// Each transaction inserts its first entry, waits until the other
	// has inserted its own, then inserts the other's: a circle.
	var first sync.WaitGroup
	first.Add(2)
	run := func(mine, theirs router.Entry) error {
		runs := 0
		return e.db.Tx(e.ctx, func(tx router.Tx) error {
			runs++
			if err := tx.Insert([]router.Entry{mine}); err != nil {
				return err
			}
			if runs == 1 {
				first.Done()
				first.Wait()
			}
			return tx.Insert([]router.Entry{theirs})
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run(a, b) }()
	go func() { errs <- run(b, a) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Tx: %v", err)
		}
	}
	if got := e.db.Retries()["store.Tx"]; got != 1 {
		t.Errorf("%d retries of store.Tx, want 1 (the deadlock's loser)", got)
	}
	e.checkQueue("after the deadlock", dev, byID([]router.Entry{a, b})...)
}
