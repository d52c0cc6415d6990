package commerce

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

func TestAdjustmentCheck(t *testing.T) {
	for _, key := range []string{"a b", "ключ", strings.Repeat("k", MaxKey+1)} {
		a := Adjustment{Delta: 1, Reason: "received", Key: key}
		if fe := a.Check(); fe == nil || fe.Field != "idempotency_key" {
			t.Errorf("key %q: %v", key, fe)
		}
	}
	if a := (Adjustment{Delta: 1, Reason: "received", Key: "order-2026-12-03_#7"}); a.Check() != nil {
		t.Errorf("a good key refused: %v", a.Check())
	}
	for _, tc := range []struct {
		delta  int
		reason string
		note   string
		field  string // "" when valid
	}{
		{5, "received", "", ""},
		{5, " Received ", "", ""},
		{-2, "damaged", "dropped the box", ""},
		{-1, "correction", "", ""},
		{1, "correction", "", ""},
		{3, "returned", "", ""},
		{-5, "received", "", "delta"},
		{5, "damaged", "", "delta"},
		{-1, "returned", "", "delta"},
		{0, "correction", "", "delta"},
		{MaxDelta, "received", "", ""},
		{MaxDelta + 1, "received", "", "delta"},
		{-MaxDelta - 1, "correction", "", "delta"},
		{1, "", "", "reason"},
		{1, "stolen", "", "reason"},
		{-1, "sold", "", "reason"},
		{1, "released", "", "reason"},
		{1, "received", strings.Repeat("x", MaxNote+1), "note"},
		{1, "received", "a\x00b", "note"},
		{1, "received", "\xff", "note"},
	} {
		a := Adjustment{Delta: tc.delta, Reason: tc.reason, Note: tc.note}
		fe := a.Check()
		switch {
		case tc.field == "" && fe != nil:
			t.Errorf("%d %q: %v", tc.delta, tc.reason, fe)
		case tc.field != "" && (fe == nil || fe.Field != tc.field):
			t.Errorf("%d %q %q: %v, want an error on %s", tc.delta, tc.reason, tc.note, fe, tc.field)
		}
	}
}

func TestCrossed(t *testing.T) {
	for _, tc := range []struct {
		level, delta, threshold int
		want                    bool
	}{
		{5, -1, 5, true},   // 6 → 5: reaches it
		{4, -3, 5, true},   // 7 → 4: passes it
		{0, -10, 0, true},  // sold out with threshold 0
		{4, -1, 5, false},  // 5 → 4: was at it already
		{6, -1, 5, false},  // 7 → 6: still above
		{5, 1, 5, false},   // going up
		{0, -3, -1, false}, // no threshold
	} {
		if got := Crossed(tc.level, tc.delta, tc.threshold); got != tc.want {
			t.Errorf("Crossed(%d, %d, %d) = %v", tc.level, tc.delta, tc.threshold, got)
		}
	}
}

func TestStockAlertWebhook(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	a := StockAlert{Business: 11, Catalog: 22, Product: 33, RetailerID: "rose", Name: "Röse", Available: 2, Threshold: 3,
		Move: StockMove{Product: 33, Seq: 9, Delta: -2, Reason: ReasonSold, Order: 44, At: at}}
	id, body, err := a.Webhook()
	if err != nil || id != "stock.33.9" {
		t.Fatalf("%q %v", id, err)
	}
	want := `{"object":"whatsapp_business_account","entry":[{"id":"11","time":1796292000,"changes":[{"field":"inventory_alerts","value":` +
		`{"event":"LOW_STOCK","catalog_id":"22","product_id":"33","retailer_id":"rose","name":"R\u00f6se","inventory":2,"low_stock_threshold":3,` +
		`"reason":"sold","delta":-2,"seq":9,"order_id":"44","timestamp":"1796292000"}}]}]}`
	if string(body) != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}
	if !json.Valid(body) {
		t.Fatal("not JSON")
	}
}

