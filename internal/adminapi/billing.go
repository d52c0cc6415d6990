package adminapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/gateway"
)

// mountBilling adds the routes for invoices, credit, commerce fees and
// partner markups.
func (a *API) mountBilling(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/v1/businesses/{id}/invoices/{month}", a.operator(a.monthly(a.businessParam, a.Invoices.Invoice)))
	mux.HandleFunc("POST /admin/v1/businesses/{id}/invoices/{month}/finalize", a.operator(a.monthly(a.businessParam, a.Invoices.Finalize)))
	mux.HandleFunc("POST /admin/v1/businesses/{id}/invoices/{month}/adjustments", a.operator(a.adjustInvoice))
	mux.HandleFunc("POST /admin/v1/businesses/{id}/adjustments", a.operator(a.adjust))
	mux.HandleFunc("GET /admin/v1/partners/{id}/invoices/{month}", a.operator(a.monthly(a.partnerParam, a.Invoices.PartnerInvoice)))
	mux.HandleFunc("POST /admin/v1/partners/{id}/invoices/{month}/finalize", a.operator(a.monthly(a.partnerParam, a.Invoices.FinalizePartner)))
	mux.HandleFunc("GET /admin/v1/partners/{id}/markup", a.operator(a.markup))
	mux.HandleFunc("PUT /admin/v1/partners/{id}/markup", a.operator(a.setMarkup))
	if a.Credit != nil {
		mux.HandleFunc("GET /admin/v1/businesses/{id}/credit", a.operator(a.credit))
		mux.HandleFunc("PUT /admin/v1/businesses/{id}/credit", a.operator(a.setCredit))
		mux.HandleFunc("POST /admin/v1/businesses/{id}/topups", a.operator(a.topUp))
	}
	if a.Ledger != nil {
		mux.HandleFunc("GET /admin/v1/businesses/{id}/commerce-fee", a.operator(a.commerceFee))
		mux.HandleFunc("PUT /admin/v1/businesses/{id}/commerce-fee", a.operator(a.setCommerceFee))
	}
}

// businessParam reads {id} as a business that exists.
func (a *API) businessParam(w http.ResponseWriter, r *http.Request) (kontor.ID, bool) {
	id, err := optionalID(r.PathValue("id"))
	if err == nil && id == 0 {
		err = kontor.Errorf(kontor.Invalid, "admin.billing", "give a business id")
	}
	if err == nil {
		_, err = a.Business.Store().Business(r.Context(), id)
	}
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return 0, false
	}
	return id, true
}

// partnerParam reads {id} as a partner that exists.
func (a *API) partnerParam(w http.ResponseWriter, r *http.Request) (kontor.ID, bool) {
	id, err := optionalID(r.PathValue("id"))
	if err == nil && id == 0 {
		err = kontor.Errorf(kontor.Invalid, "admin.billing", "give a partner id")
	}
	if err == nil {
		_, err = a.Business.Store().Partner(r.Context(), id)
	}
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return 0, false
	}
	return id, true
}

func (a *API) monthParam(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	m, err := billing.ParseMonth(r.PathValue("month"))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return m, false
	}
	return m, true
}

// writeInvoice answers JSON, or CSV with ?format=csv.
func (a *API) writeInvoice(w http.ResponseWriter, r *http.Request, inv billing.Invoice) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		gateway.WriteJSON(w, http.StatusOK, inv)
	case "csv":
		var b bytes.Buffer
		if err := billing.WriteCSV(&b, inv, commerce.Exponent); err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = w.Write(b.Bytes())
	default:
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.invoice", "format is json or csv, not %q", f))
	}
}

// monthly serves an invoice call of a business or a partner ({id}) for
// a month ({month}): reading it, or finalizing it.
func (a *API) monthly(param func(http.ResponseWriter, *http.Request) (kontor.ID, bool),
	get func(context.Context, kontor.ID, time.Time) (billing.Invoice, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := param(w, r)
		if !ok {
			return
		}
		m, ok := a.monthParam(w, r)
		if !ok {
			return
		}
		inv, err := get(r.Context(), id, m)
		if err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
		a.writeInvoice(w, r, inv)
	}
}

