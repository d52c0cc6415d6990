package adminapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/gateway"
	"github.com/kontor-chat/kontor/wire"
)

// mountPrices adds the price sheet routes.
func (a *API) mountPrices(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/v1/prices", a.operator(a.importPrices))
	mux.HandleFunc("GET /admin/v1/prices", a.operator(a.showPrices))
	mux.HandleFunc("GET /admin/v1/prices/versions", a.operator(a.priceVersions))
	mux.HandleFunc("GET /admin/v1/prices/rules", a.operator(a.showRules))
	mux.HandleFunc("POST /admin/v1/prices/rules", a.operator(a.importRules))
	if a.Ledger != nil {
		mux.HandleFunc("GET /admin/v1/businesses/{id}/usage", a.operator(a.usage))
	}
}

// usage sums a business's charges: ?from=DATE&to=DATE (default: this
// month so far).
func (a *API) usage(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r.PathValue("id"))
	if err != nil || id == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.usage", "bad business id %q", r.PathValue("id")))
		return
	}
	from, err1 := parseDay(r.URL.Query().Get("from"))
	to, err2 := parseDay(r.URL.Query().Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	now := time.Now().UTC()
	if from.IsZero() {
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	if to.IsZero() {
		to = now.Add(time.Second)
	}
	u, err := a.Ledger.Usage(r.Context(), id, from, to)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, u)
}

// parseDay reads "2026-12-01" or an RFC 3339 time; "" is the zero time.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, kontor.Errorf(kontor.Invalid, "admin.prices", "%q is not a date (2026-12-01) or an RFC 3339 time", s)
	}
	return t, nil
}

func (a *API) importPrices(w http.ResponseWriter, r *http.Request) {
	eff, err := parseDay(r.URL.Query().Get("effective"))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.prices", "the price sheet is over 4 MiB or could not be read"))
		return
	}
	sh, err := a.Prices.Import(r.Context(), bytes.NewReader(body), eff, r.URL.Query().Get("label"))
	var ie *billing.ImportError
	if errors.As(err, &ie) {
		gateway.WriteJSON(w, http.StatusBadRequest, map[string]any{
			"error": wire.APIErrorBody{Code: kontor.Invalid.String(), Message: ie.Error()}, "rows": ie.Rows})
		return
	}
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, sh)
}

func (a *API) showPrices(w http.ResponseWriter, r *http.Request) {
	at, err := parseDay(r.URL.Query().Get("at"))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	if at.IsZero() {
		at = time.Now()
	}
	sh, err := a.Prices.At(r.Context(), at)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, sh)
}

func (a *API) priceVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := a.Prices.Versions(r.Context())
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"data": vs})
}
