package adminapi

import (
	"net/http"
	"time"

	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/gateway"
)

// rulesView is the answer of GET /admin/v1/prices/rules.
type rulesView struct {
	At      time.Time         `json:"at"`
	InForce billing.RuleSet   `json:"in_force"` // the set that decides a message at At
	Sets    []billing.RuleSet `json:"sets"`     // the book in force, oldest first
	Shipped []billing.RuleSet `json:"shipped"`  // every set that ships with kontor
	Source  string            `json:"source"`   // where the book comes from
}

// showRules answers which rules decide what is charged: ?at=DATE
// (default: now).
func (a *API) showRules(w http.ResponseWriter, r *http.Request) {
	at, err := parseDay(r.URL.Query().Get("at"))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	if at.IsZero() {
		at = time.Now().UTC()
	}
	book, from := a.Rules, "--billing-rules"
	if book == nil {
		book, from = billing.DefaultRuleBook(), "built in (the July 2025 set of internal/billing/rules.json)"
	}
	gateway.WriteJSON(w, http.StatusOK, rulesView{At: at.UTC(), InForce: book.At(at), Sets: book.Sets(),
		Shipped: billing.ShippedRuleSets(), Source: from})
}
