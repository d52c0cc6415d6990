// Package adminapi is the operator's HTTP API under /admin/v1, guarded by an
// operator token (kept in the data directory, or given in
// KONTOR_OPERATOR_TOKEN). `kontor admin` is its client.
package adminapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/gateway"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/webhook"
	"github.com/kontor-chat/kontor/wire"
)

// API is the admin API.
type API struct {
	Ident *identity.Service
	// Business manages businesses, tokens and partners.
	Business *business.Service
	// Hosted sets up the hosted endpoint of a business just created, with
	// its device (which the platform keeps).
	Hosted func(ctx context.Context, c business.Created) error
	// Commerce keeps catalogs and imports their feeds.
	Commerce *commerce.Service
	// Stock keeps stock levels, adjustments and sales reports.
	Stock *commerce.Stock
	// Webhooks lists and replays dead letters.
	Webhooks *webhook.Deliverer
	// Prices manages the price sheets; Ledger holds the charges.
	Prices *billing.Service
	Ledger *billing.Ledger
	// Rules decide which messages are charged (nil: the July 2025 set).
	Rules *billing.RuleBook
	// Invoices makes and finalizes invoices; Credit keeps businesses'
	// credit (nil: no billing routes).
	Invoices *billing.Invoices
	Credit   *billing.Credit
	// Console makes console users and their set-password links.
	Console *consoleauth.Service
	// Stats reports live figures of this node.
	Stats func() map[string]any
	Log   *slog.Logger
}

// AccountRequest creates an account directly (no one-time code).
type AccountRequest struct {
	Phone      kontor.Phone `json:"phone"`
	DeviceName string       `json:"device_name,omitempty"`
}

// Mount adds the routes to mux.
func (a *API) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/v1/accounts", a.operator(a.createAccount))
	mux.HandleFunc("GET /admin/v1/stats", a.operator(a.stats))
	if a.Business != nil {
		a.mountBusiness(mux)
	}
	if a.Prices != nil {
		a.mountPrices(mux)
	}
	if a.Invoices != nil && a.Business != nil {
		a.mountBilling(mux)
	}
	if a.Commerce != nil {
		a.mountCatalog(mux)
	}
	if a.Commerce != nil && a.Stock != nil {
		a.mountStock(mux)
	}
	if a.Console != nil {
		a.mountConsole(mux)
	}
}

func (a *API) operator(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if err := a.Ident.Operator(r.Context(), strings.TrimSpace(tok)); err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
		h(w, r)
	}
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) {
	var req AccountRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	c, err := a.Ident.RegisterDirect(r.Context(), string(req.Phone), req.DeviceName)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, wire.DeviceCredentials{Phone: c.Phone, DeviceID: c.DeviceNum, Credential: c.Credential})
}

func (a *API) stats(w http.ResponseWriter, _ *http.Request) {
	gateway.WriteJSON(w, http.StatusOK, a.Stats())
}
