package billing

import (
	"strings"
	"testing"
)

func exps(c string) (int, bool) {
	switch c {
	case "EUR", "USD":
		return 2, true
	case "JPY":
		return 0, true
	case "BHD":
		return 3, true
	}
	return 0, false
}

func TestRoundMinor(t *testing.T) {
	for _, c := range []struct {
		n    Nanos
		exp  int
		want int64
	}{
		{125_000_000, 2, 12},     // 0.125 → 0.12 (half to even)
		{135_000_000, 2, 14},     // 0.135 → 0.14
		{-125_000_000, 2, -12},   // -0.125 → -0.12
		{-135_000_000, 2, -14},   // -0.135 → -0.14
		{2_686_425_000, 2, 269},  // 2.686425 → 2.69
		{124_999_999, 2, 12},     // under half
		{125_000_001, 2, 13},     // over half
		{41_700_000, 2, 4},       // 0.0417 → 0.04
		{500_000_000, 0, 0},      // 0.5 JPY → 0
		{1_500_000_000, 0, 2},    // 1.5 JPY → 2
		{1_234_500_000, 3, 1234}, // 1.2345 BHD → 1.234
		{1_235_500_000, 3, 1236}, // 1.2355 BHD → 1.236
		{0, 2, 0},
		{9, 9, 9},
	} {
		if got := RoundMinor(c.n, c.exp); got != c.want {
			t.Errorf("RoundMinor(%s, %d) = %d, want %d", c.n, c.exp, got, c.want)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		amount, bps, want int64
	}{
		{10_000, 150, 150}, // 1.5 % of 100.00
		{50, 150, 1},       // 0.75 → 1
		{30, 150, 0},       // 0.45 → 0
		{100, 50, 0},       // 0.5 → 0 (even)
		{300, 50, 2},       // 1.5 → 2 (even)
		{-300, 50, -2},
		{1_000_000_000_000_000, 10_000, 1_000_000_000_000_000}, // no overflow
		{999, 0, 0},
	} {
		if got := Percent(c.amount, c.bps); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.amount, c.bps, got, c.want)
		}
	}
}

func TestFormatParseMinor(t *testing.T) {
	for _, c := range []struct {
		minor int64
		exp   int
		text  string
	}{{1999, 2, "19.99"}, {-5, 2, "-0.05"}, {7, 0, "7"}, {1234, 3, "1.234"}, {0, 2, "0.00"}} {
		if got := FormatMinor(c.minor, c.exp); got != c.text {
			t.Errorf("FormatMinor(%d, %d) = %q, want %q", c.minor, c.exp, got, c.text)
		}
		if got, err := ParseMinor(c.text, c.exp); err != nil || got != c.minor {
			t.Errorf("ParseMinor(%q, %d) = %d, %v", c.text, c.exp, got, err)
		}
	}
	for in, want := range map[string]int64{"50": 5000, "0.5": 50, "-1.25": -125} {
		if got, err := ParseMinor(in, 2); err != nil || got != want {
			t.Errorf("ParseMinor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1.234", "1,5", "abc", "1e3", ".5", "5.", "--1", "99999999999999"} {
		if _, err := ParseMinor(bad, 2); err == nil {
			t.Errorf("ParseMinor(%q) accepted", bad)
		}
	}
}

// TestSettle: each line's exact sum is rounded once, half to even; the
// total is the sum of the rounded lines, not the rounded sum.
func TestSettle(t *testing.T) {
	line := func(kind, market, cat string, count int64, unit Nanos) Line {
		return Line{Kind: kind, Market: market, Category: cat, Currency: "EUR", Count: count, Unit: unit, Sum: unit * Nanos(count)}
	}
	// Three lines of 0.005 each: rounded alone 0.00, 0.00, 0.00 (half to
	// even); summed first they would be 0.015 → 0.02. The invoice says 0.
	inv, err := Settle([]Line{
		line(KindMessage, "DE", "utility", 1, 5_000_000),
		line(KindMessage, "FR", "utility", 1, 5_000_000),
		line(KindMessage, "IT", "utility", 1, 5_000_000),
	}, exps)
	if err != nil || inv.Total != 0 || inv.TotalText != "0.00" || len(inv.Lines) != 3 {
		t.Fatalf("half-even per line: %+v %v", inv, err)
	}
	inv, err = Settle([]Line{
		line(KindMessage, "DE", "marketing", 3, 136_500_000),                                         // 0.4095 → 0.41
		line(KindMessage, "BR", "utility", 1000, 8_000_000),                                          // 8.00
		{Kind: KindCommerce, Category: "payment", Currency: "EUR", Count: 2, Sum: 450_000_000},       // 0.45
		{Kind: KindAdjustment, Category: "adjustment", Currency: "EUR", Count: 1, Sum: -125_000_000}, // -0.125 → -0.12
	}, exps)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Total != 41+800+45-12 || inv.Currency != "EUR" || inv.Entries != 1006 {
		t.Fatalf("total: %+v", inv)
	}
	if l := inv.Lines[0]; l.Market != "BR" || l.UnitPrice != "0.008" || l.Exact != "8" || l.Amount != 800 {
		t.Fatalf("lines are sorted by kind, market, category; unit price exact: %+v", l)
	}
	if l := inv.Lines[2]; l.Kind != KindCommerce || l.UnitPrice != "" || l.Amount != 45 {
		t.Fatalf("fee line: %+v", l)
	}
	if _, err := Settle([]Line{line(KindMessage, "DE", "utility", 1, 1), {Kind: KindMessage, Currency: "USD", Count: 1, Sum: 1}}, exps); err == nil ||
		!strings.Contains(err.Error(), "EUR") {
		t.Fatalf("two currencies in a month: %v", err)
	}
	if inv, err := Settle(nil, exps); err != nil || inv.Total != 0 || inv.Lines == nil {
		t.Fatalf("an empty month: %+v %v", inv, err)
	}
}

func TestCommerceFeeOf(t *testing.T) {
	f := CommerceFee{BPS: 290, Fixed: 30, Currency: "EUR"} // 2.9 % + 0.30
	for amount, want := range map[int64]int64{10_000: 320, 1999: 58 + 30, 50: 1 + 30, 1: 30} {
		// 19.99 × 2.9 % = 0.57971 → 0.58; 0.50 × 2.9 % = 0.0145 → 0.01
		if got := f.FeeOf(amount); got != want {
			t.Errorf("fee on %d = %d, want %d", amount, got, want)
		}
	}
}
