package storetest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// clock is a clock the billing tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// billingEnv is the billing services over the store under test.
type billingEnv struct {
	*env
	clock    *clock
	prices   *billing.Service
	ledger   *billing.Ledger
	invoices *billing.Invoices
	credit   *billing.Credit
}

// jan is the first month the billing tests charge in.
var jan = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// newBilling sets the services up with a sheet of EUR rates effective from
// January 2027 (and a dearer German marketing rate from March).
func newBilling(e *env) *billingEnv {
	e.t.Helper()
	c := &clock{now: jan.AddDate(1, 0, 0)}
	b := &billingEnv{env: e, clock: c, prices: billing.New(e.db, e.ids, c)}
	if _, err := b.prices.Import(e.ctx, strings.NewReader("market,category,currency,price\n"+
		"DE,marketing,EUR,0.1365\nDE,utility,EUR,0.0550\nDE,authentication,EUR,0.0768\n"+
		"BR,marketing,EUR,0.0625\nBR,utility,EUR,0.0080\nIN,authentication,EUR,0.0014\n"+
		"other,marketing,EUR,0.0600\nother,utility,EUR,0.0200\nother,authentication,EUR,0.0300\n"), jan, "test"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := b.prices.Import(e.ctx, strings.NewReader("market,category,currency,price\n"+
		"DE,marketing,EUR,0.1500\nDE,utility,EUR,0.0550\nDE,authentication,EUR,0.0768\n"+
		"BR,marketing,EUR,0.0625\nBR,utility,EUR,0.0080\nIN,authentication,EUR,0.0014\n"+
		"other,marketing,EUR,0.0600\nother,utility,EUR,0.0200\nother,authentication,EUR,0.0300\n"), jan.AddDate(0, 2, 0), "march"); err != nil {
		e.t.Fatal(err)
	}
	b.ledger = billing.NewLedger(b.prices, e.db, e.ids, commerce.Exponent)
	b.invoices = billing.NewInvoices(e.db, commerce.Exponent, e.ids, c)
	// A TTL of a nanosecond: every check after the clock moved reads
	// the store (allow moves it).
	b.credit = billing.NewCredit(e.db, b.ledger, commerce.Exponent, e.ids, c, time.Nanosecond)
	return b
}

// charge meters a delivered message and reports whether it was new.
func (b *billingEnv) charge(biz, msg kontor.ID, to kontor.Phone, cat string, at time.Time) bool {
	b.t.Helper()
	_, added, err := b.ledger.ChargeMessage(b.ctx, billing.Message{ID: msg, Business: biz, Number: biz + 1, To: to, Category: cat, At: at})
	if err != nil {
		b.t.Fatalf("ChargeMessage(%d): %v", msg, err)
	}
	return added
}

// allow checks credit after moving the clock past the cache's TTL.
func (b *billingEnv) allow(biz kontor.ID) error {
	b.clock.set(b.clock.Now().Add(time.Millisecond))
	return b.credit.Allow(b.ctx, biz)
}

func (b *billingEnv) invoice(biz kontor.ID, month time.Time) billing.Invoice {
	b.t.Helper()
	inv, err := b.invoices.Invoice(b.ctx, biz, month)
	if err != nil {
		b.t.Fatalf("Invoice(%d, %s): %v", biz, month.Format("2006-01"), err)
	}
	return inv
}

// testInvoices: a month's draft sums the ledger by market, category and
// unit price, each line rounded once; finalizing makes it immutable (again
// is a conflict, nothing changes); late charges go on the next open
// invoice; months are finalized in order.
func testInvoices(_ *testing.T, e *env) {
	b := newBilling(e)
	biz := e.ids.Next()
	feb, mar := jan.AddDate(0, 1, 0), jan.AddDate(0, 2, 0)
	b.clock.set(jan.Add(20 * 24 * time.Hour))
	for i := range 3 {
		b.charge(biz, kontor.ID(100+i), "+4915100000001", "marketing", jan.Add(time.Duration(i)*time.Hour)) // 3 × 0.1365
	}
	b.charge(biz, 200, "+5511900000001", "utility", jan.Add(time.Hour))          // 0.008
	b.charge(biz, 201, "+33612345678", "authentication", jan.Add(2*time.Hour))   // other: 0.03
	b.charge(biz, 300, "+4915100000002", "marketing", feb.Add(time.Hour))        // February
	if b.charge(biz, 100, "+4915100000001", "marketing", jan.Add(5*time.Hour)) { // a second delivery report
		e.t.Fatal("a message was charged twice")
	}
	inv := b.invoice(biz, jan)
	// 0.4095 → 0.41; 0.008 → 0.01; 0.03 → 0.03.
	if inv.Status != billing.StatusDraft || inv.Currency != "EUR" || inv.Total != 41+1+3 || inv.Entries != 5 || len(inv.Lines) != 3 {
		e.t.Fatalf("January's draft: %+v", inv)
	}
	if l := inv.Lines[1]; l.Market != "DE" || l.Category != "marketing" || l.Count != 3 || l.UnitPrice != "0.1365" || l.Exact != "0.4095" || l.Amount != 41 {
		e.t.Fatalf("the German marketing line: %+v", l)
	}
	if _, err := b.invoices.Finalize(e.ctx, biz, jan); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("finalizing a month not over: %v", err)
	}
	b.clock.set(mar.Add(time.Hour))
	if _, err := b.invoices.Finalize(e.ctx, biz, feb); kontor.KindOf(err) != kontor.Conflict || !strings.Contains(err.Error(), "2027-01") {
		e.t.Fatalf("finalizing February before January: %v", err)
	}
	fin, err := b.invoices.Finalize(e.ctx, biz, jan)
	if err != nil || fin.Status != billing.StatusFinal || fin.Total != inv.Total || fin.Finalized == nil || fin.ID == 0 {
		e.t.Fatalf("Finalize: %+v %v", fin, err)
	}
	if _, err := b.invoices.Finalize(e.ctx, biz, jan); kontor.KindOf(err) != kontor.Conflict || !errors.Is(err, billing.ErrFinal) {
		e.t.Fatalf("finalizing again: %v", err)
	}
	// A late report of a January delivery, and a correction dated January.
	b.charge(biz, 202, "+5511900000002", "utility", jan.Add(3*time.Hour))
	if _, _, err := b.ledger.Adjust(e.ctx, biz, -5, "EUR", "goodwill", "", jan.Add(4*time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	again := b.invoice(biz, jan)
	if again.Status != billing.StatusFinal || again.Total != fin.Total || len(again.Lines) != len(fin.Lines) || again.Lines[1] != fin.Lines[1] {
		e.t.Fatalf("a final invoice changed: %+v, was %+v", again, fin)
	}
	febInv := b.invoice(biz, feb)
	// 0.1365 (Feb) + 0.008 (late) → 0.14 + 0.01, and -0.05.
	if febInv.Status != billing.StatusDraft || febInv.Total != 14+1-5 || febInv.Entries != 3 {
		e.t.Fatalf("February takes the late charges: %+v", febInv)
	}
	if _, err := b.invoices.Invoice(e.ctx, biz, jan.AddDate(0, -1, 0)); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("a month before a final one: %v", err)
	}
	ffin, err := b.invoices.Finalize(e.ctx, biz, feb)
	if err != nil || ffin.Total != febInv.Total {
		e.t.Fatalf("finalizing February: %+v %v", ffin, err)
	}
	if inv := b.invoice(biz, mar); inv.Total != 0 || len(inv.Lines) != 0 || inv.Status != billing.StatusDraft {
		e.t.Fatalf("March: %+v", inv)
	}
	if other := b.invoice(e.ids.Next(), jan); other.Total != 0 || len(other.Lines) != 0 {
		e.t.Fatalf("another business sees charges: %+v", other)
	}
}

// testPartnerInvoice: one invoice with a section per client business and
// the partner's markup on each line, half to even; finalizing it
// finalizes the clients' months; the total is the sum of the sections.
func testPartnerInvoice(_ *testing.T, e *env) {
	b := newBilling(e)
	p := business.Partner{ID: e.ids.Next(), Name: "bsp", Created: t0}
	if err := e.db.CreatePartner(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	c1, c2 := e.ids.Next(), e.ids.Next()
	for _, c := range []kontor.ID{c1, c2} {
		if err := e.db.Grant(e.ctx, p.ID, c); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := b.invoices.SetMarkup(e.ctx, p.ID, 1050); err != nil { // 10.5 %
		e.t.Fatal(err)
	}
	if err := b.invoices.SetMarkup(e.ctx, p.ID, -1); kontor.KindOf(err) != kontor.Invalid {
		e.t.Fatalf("a negative markup: %v", err)
	}
	for i := range 10 {
		b.charge(c1, kontor.ID(1000+i), "+4915100000001", "marketing", jan.Add(time.Hour)) // 1.365 → 1.36 (even), markup 0.1428 → 0.14
	}
	b.charge(c2, 2000, "+5511900000001", "marketing", jan.Add(time.Hour)) // 0.0625 → 0.06, markup 0.0063 → 0.01
	b.clock.set(jan.AddDate(0, 1, 3))
	inv, err := b.invoices.PartnerInvoice(e.ctx, p.ID, jan)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(inv.Sections) != 2 || inv.MarkupBPS != 1050 || inv.Currency != "EUR" {
		e.t.Fatalf("partner invoice: %+v", inv)
	}
	want := int64(136 + 14 + 6 + 1)
	if inv.Total != want {
		e.t.Fatalf("partner total %d, want %d: %+v", inv.Total, want, inv)
	}
	fin, err := b.invoices.FinalizePartner(e.ctx, p.ID, jan)
	if err != nil || fin.Total != want || fin.Status != billing.StatusFinal {
		e.t.Fatalf("FinalizePartner: %+v %v", fin, err)
	}
	if _, err := b.invoices.FinalizePartner(e.ctx, p.ID, jan); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("finalizing the partner's invoice again: %v", err)
	}
	for _, c := range []kontor.ID{c1, c2} {
		if ci := b.invoice(c, jan); ci.Status != billing.StatusFinal {
			e.t.Fatalf("client %d is not final: %+v", c, ci)
		}
	}
	b.charge(c1, 1100, "+4915100000001", "marketing", jan.Add(2*time.Hour)) // late
	stored, err := b.invoices.PartnerInvoice(e.ctx, p.ID, jan)
	if err != nil || stored.Total != want || len(stored.Sections) != 2 || stored.Sections[0].Markup+stored.Sections[1].Markup != 15 {
		e.t.Fatalf("the stored partner invoice: %+v %v", stored, err)
	}
	var sum int64
	for _, s := range stored.Sections {
		sum += s.Subtotal + s.Markup
	}
	if sum != stored.Total {
		e.t.Fatalf("sections sum to %d, total %d", sum, stored.Total)
	}
}

// testCredit: a prepaid business with no balance cannot send paid
// messages; a top-up (a ledger entry) lets it; charges spend it; negative
// top-ups are refused and change nothing.
func testCredit(_ *testing.T, e *env) {
	b := newBilling(e)
	biz := e.ids.Next()
	b.clock.set(jan.Add(time.Hour))
	if err := b.allow(biz); err != nil {
		e.t.Fatalf("a business without a credit account is billed afterwards: %v", err)
	}
	if _, _, err := b.credit.TopUp(e.ctx, biz, 100, "", ""); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("a top-up without an account: %v", err)
	}
	if _, err := b.credit.Set(e.ctx, biz, "postpaid", 0, "EUR"); kontor.KindOf(err) != kontor.Invalid {
		e.t.Fatalf("a bad mode: %v", err)
	}
	if _, err := b.credit.Set(e.ctx, biz, billing.ModePrepaid, 0, "EUR"); err != nil {
		e.t.Fatal(err)
	}
	if err := b.allow(biz); !errors.Is(err, billing.ErrNoCredit) {
		e.t.Fatalf("a prepaid account with nothing in it: %v", err)
	}
	for _, bad := range []int64{0, -100} {
		if _, _, err := b.credit.TopUp(e.ctx, biz, bad, "", ""); kontor.KindOf(err) != kontor.Invalid {
			e.t.Fatalf("top-up of %d: %v", bad, err)
		}
	}
	if a, err := b.credit.Account(e.ctx, biz); err != nil || a.Balance != 0 {
		e.t.Fatalf("a refused top-up changed the balance: %+v %v", a, err)
	}
	if _, a, err := b.credit.TopUp(e.ctx, biz, 30, "wire-1", "bank transfer"); err != nil || a.Balance != 300_000_000 || a.AvailableText != "0.3" {
		e.t.Fatalf("TopUp: %+v %v", a, err)
	}
	if _, a, err := b.credit.TopUp(e.ctx, biz, 30, "wire-1", ""); err != nil || a.Balance != 300_000_000 {
		e.t.Fatalf("the same top-up again added: %+v %v", a, err)
	}
	if err := b.allow(biz); err != nil {
		e.t.Fatalf("after a top-up: %v", err)
	}
	b.charge(biz, 1, "+4915100000001", "marketing", jan.Add(time.Hour)) // 0.1365
	b.charge(biz, 2, "+4915100000001", "marketing", jan.Add(time.Hour)) // 0.2730
	if err := b.allow(biz); err != nil {
		e.t.Fatalf("0.027 left: %v", err)
	}
	b.charge(biz, 3, "+4915100000001", "marketing", jan.Add(time.Hour))
	if err := b.allow(biz); !errors.Is(err, billing.ErrNoCredit) {
		e.t.Fatalf("spent: %v", err)
	}
	if a, _ := b.credit.Account(e.ctx, biz); a.Balance != 300_000_000-3*136_500_000 {
		e.t.Fatalf("balance %s", a.Balance)
	}
	if _, err := b.credit.Set(e.ctx, biz, billing.ModeCreditLine, 1000, "EUR"); err != nil { // a 10.00 line
		e.t.Fatal(err)
	}
	if err := b.allow(biz); err != nil {
		e.t.Fatalf("with a credit line: %v", err)
	}
	if _, err := b.credit.Set(e.ctx, biz, billing.ModePrepaid, 0, "USD"); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("changing the account's currency: %v", err)
	}
	// Top-ups are not charges: the invoice has the three messages only.
	if inv := b.invoice(biz, jan); inv.Entries != 3 || inv.Total != 41 {
		e.t.Fatalf("invoice with top-ups: %+v", inv)
	}
}

