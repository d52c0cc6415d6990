package billing

import (
	"fmt"
	"slices"
	"strings"
)

// TieredCategories are the categories whose rates fall with monthly
// volume, as in the public per-message model: each calendar month (UTC),
// per business, market and category, the charged messages are counted and
// a message's number in that count picks its band.
var TieredCategories = []string{"utility", "authentication", "authentication-international"}

// Tier is one monthly volume band of a category: from the From-th charged
// message of the category to a market in a calendar month (the message
// that crosses into the band included) until the next band's From, a
// message costs the market's rate less DiscountBPS basis points (half to
// even to whole nanos), or the band's own rate for a market Rates names.
type Tier struct {
	From        int64 `json:"from"`                   // the first message of the band (1-based)
	DiscountBPS int64 `json:"discount_bps,omitempty"` // off the market's rate: 1500 is 15 %
	// Rates are explicit rates of the band by market (ISO 3166 alpha-2, or
	// "other" for every market without its own row), decimals in the price
	// sheet's currency; they override DiscountBPS for those markets.
	Rates map[string]string `json:"rates,omitempty"`
}

// Band picks the band of the n-th charged message of the month (1-based):
// its index in tiers plus one, or 0 when n is below every band (the
// sheet's rate).
func Band(tiers []Tier, n int64) int {
	band := 0
	for i, t := range tiers {
		if n >= t.From {
			band = i + 1
		}
	}
	return band
}

// TierPrice is the price of the n-th charged message of the month of a
// category to market whose sheet rate is rate: the rate of its band (see
// Tier), and that band (0: no band, the sheet's rate).
func TierPrice(tiers []Tier, n int64, market string, rate Nanos) (Nanos, int) {
	band := Band(tiers, n)
	if band == 0 {
		return rate, 0
	}
	t := tiers[band-1]
	for _, m := range []string{strings.ToUpper(market), OtherMarket} {
		if s, ok := t.Rates[m]; ok {
			if p, err := ParseNanos(s); err == nil { // validated with the rules
				return p, band
			}
		}
	}
	return Nanos(Percent(int64(rate), 10_000-t.DiscountBPS)), band
}

// validateTiers lists what is wrong with the tiers of category cat.
func validateTiers(where, cat string, tiers []Tier) []string {
	if len(tiers) == 0 {
		return nil
	}
	var errs []string
	if !slices.Contains(TieredCategories, cat) {
		return []string{fmt.Sprintf("%s: %s: volume tiers are only for %s", where, cat, strings.Join(TieredCategories, ", "))}
	}
	for i, t := range tiers {
		at := fmt.Sprintf("%s: %s: tier %d", where, cat, i+1)
		switch {
		case t.From < 1:
			errs = append(errs, at+": from must be 1 or more (the first message of the band)")
		case i > 0 && t.From <= tiers[i-1].From:
			errs = append(errs, fmt.Sprintf("%s: from %d is not after tier %d's %d (bands go up)", at, t.From, i, tiers[i-1].From))
		}
		if t.DiscountBPS < 0 || t.DiscountBPS > 10_000 {
			errs = append(errs, fmt.Sprintf("%s: discount_bps %d is not between 0 and 10000", at, t.DiscountBPS))
		}
		if t.DiscountBPS == 0 && len(t.Rates) == 0 {
			errs = append(errs, at+": give discount_bps, rates, or both")
		}
		for m, s := range t.Rates {
			if up := strings.ToUpper(m); m != OtherMarket && (len(m) != 2 || !isUpperAlpha(up) || up != m) {
				errs = append(errs, fmt.Sprintf("%s: rates: %q is not an ISO 3166 country code (upper case) or \"other\"", at, m))
			}
			if strings.HasPrefix(strings.TrimSpace(s), "-") {
				errs = append(errs, fmt.Sprintf("%s: rates: %s: %q is negative", at, m, s))
			} else if _, err := ParseNanos(s); err != nil {
				errs = append(errs, fmt.Sprintf("%s: rates: %s: %v", at, m, err))
			}
		}
	}
	return errs
}
