package billing

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/kontor-chat/kontor"
)

// Kinds of ledger entries. Messages, commerce fees and adjustments are
// charges and go on invoices; top-ups are money paid in, which only the
// credit balance counts.
const (
	KindMessage    = "message"
	KindCommerce   = "commerce"
	KindAdjustment = "adjustment"
	KindTopUp      = "topup"
)

// Invoice statuses.
const (
	StatusDraft = "draft"
	StatusFinal = "final"
)

// Line is one line of an invoice: the charges of one kind, market,
// category and unit price in the month. Amount is Exact rounded once, half
// to even, to the currency's minor units; an invoice's total is the sum of
// its lines' amounts (and markups), never rounded again.
type Line struct {
	// Business is the client business of a partner invoice's line.
	Business  kontor.ID `json:"business_id,omitempty"`
	Kind      string    `json:"kind"`
	Market    string    `json:"market"`
	Category  string    `json:"category"`
	Count     int64     `json:"count"`
	UnitPrice string    `json:"unit_price"`   // exact decimal per message; "" where amounts differ (fees, adjustments)
	Exact     string    `json:"exact_amount"` // the exact sum, before rounding
	Amount    int64     `json:"amount"`       // minor units
	Markup    int64     `json:"markup,omitempty"`
	Currency  string    `json:"-"`
	Unit      Nanos     `json:"-"`
	Sum       Nanos     `json:"-"`
}

// Section is one client business on a partner's invoice.
type Section struct {
	Business kontor.ID `json:"business_id"`
	Status   string    `json:"status"` // of the client's own invoice
	Subtotal int64     `json:"subtotal"`
	Markup   int64     `json:"markup"`
	Lines    []Line    `json:"lines"`
}

// Invoice is a business's (or a partner's) bill for a calendar month
// (UTC). A draft is computed from the ledger whenever it is read; a final
// invoice is stored and never changes.
type Invoice struct {
	ID        kontor.ID  `json:"id,omitempty"`
	Business  kontor.ID  `json:"business_id,omitempty"`
	Partner   kontor.ID  `json:"partner_id,omitempty"`
	Month     string     `json:"month"`
	Status    string     `json:"status"`
	Currency  string     `json:"currency"`
	Total     int64      `json:"total"`      // minor units
	TotalText string     `json:"total_text"` // the same as a decimal
	MarkupBPS int64      `json:"markup_bps,omitempty"`
	Entries   int64      `json:"entries"`
	Lines     []Line     `json:"lines"`
	Sections  []Section  `json:"sections,omitempty"`
	Finalized *time.Time `json:"finalized,omitempty"`
}

// InvoiceStore keeps invoices. Implemented by internal/store.
type InvoiceStore interface {
	// Aggregate sums the business's charges not on a final invoice, at or
	// after from (zero: all) and before to, by kind, market, category,
	// currency and unit price.
	Aggregate(ctx context.Context, business kontor.ID, from, to time.Time) ([]Line, error)
	// FirstUninvoiced returns the time of the business's earliest charge
	// in [from, to) not on a final invoice; ok is false when none is.
	FirstUninvoiced(ctx context.Context, business kontor.ID, from, to time.Time) (time.Time, bool, error)
	// ClosedUntil returns the end of the business's latest final month
	// (zero: none).
	ClosedUntil(ctx context.Context, business kontor.ID) (time.Time, error)
	// FinalInvoice returns a stored invoice of a business (partner 0) or a
	// partner (business 0); kontor.NotFound when the month is not final.
	FinalInvoice(ctx context.Context, business, partner kontor.ID, month string) (Invoice, error)
	// FinalizeInvoice, in one transaction: records inv as final (a
	// kontor.Conflict if its month is final already, or a later one is,
	// or an earlier month has charges not on a final invoice), puts on it
	// every charge of the business before to that no final invoice has,
	// sums them into lines, has settle round them into the invoice, and
	// stores that. An error from settle undoes everything.
	FinalizeInvoice(ctx context.Context, inv Invoice, from, to time.Time, settle func([]Line) (Invoice, error)) (Invoice, error)
	// PutPartnerInvoice stores a partner's final invoice (a
	// kontor.Conflict if that month is final already).
	PutPartnerInvoice(ctx context.Context, inv Invoice) error
	// PartnerClients lists the businesses a partner manages.
	PartnerClients(ctx context.Context, partner kontor.ID) ([]kontor.ID, error)
	// Markup returns a partner's markup in basis points (0 when none set).
	Markup(ctx context.Context, partner kontor.ID) (int64, error)
	SetMarkup(ctx context.Context, partner kontor.ID, bps int64) error
}

