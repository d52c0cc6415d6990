package billing

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

func TestBand(t *testing.T) {
	tiers := []Tier{{From: 1001, DiscountBPS: 1000}, {From: 10_001, DiscountBPS: 2500, Rates: map[string]string{"IN": "0.0010", "other": "0.0020"}}}
	rate := Nanos(55_000_000) // 0.055
	for _, c := range []struct {
		name   string
		tiers  []Tier
		n      int64
		market string
		band   int
		price  Nanos
		rate   Nanos // 0: 0.055
	}{
		{"no tiers", nil, 5_000_000, "DE", 0, rate, 0},
		{"first message", tiers, 1, "DE", 0, rate, 0},
		{"last below the band", tiers, 1000, "DE", 0, rate, 0},
		{"the message that crosses", tiers, 1001, "DE", 1, 49_500_000, 0},
		{"inside band 1", tiers, 10_000, "DE", 1, 49_500_000, 0},
		{"crossing into band 2: no own rate, other's", tiers, 10_001, "DE", 2, 2_000_000, 0},
		{"band 2, its own rate", tiers, 10_001, "IN", 2, 1_000_000, 0},
		{"band 2, lower case market", tiers, 20_000, "in", 2, 1_000_000, 0},
		{"a band from 1", []Tier{{From: 1, DiscountBPS: 10_000}}, 1, "DE", 1, 0, 0},
		// 0.0417 less 15 % is 0.035445 exactly.
		{"exact", []Tier{{From: 2, DiscountBPS: 1500}}, 2, "DE", 1, 35_445_000, 41_700_000},
	} {
		r := rate
		if c.rate != 0 {
			r = c.rate
		}
		p, band := TierPrice(c.tiers, c.n, c.market, r)
		if band != c.band || p != c.price || Band(c.tiers, c.n) != c.band {
			t.Errorf("%s: message %d to %s: band %d at %s, want band %d at %s", c.name, c.n, c.market, band, p, c.band, c.price)
		}
	}
	for _, c := range []struct {
		rate, want Nanos
	}{{15, 8}, {25, 12}, {35, 18}, {1, 0}, {3, 2}} {
		if p, _ := TierPrice([]Tier{{From: 1, DiscountBPS: 5000}}, 1, "DE", c.rate); p != c.want {
			t.Errorf("half of %d nanos: %d, want %d (half to even)", c.rate, p, c.want)
		}
	}
}

func TestParseTiers(t *testing.T) {
	cats := func(utility, marketing string) string {
		return `[{"effective":"2027-01-01","categories":{"marketing":{` + marketing + `},"utility":{` + utility + `},"authentication":{},"authentication-international":{},"service":{}}}]`
	}
	for _, c := range []struct {
		name, json, problem string
	}{
		{"good", cats(`"tiers":[{"from":1001,"discount_bps":1000},{"from":10001,"rates":{"IN":"0.001","other":"0.002"}}]`, ""), ""},
		{"discount and rates", cats(`"tiers":[{"from":5,"discount_bps":1000,"rates":{"DE":"0.01"}}]`, ""), ""},
		{"marketing", cats("", `"tiers":[{"from":5,"discount_bps":1000}]`), "marketing: volume tiers are only for utility"},
		{"from 0", cats(`"tiers":[{"from":0,"discount_bps":1000}]`, ""), "from must be 1 or more"},
		{"not rising", cats(`"tiers":[{"from":50,"discount_bps":1000},{"from":50,"discount_bps":2000}]`, ""), "from 50 is not after tier 1's 50"},
		{"falling", cats(`"tiers":[{"from":50,"discount_bps":1000},{"from":10,"discount_bps":2000}]`, ""), "bands go up"},
		{"negative discount", cats(`"tiers":[{"from":5,"discount_bps":-1}]`, ""), "discount_bps -1 is not between 0 and 10000"},
		{"over 100 %", cats(`"tiers":[{"from":5,"discount_bps":10001}]`, ""), "is not between 0 and 10000"},
		{"nothing off", cats(`"tiers":[{"from":5}]`, ""), "give discount_bps, rates, or both"},
		{"bad market", cats(`"tiers":[{"from":5,"rates":{"Germany":"0.01"}}]`, ""), `"Germany" is not an ISO 3166`},
		{"lower-case market", cats(`"tiers":[{"from":5,"rates":{"de":"0.01"}}]`, ""), `"de" is not an ISO 3166`},
		{"negative rate", cats(`"tiers":[{"from":5,"rates":{"DE":"-0.01"}}]`, ""), `"-0.01" is negative`},
		{"bad rate", cats(`"tiers":[{"from":5,"rates":{"DE":"0,01"}}]`, ""), "is not a decimal"},
		{"unknown field", cats(`"tiers":[{"from":5,"percent":10}]`, ""), "unknown field"},
	} {
		_, err := ParseRuleSets([]byte(c.json))
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem) || kontor.KindOf(err) != kontor.Invalid):
			t.Errorf("%s: %v, want an invalid error about %q", c.name, err, c.problem)
		}
	}
}

