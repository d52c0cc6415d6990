package adminapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/gateway"
)

// mountStock adds the routes for stock levels, adjustments, thresholds and
// sales reports.
func (a *API) mountStock(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/v1/products/{id}/stock_adjustments", a.operator(a.adjustStock))
	mux.HandleFunc("GET /admin/v1/products/{id}/stock_adjustments", a.operator(a.stockHistory))
	mux.HandleFunc("GET /admin/v1/products/{id}/stock", a.operator(a.stockLevel))
	mux.HandleFunc("POST /admin/v1/products/{id}/stock", a.operator(a.stockLevel))
	mux.HandleFunc("GET /admin/v1/catalogs/{id}/stock", a.operator(a.stockLevels))
	if a.Business != nil {
		mux.HandleFunc("GET /admin/v1/businesses/{id}/sales_report", a.operator(a.salesReport))
	}
}

// AdjustRequest is a stock adjustment: delta (negative takes stock away),
// reason (received, damaged, correction, returned), an optional note and
// who made it.
type AdjustRequest struct {
	Delta  int    `json:"delta"`
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
	By     string `json:"by,omitempty"`
	// Key makes a retry safe: an adjustment with a key the product's
	// history has is not applied again (also the Idempotency-Key header).
	Key string `json:"idempotency_key,omitempty"`
}

// pathID reads the {id} of the path, naming what it is in the error.
func (a *API) pathID(w http.ResponseWriter, r *http.Request, what string) (kontor.ID, bool) {
	id, err := kontor.ParseID(r.PathValue("id"))
	if err != nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.stock", "bad %s id %q", what, r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (a *API) adjustStock(w http.ResponseWriter, r *http.Request) {
	id, ok := a.pathID(w, r, "product")
	if !ok {
		return
	}
	var req AdjustRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if req.Key == "" {
		req.Key = r.Header.Get("Idempotency-Key")
	}
	m, alerted, err := a.Stock.Adjust(r.Context(), commerce.Adjustment{Product: id, Delta: req.Delta, Reason: req.Reason, Note: req.Note,
		By: req.By, Key: req.Key, Source: commerce.SourceAdmin})
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, json.RawMessage(append(b[:len(b)-1], `,"low_stock_alert":`+strconv.FormatBool(alerted)+`}`...)))
}

// queryInt reads an integer query parameter (0 when absent).
func (a *API) queryInt(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.stock", "%s %q is not a whole number", name, s))
		return 0, false
	}
	return n, true
}

// stockHistory lists a product's stock moves, newest first: ?limit=N
// (≤ 1000), ?before=SEQ for the page after.
func (a *API) stockHistory(w http.ResponseWriter, r *http.Request) {
	id, ok := a.pathID(w, r, "product")
	if !ok {
		return
	}
	limit, ok := a.queryInt(w, r, "limit")
	if !ok {
		return
	}
	before, ok := a.queryInt(w, r, "before")
	if !ok {
		return
	}
	ms, more, err := a.Stock.History(r.Context(), id, before, int(min(limit, commerce.MaxList+1)))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	if ms == nil {
		ms = []commerce.StockMove{}
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"data": ms, "more": more})
}

// stockLevel shows a product's stock; a POST sets its low-stock threshold
// first: {"low_stock_threshold": N} or null for none.
func (a *API) stockLevel(w http.ResponseWriter, r *http.Request) {
	id, ok := a.pathID(w, r, "product")
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		var req struct {
			Threshold json.RawMessage `json:"low_stock_threshold"`
		}
		if !gateway.ReadJSON(w, r, a.Log, &req) {
			return
		}
		th := commerce.NoThreshold
		switch s := strings.TrimSpace(string(req.Threshold)); s {
		case "":
			gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.stock", "give low_stock_threshold: a number of units, or null for none"))
			return
		case "null":
		default:
			n, err := strconv.Atoi(s)
			if err != nil {
				gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.stock", "low_stock_threshold %s is not a whole number or null", s))
				return
			}
			th = n
		}
		if err := a.Stock.SetThreshold(r.Context(), id, th); err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
	}
	l, err := a.Stock.Level(r.Context(), id)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, l)
}

// stockLevels lists a catalog's stock levels: ?low=true for those at or
// below their threshold, ?limit=N (≤ 1000), ?after=PRODUCT_ID.
func (a *API) stockLevels(w http.ResponseWriter, r *http.Request) {
	id, ok := a.pathID(w, r, "catalog")
	if !ok {
		return
	}
	if _, err := a.Commerce.Catalog(r.Context(), id); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	low, err := strconv.ParseBool(cmpOr(r.URL.Query().Get("low"), "false"))
	if err != nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.stock", "low is true or false"))
		return
	}
	limit, ok := a.queryInt(w, r, "limit")
	if !ok {
		return
	}
	after, ok := a.queryInt(w, r, "after")
	if !ok {
		return
	}
	ls, more, err := a.Stock.Levels(r.Context(), id, low, kontor.ID(after), int(min(limit, commerce.MaxList+1)))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	if ls == nil {
		ls = []commerce.StockLevel{}
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"data": ls, "more": more})
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// salesReport answers a business's sales report: ?since=&until=
// (YYYY-MM-DD), ?time_zone=, ?group_by=day|product, ?format=json|csv.
func (a *API) salesReport(w http.ResponseWriter, r *http.Request) {
	id, ok := a.pathID(w, r, "business")
	if !ok {
		return
	}
	if _, err := a.Business.Store().Business(r.Context(), id); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	q := r.URL.Query()
	format := cmpOr(q.Get("format"), "json")
	if format != "json" && format != "csv" {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.sales", "format %q is not json or csv", format))
		return
	}
	rep, err := a.Stock.SalesReport(r.Context(), commerce.SalesQuery{Business: id, Since: q.Get("since"), Until: q.Get("until"),
		TimeZone: q.Get("time_zone"), GroupBy: q.Get("group_by")})
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="sales-`+id.String()+`-`+rep.Since+`-`+rep.Until+`-`+rep.GroupBy+`.csv"`)
		if err := rep.WriteCSV(w); err != nil {
			a.Log.Error("sales report CSV", "business", id, "err", err) // the status is sent; the file ends short
		}
		return
	}
	gateway.WriteJSON(w, http.StatusOK, rep)
}
