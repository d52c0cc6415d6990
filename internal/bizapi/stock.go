package bizapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// Stock keeps stock levels, adjustments, low-stock thresholds and sales
// reports (internal/commerce.Stock). These are kontor extensions: the
// public API has none of them.
type Stock interface {
	Adjust(ctx context.Context, a commerce.Adjustment) (commerce.StockMove, bool, error)
	Level(ctx context.Context, product kontor.ID) (commerce.StockLevel, error)
	Levels(ctx context.Context, catalog kontor.ID, low bool, after kontor.ID, limit int) ([]commerce.StockLevel, bool, error)
	History(ctx context.Context, product kontor.ID, before int64, limit int) ([]commerce.StockMove, bool, error)
	SetThreshold(ctx context.Context, product kontor.ID, threshold int) error
	SalesReport(ctx context.Context, q commerce.SalesQuery) (commerce.SalesReport, error)
}

// stockMethods are the edges stockEdge serves, with their methods.
var stockMethods = map[string][]string{"stock": {http.MethodGet, http.MethodPost}, "stock_adjustments": {http.MethodGet, http.MethodPost},
	"low_stock": {http.MethodGet}, "stock_levels": {http.MethodGet}, "sales_report": {http.MethodGet}}

// isStockEdge says whether stockEdge serves edge.
func isStockEdge(edge string) bool { return stockMethods[edge] != nil }

// stockEdge serves /{product-id}/stock, /{product-id}/stock_adjustments,
// /{catalog-id}/low_stock, /{catalog-id}/stock_levels and
// /{waba-id}/sales_report.
func (a *API) stockEdge(w http.ResponseWriter, r *http.Request, id kontor.ID, edge string) {
	if !slices.Contains(stockMethods[edge], r.Method) {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s/%s", r.Method, id, edge))
		return
	}
	switch edge {
	case "stock", "stock_adjustments":
		p, err := a.Commerce.Product(r.Context(), id)
		if err != nil {
			a.failCommerce(w, err, id)
			return
		}
		if _, ok := a.catalog(w, r, p.Catalog); !ok {
			return
		}
		if edge == "stock" {
			a.productStock(w, r, p.ID)
		} else {
			a.stockAdjustments(w, r, p.ID)
		}
	case "low_stock", "stock_levels":
		c, ok := a.catalog(w, r, id)
		if !ok {
			return
		}
		a.stockLevels(w, r, c.ID, edge == "low_stock")
	default:
		a.salesReport(w, r, id)
	}
}

// productStock serves GET /{product-id}/stock (the level) and POST with
// low_stock_threshold (a number, or null for none).
func (a *API) productStock(w http.ResponseWriter, r *http.Request, product kontor.ID) {
	if r.Method == http.MethodPost {
		in, cerr := a.stockBody(r)
		if cerr != nil {
			a.fail(w, cerr)
			return
		}
		raw, ok := in["low_stock_threshold"]
		if !ok {
			a.fail(w, cloudapi.Missing("low_stock_threshold"))
			return
		}
		for k := range in {
			if k != "low_stock_threshold" {
				a.fail(w, cloudapi.Unexpected(k, ""))
				return
			}
		}
		th := commerce.NoThreshold
		if s := strings.TrimSpace(strings.Trim(string(raw), `"`)); s != "null" && s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				a.fail(w, cloudapi.Invalid("low_stock_threshold", "a whole number of units, or null for none"))
				return
			}
			th = n
		}
		if err := a.Stock.SetThreshold(r.Context(), product, th); err != nil {
			a.failCommerce(w, err, product)
			return
		}
	}
	l, err := a.Stock.Level(r.Context(), product)
	if err != nil {
		a.failCommerce(w, err, product)
		return
	}
	a.ok(w, l)
}