func TestParseSalesRange(t *testing.T) {
	for _, tc := range []struct {
		since, until, tz, by string
		field                string
		from, to             string // RFC 3339 in UTC
	}{
		{"2026-12-01", "2026-12-31", "", "", "", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"2026-12-01", "2026-12-01", "Europe/Berlin", "product", "", "2026-11-30T23:00:00Z", "2026-12-01T23:00:00Z"},
		{"2026-03-29", "2026-03-29", "Europe/Berlin", "", "", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"}, // a 23-hour day
		{"2026-01-01", "2026-12-31", "", "", "", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"2024-01-01", "2024-12-31", "", "", "", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"}, // 366 days
		{"2026-01-01", "2027-01-02", "", "", "until", "", ""},                                    // 367 days
		{"", "2026-12-01", "", "", "since", "", ""},
		{"2026-12-01", "", "", "", "until", "", ""},
		{"2026-13-01", "2026-12-31", "", "", "since", "", ""},
		{"01.12.2026", "2026-12-31", "", "", "since", "", ""},
		{"2026-12-31", "2026-12-01", "", "", "until", "", ""},
		{"2026-12-01", "2026-12-31", "Mars/Olympus", "", "time_zone", "", ""},
		{"2026-12-01", "2026-12-31", "Local", "", "time_zone", "", ""},
		{"2026-12-01", "2026-12-31", "", "week", "group_by", "", ""},
	} {
		q := SalesQuery{Since: tc.since, Until: tc.until, TimeZone: tc.tz, GroupBy: tc.by}
		from, to, _, fe := q.ParseSalesRange()
		if tc.field != "" {
			if fe == nil || fe.Field != tc.field {
				t.Errorf("%+v: %v, want an error on %s", tc, fe, tc.field)
			}
			continue
		}
		if fe != nil || from.UTC().Format(time.RFC3339) != tc.from || to.UTC().Format(time.RFC3339) != tc.to {
			t.Errorf("%+v: %v %v %v", tc, from.UTC(), to.UTC(), fe)
		}
	}
}

func TestSalesCSVProducts(t *testing.T) {
	r := SalesReport{GroupBy: GroupByProduct, Rows: []SalesRow{
		{Product: kontor.ID(7), RetailerID: "=cmd", Name: "Tea, green", Currency: "KWD", Orders: 1, Units: 2, Gross: 2500, Refunded: 0, Net: 2500}}}
	var b strings.Builder
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "product_id,retailer_id,name,currency,orders,units,gross,refunded,net\n7,'=cmd,\"Tea, green\",KWD,1,2,2.500,0.000,2.500\n"
	if b.String() != want {
		t.Fatalf("%q\nwant %q", b.String(), want)
	}
}

// FuzzSalesQuery: whatever the days, zone and grouping a caller sends, the
// parser never panics, and what it accepts is a range of 1 to 366 whole
// days in that zone.
func FuzzSalesQuery(f *testing.F) {
	for _, s := range [][4]string{{"2026-12-01", "2026-12-31", "", ""}, {"2026-03-29", "2026-03-29", "Europe/Berlin", "product"},
		{"2026-02-30", "2026-03-01", "UTC", "day"}, {"0000-01-01", "9999-12-31", "Asia/Kolkata", ""}, {"2026-12-01", "2026-12-01", "../../etc/passwd", ""}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, since, until, tz, by string) {
		q := SalesQuery{Since: since, Until: until, TimeZone: tz, GroupBy: by}
		from, to, loc, fe := q.ParseSalesRange()
		if fe != nil {
			if fe.Field == "" || fe.Reason == "" {
				t.Fatalf("an error without a field or reason: %+v", fe)
			}
			return
		}
		if days := daysBetween(from, to); !from.Before(to) || days < 1 || days > MaxReportDays || loc == nil {
			t.Fatalf("%q..%q in %q: [%v, %v) (%d days)", since, until, tz, from, to, days)
		}
		if from.In(loc).Format(time.DateOnly) != since || to.In(loc).AddDate(0, 0, -1).Format(time.DateOnly) != until {
			t.Fatalf("%q..%q in %q: [%v, %v)", since, until, tz, from, to)
		}
		if q.GroupBy != GroupByDay && q.GroupBy != GroupByProduct {
			t.Fatalf("group_by %q accepted", q.GroupBy)
		}
	})
}
