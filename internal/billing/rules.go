package billing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kontor-chat/kontor"
)

// CategoryRule is what the rules say about one category of message.
type CategoryRule struct {
	// FreeInWindow: a message of the category sent while the person's
	// customer service window is open (they wrote in the last 24 hours)
	// is free. For "service" (free-form replies, always inside the
	// window) Rules.ServiceBillable decides instead.
	FreeInWindow bool `json:"free_in_window"`
	// MonthlyFree: the first N charged messages of the category per
	// business number per calendar month (UTC) are free. 0: none.
	MonthlyFree int `json:"monthly_free"`
	// Tiers are the monthly volume bands of a category of
	// TieredCategories, lowest first (see Tier); none: the sheet's rate
	// for every message.
	Tiers []Tier `json:"tiers,omitempty"`
}

// Rules decide which messages are charged. Every category of
// Categories has a rule.
type Rules struct {
	// ServiceBillable: free-form service messages (replies inside the
	// window) are charged, after the service category's MonthlyFree.
	ServiceBillable bool `json:"service_billable"`
	// EntryPointHours: every message inside a free entry-point window
	// (this many hours after a person starts a chat from an ad or a
	// referral link) is free. 0: no such window.
	EntryPointHours int                     `json:"entry_point_hours"`
	Categories      map[string]CategoryRule `json:"categories"`
}

// RuleSet is a set of rules in force from its effective date (00:00
// UTC) until the next set's date.
type RuleSet struct {
	Effective string `json:"effective"` // YYYY-MM-DD
	Label     string `json:"label,omitempty"`
	Rules
	from time.Time
}

// From is when the set comes into force.
func (s RuleSet) From() time.Time { return s.from }

// Decision is what the rules make of one message: what the status
// webhooks' pricing block says and what the ledger charges.
type Decision struct {
	Billable bool
	Category string // the message's category; "service" for free-form messages
	Type     string // regular, free_customer_service, free_entry_point or free_allowance (kontor's: a free monthly allowance of a category other than service)
}

// Decide applies the rules to a message of category ("" is a free-form
// service message). inWindow: the person's customer service window was
// open when it was sent; inEntryPoint: a free entry-point window was
// open; withinAllowance: the message is one of the first MonthlyFree of
// its category on its number this month (the store counts them, once per
// message: store.UseAllowance; ask only when a message the rules would
// otherwise charge has a category with an allowance).
func (r Rules) Decide(category string, inWindow, inEntryPoint, withinAllowance bool) Decision {
	if category == "" {
		category = "service"
	}
	d := Decision{Category: category, Type: "free_customer_service"}
	rule := r.Categories[category]
	switch {
	case inEntryPoint && r.EntryPointHours > 0:
		d.Type = "free_entry_point"
	case category == "service" && !r.ServiceBillable:
	case category != "service" && inWindow && rule.FreeInWindow:
	case withinAllowance && rule.MonthlyFree > 0:
		if category != "service" {
			d.Type = "free_allowance"
		}
	default:
		d.Billable, d.Type = true, "regular"
	}
	return d
}

// RuleBook is the list of rule sets, oldest first; the one in force at a
// message's time decides. The oldest set also covers everything before
// its date. A book kept in a store (NewStoredRuleBook) also has the sets
// imported at run time (rulestore.go), and is safe for concurrent use
// while it reloads them.
type RuleBook struct {
	seed  []RuleSet
	store RuleStore
	state atomic.Pointer[bookState]
}

// Sets returns the book's sets, oldest first.
func (b *RuleBook) Sets() []RuleSet { return slices.Clone(b.state.Load().sets) }

// At returns the set in force at t.
func (b *RuleBook) At(t time.Time) RuleSet {
	sets := b.state.Load().sets
	in := sets[0]
	for _, s := range sets[1:] {
		if !t.Before(s.from) {
			in = s
		}
	}
	return in
}