// AdjustmentRequest corrects a business's charges: a positive amount is
// charged, a negative one credited. Amount is a decimal of the currency
// (default: the currency of the price sheet in effect).
type AdjustmentRequest struct {
	Amount    string `json:"amount"`
	Currency  string `json:"currency,omitempty"`
	Note      string `json:"note,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// adjust writes an adjustment dated now: it goes on the open invoice.
func (a *API) adjust(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	a.writeAdjustment(w, r, id, time.Now())
}

// adjustInvoice adds an adjustment to a month's draft invoice; a final
// invoice does not change.
func (a *API) adjustInvoice(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	m, ok := a.monthParam(w, r)
	if !ok {
		return
	}
	inv, err := a.Invoices.Invoice(r.Context(), id, m)
	if err == nil && inv.Status == billing.StatusFinal {
		err = kontor.Errorf(kontor.Conflict, "admin.adjustInvoice", "the invoice for %s is final and does not change: post the correction to /admin/v1/businesses/%s/adjustments and it goes on the next open invoice", inv.Month, id)
	}
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	// Dated inside the month: now if the month is the current one, else
	// its last millisecond.
	at := time.Now()
	if end := m.AddDate(0, 1, 0); !at.Before(end) {
		at = end.Add(-time.Millisecond)
	} else if at.Before(m) {
		at = m
	}
	a.writeAdjustment(w, r, id, at)
}

func (a *API) writeAdjustment(w http.ResponseWriter, r *http.Request, id kontor.ID, at time.Time) {
	var req AdjustmentRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	cur := strings.ToUpper(strings.TrimSpace(req.Currency))
	if cur == "" {
		sh, err := a.Prices.At(r.Context(), time.Now())
		if err != nil || len(sh.Rates) == 0 {
			gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.adjust", "give the currency"))
			return
		}
		cur = sh.Rates[0].Currency
	}
	amount, err := minorUnits("admin.adjust", "amount", req.Amount, cur)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	e, added, err := a.Ledger.Adjust(r.Context(), id, amount, cur, req.Note, req.Reference, at)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"entry": e, "added": added})
}

// MarkupRequest sets a partner's markup in basis points (1000 = 10 %).
type MarkupRequest struct {
	BPS int64 `json:"bps"`
}

func (a *API) markup(w http.ResponseWriter, r *http.Request) {
	id, ok := a.partnerParam(w, r)
	if !ok {
		return
	}
	bps, err := a.Invoices.Markup(r.Context(), id)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"partner_id": id, "bps": bps})
}

func (a *API) setMarkup(w http.ResponseWriter, r *http.Request) {
	id, ok := a.partnerParam(w, r)
	if !ok {
		return
	}
	var req MarkupRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if err := a.Invoices.SetMarkup(r.Context(), id, req.BPS); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"partner_id": id, "bps": req.BPS})
}

// CreditRequest sets up a business's credit: mode prepaid, or credit_line
// with a limit (a decimal of the currency).
type CreditRequest struct {
	Mode     string `json:"mode"`
	Limit    string `json:"limit,omitempty"`
	Currency string `json:"currency"`
}

func (a *API) credit(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	acc, err := a.Credit.Account(r.Context(), id)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, acc)
}

func (a *API) setCredit(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	var req CreditRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	cur := strings.ToUpper(strings.TrimSpace(req.Currency))
	limit, err := minorUnits("admin.credit", "limit", req.Limit, cur)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	acc, err := a.Credit.Set(r.Context(), id, req.Mode, limit, cur)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, acc)
}

// TopUpRequest adds money paid in: a positive decimal of the account's
// currency; reference makes it idempotent.
type TopUpRequest struct {
	Amount    string `json:"amount"`
	Reference string `json:"reference,omitempty"`
	Note      string `json:"note,omitempty"`
}

func (a *API) topUp(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	var req TopUpRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	acc, err := a.Credit.Account(r.Context(), id)
	if kontor.KindOf(err) == kontor.NotFound {
		err = kontor.Errorf(kontor.NotFound, "admin.topUp", "business %s has no credit account: set one up first (PUT …/credit)", id)
	}
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	amount, err := minorUnits("admin.topUp", "amount", req.Amount, acc.Currency)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	e, acc, err := a.Credit.TopUp(r.Context(), id, amount, req.Reference, req.Note)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"entry": e, "credit": acc})
}

// CommerceFeeRequest sets a business's fee per successful payment: bps
// basis points of the amount plus fixed (a decimal of currency).
type CommerceFeeRequest struct {
	BPS      int64  `json:"bps"`
	Fixed    string `json:"fixed,omitempty"`
	Currency string `json:"currency"`
}

func (a *API) commerceFee(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	f, err := a.Ledger.CommerceFee(r.Context(), id)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, f)
}

func (a *API) setCommerceFee(w http.ResponseWriter, r *http.Request) {
	id, ok := a.businessParam(w, r)
	if !ok {
		return
	}
	var req CommerceFeeRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	cur := strings.ToUpper(strings.TrimSpace(req.Currency))
	fixed, err := minorUnits("admin.commerceFee", "fixed", req.Fixed, cur)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	f, err := a.Ledger.SetCommerceFee(r.Context(), billing.CommerceFee{Business: id, BPS: req.BPS, Fixed: fixed, Currency: cur})
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, f)
}

// minorUnits reads the decimal amount of a request field in the minor
// units of currency (an ISO 4217 code, checked even when the amount is
// empty; an empty amount is 0).
func minorUnits(op, field, amount, currency string) (int64, error) {
	exp, ok := commerce.Exponent(currency)
	if !ok {
		return 0, kontor.Errorf(kontor.Invalid, op, "currency %q is not an ISO 4217 code", currency)
	}
	if amount == "" {
		return 0, nil
	}
	v, err := billing.ParseMinor(amount, exp)
	if err != nil {
		return 0, kontor.Errorf(kontor.Invalid, op, "%s: %v", field, err)
	}
	return v, nil
}
