package adminapi

import (
	"io"
	"net/http"
	"time"

	"github.com/kontor-chat/kontor"
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
	// Imported are the sets imported at run time (kontor admin prices
	// rules import), oldest first, with when; they are in Sets too.
	Imported []billing.StoredRules `json:"imported"`
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
	gateway.WriteJSON(w, http.StatusOK, a.rulesView(at))
}

// rulesView is the book of rules in force, as at at.
func (a *API) rulesView(at time.Time) rulesView {
	book, from := a.Rules, "--billing-rules"
	if book == nil {
		book, from = billing.DefaultRuleBook(), "built in (the July 2025 set of internal/billing/rules.json)"
	}
	imp := book.Imported()
	if len(imp) > 0 {
		from += " and imported sets (from " + imp[0].Effective + ")"
	}
	return rulesView{At: at.UTC(), InForce: book.At(at), Sets: book.Sets(), Shipped: billing.ShippedRuleSets(), Source: from,
		Imported: append([]billing.StoredRules{}, imp...)}
}

// importRules adds rule sets at run time: the body is a JSON array of
// sets as for --billing-rules, or one set. 201 with the book as
// showRules answers it (at: now); a bad set 400, a date on or before the
// newest set's 409, nothing stored.
func (a *API) importRules(w http.ResponseWriter, r *http.Request) {
	if a.Rules == nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Unavailable, "admin.importRules", "this server has no book of billing rules to add to"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.importRules", "the rules are over 1 MiB or could not be read"))
		return
	}
	now := time.Now().UTC()
	sets, err := a.Rules.Import(r.Context(), body, now)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	a.Log.Info("billing rules imported", "effective", sets[0].Effective, "sets", len(sets))
	gateway.WriteJSON(w, http.StatusCreated, struct {
		Added []billing.RuleSet `json:"added"`
		rulesView
	}{sets, a.rulesView(now)})
}
