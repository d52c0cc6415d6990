package storetest

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// testBillingWorkload: many businesses, markets, categories and windows,
// each delivery reported twice by racing reporters (as two nodes or a retry
// after a crash would); a month finalized while late reports still come.
// The invoices equal the ledger, and both equal the billable deliveries
// the test counts on its own: nothing charged twice, nothing missed.
func testBillingWorkload(_ *testing.T, e *env) {
	b := newBilling(e)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	e.t.Logf("seed %d", seed)

	// The test's own copy of the rates (nanos), by market and category,
	// from January and from March; "other" for the rest.
	rates := func(at time.Time, market, cat string) int64 {
		de := int64(136_500_000)
		if !at.Before(jan.AddDate(0, 2, 0)) {
			de = 150_000_000
		}
		t := map[string]map[string]int64{
			"DE":    {"marketing": de, "utility": 55_000_000, "authentication": 76_800_000},
			"BR":    {"marketing": 62_500_000, "utility": 8_000_000},
			"IN":    {"authentication": 1_400_000},
			"other": {"marketing": 60_000_000, "utility": 20_000_000, "authentication": 30_000_000},
		}
		if r, ok := t[market][cat]; ok { // FR has no rates of its own
			return r
		}
		return t["other"][cat]
	}
	phones := []struct {
		prefix string
		market string
	}{{"+49151", "DE"}, {"+55119", "BR"}, {"+91987", "IN"}, {"+33612", "FR"}, {"+88812", "other"}}
	cats := []string{"marketing", "utility", "authentication", "service"}

	type delivery struct {
		biz, msg     kontor.ID
		to           kontor.Phone
		market, cat  string
		initiated    bool
		at           time.Time
		late         bool // reported after January is final
		billableByMe bool
	}
	var ds []delivery
	bizs := make([]kontor.ID, 6)
	for i := range bizs {
		bizs[i] = e.ids.Next()
	}
	n := 1200
	if testing.Short() {
		n = 300
	}
	for i := range n {
		p := phones[rng.IntN(len(phones))]
		d := delivery{biz: bizs[rng.IntN(len(bizs))], msg: e.ids.Next(), to: kontor.Phone(fmt.Sprintf("%s%07d", p.prefix, rng.IntN(10_000_000))),
			market: p.market, cat: cats[rng.IntN(len(cats))], initiated: rng.IntN(2) == 0,
			at: jan.Add(time.Duration(rng.Int64N(int64(59 * 24 * time.Hour))))} // January and February
		d.late = d.at.Before(jan.AddDate(0, 1, 0)) && i%10 == 0
		// The July 2025 rules, as the test reads them: service free,
		// utility free inside the window, other templates charged.
		d.billableByMe = d.cat == "marketing" || d.cat == "authentication" || d.cat == "utility" && d.initiated
		ds = append(ds, d)
	}
	report := func(list []delivery) {
		var wg sync.WaitGroup
		for r := range 2 { // two reporters race over every delivery
			order := rng.Perm(len(list))
			wg.Go(func() {
				for _, k := range order {
					d := list[k]
					if !d.billableByMe {
						continue // what the status says free is not charged
					}
					if _, _, err := b.ledger.ChargeMessage(e.ctx, billing.Message{ID: d.msg, Business: d.biz, Number: d.biz + 1, To: d.to,
						Category: d.cat, At: d.at}); err != nil {
						e.t.Errorf("reporter %d: %v", r, err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	var onTime, late []delivery
	for _, d := range ds {
		if d.late {
			late = append(late, d)
		} else {
			onTime = append(onTime, d)
		}
	}
	report(onTime)
	b.clock.set(jan.AddDate(0, 1, 1))
	for _, biz := range bizs {
		if _, err := b.invoices.Finalize(e.ctx, biz, jan); err != nil {
			e.t.Fatal(err)
		}
	}
	report(late)
	report(onTime[:len(onTime)/3]) // and old reports once more

	// What the test expects: per business and invoice month (late January
	// deliveries go on February's), per market, category and rate.
	type lineKey struct {
		biz         kontor.ID
		month       string
		market, cat string
		rate        int64
	}
	want := map[lineKey]int64{}
	billable := 0
	for _, d := range ds {
		if !d.billableByMe {
			continue
		}
		billable++
		month := d.at.Format("2006-01")
		if d.late {
			month = "2027-02"
		}
		want[lineKey{d.biz, month, d.market, d.cat, rates(d.at, d.market, d.cat)}]++
	}
	// Half to even at two decimals, computed apart from billing's code.
	round := func(nanos int64) int64 {
		r := new(big.Rat).SetFrac(big.NewInt(nanos), big.NewInt(10_000_000))
		q := new(big.Int).Quo(r.Num(), r.Denom())
		rem := new(big.Rat).Sub(r, new(big.Rat).SetInt(q))
		switch c := rem.Cmp(big.NewRat(1, 2)); {
		case c > 0, c == 0 && q.Bit(0) == 1:
			q.Add(q, big.NewInt(1))
		}
		return q.Int64()
	}
	b.clock.set(jan.AddDate(0, 2, 1))
	entries := 0
	for _, biz := range bizs {
		var ledgerSum billing.Nanos
		es, err := e.db.Entries(e.ctx, biz, jan, jan.AddDate(0, 2, 0))
		if err != nil {
			e.t.Fatal(err)
		}
		for _, en := range es {
			ledgerSum += en.Amount
		}
		entries += len(es)
		var invoiceExact billing.Nanos
		for _, month := range []time.Time{jan, jan.AddDate(0, 1, 0)} {
			inv := b.invoice(biz, month)
			if month.Equal(jan) && inv.Status != billing.StatusFinal {
				e.t.Fatalf("January is not final: %+v", inv)
			}
			var total, count int64
			for _, l := range inv.Lines {
				unit, err := billing.ParseNanos(l.UnitPrice)
				if err != nil {
					e.t.Fatalf("unit price %q: %v", l.UnitPrice, err)
				}
				k := lineKey{biz, inv.Month, l.Market, l.Category, int64(unit)}
				if want[k] != l.Count {
					e.t.Errorf("%s business %d %s/%s at %s: %d charged, %d billable", inv.Month, biz, l.Market, l.Category, l.UnitPrice, l.Count, want[k])
				}
				if exact := want[k] * int64(unit); l.Exact != billing.Nanos(exact).String() || l.Amount != round(exact) {
					e.t.Errorf("line %+v: exact %d, rounded %d", l, exact, round(exact))
				}
				delete(want, k)
				total += l.Amount
				count += l.Count
				ex, _ := billing.ParseNanos(l.Exact)
				invoiceExact += ex
			}
			if total != inv.Total || count != inv.Entries {
				e.t.Errorf("%s business %d: lines sum to %d (%d entries), the invoice says %d (%d)", inv.Month, biz, total, count, inv.Total, inv.Entries)
			}
		}
		if invoiceExact != ledgerSum {
			e.t.Errorf("business %d: invoices hold %s exactly, the ledger %s", biz, invoiceExact, ledgerSum)
		}
	}
	for k, c := range want {
		e.t.Errorf("never charged: %d × %+v", c, k)
	}
	if entries != billable {
		e.t.Errorf("the ledger has %d entries for %d billable deliveries", entries, billable)
	}
}
