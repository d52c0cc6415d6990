package billing

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// Granularities of pricing analytics, as the public API names them.
const (
	HalfHour = "HALF_HOUR"
	Daily    = "DAILY"
	Monthly  = "MONTHLY"
)

// Dimensions pricing analytics can split by.
var Dimensions = []string{"COUNTRY", "PRICING_CATEGORY", "PRICING_TYPE", "PHONE"}

// UsageRow is the charged messages of one number, market and category in
// one bucket (half an hour or a day) of time.
type UsageRow struct {
	Start    time.Time
	Number   kontor.ID
	Market   string
	Category string
	Currency string
	Count    int64
	Sum      Nanos
}

// UsageStore sums charged messages over time. Implemented by
// internal/store.
type UsageStore interface {
	// UsageRows sums a business's message charges in [from, to) by
	// bucket (from the Unix epoch, of the given length), number, market
	// and category.
	UsageRows(ctx context.Context, business kontor.ID, from, to time.Time, bucket time.Duration) ([]UsageRow, error)
}

// AnalyticsQuery asks for a business's pricing analytics: the public
// pricing_analytics field of a WhatsApp Business Account.
type AnalyticsQuery struct {
	Business    kontor.ID
	Start, End  time.Time
	Granularity string   // HALF_HOUR, DAILY, MONTHLY
	Dimensions  []string // of Dimensions; none: one point per period
	Countries   []string // only these markets (ISO 3166); none: all
	Categories  []string // only these categories (MARKETING, …); none: all
	Numbers     []kontor.ID
}

// DataPoint is one point of pricing analytics in the public shape. Cost is
// the exact decimal that was charged (a JSON number, never through a
// float); Phone is the phone-number id (the API shows the number).
type DataPoint struct {
	Start           int64       `json:"start"`
	End             int64       `json:"end"`
	Country         string      `json:"country,omitempty"`
	PricingCategory string      `json:"pricing_category,omitempty"`
	PricingType     string      `json:"pricing_type,omitempty"`
	Phone           kontor.ID   `json:"-"`
	PhoneNumber     string      `json:"phone_number,omitempty"`
	Volume          int64       `json:"volume"`
	Cost            json.Number `json:"cost"`
	sum             Nanos
}

// maxAnalyticsSpan bounds one query, as the public API does (about 90
// days of half hours is 4,320 buckets; kontor allows a year of days).
const maxAnalyticsSpan = 366 * 24 * time.Hour

// Analytics answers a pricing analytics query from the ledger. Only
// charged messages are in the ledger, so every point has pricing type
// REGULAR; free messages are not counted.
func Analytics(ctx context.Context, store UsageStore, q AnalyticsQuery) ([]DataPoint, string, error) {
	const op = "billing.Analytics"
	if !q.End.After(q.Start) {
		return nil, "", kontor.Errorf(kontor.Invalid, op, "end must be after start")
	}
	if q.End.Sub(q.Start) > maxAnalyticsSpan {
		return nil, "", kontor.Errorf(kontor.Invalid, op, "at most 366 days at once")
	}
	bucket := 24 * time.Hour
	switch q.Granularity {
	case HalfHour:
		bucket = 30 * time.Minute
		if q.End.Sub(q.Start) > 92*24*time.Hour {
			return nil, "", kontor.Errorf(kontor.Invalid, op, "at most 92 days at HALF_HOUR granularity")
		}
	case Daily, Monthly:
	default:
		return nil, "", kontor.Errorf(kontor.Invalid, op, "granularity is HALF_HOUR, DAILY or MONTHLY, not %q", q.Granularity)
	}
	dims := map[string]bool{}
	for _, d := range q.Dimensions {
		if !slices.Contains(Dimensions, d) {
			return nil, "", kontor.Errorf(kontor.Invalid, op, "dimension %q is not one of %s", d, strings.Join(Dimensions, ", "))
		}
		dims[d] = true
	}
	rows, err := store.UsageRows(ctx, q.Business, q.Start, q.End, bucket)
	if err != nil {
		return nil, "", err
	}
	currency := ""
	type key struct {
		start            int64
		country, cat, ty string
		phone            kontor.ID
	}
	points := map[key]*DataPoint{}
	for _, r := range rows {
		cat := strings.ToUpper(strings.ReplaceAll(r.Category, "-", "_"))
		if len(q.Countries) > 0 && !slices.Contains(q.Countries, r.Market) ||
			len(q.Categories) > 0 && !slices.Contains(q.Categories, cat) ||
			len(q.Numbers) > 0 && !slices.Contains(q.Numbers, r.Number) {
			continue
		}
		if currency == "" {
			currency = r.Currency
		}
		start, end := r.Start, r.Start.Add(bucket)
		if q.Granularity == Monthly {
			start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
			end = start.AddDate(0, 1, 0)
		}
		start, end = maxTime(start, q.Start), minTime(end, q.End)
		k := key{start: start.Unix()}
		if dims["COUNTRY"] {
			k.country = r.Market
		}
		if dims["PRICING_CATEGORY"] {
			k.cat = cat
		}
		if dims["PRICING_TYPE"] {
			k.ty = "REGULAR"
		}
		if dims["PHONE"] {
			k.phone = r.Number
		}
		p := points[k]
		if p == nil {
			p = &DataPoint{Start: start.Unix(), End: end.Unix(), Country: k.country, PricingCategory: k.cat, PricingType: k.ty, Phone: k.phone}
			points[k] = p
		}
		p.Volume += r.Count
		p.sum += r.Sum
	}
	out := make([]DataPoint, 0, len(points))
	for _, p := range points {
		p.Cost = json.Number(p.sum.String())
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b DataPoint) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Country, b.Country), cmp.Compare(a.PricingCategory, b.PricingCategory),
			cmp.Compare(a.Phone, b.Phone))
	})
	return out, currency, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