// testCommerceFees: a percentage (half to even) plus a fixed amount per
// successful payment, once per payment id, on the invoice.
func testCommerceFees(_ *testing.T, e *env) {
	b := newBilling(e)
	biz := e.ids.Next()
	at := jan.Add(time.Hour)
	if _, added, err := b.ledger.ChargeCommerceFee(e.ctx, biz, "pay_1", 1999, "EUR", at); err != nil || added {
		e.t.Fatalf("without a fee set: %v %v", added, err)
	}
	if _, err := b.ledger.SetCommerceFee(e.ctx, billing.CommerceFee{Business: biz, BPS: 20_000, Currency: "EUR"}); kontor.KindOf(err) != kontor.Invalid {
		e.t.Fatalf("a 200 %% fee: %v", err)
	}
	if _, err := b.ledger.SetCommerceFee(e.ctx, billing.CommerceFee{Business: biz, BPS: 290, Fixed: 30, Currency: "eur"}); err != nil {
		e.t.Fatal(err)
	}
	en, added, err := b.ledger.ChargeCommerceFee(e.ctx, biz, "pay_1", 1999, "EUR", at) // 0.5797 → 0.58 + 0.30
	if err != nil || !added || en.Amount != 880_000_000 || en.Kind != billing.KindCommerce {
		e.t.Fatalf("the fee: %+v %v %v", en, added, err)
	}
	if _, added, err := b.ledger.ChargeCommerceFee(e.ctx, biz, "pay_1", 1999, "EUR", at); err != nil || added {
		e.t.Fatalf("the same payment again: %v %v", added, err)
	}
	if _, _, err := b.ledger.ChargeCommerceFee(e.ctx, biz, "pay_2", 1000, "USD", at); kontor.KindOf(err) != kontor.Invalid {
		e.t.Fatalf("a payment in another currency than the fixed part: %v", err)
	}
	for _, bad := range []struct {
		id     string
		amount int64
		cur    string
	}{{"", 100, "EUR"}, {"p", 0, "EUR"}, {"p", -5, "EUR"}, {"p", 100, "XXX"}, {strings.Repeat("p", 201), 100, "EUR"}} {
		if _, _, err := b.ledger.ChargeCommerceFee(e.ctx, biz, bad.id, bad.amount, bad.cur, at); kontor.KindOf(err) != kontor.Invalid {
			e.t.Fatalf("ChargeCommerceFee(%q, %d, %s): %v", bad.id, bad.amount, bad.cur, err)
		}
	}
	if _, _, err := b.ledger.ChargeCommerceFee(e.ctx, biz, "pay_3", 10_000, "EUR", at); err != nil { // 2.90 + 0.30
		e.t.Fatal(err)
	}
	inv := b.invoice(biz, jan)
	if len(inv.Lines) != 1 || inv.Lines[0].Kind != billing.KindCommerce || inv.Lines[0].Count != 2 || inv.Total != 88+320 {
		e.t.Fatalf("fees on the invoice: %+v", inv)
	}
}
