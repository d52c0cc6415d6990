package storetest

import (
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// testPriceSheets: versions are kept, never edited; the one in effect at a
// time is the newest that took effect by then; rates come back exact.
func testPriceSheets(_ *testing.T, e *env) {
	if _, err := e.db.SheetAt(e.ctx, t0); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("no sheet yet: %v", err)
	}
	sheet := func(eff time.Time, price billing.Nanos) billing.Sheet {
		return billing.Sheet{ID: e.ids.Next(), Effective: eff, Imported: t0, Label: "v", Rates: []billing.Rate{
			{Market: "DE", Category: "marketing", Currency: "EUR", Price: price},
			{Market: "other", Category: "utility", Currency: "EUR", Price: 1},
		}}
	}
	july, oct := t0, t0.AddDate(0, 5, 0)
	for _, s := range []billing.Sheet{sheet(july, 136_500_000), sheet(oct, 150_000_001)} {
		if err := e.db.PutSheet(e.ctx, s); err != nil {
			e.t.Fatal(err)
		}
	}
	// A version on or before the newest would overlap it: refused, nothing
	// stored, also when eight imports race.
	for _, eff := range []time.Time{oct, july, oct.Add(-time.Millisecond)} {
		if err := e.db.PutSheet(e.ctx, sheet(eff, 1)); kontor.KindOf(err) != kontor.Conflict {
			e.t.Fatalf("overlapping version %v: %v", eff, err)
		}
	}
	next := oct.AddDate(0, 1, 0)
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- e.db.PutSheet(e.ctx, sheet(next, 150_000_001)) }()
	}
	stored := 0
	for range 8 {
		if err := <-errs; err == nil {
			stored++
		} else if kontor.KindOf(err) != kontor.Conflict {
			e.t.Fatalf("racing import: %v", err)
		}
	}
	if stored != 1 {
		e.t.Fatalf("racing imports of one date: %d stored, want 1", stored)
	}
	for _, c := range []struct {
		at   time.Time
		want billing.Nanos
	}{{july, 136_500_000}, {oct.Add(-time.Millisecond), 136_500_000}, {oct, 150_000_001}, {oct.AddDate(0, 0, 20), 150_000_001}} {
		s, err := e.db.SheetAt(e.ctx, c.at)
		if err != nil || len(s.Rates) != 2 {
			e.t.Fatalf("at %v: %+v %v", c.at, s, err)
		}
		r, err := s.Price("DE", "marketing")
		if err != nil || r.Price != c.want || r.PriceText != c.want.String() {
			e.t.Fatalf("at %v: %+v %v, want %d", c.at, r, err, c.want)
		}
	}
	if vs, err := e.db.Sheets(e.ctx); err != nil || len(vs) != 3 || !vs[0].Effective.Equal(next) || !vs[1].Effective.Equal(oct) {
		e.t.Fatalf("versions: %+v %v", vs, err)
	}
}
