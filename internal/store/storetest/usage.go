package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// testUsageRows: usage by day (from the daily sums) and by half hour or
// over ranges that are not whole days (from the entries) both equal the
// entries summed here; entries of other kinds, other businesses and
// outside the range are left out; an entry added twice counts once.
func testUsageRows(_ *testing.T, e *env) {
	biz, other, num := e.ids.Next(), e.ids.Next(), e.ids.Next()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	type entry struct {
		at          time.Time
		market, cat string
		kind        string
		nanos       int64
		business    kontor.ID
		key         string
	}
	var es []entry
	for i := range 200 {
		// Over 40 days from the day before, some at the last and first
		// millisecond of a day.
		at := start.Add(-24*time.Hour + time.Duration(i)*(40*24*time.Hour/200))
		switch i % 7 {
		case 3:
			at = at.Truncate(24 * time.Hour).Add(-time.Millisecond)
		case 5:
			at = at.Truncate(24 * time.Hour)
		}
		en := entry{at: at, market: []string{"DE", "AT"}[i%2], cat: []string{"marketing", "utility", "authentication"}[i%3], kind: billing.KindMessage,
			nanos: int64(1000 + i), business: biz, key: fmt.Sprintf("u:%d", i)}
		if i%11 == 0 {
			en.kind, en.cat, en.market = billing.KindAdjustment, "", ""
		}
		if i%13 == 0 {
			en.business = other
		}
		es = append(es, en)
	}
	for _, en := range es {
		if _, err := e.db.Append(e.ctx, billing.Entry{ID: e.ids.Next(), Key: en.key, Business: en.business, Number: num, Kind: en.kind, Market: en.market,
			Category: en.cat, Currency: "USD", Amount: billing.Nanos(en.nanos), At: en.at}); err != nil {
			e.t.Fatal(err)
		}
	}
	// A message priced by a volume tier is summed by day too.
	tiered := entry{at: start.Add(50 * time.Hour), market: "DE", cat: "marketing", kind: billing.KindMessage, nanos: 777, business: biz, key: "u:tiered"}
	if _, added, err := e.db.AppendCounted(e.ctx, billing.Entry{ID: e.ids.Next(), Key: tiered.key, Business: biz, Number: num, Kind: billing.KindMessage,
		Market: "DE", Category: "marketing", Currency: "USD", At: tiered.at}, func(int64) (billing.Nanos, string) { return 777, "" }); err != nil || !added {
		e.t.Fatalf("a tiered charge: %v %v", added, err)
	}
	es = append(es, tiered)
	// Reported again: counted once.
	if added, err := e.db.Append(e.ctx, billing.Entry{ID: e.ids.Next(), Key: es[1].key, Business: biz, Number: num, Kind: billing.KindMessage,
		Market: "DE", Category: "utility", Currency: "USD", Amount: 5, At: es[1].at}); err != nil || added {
		e.t.Fatalf("the same key again: %v %v", added, err)
	}
	key := func(r billing.UsageRow) string {
		return fmt.Sprintf("%s %s %s %s %s", r.Start.UTC().Format(time.RFC3339), r.Number, r.Market, r.Category, r.Currency)
	}
	want := func(from, to time.Time, bucket time.Duration) []billing.UsageRow {
		m := map[string]*billing.UsageRow{}
		for _, en := range es {
			if en.business != biz || en.kind != billing.KindMessage || en.at.Before(from) || !en.at.Before(to) {
				continue
			}
			b := time.UnixMilli(en.at.UnixMilli() / bucket.Milliseconds() * bucket.Milliseconds()).UTC()
			r := billing.UsageRow{Start: b, Number: num, Market: en.market, Category: en.cat, Currency: "USD"}
			if m[key(r)] == nil {
				m[key(r)] = &r
			}
			m[key(r)].Count++
			m[key(r)].Sum += billing.Nanos(en.nanos)
		}
		var out []billing.UsageRow
		for _, r := range m {
			out = append(out, *r)
		}
		return out
	}
	sorted := func(rs []billing.UsageRow) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%s %d %d", key(r), r.Count, r.Sum)
		}
		slices.SortFunc(out, cmp.Compare)
		return out
	}
	for _, c := range []struct {
		name     string
		from, to time.Time
		bucket   time.Duration
	}{
		{"a month by day", start, start.AddDate(0, 1, 0), 24 * time.Hour},
		{"a month as one bucket of 30 days", start, start.AddDate(0, 1, 0), 30 * 24 * time.Hour},
		{"days not from midnight", start.Add(time.Hour), start.AddDate(0, 0, 10).Add(time.Hour), 24 * time.Hour},
		{"half hours", start, start.AddDate(0, 0, 3), 30 * time.Minute},
		{"nothing", start.AddDate(1, 0, 0), start.AddDate(1, 1, 0), 24 * time.Hour},
	} {
		got, err := e.db.UsageRows(e.ctx, biz, c.from, c.to, c.bucket)
		if err != nil {
			e.t.Fatalf("%s: %v", c.name, err)
		}
		if g, w := sorted(got), sorted(want(c.from, c.to, c.bucket)); !slices.Equal(g, w) {
			e.t.Errorf("%s:\ngot  %v\nwant %v", c.name, g, w)
		}
	}
	if _, err := e.db.UsageRows(e.ctx, biz, start, start.AddDate(0, 1, 0), 0); kontor.KindOf(err) != kontor.Invalid {
		e.t.Errorf("no bucket: %v", err)
	}
}