// Decide applies the rules in force at t (see Rules.Decide).
func (b *RuleBook) Decide(t time.Time, category string, inWindow, inEntryPoint, withinAllowance bool) Decision {
	return b.At(t).Decide(category, inWindow, inEntryPoint, withinAllowance)
}

//go:embed rules.json
var shippedRules []byte

// ShippedRuleSets returns the rule sets that ship with kontor
// (rules.json): "2025-07-01", kontor's default, and "2026-10-01", the
// October 2026 changes as providers reported them, which is not in force
// unless an operator enables it.
func ShippedRuleSets() []RuleSet {
	sets, err := ParseRuleSets(shippedRules)
	if err != nil {
		panic("billing: the shipped rules.json: " + err.Error())
	}
	return sets
}

// DefaultRuleBook is the book in force on a kontor where the operator
// changed nothing: the July 2025 set alone.
func DefaultRuleBook() *RuleBook {
	b, err := NewRuleBook(ShippedRuleSets()[:1])
	if err != nil {
		panic("billing: the shipped rules.json: " + err.Error())
	}
	return b
}

// NewRuleBook makes a book of validated sets (ParseRuleSets); at least
// one set.
func NewRuleBook(sets []RuleSet) (*RuleBook, error) {
	if err := validateRuleSets(sets); err != nil {
		return nil, err
	}
	sets = slices.Clone(sets)
	slices.SortFunc(sets, func(a, b RuleSet) int { return a.from.Compare(b.from) })
	b := &RuleBook{seed: sets}
	b.state.Store(&bookState{sets: sets})
	return b, nil
}

// ParseRuleSets reads a JSON array of rule sets and validates it whole:
// a date per set (YYYY-MM-DD, no two the same), a rule for every
// category and none for an unknown one, no negative allowance or window.
// A bad file is a kontor.Invalid error listing every problem.
func ParseRuleSets(data []byte) ([]RuleSet, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sets []RuleSet
	if err := dec.Decode(&sets); err != nil {
		return nil, &kontor.Error{Kind: kontor.Invalid, Op: "billing.ParseRuleSets", Msg: "the rules are not a JSON array of rule sets: " + err.Error()}
	}
	if dec.More() {
		return nil, &kontor.Error{Kind: kontor.Invalid, Op: "billing.ParseRuleSets", Msg: "the rules have data after the array"}
	}
	if err := validateRuleSets(sets); err != nil {
		return nil, err
	}
	return sets, nil
}

func validateRuleSets(sets []RuleSet) error {
	var errs []string
	if len(sets) == 0 {
		errs = append(errs, "there is no rule set")
	}
	seen := map[string]int{}
	for i := range sets {
		s := &sets[i]
		where := fmt.Sprintf("set %d (%q)", i+1, s.Effective)
		t, err := time.Parse(time.DateOnly, s.Effective)
		if err != nil {
			errs = append(errs, where+": effective is not a date YYYY-MM-DD")
		} else {
			s.from = t
			if j, ok := seen[s.Effective]; ok {
				errs = append(errs, fmt.Sprintf("%s: the same effective date as set %d", where, j))
			}
			seen[s.Effective] = i + 1
		}
		if s.EntryPointHours < 0 {
			errs = append(errs, where+": entry_point_hours is negative")
		}
		for cat, r := range s.Categories {
			if !slices.Contains(Categories, cat) {
				errs = append(errs, fmt.Sprintf("%s: %q is not one of %s", where, cat, strings.Join(Categories, ", ")))
			}
			if r.MonthlyFree < 0 {
				errs = append(errs, fmt.Sprintf("%s: %s: monthly_free is negative", where, cat))
			}
			errs = append(errs, validateTiers(where, cat, r.Tiers)...)
		}
		for _, cat := range Categories {
			if _, ok := s.Categories[cat]; !ok {
				errs = append(errs, fmt.Sprintf("%s: no rule for %s", where, cat))
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return &kontor.Error{Kind: kontor.Invalid, Op: "billing.ParseRuleSets", Msg: "bad rules: " + strings.Join(errs, "; ")}
	}
	return nil
}