// Invoices makes, finalizes and exports invoices.
type Invoices struct {
	store InvoiceStore
	exps  Exponents
	ids   *kontor.IDs
	clock kontor.Clock
}

// NewInvoices returns the invoice service.
func NewInvoices(store InvoiceStore, exps Exponents, ids *kontor.IDs, clock kontor.Clock) *Invoices {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Invoices{store: store, exps: exps, ids: ids, clock: clock}
}

// ParseMonth reads "2027-01" into the first instant of that month, UTC.
func ParseMonth(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, kontor.Errorf(kontor.Invalid, "billing.ParseMonth", "%q is not a month such as 2027-01", s)
	}
	return t, nil
}

// Settle turns summed ledger lines into an invoice: each line's exact sum
// rounded once, half to even, to whole minor units; the total the sum of
// the rounded lines. All lines must be in one currency.
func Settle(lines []Line, exps Exponents) (Invoice, error) {
	const op = "billing.Settle"
	inv := Invoice{Lines: []Line{}}
	for _, l := range lines {
		if inv.Currency == "" {
			inv.Currency = l.Currency
		} else if l.Currency != inv.Currency {
			return Invoice{}, kontor.Errorf(kontor.Conflict, op, "the month has charges in %s and in %s; kontor invoices one currency a month", inv.Currency, l.Currency)
		}
	}
	exp := 2
	if inv.Currency != "" {
		var err error
		if exp, err = exponent(exps, op, inv.Currency); err != nil {
			return Invoice{}, err
		}
	}
	for _, l := range lines {
		l.Amount = RoundMinor(l.Sum, exp)
		l.Exact = l.Sum.String()
		l.UnitPrice = ""
		if l.Kind == KindMessage {
			l.UnitPrice = l.Unit.String()
		}
		inv.Total += l.Amount
		inv.Entries += l.Count
		inv.Lines = append(inv.Lines, l)
	}
	sortLines(inv.Lines)
	inv.TotalText = FormatMinor(inv.Total, exp)
	return inv, nil
}

var kindOrder = map[string]int{KindMessage: 0, KindCommerce: 1, KindAdjustment: 2}

func sortLines(ls []Line) {
	slices.SortFunc(ls, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Business, b.Business), cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
			cmp.Compare(a.Market, b.Market), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Unit, b.Unit))
	})
}

// Invoice returns a business's invoice for the month starting at month:
// the final one if it was finalized, else the draft as the ledger stands.
// A draft of the next month to finalize also carries the charges that came
// in late, dated in months already final.
func (s *Invoices) Invoice(ctx context.Context, business kontor.ID, month time.Time) (Invoice, error) {
	const op = "billing.Invoice"
	name := month.Format("2006-01")
	inv, err := s.store.FinalInvoice(ctx, business, 0, name)
	if err == nil || kontor.KindOf(err) != kontor.NotFound {
		return inv, err
	}
	closed, err := s.store.ClosedUntil(ctx, business)
	if err != nil {
		return Invoice{}, err
	}
	if month.Before(closed) {
		return Invoice{}, kontor.Errorf(kontor.NotFound, op, "business %s has no invoice for %s, and invoices up to %s are final: charges dated then go on the next open invoice",
			business, name, closed.AddDate(0, -1, 0).Format("2006-01"))
	}
	end := month.AddDate(0, 1, 0)
	from := month
	if _, pending, err := s.store.FirstUninvoiced(ctx, business, closed, month); err != nil {
		return Invoice{}, err
	} else if !pending {
		from = time.Time{} // the next month to finalize: late charges too
	}
	lines, err := s.store.Aggregate(ctx, business, from, end)
	if err != nil {
		return Invoice{}, err
	}
	inv, err = Settle(lines, s.exps)
	if err != nil {
		return Invoice{}, err
	}
	inv.Business, inv.Month, inv.Status = business, name, StatusDraft
	return inv, nil
}

