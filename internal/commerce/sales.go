package commerce

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
	_ "time/tzdata" // time zones by name also where the system has none

	"github.com/kontor-chat/kontor"
)

// SalesStates are the order states a sales report counts: paid and every
// state a paid order moves on to. Pending and confirmed orders are not
// paid yet, canceled and expired ones never were; a refunded order counts
// in gross and again in refunded, so that net is what the shop kept.
var SalesStates = []string{OrderPaid, OrderShipped, OrderCompleted, OrderRefunded}

// Ways to group a sales report.
const (
	GroupByDay     = "day"
	GroupByProduct = "product"
)

// MaxReportDays is the longest range a sales report covers.
const MaxReportDays = 366

// SalesQuery asks for a sales report of a business: the days from Since
// to Until (both included, YYYY-MM-DD) in the time zone TimeZone (an IANA
// name; empty is UTC), grouped by day or by product.
type SalesQuery struct {
	Business     kontor.ID
	Since, Until string
	TimeZone     string
	GroupBy      string
}

// SalesRow is one line of a sales report: a day or a product, in one
// currency. Amounts are minor units of Currency. Orders and Units count
// the orders (and the items in them) that were paid, refunded ones too;
// Gross is what they came to, Refunded what went back, Net = Gross −
// Refunded.
type SalesRow struct {
	Date       string    `json:"date,omitempty"`        // GroupByDay: YYYY-MM-DD in the report's time zone
	Product    kontor.ID `json:"product_id,omitempty"`  // GroupByProduct
	RetailerID string    `json:"retailer_id,omitempty"` // GroupByProduct: as in the latest order
	Name       string    `json:"name,omitempty"`        // GroupByProduct: as in the latest order
	Currency   string    `json:"currency"`
	Orders     int64     `json:"orders"`
	Units      int64     `json:"units"`
	Gross      int64     `json:"gross"`
	Refunded   int64     `json:"refunded"`
	Net        int64     `json:"net"`
}

// SalesReport is a business's sales over a range of days. Rows are sorted
// by date (or retailer id) and currency; Totals has one row per currency.
// By day, an order's total counts on the day it was placed; by product,
// each item counts its price at order time × quantity (so shipping, tax
// and discounts, which belong to the order, are in the day report only).
type SalesReport struct {
	Business kontor.ID  `json:"waba_id"`
	Since    string     `json:"since"`
	Until    string     `json:"until"`
	TimeZone string     `json:"time_zone"`
	GroupBy  string     `json:"group_by"`
	States   []string   `json:"states"`
	Rows     []SalesRow `json:"data"`
	Totals   []SalesRow `json:"totals"`
}

// ParseSalesRange reads the days of a query in its time zone and returns
// the instants they span: [from, to).
func (q *SalesQuery) ParseSalesRange() (from, to time.Time, loc *time.Location, fe *FieldError) {
	if q.TimeZone == "" {
		q.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil || q.TimeZone == "Local" {
		return from, to, nil, &FieldError{"time_zone", fmt.Sprintf("%q is not an IANA time zone such as Europe/Berlin or UTC", q.TimeZone)}
	}
	switch q.GroupBy {
	case "":
		q.GroupBy = GroupByDay
	case GroupByDay, GroupByProduct:
	default:
		return from, to, nil, &FieldError{"group_by", fmt.Sprintf("%q is not day or product", q.GroupBy)}
	}
	day := func(field, s string) (time.Time, *FieldError) {
		if s == "" {
			return time.Time{}, &FieldError{field, "required"}
		}
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return time.Time{}, &FieldError{field, fmt.Sprintf("%q is not a day written YYYY-MM-DD", s)}
		}
		return d, nil
	}
	if from, fe = day("since", q.Since); fe != nil {
		return
	}
	last, fe := day("until", q.Until)
	if fe != nil {
		return
	}
	if last.Before(from) {
		return from, to, nil, &FieldError{"until", fmt.Sprintf("%s is before since (%s)", q.Until, q.Since)}
	}
	to = last.AddDate(0, 0, 1) // midnight after the last day, also across a DST change
	if days := daysBetween(from, to); days > MaxReportDays {
		return from, to, nil, &FieldError{"until", fmt.Sprintf("a report covers at most %d days, this one %d", MaxReportDays, days)}
	}
	return from, to, loc, nil
}

// daysBetween counts calendar days from midnight a to midnight b.
func daysBetween(a, b time.Time) int {
	ad := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	bd := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(bd.Sub(ad).Hours() / 24)
}

