package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// Billing is what the billing page needs (MountBilling).
type Billing struct {
	Usage    billing.UsageStore
	Credit   CreditReader
	Invoices InvoiceReader
	// Exponents are the decimals of each currency, for the CSV invoice.
	Exponents billing.Exponents
}

// CreditReader reads a business's credit account (billing.Credit).
type CreditReader interface {
	Account(ctx context.Context, business kontor.ID) (billing.CreditAccount, error)
}

// InvoiceReader reads a month's invoice of a business, draft or final
// (billing.Invoices).
type InvoiceReader interface {
	Invoice(ctx context.Context, business kontor.ID, month time.Time) (billing.Invoice, error)
}

type billingPages struct {
	c *Console
	Billing
}

// MountBilling adds the billing page and the invoice downloads to mux.
func (c *Console) MountBilling(mux *http.ServeMux, b Billing) {
	p := &billingPages{c: c, Billing: b}
	mux.HandleFunc("GET /console/billing", c.user(p.page))
	mux.HandleFunc("GET /console/billing/invoices/{file}", c.user(p.download))
}

// invoiceMonths is how many months the invoices list offers.
const invoiceMonths = 12

// bar is one bar of a chart, laid out on the server.
type bar struct {
	Label      string // the day, category or market
	Count      int64
	Amount     string // what was charged, exact, with the currency
	X, Y, W, H int    // of the rect, in the chart's units
	TextX      int
	TextY      int
	LabelX     int  // where a row's label ends
	Minor      bool // a day whose label phones leave out (all but 1, 5, 10 …)
}

// chart is an SVG bar chart with its numbers for the table.
type chart struct {
	ID, Title, Desc string
	Width, Height   int
	Bars            []bar
	Max             int64
	Horizontal      bool
	AxisY           int // where the baseline is
}

// usageSum counts messages and their charges under one label.
type usageSum struct {
	label string
	count int64
	sums  map[string]billing.Nanos // by currency
}

func (u *usageSum) amount() string {
	curs := make([]string, 0, len(u.sums))
	for c := range u.sums {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	parts := make([]string, 0, len(curs))
	for _, c := range curs {
		parts = append(parts, u.sums[c].String()+" "+c)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " + ")
}

// billingData fills the billing page.
type billingData struct {
	Month, MonthName string
	Prev, Next       string // months to go to; Next is "" for the current month
	Messages         int64
	Charged          string
	ByDay            chart
	ByCategory       chart
	ByMarket         chart
	Account          *billing.CreditAccount
	CanSpend         bool // the account has something left
	Invoice          billing.Invoice
	InvoiceError     string
	Months           []monthLink
}

type monthLink struct {
	Month, Name string
	Current     bool
}

func (p *billingPages) page(rq *req) {
	if !rq.allow(p.c, consoleauth.ViewBilling) {
		return
	}
	now := p.c.clock.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	ms := rq.r.URL.Query().Get("month")
	month := thisMonth
	if ms != "" {
		m, err := billing.ParseMonth(ms)
		if err != nil || m.After(thisMonth) {
			pg := rq.page("Billing", "billing")
			pg.Error = fmt.Sprintf("Choose a month up to this one, written as year and month like %s.", thisMonth.Format("2006-01"))
			pg.Data = p.monthsOnly(thisMonth)
			p.c.render(rq.w, rq.r, http.StatusBadRequest, "billing", pg)
			return
		}
		month = m
	}
	ctx := rq.r.Context()
	end := month.AddDate(0, 1, 0)
	rows, err := p.Usage.UsageRows(ctx, rq.biz.ID, month, end, 24*time.Hour)
	if err != nil {
		p.c.fail(rq.w, rq.r, err)
		return
	}
	d := p.monthsOnly(thisMonth)
	d.Month, d.MonthName = month.Format("2006-01"), month.Format("January 2006")
	d.Prev = month.AddDate(0, -1, 0).Format("2006-01")
	if month.Before(thisMonth) {
		d.Next = month.AddDate(0, 1, 0).Format("2006-01")
	}
	days := end.Sub(month).Hours() / 24
	byDay := make([]*usageSum, int(days))
	for i := range byDay {
		byDay[i] = &usageSum{label: month.AddDate(0, 0, i).Format("2"), sums: map[string]billing.Nanos{}}
	}
	byCat, byMarket := map[string]*usageSum{}, map[string]*usageSum{}
	total := &usageSum{sums: map[string]billing.Nanos{}}
	add := func(m map[string]*usageSum, k string, r billing.UsageRow) {
		u := m[k]
		if u == nil {
			u = &usageSum{label: k, sums: map[string]billing.Nanos{}}
			m[k] = u
		}
		u.count += r.Count
		u.sums[r.Currency] += r.Sum
	}
	for _, r := range rows {
		i := int(r.Start.Sub(month).Hours() / 24)
		if i >= 0 && i < len(byDay) {
			byDay[i].count += r.Count
			byDay[i].sums[r.Currency] += r.Sum
		}
		cat := strings.ToLower(r.Category)
		add(byCat, cat, r)
		add(byMarket, r.Market, r)
		total.count += r.Count
		total.sums[r.Currency] += r.Sum
	}
	d.Messages, d.Charged = total.count, total.amount()
	d.ByDay = columns("by-day", "Charged messages by day, "+d.MonthName, byDay)
	d.ByCategory = rowsChart("by-category", "Charged messages by category, "+d.MonthName, sorted(byCat))
	d.ByMarket = rowsChart("by-market", "Charged messages by market, "+d.MonthName, sorted(byMarket))
	if acc, err := p.Credit.Account(ctx, rq.biz.ID); err == nil {
		d.Account, d.CanSpend = &acc, acc.Available() > 0
	} else if kontor.KindOf(err) != kontor.NotFound {
		p.c.fail(rq.w, rq.r, err)
		return
	}
	if d.Invoice, err = p.Invoices.Invoice(ctx, rq.biz.ID, month); err != nil {
		_, d.InvoiceError = p.c.message(err)
	}
	pg := rq.page("Billing", "billing")
	pg.Data = d
	p.c.render(rq.w, rq.r, http.StatusOK, "billing", pg)
}

// monthsOnly is the page without a month's figures: the months to choose.
func (p *billingPages) monthsOnly(thisMonth time.Time) billingData {
	var d billingData
	for i := range invoiceMonths {
		m := thisMonth.AddDate(0, -i, 0)
		d.Months = append(d.Months, monthLink{Month: m.Format("2006-01"), Name: m.Format("January 2006"), Current: i == 0})
	}
	return d
}

func sorted(m map[string]*usageSum) []*usageSum {
	out := make([]*usageSum, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *usageSum) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.label, b.label)
	})
	return out
}