// Finalize makes a business's invoice for the month final: it takes every
// charge of the month, and the late ones of months already final, and
// never changes again. Finalizing a final month, a month before a final
// one, or a month while an earlier one still has open charges is a
// kontor.Conflict and changes nothing.
func (s *Invoices) Finalize(ctx context.Context, business kontor.ID, month time.Time) (Invoice, error) {
	name := month.Format("2006-01")
	now := s.clock.Now().UTC()
	if month.AddDate(0, 1, 0).After(now) {
		return Invoice{}, kontor.Errorf(kontor.Conflict, "billing.Finalize", "%s is not over yet (now %s): an invoice is finalized after its month ends", name, now.Format(time.RFC3339))
	}
	inv := Invoice{ID: s.ids.Next(), Business: business, Month: name, Status: StatusFinal}
	return s.store.FinalizeInvoice(ctx, inv, month, month.AddDate(0, 1, 0), func(lines []Line) (Invoice, error) {
		out, err := Settle(lines, s.exps)
		if err != nil {
			return Invoice{}, err
		}
		out.ID, out.Business, out.Month, out.Status = inv.ID, business, name, StatusFinal
		out.Finalized = &now
		return out, nil
	})
}

// Markup is a partner's markup in basis points (1000 = 10 %).
func (s *Invoices) Markup(ctx context.Context, partner kontor.ID) (int64, error) {
	return s.store.Markup(ctx, partner)
}

// SetMarkup sets a partner's markup: 0 to 100,000 basis points (0–1000 %).
// Final invoices keep the markup they were made with.
func (s *Invoices) SetMarkup(ctx context.Context, partner kontor.ID, bps int64) error {
	if bps < 0 || bps > 100_000 {
		return kontor.Errorf(kontor.Invalid, "billing.SetMarkup", "a markup is 0 to 100000 basis points (0–1000 %%), not %d", bps)
	}
	return s.store.SetMarkup(ctx, partner, bps)
}

// PartnerInvoice returns a partner's invoice for the month: a section per
// client business (that business's own invoice, final or draft) with the
// partner's markup on each line, half to even. The total is the sum of the
// sections' subtotals and markups.
func (s *Invoices) PartnerInvoice(ctx context.Context, partner kontor.ID, month time.Time) (Invoice, error) {
	name := month.Format("2006-01")
	inv, err := s.store.FinalInvoice(ctx, 0, partner, name)
	if err == nil || kontor.KindOf(err) != kontor.NotFound {
		return inv, err
	}
	bps, err := s.store.Markup(ctx, partner)
	if err != nil {
		return Invoice{}, err
	}
	clients, err := s.store.PartnerClients(ctx, partner)
	if err != nil {
		return Invoice{}, err
	}
	var sections []Invoice
	for _, c := range clients {
		ci, err := s.Invoice(ctx, c, month)
		if kontor.KindOf(err) == kontor.NotFound {
			continue // closed before the partner billed it
		}
		if err != nil {
			return Invoice{}, err
		}
		sections = append(sections, ci)
	}
	return s.partnerInvoice(partner, name, bps, sections)
}