// memRules is a RuleStore in memory.
type memRules struct {
	mu   sync.Mutex
	sets []StoredRules
}

func (m *memRules) AddRuleSets(_ context.Context, sets []StoredRules) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range sets {
		if n := len(m.sets); n > 0 && s.Effective <= m.sets[n-1].Effective {
			return kontor.Errorf(kontor.Conflict, "mem", "stored: %s", m.sets[n-1].Effective)
		}
	}
	m.sets = append(m.sets, sets...)
	return nil
}

func (m *memRules) RuleSets(context.Context) ([]StoredRules, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sets), nil
}

// TestImportRules: what an import refuses, and how the seed and the
// imported sets make the book.
func TestImportRules(t *testing.T) {
	ctx := context.Background()
	set := func(date string) string {
		return `{"effective":"` + date + `","categories":{"marketing":{},"utility":{},"authentication":{},"authentication-international":{},"service":{"monthly_free":5}}}`
	}
	now := time.Date(2026, 12, 3, 23, 59, 0, 0, time.UTC)
	st := &memRules{}
	book, err := NewStoredRuleBook(ctx, ShippedRuleSets(), st) // seed: 2025-07-01, 2026-10-01
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, data string
		kind       kontor.Kind
		problem    string
	}{
		{"today", set("2026-12-03"), kontor.Invalid, "starts on a day that has begun"},
		{"yesterday", set("2026-12-02"), kontor.Invalid, "2026-12-04 or later"},
		{"not json", `[{`, kontor.Invalid, "not a JSON array"},
		{"one bad of two", "[" + set("2027-01-01") + `,{"effective":"2027-02-01"}]`, kontor.Invalid, "no rule for"},
		{"no store", set("2027-01-01"), kontor.Unavailable, "not kept in a store"},
	} {
		b := book
		if c.name == "no store" {
			b = DefaultRuleBook()
		}
		_, err := b.Import(ctx, []byte(c.data), now)
		if kontor.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.problem) {
			t.Errorf("%s: %v, want %v about %q", c.name, err, c.kind, c.problem)
		}
	}
	if len(st.sets) != 0 {
		t.Fatalf("refused imports stored %+v", st.sets)
	}
	added, err := book.Import(ctx, []byte("\n "+set("2027-01-01")+"\n"), now) // one set, not an array
	if err != nil || len(added) != 1 {
		t.Fatalf("import: %v %+v", err, added)
	}
	if _, err := book.Import(ctx, []byte(set("2027-01-01")), now); kontor.KindOf(err) != kontor.Conflict {
		t.Errorf("the same date again: %v, want a conflict", err)
	}
	if _, err := book.Import(ctx, []byte("["+set("2027-03-01")+","+set("2027-02-01")+"]"), now); err != nil {
		t.Errorf("two sets in any order: %v", err)
	}
	var got []string
	for _, s := range book.Sets() {
		got = append(got, s.Effective)
	}
	if want := []string{"2025-07-01", "2026-10-01", "2027-01-01", "2027-02-01", "2027-03-01"}; !slices.Equal(got, want) {
		t.Errorf("the book: %v, want %v", got, want)
	}
	if book.At(time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)).Categories["service"].MonthlyFree != 5 || len(book.Imported()) != 3 {
		t.Errorf("the imported set is not in force: %+v", book.At(time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)))
	}
	// A node started later with a seed that reaches past the imported
	// sets: from the first imported date, the imported sets decide.
	late, err := ParseRuleSets([]byte("[" + set("2025-01-01") + "," + set("2027-06-01") + "]"))
	if err != nil {
		t.Fatal(err)
	}
	node2, err := NewStoredRuleBook(ctx, late, st)
	if err != nil {
		t.Fatal(err)
	}
	// Before a set of the seed that is still to come: a conflict.
	node3, err := NewStoredRuleBook(ctx, late, &memRules{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node3.Import(ctx, []byte(set("2027-05-01")), now); kontor.KindOf(err) != kontor.Conflict || !strings.Contains(err.Error(), "the book has a set effective 2027-06-01") {
		t.Errorf("before the seed's 2027-06-01: %v, want a conflict", err)
	}
	got = got[:0]
	for _, s := range node2.Sets() {
		got = append(got, s.Effective)
	}
	if want := []string{"2025-01-01", "2027-01-01", "2027-02-01", "2027-03-01"}; !slices.Equal(got, want) {
		t.Errorf("the later node's book: %v, want %v", got, want)
	}
}