// Chart geometry, in SVG user units (the chart scales to its box).
const (
	chartW     = 640
	chartH     = 200
	chartPad   = 34 // room for the labels under the columns
	rowH       = 34
	labelW     = 200
	countRoomW = 70
)

// columns lays out one column per day.
func columns(id, title string, us []*usageSum) chart {
	c := chart{ID: id, Title: title, Width: chartW, Height: chartH + chartPad, AxisY: chartH}
	for _, u := range us {
		c.Max = max(c.Max, u.count)
	}
	n := max(len(us), 1)
	slot := chartW / n
	for i, u := range us {
		h := 0
		if c.Max > 0 {
			h = int(u.count * (chartH - 30) / c.Max) // the top 30 units hold the scale
		}
		if u.count > 0 && h < 1 {
			h = 1
		}
		b := bar{Label: u.label, Count: u.count, Amount: u.amount(), X: i*slot + 2, W: max(slot-4, 1), H: h, Y: chartH - h,
			TextX: i*slot + slot/2, TextY: chartH + 26, Minor: i != 0 && (i+1)%5 != 0}
		c.Bars = append(c.Bars, b)
	}
	c.Desc = describe(us, "day ")
	return c
}

// rowsChart lays out one horizontal bar per label.
func rowsChart(id, title string, us []*usageSum) chart {
	c := chart{ID: id, Title: title, Width: chartW, Height: max(len(us), 1) * rowH, Horizontal: true}
	for _, u := range us {
		c.Max = max(c.Max, u.count)
	}
	room := chartW - labelW - countRoomW
	for i, u := range us {
		w := 0
		if c.Max > 0 {
			w = int(u.count * int64(room) / c.Max)
		}
		if u.count > 0 && w < 1 {
			w = 1
		}
		c.Bars = append(c.Bars, bar{Label: u.label, Count: u.count, Amount: u.amount(), X: labelW, LabelX: labelW - 8, Y: i*rowH + 4, W: w, H: rowH - 8,
			TextX: labelW + w + 6, TextY: i*rowH + rowH/2 + 6})
	}
	c.Desc = describe(us, "")
	return c
}

// describe says a chart's figures in a sentence, for screen readers.
func describe(us []*usageSum, prefix string) string {
	var parts []string
	for _, u := range us {
		if u.count > 0 {
			parts = append(parts, fmt.Sprintf("%s%s: %d", prefix, u.label, u.count))
		}
	}
	if len(parts) == 0 {
		return "No charged messages."
	}
	return strings.Join(parts, "; ") + "."
}

// download serves /console/billing/invoices/YYYY-MM.json and .csv: the
// same invoice as kontor admin billing invoice (and its --csv).
func (p *billingPages) download(rq *req) {
	if !rq.allow(p.c, consoleauth.ViewBilling) {
		return
	}
	file := rq.r.PathValue("file")
	name, ext, _ := strings.Cut(file, ".")
	if ext != "json" && ext != "csv" {
		p.c.errorPage(rq.w, rq.r, http.StatusNotFound, "Invoices download as .json or .csv, for example /console/billing/invoices/2026-12.csv.")
		return
	}
	month, err := billing.ParseMonth(name)
	if err != nil {
		p.c.errorPage(rq.w, rq.r, http.StatusNotFound, "There is no invoice for that month: write it as year and month, like 2026-12.")
		return
	}
	inv, err := p.Invoices.Invoice(rq.r.Context(), rq.biz.ID, month)
	if err != nil {
		p.c.fail(rq.w, rq.r, err)
		return
	}
	var b bytes.Buffer
	ctype := "application/json"
	if ext == "csv" {
		ctype = "text/csv; charset=utf-8"
		err = billing.WriteCSV(&b, inv, p.Exponents)
	} else {
		err = json.NewEncoder(&b).Encode(inv)
	}
	if err != nil {
		p.c.fail(rq.w, rq.r, err)
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"invoice-%s-%s.%s\"", rq.biz.ID, month.Format("2006-01"), ext))
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = rq.w.Write(b.Bytes())
}
