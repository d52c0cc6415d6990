package billing

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/kontor-chat/kontor"
)

// Exponents tells how many decimals the minor unit of an ISO 4217 currency
// has (2 for EUR, 0 for JPY, 3 for BHD); ok is false for a code it does not
// know. The server passes commerce.Exponent; billing keeps no table of its
// own.
type Exponents func(currency string) (exp int, ok bool)

// pow10 is 10^n for 0 ≤ n ≤ 9.
func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// divHalfEven divides n by d (d > 0) and rounds the quotient half to even:
// 0.125 at two decimals is 0.12, 0.135 is 0.14, -0.125 is -0.12.
func divHalfEven(n, d int64) int64 {
	q, r := n/d, n%d
	if r < 0 {
		r = -r
	}
	switch twice := 2 * r; {
	case twice > d, twice == d && q%2 != 0:
		if n < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// RoundMinor rounds an exact amount to whole minor units of a currency
// whose minor unit has exp decimals, half to even. This is the one rounding
// of an invoice line.
func RoundMinor(n Nanos, exp int) int64 {
	if exp >= 9 {
		return int64(n)
	}
	return divHalfEven(int64(n), pow10(9-exp))
}

// MinorToNanos is an amount in minor units as nanos.
func MinorToNanos(minor int64, exp int) Nanos { return Nanos(minor * pow10(9-exp)) }

// Percent is amount × bps / 10,000 (basis points: 150 is 1.5 %), rounded
// half to even to whole units of amount. The product is computed without
// overflow.
func Percent(amount int64, bps int64) int64 {
	p := new(big.Int).Mul(big.NewInt(amount), big.NewInt(bps))
	q, r := new(big.Int).QuoRem(p, big.NewInt(10_000), new(big.Int))
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	if c := twice.Cmp(big.NewInt(10_000)); c > 0 || (c == 0 && q.Bit(0) == 1) {
		if p.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// FormatMinor writes an amount in minor units as a decimal of the
// currency: 1999 at exp 2 is "19.99", -5 is "-0.05", 7 at exp 0 is "7".
func FormatMinor(minor int64, exp int) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	if exp == 0 {
		return fmt.Sprintf("%s%d", sign, minor)
	}
	p := pow10(exp)
	return fmt.Sprintf("%s%d.%0*d", sign, minor/p, exp, minor%p)
}

// maxMinor bounds an amount an operator types (a top-up, an adjustment, a
// fee): 10^9 units of the currency, 10^18 nanos, inside int64.
const maxMinor = 1_000_000_000

// ParseMinor reads an amount an operator types, such as "50", "-1.25" or
// "0.5", into minor units of a currency with exp decimals: never through a
// float, and never with more decimals than the currency has.
func ParseMinor(s string, exp int) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(frac) > exp {
		return 0, fmt.Errorf("%q is not an amount with at most %d decimals", s, exp)
	}
	var v int64
	for _, c := range whole + frac + strings.Repeat("0", exp-len(frac)) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an amount with at most %d decimals", s, exp)
		}
		v = v*10 + int64(c-'0')
		if v > maxMinor*pow10(exp) {
			return 0, fmt.Errorf("%q is too large", s)
		}
	}
	if neg {
		v = -v
	}
	return v, nil
}

// exponent looks a currency up, as an error kontor can show.
func exponent(exps Exponents, op, currency string) (int, error) {
	if exps != nil {
		if e, ok := exps(currency); ok && e <= 9 {
			return e, nil
		}
	}
	return 0, kontor.Errorf(kontor.Invalid, op, "%q is not an ISO 4217 currency kontor knows", currency)
}