// stockAdjustments serves GET /{product-id}/stock_adjustments (the
// history, newest first) and POST (an adjustment).
func (a *API) stockAdjustments(w http.ResponseWriter, r *http.Request, product kontor.ID) {
	if r.Method == http.MethodGet {
		limit, cerr := limitParam(r)
		if cerr != nil {
			a.fail(w, cerr)
			return
		}
		var before int64
		if s := r.URL.Query().Get("after"); s != "" {
			c, err := parseCursor(s)
			if err != nil {
				a.fail(w, cloudapi.Invalid("after", "not a cursor this API handed out"))
				return
			}
			before = int64(c)
		}
		ms, more, err := a.Stock.History(r.Context(), product, before, limit)
		if err != nil {
			a.failCommerce(w, err, product)
			return
		}
		last := int64(0)
		if len(ms) > 0 {
			last = ms[len(ms)-1].Seq
		}
		a.ok(w, map[string]any{"data": nonNil(ms), "paging": a.pagingAfter(r, more, kontor.ID(last))})
		return
	}
	in, cerr := a.stockBody(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	adj := commerce.Adjustment{Product: product, Source: commerce.SourceAPI, Key: r.Header.Get("Idempotency-Key")}
	for k, raw := range in {
		var err error
		switch k {
		case "delta":
			var f flexInt
			if err = json.Unmarshal(raw, &f); err == nil {
				adj.Delta = int(max(min(f.v, commerce.MaxDelta+1), -commerce.MaxDelta-1))
			}
		case "reason":
			err = json.Unmarshal(raw, &adj.Reason)
		case "note":
			err = json.Unmarshal(raw, &adj.Note)
		case "by":
			err = json.Unmarshal(raw, &adj.By)
		case "idempotency_key":
			err = json.Unmarshal(raw, &adj.Key)
		default:
			a.fail(w, cloudapi.Unexpected(k, ""))
			return
		}
		if err != nil {
			why := "a string"
			if k == "delta" {
				why = "a whole number of units, negative to take stock away"
			}
			a.fail(w, cloudapi.Invalid(k, why))
			return
		}
	}
	if _, ok := in["delta"]; !ok {
		a.fail(w, cloudapi.Missing("delta"))
		return
	}
	m, alerted, err := a.Stock.Adjust(r.Context(), adj)
	if err != nil {
		a.failCommerce(w, err, product)
		return
	}
	// The move's own shape, and whether it sent a low-stock alert.
	b, err := json.Marshal(m)
	if err != nil {
		a.failErr(w, err)
		return
	}
	a.ok(w, json.RawMessage(append(b[:len(b)-1], `,"low_stock_alert":`+strconv.FormatBool(alerted)+`}`...)))
}

// nonNil makes a nil list an empty one (JSON [] rather than null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// stockLevels serves GET /{catalog-id}/low_stock and /stock_levels.
func (a *API) stockLevels(w http.ResponseWriter, r *http.Request, catalog kontor.ID, low bool) {
	limit, cerr := limitParam(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	var after kontor.ID
	if s := r.URL.Query().Get("after"); s != "" {
		c, err := parseCursor(s)
		if err != nil {
			a.fail(w, cloudapi.Invalid("after", "not a cursor this API handed out"))
			return
		}
		after = c
	}
	ls, more, err := a.Stock.Levels(r.Context(), catalog, low, after, limit)
	if err != nil {
		a.failCommerce(w, err, catalog)
		return
	}
	var last kontor.ID
	if len(ls) > 0 {
		last = ls[len(ls)-1].Product
	}
	a.ok(w, map[string]any{"data": nonNil(ls), "paging": a.pagingAfter(r, more, last)})
}

// salesReport serves GET /{waba-id}/sales_report: since, until
// (YYYY-MM-DD, both included), time_zone, group_by (day, product) and
// format (json, csv).
func (a *API) salesReport(w http.ResponseWriter, r *http.Request, waba kontor.ID) {
	if _, err := a.Dir.Business(r.Context(), waba); err != nil {
		a.fail(w, notFound(waba))
		return
	}
	if err := a.Auth.Check(r.Context(), token(r), waba, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		a.fail(w, cloudapi.Invalid("format", "json or csv"))
		return
	}
	rep, err := a.Stock.SalesReport(r.Context(), commerce.SalesQuery{Business: waba, Since: q.Get("since"), Until: q.Get("until"),
		TimeZone: q.Get("time_zone"), GroupBy: q.Get("group_by")})
	if err != nil {
		a.failCommerce(w, err, waba)
		return
	}
	if format == "csv" {
		writeSalesCSV(w, rep)
		return
	}
	a.ok(w, rep)
}

// writeSalesCSV answers a sales report as a CSV download.
func writeSalesCSV(w http.ResponseWriter, rep commerce.SalesReport) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sales-`+rep.Business.String()+`-`+rep.Since+`-`+rep.Until+`-`+rep.GroupBy+`.csv"`)
	_ = rep.WriteCSV(w) // the status is sent; a broken connection ends it short
}

// limitParam reads limit: 1 to commerce.MaxList, 25 when absent.
func limitParam(r *http.Request) (int, *cloudapi.Error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > commerce.MaxList {
		return 0, cloudapi.Invalid("limit", "a whole number from 1 to "+strconv.Itoa(commerce.MaxList))
	}
	return n, nil
}

// pagingAfter is the paging object of a list that goes on after last.
func (a *API) pagingAfter(r *http.Request, more bool, last kontor.ID) map[string]any {
	p := map[string]any{"cursors": map[string]string{"after": ""}}
	if last != 0 {
		p["cursors"] = map[string]string{"after": cursor(last)}
	}
	if more {
		p["next"] = a.pageURL(r, "after", cursor(last))
	}
	return p
}

// stockBody reads a JSON object or a form into raw JSON values by key.
func (a *API) stockBody(r *http.Request) (map[string]json.RawMessage, *cloudapi.Error) {
	body, cerr := a.readBody(r)
	if cerr != nil {
		return nil, cerr
	}
	out := map[string]json.RawMessage{}
	b := bytes.TrimSpace(body)
	if len(b) > 0 && (b[0] == '{' || b[0] == '[' || strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")) {
		if err := json.Unmarshal(b, &out); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: the body is not JSON: %v", err)
			}
			return nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: the body must be a JSON object")
		}
		return out, nil
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: the body is neither JSON nor a form.")
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	for k := range form {
		if k == "access_token" {
			continue
		}
		raw, _ := json.Marshal(form.Get(k))
		out[k] = raw
	}
	return out, nil
}
