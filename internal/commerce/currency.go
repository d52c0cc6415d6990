package commerce

import (
	"fmt"
	"strconv"
	"strings"
)

// exponents holds the ISO 4217 currency codes in use with their minor-unit
// exponent: 2 unless listed among the zero- and three-decimal ones.
var exponents = func() map[string]int {
	m := map[string]int{}
	two := `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR
IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO
NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG`
	zero := `BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF`
	three := `BHD IQD JOD KWD LYD OMR TND`
	for _, c := range strings.Fields(two) {
		m[c] = 2
	}
	for _, c := range strings.Fields(zero) {
		m[c] = 0
	}
	for _, c := range strings.Fields(three) {
		m[c] = 3
	}
	return m
}()

// Exponent returns the number of decimals of an ISO 4217 currency (2 for
// EUR, 0 for JPY, 3 for BHD); ok is false for a code kontor does not know.
func Exponent(currency string) (exp int, ok bool) {
	exp, ok = exponents[currency]
	return exp, ok
}

// MaxPrice bounds a price in minor units (10^15: far above any product,
// far below int64's limit, exact in every currency).
const MaxPrice = 1_000_000_000_000_000

// ParsePrice reads a feed price such as "9.99 EUR" into minor units of the
// currency: 999 and "EUR". The amount uses a dot for decimals and no
// thousands separators; it may have fewer decimals than the currency
// ("10 EUR" is 1000) but not more, unless they are zeros. No float is ever
// involved.
func ParsePrice(s string) (int64, string, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, "", fmt.Errorf("price %q is not an amount and a currency code such as \"9.99 EUR\"", s)
	}
	amount, cur := f[0], f[1]
	exp, ok := Exponent(cur)
	if !ok {
		return 0, "", fmt.Errorf("price %q: %q is not an ISO 4217 currency code", s, cur)
	}
	v, err := ParseAmount(amount, exp)
	if err != nil {
		return 0, "", fmt.Errorf("price %q: %v", s, err)
	}
	return v, cur, nil
}

// ParseAmount reads a decimal amount with at most exp significant decimals
// into minor units.
func ParseAmount(amount string, exp int) (int64, error) {
	if strings.Contains(amount, ",") {
		return 0, fmt.Errorf("write the amount with a dot for decimals and no thousands separators (\"1299.00\", not \"1.299,00\")")
	}
	whole, frac, dot := strings.Cut(amount, ".")
	if whole == "" || (dot && frac == "") || strings.Contains(frac, ".") {
		return 0, fmt.Errorf("%q is not a decimal amount", amount)
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				if part[i] == '-' {
					return 0, fmt.Errorf("an amount cannot be negative")
				}
				return 0, fmt.Errorf("%q is not a decimal amount", amount)
			}
		}
	}
	if t := strings.TrimRight(frac, "0"); len(t) > exp {
		return 0, fmt.Errorf("the currency has %d decimals, the amount %q more", exp, amount)
	}
	if len(frac) > exp {
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	whole = strings.TrimLeft(whole, "0")
	digits := whole + frac
	if len(digits) > 18 {
		return 0, fmt.Errorf("the amount %q is too large", amount)
	}
	var v int64
	for i := 0; i < len(digits); i++ {
		v = v*10 + int64(digits[i]-'0')
	}
	if v > MaxPrice {
		return 0, fmt.Errorf("the amount %q is too large", amount)
	}
	return v, nil
}

// FormatPrice writes minor units the way feeds do: "9.99 EUR", "1000 JPY".
func FormatPrice(v int64, currency string) string {
	return FormatAmount(v, currency) + " " + currency
}

// FormatAmount writes minor units as a decimal amount with the currency's
// decimals.
func FormatAmount(v int64, currency string) string {
	exp, _ := Exponent(currency)
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
