package billing

import (
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

func TestShippedRules(t *testing.T) {
	sets := ShippedRuleSets()
	if len(sets) != 2 || sets[0].Effective != "2025-07-01" || sets[1].Effective != "2026-10-01" {
		t.Fatalf("shipped sets: %+v", sets)
	}
	def := DefaultRuleBook().Sets()
	if len(def) != 1 || def[0].Effective != "2025-07-01" {
		t.Fatalf("the default book: %+v", def)
	}
}

func TestRuleBookAt(t *testing.T) {
	book, err := NewRuleBook(ShippedRuleSets())
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	for _, c := range []struct {
		at, want string
	}{
		{"2024-01-01T00:00:00Z", "2025-07-01"}, // before the oldest: the oldest
		{"2025-07-01T00:00:00Z", "2025-07-01"},
		{"2026-09-30T23:59:59Z", "2025-07-01"},
		{"2026-10-01T00:00:00Z", "2026-10-01"},
		{"2030-01-01T00:00:00Z", "2026-10-01"},
	} {
		if got := book.At(day(c.at)).Effective; got != c.want {
			t.Errorf("At(%s) = %s, want %s", c.at, got, c.want)
		}
	}
	if got := DefaultRuleBook().At(day("2027-01-01T00:00:00Z")).Effective; got != "2025-07-01" {
		t.Errorf("the default book in 2027: %s, want 2025-07-01 (October is opt-in)", got)
	}
	// Given in any order, the book sorts its sets.
	rev := ShippedRuleSets()
	rev[0], rev[1] = rev[1], rev[0]
	book2, err := NewRuleBook(rev)
	if err != nil || book2.At(day("2026-01-01T00:00:00Z")).Effective != "2025-07-01" {
		t.Errorf("a book of sets in reverse order: %v", err)
	}
}

func TestDecide(t *testing.T) {
	sets := ShippedRuleSets()
	july, october := sets[0].Rules, sets[1].Rules
	for _, c := range []struct {
		name         string
		rules        Rules
		cat          string
		inWindow, ep bool
		within       bool
		billable     bool
		typ, wantCat string
	}{
		{"july reply", july, "", true, false, false, false, "free_customer_service", "service"},
		{"july service", july, "service", true, false, false, false, "free_customer_service", "service"},
		{"july utility in window", july, "utility", true, false, false, false, "free_customer_service", "utility"},
		{"july utility outside", july, "utility", false, false, false, true, "regular", "utility"},
		{"july marketing in window", july, "marketing", true, false, false, true, "regular", "marketing"},
		{"july marketing outside", july, "marketing", false, false, false, true, "regular", "marketing"},
		{"july authentication", july, "authentication", true, false, false, true, "regular", "authentication"},
		{"july auth-intl", july, "authentication-international", false, false, false, true, "regular", "authentication-international"},
		{"july entry point", july, "marketing", false, true, false, false, "free_entry_point", "marketing"},
		{"october first service", october, "service", true, false, true, false, "free_customer_service", "service"},
		{"october 1000th service", october, "", true, false, true, false, "free_customer_service", "service"},
		{"october 1001st service", october, "service", true, false, false, true, "regular", "service"},
		{"october utility in window", october, "utility", true, false, false, true, "regular", "utility"},
		{"october marketing", october, "marketing", true, false, false, true, "regular", "marketing"},
		{"october entry point", october, "service", true, true, false, false, "free_entry_point", "service"},
		{"allowance on utility", Rules{Categories: map[string]CategoryRule{"utility": {MonthlyFree: 2}}}, "utility", false, false, true, false, "free_allowance", "utility"},
		{"within no allowance", july, "marketing", false, false, true, true, "regular", "marketing"},
		{"allowance spent", Rules{Categories: map[string]CategoryRule{"utility": {MonthlyFree: 2}}}, "utility", false, false, false, true, "regular", "utility"},
		{"no entry-point window", Rules{}, "marketing", false, true, false, true, "regular", "marketing"},
	} {
		d := c.rules.Decide(c.cat, c.inWindow, c.ep, c.within)
		if d.Billable != c.billable || d.Type != c.typ || d.Category != c.wantCat {
			t.Errorf("%s: %+v, want billable %v type %s category %s", c.name, d, c.billable, c.typ, c.wantCat)
		}
	}
}

func TestParseRuleSets(t *testing.T) {
	cats := `"categories":{"marketing":{},"utility":{"free_in_window":true},"authentication":{},"authentication-international":{},"service":{}}`
	for _, c := range []struct {
		name, json string
		problem    string // in the error; "" = accepted
	}{
		{"good", `[{"effective":"2027-01-01",` + cats + `}]`, ""},
		{"two", `[{"effective":"2027-01-01",` + cats + `},{"effective":"2026-01-01",` + cats + `}]`, ""},
		{"empty", `[]`, "no rule set"},
		{"not json", `{`, "not a JSON array"},
		{"trailing", `[{"effective":"2027-01-01",` + cats + `}] []`, "after the array"},
		{"unknown field", `[{"effective":"2027-01-01","free":true,` + cats + `}]`, "unknown field"},
		{"bad date", `[{"effective":"2027-13-01",` + cats + `}]`, "not a date"},
		{"duplicate date", `[{"effective":"2027-01-01",` + cats + `},{"effective":"2027-01-01",` + cats + `}]`, "same effective date as set 1"},
		{"unknown category", `[{"effective":"2027-01-01","categories":{"marketing":{},"utility":{},"authentication":{},"authentication-international":{},"service":{},"promo":{}}}]`, `"promo" is not one of`},
		{"missing category", `[{"effective":"2027-01-01","categories":{"marketing":{}}}]`, "no rule for utility"},
		{"negative allowance", `[{"effective":"2027-01-01","categories":{"marketing":{},"utility":{},"authentication":{},"authentication-international":{},"service":{"monthly_free":-1}}}]`, "service: monthly_free is negative"},
		{"negative hours", `[{"effective":"2027-01-01","entry_point_hours":-72,` + cats + `}]`, "entry_point_hours is negative"},
	} {
		sets, err := ParseRuleSets([]byte(c.json))
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.problem == "" && len(sets) == 0:
			t.Errorf("%s: no sets", c.name)
		case c.problem != "" && err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.problem != "" && (!strings.Contains(err.Error(), c.problem) || kontor.KindOf(err) != kontor.Invalid):
			t.Errorf("%s: %v, want an invalid error about %q", c.name, err, c.problem)
		}
	}
}
