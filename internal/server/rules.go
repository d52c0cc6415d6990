package server

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kontor-chat/kontor/internal/billing"
)

// rulesReload is how often a node reads the rule sets imported at run
// time (kontor admin prices rules import) from the store: a set imported
// on another node decides here within this time (at once on the node that
// imported it).
const rulesReload = 2 * time.Second

// loadRules makes the book of billing rules: the seed sets of
// --billing-rules (seedRules), then the sets imported into st at run time.
func loadRules(ctx context.Context, spec string, st billing.RuleStore) (*billing.RuleBook, error) {
	seed, err := seedRules(spec)
	if err != nil {
		return nil, err
	}
	book, err := billing.NewStoredRuleBook(ctx, seed.Sets(), st)
	if err != nil {
		return nil, fmt.Errorf("the billing rules imported at run time: %w", err)
	}
	return book, nil
}

// seedRules reads --billing-rules: "" is the July 2025 set alone,
// "shipped" both shipped sets, anything else the path of a JSON file of
// rule sets. A bad file stops the server.
func seedRules(spec string) (*billing.RuleBook, error) {
	switch spec {
	case "":
		return billing.DefaultRuleBook(), nil
	case "shipped":
		return billing.NewRuleBook(billing.ShippedRuleSets())
	}
	b, err := os.ReadFile(spec)
	if err != nil {
		return nil, fmt.Errorf("--billing-rules: %w", err)
	}
	sets, err := billing.ParseRuleSets(b)
	if err != nil {
		return nil, fmt.Errorf("--billing-rules %s: %w", spec, err)
	}
	return billing.NewRuleBook(sets)
}
