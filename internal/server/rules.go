package server

import (
	"fmt"
	"os"

	"github.com/kontor-chat/kontor/internal/billing"
)

// loadRules reads --billing-rules: "" is the July 2025 set alone,
// "shipped" both shipped sets, anything else the path of a JSON file of
// rule sets. A bad file stops the server.
func loadRules(spec string) (*billing.RuleBook, error) {
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