// SalesReport adds up the sales of a business over a range of days.
func (s *Stock) SalesReport(ctx context.Context, q SalesQuery) (SalesReport, error) {
	const op = "commerce.SalesReport"
	from, to, loc, fe := q.ParseSalesRange()
	if fe != nil {
		return SalesReport{}, invalid(op, fe)
	}
	rep := SalesReport{Business: q.Business, Since: q.Since, Until: q.Until, TimeZone: q.TimeZone, GroupBy: q.GroupBy, States: SalesStates}
	agg := newSalesAgg(q.GroupBy, loc)
	if err := s.store.SalesOrders(ctx, q.Business, from, to, SalesStates, func(o Order) error {
		agg.add(o)
		return nil
	}); err != nil {
		return SalesReport{}, err
	}
	rep.Rows, rep.Totals = agg.rows()
	return rep, nil
}

// salesKey is what a row adds up: a day or a product, in a currency.
type salesKey struct {
	date     string
	product  kontor.ID
	currency string
}

type salesAgg struct {
	by     string
	loc    *time.Location
	byKey  map[salesKey]*SalesRow
	totals map[string]*SalesRow
}

func newSalesAgg(by string, loc *time.Location) *salesAgg {
	return &salesAgg{by: by, loc: loc, byKey: map[salesKey]*SalesRow{}, totals: map[string]*SalesRow{}}
}

func (g *salesAgg) row(k salesKey) *SalesRow {
	r := g.byKey[k]
	if r == nil {
		r = &SalesRow{Date: k.date, Product: k.product, Currency: k.currency}
		g.byKey[k] = r
	}
	return r
}

// count adds an amount to a row: gross always, refunded when the order
// was refunded.
func count(r *SalesRow, units, amount int64, refunded bool) {
	r.Orders++
	r.Units += units
	r.Gross += amount
	if refunded {
		r.Refunded += amount
	}
	r.Net = r.Gross - r.Refunded
}

// add counts one order.
func (g *salesAgg) add(o Order) {
	refunded := o.State == OrderRefunded
	var units int64
	for _, it := range o.Items {
		units += int64(it.Quantity)
	}
	t := g.totals[o.Currency]
	if t == nil {
		t = &SalesRow{Currency: o.Currency}
		g.totals[o.Currency] = t
	}
	count(t, units, o.Total, refunded)
	if g.by == GroupByDay {
		count(g.row(salesKey{date: o.Created.In(g.loc).Format(time.DateOnly), currency: o.Currency}), units, o.Total, refunded)
		return
	}
	// An order naming a product twice (it cannot today) counts once per
	// product in Orders.
	seen := map[kontor.ID]bool{}
	for _, it := range o.Items {
		r := g.row(salesKey{product: it.Product, currency: o.Currency})
		r.RetailerID, r.Name = it.RetailerID, it.Name
		amount := it.Price * int64(it.Quantity)
		if seen[it.Product] {
			r.Orders--
		}
		seen[it.Product] = true
		count(r, int64(it.Quantity), amount, refunded)
	}
}

// rows returns the rows and the totals, sorted.
func (g *salesAgg) rows() (rows, totals []SalesRow) {
	rows = make([]SalesRow, 0, len(g.byKey))
	for _, r := range g.byKey {
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b SalesRow) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.RetailerID, b.RetailerID), cmp.Compare(a.Product, b.Product),
			cmp.Compare(a.Currency, b.Currency))
	})
	totals = make([]SalesRow, 0, len(g.totals))
	for _, t := range g.totals {
		totals = append(totals, *t)
	}
	slices.SortFunc(totals, func(a, b SalesRow) int { return cmp.Compare(a.Currency, b.Currency) })
	return rows, totals
}

// WriteCSV writes the report's rows as CSV with a header: amounts as
// decimals in major units with the currency's digits ("12.50" EUR, "1250"
// JPY, "1.250" BHD), never through a float. Totals are not written: a
// spreadsheet sums the columns.
func (r SalesReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"date", "currency", "orders", "units", "gross", "refunded", "net"}
	if r.GroupBy == GroupByProduct {
		head = []string{"product_id", "retailer_id", "name", "currency", "orders", "units", "gross", "refunded", "net"}
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, row := range r.Rows {
		rec := []string{row.Date}
		if r.GroupBy == GroupByProduct {
			rec = []string{row.Product.String(), csvText(row.RetailerID), csvText(row.Name)}
		}
		rec = append(rec, row.Currency, strconv.FormatInt(row.Orders, 10), strconv.FormatInt(row.Units, 10),
			FormatAmount(row.Gross, row.Currency), FormatAmount(row.Refunded, row.Currency), FormatAmount(row.Net, row.Currency))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText keeps a spreadsheet from reading a text as a formula (a name
// starting with =, +, - or @).
func csvText(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
