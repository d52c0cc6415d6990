package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// tierRules is a rule set effective from 2026 whose utility rates fall
// with monthly volume: a quarter off from the 4th message, and from the
// 7th half off, or 0.03 flat to Germany.
func tierRules(t *testing.T, utility string) *billing.RuleBook {
	t.Helper()
	if utility == "" {
		utility = `[{"from":4,"discount_bps":2500},{"from":7,"discount_bps":5000,"rates":{"DE":"0.03"}}]`
	}
	sets, err := billing.ParseRuleSets([]byte(`[{"effective":"2026-01-01","categories":{"marketing":{},
		"utility":{"tiers":` + utility + `},"authentication":{},"authentication-international":{},"service":{}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	book, err := billing.NewRuleBook(sets)
	if err != nil {
		t.Fatal(err)
	}
	return book
}

// testVolumeTiers: a business's charged messages of a tiered category are
// counted per month, market and category; the message that crosses into a
// band is charged at its rate; a repeated delivery counts nothing;
// invoices have a line per unit price, and their total is the ledger's.
func testVolumeTiers(t *testing.T, e *env) {
	b := newBilling(e)
	b.ledger.UseRules(tierRules(t, ""))
	biz := e.ids.Next()
	b.clock.set(jan.Add(20 * 24 * time.Hour))
	var want []billing.Nanos // the unit price of DE utility message i+1
	for i := range 8 {
		if !b.charge(biz, kontor.ID(1000+i), "+4915100000001", "utility", jan.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("message %d was not charged", i+1)
		}
		switch {
		case i < 3:
			want = append(want, 55_000_000) // 0.055
		case i < 6:
			want = append(want, 41_250_000) // 0.055 less 25 %
		default:
			want = append(want, 30_000_000) // the band's rate for DE
		}
	}
	if b.charge(biz, 1003, "+4915100000001", "utility", jan.Add(time.Hour)) {
		t.Fatal("a repeated delivery was charged")
	}
	for i := range 7 { // Brazil counts apart: 0.008, then 0.006, then half off
		b.charge(biz, kontor.ID(2000+i), "+5511900000001", "utility", jan.Add(time.Duration(i)*time.Minute))
	}
	b.charge(biz, 3000, "+4915100000001", "marketing", jan.Add(time.Hour)) // not tiered
	b.charge(biz, 4000, "+4915100000001", "utility", jan.AddDate(0, 1, 0)) // February starts at 1
	for _, c := range []struct {
		market, cat string
		at          time.Time
		want        int64
	}{{"DE", "utility", jan, 8}, {"BR", "utility", jan, 7}, {"DE", "marketing", jan, 0}, {"DE", "utility", jan.AddDate(0, 1, 0), 1}} {
		if n, err := e.db.VolumeCount(e.ctx, biz, c.market, c.cat, c.at); err != nil || n != c.want {
			t.Errorf("VolumeCount(%s %s %s) = %d, %v; want %d", c.market, c.cat, c.at.Format("2006-01"), n, err, c.want)
		}
	}
	es, err := e.db.Entries(e.ctx, biz, jan, jan.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]billing.Entry{}
	for _, en := range es {
		byKey[en.Key] = en
	}
	for i, w := range want {
		en := byKey[fmt.Sprintf("msg:%s", kontor.ID(1000+i))]
		if en.Amount != w {
			t.Errorf("DE utility message %d: %s, want %s", i+1, en.Amount, w)
		}
		if hasNote := en.Note != ""; hasNote != (i >= 3) {
			t.Errorf("DE utility message %d: note %q", i+1, en.Note)
		}
	}
	for i, w := range []billing.Nanos{8_000_000, 8_000_000, 8_000_000, 6_000_000, 6_000_000, 6_000_000, 4_000_000} {
		if en := byKey[fmt.Sprintf("msg:%s", kontor.ID(2000+i))]; en.Amount != w {
			t.Errorf("BR utility message %d: %s, want %s", i+1, en.Amount, w)
		}
	}
	if en := byKey["msg:"+kontor.ID(4000).String()]; en.Amount != 55_000_000 {
		t.Errorf("February's first DE utility message: %s, want 0.055", en.Amount)
	}

	inv := b.invoice(biz, jan)
	lines := map[string]billing.Line{}
	var exact billing.Nanos
	for _, l := range inv.Lines {
		lines[l.Market+" "+l.Category+" "+l.UnitPrice] = l
		exact += l.Sum
	}
	for k, n := range map[string]int64{"DE utility 0.055": 3, "DE utility 0.04125": 3, "DE utility 0.03": 2,
		"BR utility 0.008": 3, "BR utility 0.006": 3, "BR utility 0.004": 1, "DE marketing 0.1365": 1} {
		if lines[k].Count != n {
			t.Errorf("January's line %q: count %d, want %d (lines %+v)", k, lines[k].Count, n, inv.Lines)
		}
	}
	if len(inv.Lines) != 7 {
		t.Errorf("January has %d lines, want 7: %+v", len(inv.Lines), inv.Lines)
	}
	var janSum billing.Nanos
	for _, en := range es {
		if en.At.Before(jan.AddDate(0, 1, 0)) {
			janSum += en.Amount
		}
	}
	if exact != janSum {
		t.Errorf("January's lines sum to %s, the ledger to %s", exact, janSum)
	}
	// 0.165 → 0.16; 0.12375 → 0.12; 0.06; 0.024 → 0.02; 0.018 → 0.02; 0.004 → 0.00; 0.1365 → 0.14.
	if inv.Total != 16+12+6+2+2+0+14 {
		t.Errorf("January's total %d, want 52: %+v", inv.Total, inv.Lines)
	}
}

// testVolumeTierRace: many goroutines charge the messages around a band's
// boundary at once, each message several times (duplicate receipts on
// several nodes): exactly the messages below the boundary are at the
// sheet's rate, every one is charged once, and the invoice equals the
// ledger.
func testVolumeTierRace(t *testing.T, e *env) {
	const msgs, copies, from = 20, 3, 11
	b := newBilling(e)
	b.ledger.UseRules(tierRules(t, fmt.Sprintf(`[{"from":%d,"discount_bps":5000}]`, from)))
	biz := e.ids.Next()
	b.clock.set(jan.Add(20 * 24 * time.Hour))
	at := jan.Add(10 * 24 * time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, msgs*copies)
	for c := range copies {
		for i := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := billing.Message{ID: kontor.ID(5000 + i), Business: biz, Number: biz + 1, To: "+4915100000001", Category: "utility",
					At: at.Add(time.Duration(i*copies+c) * time.Millisecond)}
				if _, _, err := b.ledger.ChargeMessage(e.ctx, m); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ChargeMessage: %v", err)
	}
	if n, err := e.db.VolumeCount(e.ctx, biz, "DE", "utility", at); err != nil || n != msgs {
		t.Fatalf("counted %d (%v), want %d: a duplicate was counted, or a count was lost", n, err, msgs)
	}
	es, err := e.db.Entries(e.ctx, biz, jan, jan.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	full, half := 0, 0
	var sum billing.Nanos
	for _, en := range es {
		switch en.Amount {
		case 55_000_000:
			full++
		case 27_500_000:
			half++
		default:
			t.Errorf("an entry of %s", en.Amount)
		}
		sum += en.Amount
	}
	if len(es) != msgs || full != from-1 || half != msgs-from+1 {
		t.Errorf("%d entries, %d at the sheet's rate and %d at half; want %d, %d, %d", len(es), full, half, msgs, from-1, msgs-from+1)
	}
	inv := b.invoice(biz, jan)
	var exact billing.Nanos
	for _, l := range inv.Lines {
		exact += l.Sum
	}
	if len(inv.Lines) != 2 || exact != sum || inv.Entries != msgs {
		t.Errorf("the invoice: %+v; the ledger sums to %s", inv, sum)
	}
}

// testRuleSets: rule sets imported at run time are kept, oldest first,
// never in place of or before a stored one; a book over the store (one
// per node) sees another's import when it reloads.
func testRuleSets(t *testing.T, e *env) {
	body := func(date string) []byte {
		return []byte(`{"effective":"` + date + `","categories":{"marketing":{},"utility":{"tiers":[{"from":1000,"discount_bps":1000}]},` +
			`"authentication":{},"authentication-international":{},"service":{}}}`)
	}
	seed := billing.ShippedRuleSets()[:1]
	node1, err := billing.NewStoredRuleBook(e.ctx, seed, e.db)
	if err != nil {
		t.Fatal(err)
	}
	node2, err := billing.NewStoredRuleBook(e.ctx, seed, e.db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, data string
		kind       kontor.Kind
	}{
		{"today", string(body("2026-12-03")), kontor.Invalid},
		{"in the past", string(body("2026-01-01")), kontor.Invalid},
		{"bad", `{"effective":"2027-01-01","categories":{"marketing":{"tiers":[{"from":5,"discount_bps":10}]}}}`, kontor.Invalid},
		{"negative", strings.Replace(string(body("2027-01-01")), `"discount_bps":1000`, `"discount_bps":-5`, 1), kontor.Invalid},
	} {
		if _, err := node1.Import(e.ctx, []byte(c.data), now); kontor.KindOf(err) != c.kind {
			t.Errorf("import %s: %v, want %v", c.name, err, c.kind)
		}
	}
	if stored, err := e.db.RuleSets(e.ctx); err != nil || len(stored) != 0 {
		t.Fatalf("after refused imports: %v, %v", stored, err)
	}
	if _, err := node1.Import(e.ctx, body("2027-01-01"), now); err != nil {
		t.Fatal(err)
	}
	if got := node1.At(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)); got.Effective != "2027-01-01" || len(got.Categories["utility"].Tiers) != 1 {
		t.Errorf("the importing node in February: %+v", got)
	}
	if got := node2.At(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)).Effective; got != "2025-07-01" {
		t.Errorf("the other node before reloading: %s", got)
	}
	if err := node2.Reload(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := node2.At(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)).Effective; got != "2027-01-01" {
		t.Errorf("the other node after reloading: %s", got)
	}
	if got := node2.At(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)).Effective; got != "2025-07-01" {
		t.Errorf("the other node before the new set's date: %s", got)
	}
	// The same date, or an earlier one, from either node: a conflict.
	for _, d := range []string{"2027-01-01", "2026-12-20"} {
		if _, err := node2.Import(e.ctx, body(d), now); kontor.KindOf(err) != kontor.Conflict {
			t.Errorf("import %s after 2027-01-01: %v, want a conflict", d, err)
		}
		// The store refuses it too, whatever the caller checked.
		if err := e.db.AddRuleSets(e.ctx, []billing.StoredRules{{Effective: d, Body: body(d), Imported: now}}); kontor.KindOf(err) != kontor.Conflict {
			t.Errorf("AddRuleSets %s after 2027-01-01: %v, want a conflict", d, err)
		}
	}
	// Two at once, the second bad: none stored.
	if _, err := node1.Import(e.ctx, []byte("["+string(body("2027-03-01"))+`,{"effective":"2027-04-01"}]`), now); kontor.KindOf(err) != kontor.Invalid {
		t.Errorf("two sets, one bad: %v", err)
	}
	// Racing imports of different dates: every stored set is after the
	// ones stored before it (the sequence serialises them).
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := fmt.Sprintf("2027-%02d-01", 5+i)
			if err := e.db.AddRuleSets(e.ctx, []billing.StoredRules{{Effective: d, Body: body(d), Imported: now}}); err != nil && kontor.KindOf(err) != kontor.Conflict {
				t.Errorf("racing AddRuleSets %s: %v", d, err)
			}
		}()
	}
	wg.Wait()
	stored, err := e.db.RuleSets(e.ctx)
	if err != nil || len(stored) < 2 || stored[0].Effective != "2027-01-01" {
		t.Fatalf("stored: %+v, %v", stored, err)
	}
	if err := node1.Reload(e.ctx); err != nil {
		t.Fatalf("reloading after the race: %v", err)
	}
	imp := node1.Imported()
	if len(imp) != len(stored) || !imp[0].Imported.Equal(now) {
		t.Errorf("imported: %+v", imp)
	}
}