func (s *Invoices) partnerInvoice(partner kontor.ID, month string, bps int64, clients []Invoice) (Invoice, error) {
	const op = "billing.PartnerInvoice"
	inv := Invoice{Partner: partner, Month: month, Status: StatusDraft, MarkupBPS: bps, Lines: []Line{}, Sections: []Section{}}
	for _, c := range clients {
		if c.Currency != "" && inv.Currency != "" && c.Currency != inv.Currency {
			return Invoice{}, kontor.Errorf(kontor.Conflict, op, "the partner's clients are billed in %s and %s; kontor invoices one currency a month", inv.Currency, c.Currency)
		}
		if c.Currency != "" {
			inv.Currency = c.Currency
		}
		sec := Section{Business: c.Business, Status: c.Status, Subtotal: c.Total, Lines: []Line{}}
		for _, l := range c.Lines {
			l.Business = c.Business
			l.Markup = Percent(l.Amount, bps)
			sec.Markup += l.Markup
			sec.Lines = append(sec.Lines, l)
		}
		inv.Entries += c.Entries
		inv.Total += sec.Subtotal + sec.Markup
		inv.Sections = append(inv.Sections, sec)
	}
	exp := 2
	if inv.Currency != "" {
		var err error
		if exp, err = exponent(s.exps, op, inv.Currency); err != nil {
			return Invoice{}, err
		}
	}
	inv.TotalText = FormatMinor(inv.Total, exp)
	return inv, nil
}

// FinalizePartner finalizes every client's invoice of the month that is
// still a draft, then the partner's, which is stored and never changes.
// Finalizing it again is a kontor.Conflict.
func (s *Invoices) FinalizePartner(ctx context.Context, partner kontor.ID, month time.Time) (Invoice, error) {
	name := month.Format("2006-01")
	if _, err := s.store.FinalInvoice(ctx, 0, partner, name); err == nil {
		return Invoice{}, kontor.Errorf(kontor.Conflict, "billing.FinalizePartner", "the partner's invoice for %s is final already; it does not change", name)
	} else if kontor.KindOf(err) != kontor.NotFound {
		return Invoice{}, err
	}
	clients, err := s.store.PartnerClients(ctx, partner)
	if err != nil {
		return Invoice{}, err
	}
	for _, c := range clients {
		ci, err := s.Invoice(ctx, c, month)
		if kontor.KindOf(err) == kontor.NotFound {
			continue
		}
		if err != nil {
			return Invoice{}, err
		}
		if ci.Status == StatusFinal {
			continue
		}
		if _, err := s.Finalize(ctx, c, month); err != nil && !errors.Is(err, ErrFinal) {
			return Invoice{}, err
		}
	}
	inv, err := s.PartnerInvoice(ctx, partner, month)
	if err != nil {
		return Invoice{}, err
	}
	now := s.clock.Now().UTC()
	inv.ID, inv.Status, inv.Finalized = s.ids.Next(), StatusFinal, &now
	for i := range inv.Sections {
		inv.Sections[i].Status = StatusFinal
	}
	if err := s.store.PutPartnerInvoice(ctx, inv); err != nil {
		return Invoice{}, err
	}
	return inv, nil
}

// ErrFinal is the error of finalizing a month that is final already.
var ErrFinal = errors.New("the invoice is final already")

// WriteCSV writes an invoice as CSV: a header, a row per line (amounts as
// decimals of the currency, exact sums as they were before rounding), and
// a last row with the total.
func WriteCSV(w io.Writer, inv Invoice, exps Exponents) error {
	exp := 2
	if inv.Currency != "" {
		var err error
		if exp, err = exponent(exps, "billing.WriteCSV", inv.Currency); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"month", "business_id", "kind", "market", "category", "count", "unit_price", "exact_amount", "amount", "markup", "currency"})
	row := func(biz kontor.ID, l Line) {
		b := ""
		if biz != 0 {
			b = biz.String()
		}
		markup := ""
		if inv.Partner != 0 {
			markup = FormatMinor(l.Markup, exp)
		}
		_ = cw.Write([]string{inv.Month, b, l.Kind, l.Market, l.Category, strconv.FormatInt(l.Count, 10), l.UnitPrice, l.Exact,
			FormatMinor(l.Amount, exp), markup, inv.Currency})
	}
	for _, l := range inv.Lines {
		row(inv.Business, l)
	}
	for _, sec := range inv.Sections {
		for _, l := range sec.Lines {
			row(sec.Business, l)
		}
	}
	_ = cw.Write([]string{inv.Month, "", "total", "", "", strconv.FormatInt(inv.Entries, 10), "", "", inv.TotalText, "", inv.Currency})
	cw.Flush()
	return cw.Error()
}
