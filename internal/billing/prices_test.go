package billing

import (
	"strings"
	"testing"
)

func TestParseNanos(t *testing.T) {
	for in, want := range map[string]Nanos{
		"0.0417": 41_700_000, "0": 0, "1": 1_000_000_000, "0.000000001": 1, "12.5": 12_500_000_000, " 0.0080 ": 8_000_000,
	} {
		got, err := ParseNanos(in)
		if err != nil || got != want {
			t.Errorf("ParseNanos(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "-1", "1e-3", "0.0000000001", "1,5", "abc", "99999999999"} {
		if _, err := ParseNanos(bad); err == nil {
			t.Errorf("ParseNanos(%q) accepted", bad)
		}
	}
	for n, want := range map[Nanos]string{41_700_000: "0.0417", 1_000_000_000: "1", 0: "0", 1: "0.000000001"} {
		if got := n.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(n), got, want)
		}
	}
}

func TestParseSheet(t *testing.T) {
	rates, errs := ParseSheet(strings.NewReader(ExampleRates))
	if len(errs) != 0 || len(rates) < 20 {
		t.Fatalf("the example sheet: %d rates, %v", len(rates), errs)
	}
	for _, c := range []struct {
		name   string
		csv    string
		column string // of the first problem; "" = accepted
	}{
		{"good", "market,category,currency,price\nDE,marketing,EUR,0.1365\nother,utility,EUR,0.02\n", ""},
		{"header", "country,category,currency,price\nDE,marketing,EUR,1\n", "header"},
		{"market", "market,category,currency,price\nGermany,marketing,EUR,1\n", "market"},
		{"category", "market,category,currency,price\nDE,promo,EUR,1\n", "category"},
		{"currency", "market,category,currency,price\nDE,marketing,EURO,1\n", "currency"},
		{"two currencies", "market,category,currency,price\nDE,marketing,EUR,1\nFR,marketing,USD,1\n", "currency"},
		{"price", "market,category,currency,price\nDE,marketing,EUR,0.1.2\n", "price"},
		{"twice", "market,category,currency,price\nDE,marketing,EUR,1\nde,marketing,EUR,2\n", "dup"},
		{"empty", "market,category,currency,price\n", "empty"},
	} {
		rates, errs := ParseSheet(strings.NewReader(c.csv))
		switch {
		case c.column == "" && len(errs) > 0:
			t.Errorf("%s: %v", c.name, errs)
		case c.column != "" && len(errs) == 0:
			t.Errorf("%s: accepted %v", c.name, rates)
		case c.column != "" && c.column != "header" && c.column != "dup" && c.column != "empty" && errs[0].Column != c.column:
			t.Errorf("%s: %+v", c.name, errs[0])
		}
	}
	sh := Sheet{Rates: mustRates(t, "market,category,currency,price\nDE,marketing,EUR,0.1365\nother,marketing,EUR,0.06\n")}
	if r, err := sh.Price("de", "marketing"); err != nil || r.Price != 136_500_000 {
		t.Fatalf("DE: %+v %v", r, err)
	}
	if r, err := sh.Price("FR", "marketing"); err != nil || r.Market != OtherMarket || r.Price != 60_000_000 {
		t.Fatalf("FR falls to other: %+v %v", r, err)
	}
	if _, err := sh.Price("FR", "utility"); err == nil {
		t.Fatal("a category the sheet does not price was found")
	}
}

func mustRates(t *testing.T, csv string) []Rate {
	t.Helper()
	rs, errs := ParseSheet(strings.NewReader(csv))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rs
}
