package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

// testAllowances: the first N messages of a category per number per
// calendar month (UTC) are free; a message id is counted once however
// often it is asked about; numbers, categories and months count apart.
func testAllowances(t *testing.T, e *env) {
	num, other := e.ids.Next(), e.ids.Next()
	use := func(number kontor.ID, cat string, at time.Time, id kontor.ID, free int) bool {
		t.Helper()
		got, err := e.db.UseAllowance(e.ctx, number, cat, at, id, free)
		if err != nil {
			t.Fatalf("UseAllowance: %v", err)
		}
		return got
	}
	used := func(number kontor.ID, cat string, at time.Time) int {
		t.Helper()
		n, err := e.db.AllowanceUsed(e.ctx, number, cat, at)
		if err != nil {
			t.Fatalf("AllowanceUsed: %v", err)
		}
		return n
	}
	may := time.Date(2026, 5, 31, 23, 59, 59, 0, time.UTC)
	ids := []kontor.ID{e.ids.Next(), e.ids.Next(), e.ids.Next(), e.ids.Next()}
	for i, id := range ids {
		if got, want := use(num, "service", may, id, 3), i < 3; got != want {
			t.Errorf("message %d of May: free %v, want %v", i+1, got, want)
		}
	}
	// Asked again, with other arguments even: the first answer, nothing counted.
	for i, id := range ids {
		if got, want := use(num, "service", may.AddDate(0, 1, 0), id, 100), i < 3; got != want {
			t.Errorf("message %d again: free %v, want %v", i+1, got, want)
		}
	}
	if n := used(num, "service", may); n != 4 {
		t.Errorf("May counted %d, want 4", n)
	}
	// A new month (UTC), another number, another category: their own count.
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if !use(num, "service", june, e.ids.Next(), 3) || !use(other, "service", may, e.ids.Next(), 3) || !use(num, "utility", may, e.ids.Next(), 1) {
		t.Error("a new month, another number or another category was not free")
	}
	if use(num, "utility", may, e.ids.Next(), 1) || use(num, "marketing", may, e.ids.Next(), 0) {
		t.Error("past the allowance (or none) was free")
	}
	if n := used(num, "service", june); n != 1 {
		t.Errorf("June counted %d, want 1", n)
	}
	if _, err := e.db.UseAllowance(e.ctx, num, "service", may, e.ids.Next(), -1); kontor.KindOf(err) != kontor.Invalid {
		t.Errorf("a negative allowance: %v", err)
	}
	if n := used(num, "service", may); n != 4 {
		t.Errorf("after the refused call May counted %d, want 4", n)
	}
}

// testAllowanceRace: many goroutines counting the same messages at once
// (retries, duplicate receipts on two nodes): exactly the allowance is
// free, every message is counted once, and each message always gets the
// same answer.
func testAllowanceRace(t *testing.T, e *env) {
	const msgs, copies, free = 40, 4, 10
	num := e.ids.Next()
	at := time.Date(2026, 11, 15, 8, 0, 0, 0, time.UTC)
	ids := make([]kontor.ID, msgs)
	for i := range ids {
		ids[i] = e.ids.Next()
	}
	answers := make([][copies]bool, msgs)
	var wg sync.WaitGroup
	for c := range copies {
		wg.Go(func() {
			for i := range msgs {
				// Each copy walks the messages in its own order.
				k := (i*7 + c*13) % msgs
				got, err := e.db.UseAllowance(e.ctx, num, "service", at, ids[k], free)
				if err != nil {
					t.Errorf("copy %d, message %d: %v", c, k, err)
					return
				}
				answers[k][c] = got
			}
		})
	}
	wg.Wait()
	nfree := 0
	for k, a := range answers {
		for c := 1; c < copies; c++ {
			if a[c] != a[0] {
				t.Errorf("message %d: answers %v differ", k, a)
			}
		}
		if a[0] {
			nfree++
		}
	}
	if nfree != free {
		t.Errorf("%d messages free, want %d", nfree, free)
	}
	if n, err := e.db.AllowanceUsed(e.ctx, num, "service", at); err != nil || n != msgs {
		t.Errorf("counted %d (%v), want %d", n, err, msgs)
	}
}
