package commerce

import (
	"strings"
	"testing"
)

func TestParsePrice(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    int64
		cur  string
		fail string // part of the error, when it must fail
	}{
		{in: "9.99 EUR", v: 999, cur: "EUR"},
		{in: "19.99 EUR", v: 1999, cur: "EUR"},
		{in: "0.1 EUR", v: 10, cur: "EUR"},
		{in: "10 EUR", v: 1000, cur: "EUR"},
		{in: "  12.50   USD ", v: 1250, cur: "USD"},
		{in: "1000 JPY", v: 1000, cur: "JPY"},
		{in: "1000.00 JPY", v: 1000, cur: "JPY"},
		{in: "1.234 BHD", v: 1234, cur: "BHD"},
		{in: "0.005 KWD", v: 5, cur: "KWD"},
		{in: "0 EUR", v: 0, cur: "EUR"},
		{in: "007.10 EUR", v: 710, cur: "EUR"},
		{in: "9.990 EUR", v: 999, cur: "EUR"},
		{in: "9999999999999.99 EUR", v: 999999999999999, cur: "EUR"},
		{in: "1.299,00 EUR", fail: "dot for decimals"},
		{in: "1,299.00 EUR", fail: "dot for decimals"},
		{in: "9.999 EUR", fail: "2 decimals"},
		{in: "10.5 JPY", fail: "0 decimals"},
		{in: "9.99 eur", fail: "not an ISO 4217"},
		{in: "9.99 XYZ", fail: "not an ISO 4217"},
		{in: "9.99", fail: "amount and a currency"},
		{in: "EUR", fail: "amount and a currency"},
		{in: "9.99 EUR extra", fail: "amount and a currency"},
		{in: "-1.00 EUR", fail: "negative"},
		{in: "1e3 EUR", fail: "not a decimal"},
		{in: ".99 EUR", fail: "not a decimal"},
		{in: "9. EUR", fail: "not a decimal"},
		{in: "1.2.3 EUR", fail: "not a decimal"},
		{in: "NaN EUR", fail: "not a decimal"},
		{in: "100000000000000000000 EUR", fail: "too large"},
		{in: "10000000000001 EUR", fail: "too large"},
		{in: "", fail: "amount and a currency"},
	} {
		v, cur, err := ParsePrice(tc.in)
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("ParsePrice(%q) = %d %s, %v; want an error with %q", tc.in, v, cur, err, tc.fail)
			}
			continue
		}
		if err != nil || v != tc.v || cur != tc.cur {
			t.Errorf("ParsePrice(%q) = %d %q, %v; want %d %q", tc.in, v, cur, err, tc.v, tc.cur)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		cur  string
		want string
	}{
		{999, "EUR", "9.99 EUR"}, {5, "EUR", "0.05 EUR"}, {0, "USD", "0.00 USD"}, {1000, "JPY", "1000 JPY"},
		{1234, "BHD", "1.234 BHD"}, {7, "KWD", "0.007 KWD"}, {123456789, "EUR", "1234567.89 EUR"},
	} {
		if got := FormatPrice(tc.v, tc.cur); got != tc.want {
			t.Errorf("FormatPrice(%d, %s) = %q, want %q", tc.v, tc.cur, got, tc.want)
		}
	}
}

func TestExponents(t *testing.T) {
	for cur, want := range map[string]int{"EUR": 2, "USD": 2, "JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3} {
		if got, ok := Exponent(cur); !ok || got != want {
			t.Errorf("Exponent(%s) = %d %v, want %d", cur, got, ok, want)
		}
	}
	for cur := range exponents {
		if len(cur) != 3 || strings.ToUpper(cur) != cur {
			t.Errorf("bad currency code %q in the table", cur)
		}
	}
}

// FuzzParsePrice: never panics, and whatever parses formats back to the
// same amount.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"9.99 EUR", "1000 JPY", "1.234 BHD", "1.299,00 EUR", "-1 EUR", "0.000 KWD", "99999999999999999999 USD", "9.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, cur, err := ParsePrice(s)
		if err != nil {
			return
		}
		if v < 0 || v > MaxPrice {
			t.Fatalf("ParsePrice(%q) = %d out of range", s, v)
		}
		v2, cur2, err := ParsePrice(FormatPrice(v, cur))
		if err != nil || v2 != v || cur2 != cur {
			t.Fatalf("round trip of %q: %d %s → %q → %d %s %v", s, v, cur, FormatPrice(v, cur), v2, cur2, err)
		}
	})
}
