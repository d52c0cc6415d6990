package bizapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// alertReceiver keeps the inventory_alerts webhooks a business gets,
// checking each signature.
type alertReceiver struct {
	hookState
	got []map[string]any
	bad int
	srv *httptest.Server
}

func newAlertReceiver(t *testing.T) *alertReceiver {
	r := &alertReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !cloudapi.CheckSignature([]byte(r.secret), body, req.Header.Get("X-Hub-Signature-256")) {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n struct {
			Object string `json:"object"`
			Entry  []struct {
				ID      string `json:"id"`
				Changes []struct {
					Field string         `json:"field"`
					Value map[string]any `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if json.Unmarshal(body, &n) != nil || n.Object != "whatsapp_business_account" {
			r.bad++
			return
		}
		for _, e := range n.Entry {
			for _, c := range e.Changes {
				if c.Field == "inventory_alerts" {
					c.Value["waba"] = e.ID
					r.got = append(r.got, c.Value)
				}
			}
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the alerts once there are n of them.
func (r *alertReceiver) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		got := append([]map[string]any(nil), r.got...)
		bad := r.bad
		r.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d bad webhooks", bad)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d low-stock alerts, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStockAPI drives stock adjustments, thresholds, low-stock alerts and
// the sales report through the Business API of a real server, on SQLite
// and PostgreSQL; orders come from a person's device.
func TestStockAPI(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		hook := newAlertReceiver(t)
		anna := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930111111", "webhook_url": hook.srv.URL}, hook)
		bert := newBusiness(t, s, map[string]any{"name": "Bert", "phone": "+4930222222"})
		var cat struct {
			ID string `json:"catalog_id"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", s.Token, map[string]any{"business_id": anna.WABA}, &cat); code != 200 {
			t.Fatalf("catalog: %d", code)
		}
		code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/products", anna.Token, map[string]any{"retailer_id": "rose", "name": "Rose",
			"price": 299, "currency": "EUR", "inventory": 10})
		rose, _ := out["id"].(string)
		if code != 200 || rose == "" {
			t.Fatalf("product: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+anna.Number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", anna.Token, nil); code != 200 {
			t.Fatalf("settings: %d %v", code, out)
		}

		// A threshold, then stock received.
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock", anna.Token, map[string]any{"low_stock_threshold": 3}); code != 200 ||
			out["low_stock_threshold"] != 3.0 || out["inventory"] != 10.0 || out["low_stock"] != false {
			t.Fatalf("threshold: %d %v", code, out)
		}
		code, out = api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock_adjustments", anna.Token, map[string]any{"delta": 5, "reason": "received",
			"note": "Lieferung", "by": "Anna"})
		if code != 200 || out["inventory"] != 15.0 || out["seq"] != 1.0 || out["reason"] != "received" || out["source"] != "api" ||
			out["by"] != "Anna" || out["low_stock_alert"] != false || out["product_id"] != rose {
			t.Fatalf("received: %d %v", code, out)
		}

		// Bad input: the public error shape, naming the parameter, and
		// nothing changes.
		for _, tc := range []struct {
			name string
			body any
			code int
			in   string
		}{
			{"bad reason", map[string]any{"delta": 1, "reason": "stolen"}, 131009, "reason"},
			{"system reason", map[string]any{"delta": -1, "reason": "sold"}, 131009, "reason"},
			{"zero", map[string]any{"delta": 0, "reason": "correction"}, 131009, "delta"},
			{"huge", map[string]any{"delta": 5_000_000_000, "reason": "received"}, 131009, "delta"},
			{"not a number", map[string]any{"delta": "many", "reason": "received"}, 131009, "delta"},
			{"float", map[string]any{"delta": 1.5, "reason": "received"}, 131009, "delta"},
			{"sign", map[string]any{"delta": 2, "reason": "damaged"}, 131009, "delta"},
			{"more than available", map[string]any{"delta": -16, "reason": "correction"}, 131009, "only 15 available"},
			{"no delta", map[string]any{"reason": "received"}, 131008, "delta"},
			{"no reason", map[string]any{"delta": 1}, 131008, "reason"},
			{"unknown field", map[string]any{"delta": 1, "reason": "received", "colour": "red"}, 100, "colour"},
			{"note type", map[string]any{"delta": 1, "reason": "received", "note": 7}, 131009, "note"},
			{"bad key", map[string]any{"delta": 1, "reason": "received", "idempotency_key": "a b"}, 131009, "idempotency_key"},
			{"not an object", []int{1}, 100, "JSON object"},
		} {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock_adjustments", anna.Token, tc.body)
			e, _ := out["error"].(map[string]any)
			details := ""
			if d, ok := e["error_data"].(map[string]any); ok {
				details, _ = d["details"].(string)
			}
			if msg, _ := e["message"].(string); code != 400 || errCode(out) != tc.code || !strings.Contains(details+msg, tc.in) {
				t.Errorf("%s: %d %v", tc.name, code, out)
			}
		}
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+rose+"/stock", anna.Token, nil); code != 200 || out["inventory"] != 15.0 {
			t.Fatalf("a refused adjustment changed the stock: %d %v", code, out)
		}
		// Unknown objects and other businesses.
		for _, path := range []string{"/v21.0/12345/stock_adjustments", "/v21.0/12345/stock", "/v21.0/12345/low_stock", "/v21.0/12345/sales_report?since=2026-12-01&until=2026-12-01",
			"/v21.0/" + rose + "/low_stock", "/v21.0/" + cat.ID + "/stock"} {
			if code, out := api(t, s, http.MethodGet, path, anna.Token, nil); code != 400 || errCode(out) != 100 {
				t.Errorf("GET %s: %d %v", path, code, out)
			}
		}
		for _, path := range []string{"/v21.0/" + rose + "/stock_adjustments", "/v21.0/" + rose + "/stock", "/v21.0/" + cat.ID + "/low_stock",
			"/v21.0/" + anna.WABA + "/sales_report?since=2026-12-01&until=2026-12-01"} {
			if code, out := api(t, s, http.MethodGet, path, bert.Token, nil); code != 403 || errCode(out) != 10 {
				t.Errorf("Bert GET %s: %d %v", path, code, out)
			}
		}
		if code, out := api(t, s, http.MethodDelete, "/v21.0/"+rose+"/stock_adjustments", anna.Token, nil); code != 400 || errCode(out) != 100 {
			t.Fatalf("DELETE an adjustment: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/low_stock", anna.Token, nil); code != 400 || errCode(out) != 100 {
			t.Fatalf("POST low_stock: %d %v", code, out)
		}
		if code, _ := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock_adjustments", bert.Token, map[string]any{"delta": -1, "reason": "damaged"}); code != 403 {
			t.Fatalf("Bert adjusts Anna's stock: %d", code)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock", anna.Token, map[string]any{"low_stock_threshold": -5}); code != 400 || errCode(out) != 131009 {
			t.Fatalf("negative threshold: %d %v", code, out)
		}

		// A person orders 12: the stock falls from 15 to 3, across the
		// threshold: one alert. Damaged goods below it: none. Stock
		// received above it and damaged below it again: the second.
		ann := newPerson(ctx, t, s, "+4915100000001")
		placed, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 12}, "")
		if err != nil || placed.Status != "placed" {
			t.Fatalf("order: %+v %v", placed, err)
		}
		as := hook.wait(t, 1)
		if a := as[0]; a["event"] != "LOW_STOCK" || a["product_id"] != rose || a["inventory"] != 3.0 || a["low_stock_threshold"] != 3.0 ||
			a["reason"] != "sold" || a["order_id"] != placed.OrderID || a["waba"] != anna.WABA || a["catalog_id"] != cat.ID {
			t.Fatalf("alert: %v", a)
		}
		adjust := func(delta int, reason string) map[string]any {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock_adjustments", anna.Token, map[string]any{"delta": delta, "reason": reason})
			if code != 200 {
				t.Fatalf("adjust %d %s: %d %v", delta, reason, code, out)
			}
			return out
		}
		if out := adjust(-1, "damaged"); out["low_stock_alert"] != false || out["inventory"] != 2.0 {
			t.Fatalf("below the threshold: %v", out)
		}
		adjust(10, "received")
		if out := adjust(-10, "damaged"); out["low_stock_alert"] != true || out["inventory"] != 2.0 {
			t.Fatalf("second crossing: %v", out)
		}
		if as = hook.wait(t, 2); len(as) != 2 || as[1]["reason"] != "damaged" || as[1]["inventory"] != 2.0 {
			t.Fatalf("alerts: %v", as)
		}
		code, out = api(t, s, http.MethodGet, "/v21.0/"+cat.ID+"/low_stock", anna.Token, nil)
		data, _ := out["data"].([]any)
		if code != 200 || len(data) != 1 {
			t.Fatalf("low stock: %d %v", code, out)
		}
		if l := data[0].(map[string]any); l["id"] != rose || l["inventory"] != 2.0 || l["reserved"] != 12.0 || l["low_stock"] != true {
			t.Fatalf("low stock: %v", l)
		}
		// The history, newest first, in pages.
		code, out = api(t, s, http.MethodGet, "/v21.0/"+rose+"/stock_adjustments?limit=3", anna.Token, nil)
		data, _ = out["data"].([]any)
		paging, _ := out["paging"].(map[string]any)
		if code != 200 || len(data) != 3 || data[0].(map[string]any)["seq"] != 5.0 || paging["next"] == nil {
			t.Fatalf("history: %d %v", code, out)
		}
		next, _ := url.Parse(paging["next"].(string))
		code, out = api(t, s, http.MethodGet, "/v21.0/"+rose+"/stock_adjustments?"+next.RawQuery, anna.Token, nil)
		data, _ = out["data"].([]any)
		if code != 200 || len(data) != 2 || data[0].(map[string]any)["reason"] != "sold" || data[1].(map[string]any)["note"] != "Lieferung" {
			t.Fatalf("history page 2: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+rose+"/stock_adjustments?limit=5000", anna.Token, nil); code != 400 || errCode(out) != 131009 {
			t.Fatalf("limit: %d %v", code, out)
		}

		// Paid, the order is in the sales report.
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+placed.OrderID, anna.Token, map[string]any{"status": "paid"}); code != 200 {
			t.Fatalf("paid: %d %v", code, out)
		}
		now := time.Now().UTC()
		since, until := now.AddDate(0, 0, -1).Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
		report := "/v21.0/" + anna.WABA + "/sales_report?since=" + since + "&until=" + until
		code, out = api(t, s, http.MethodGet, report+"&group_by=product", anna.Token, nil)
		data, _ = out["data"].([]any)
		totals, _ := out["totals"].([]any)
		if code != 200 || len(data) != 1 || len(totals) != 1 || out["time_zone"] != "UTC" {
			t.Fatalf("report: %d %v", code, out)
		}
		if r := data[0].(map[string]any); r["product_id"] != rose || r["units"] != 12.0 || r["gross"] != 12*299.0 || r["net"] != 12*299.0 || r["currency"] != "EUR" {
			t.Fatalf("report row: %v", r)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+report+"&format=csv&time_zone=Europe/Berlin", nil)
		req.Header.Set("Authorization", "Bearer "+anna.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		csv, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(string(csv), "date,currency,orders,units,gross,refunded,net\n") || !strings.Contains(string(csv), ",EUR,1,12,35.88,0.00,35.88\n") {
			t.Fatalf("CSV: %d %s", resp.StatusCode, csv)
		}
		// A retried adjustment with the same idempotency key (in the body,
		// then in the header) is applied once.
		code, first := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock_adjustments", anna.Token, map[string]any{"delta": 1, "reason": "returned",
			"idempotency_key": "ret-1"})
		if code != 200 || first["seq"] != 6.0 || first["inventory"] != 3.0 {
			t.Fatalf("returned: %d %v", code, first)
		}
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/v21.0/"+rose+"/stock_adjustments", strings.NewReader(`{"delta":1,"reason":"returned"}`))
		req.Header.Set("Authorization", "Bearer "+anna.Token)
		req.Header.Set("Idempotency-Key", "ret-1")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var again map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&again)
		resp.Body.Close()
		if resp.StatusCode != 200 || again["seq"] != 6.0 || again["inventory"] != 3.0 {
			t.Fatalf("retry: %d %v", resp.StatusCode, again)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+rose+"/stock_adjustments", anna.Token, map[string]any{"delta": 2, "reason": "returned",
			"idempotency_key": "ret-1"}); code != 400 || errCode(out) != 100 {
			t.Fatalf("the key for another adjustment: %d %v", code, out)
		}
		for _, tc := range []struct{ query, in string }{
			{"since=2026-13-01&until=2026-12-31", "since"},
			{"since=2026-12-31&until=2026-12-01", "until"},
			{"since=2025-01-01&until=2026-12-31", "366 days"},
			{"since=2026-12-01&until=2026-12-31&group_by=week", "group_by"},
			{"since=2026-12-01&until=2026-12-31&time_zone=Mars/Olympus", "time_zone"},
			{"since=2026-12-01&until=2026-12-31&format=xml", "format"},
			{"until=2026-12-31", "since"},
		} {
			code, out := api(t, s, http.MethodGet, "/v21.0/"+anna.WABA+"/sales_report?"+tc.query, anna.Token, nil)
			e, _ := out["error"].(map[string]any)
			d, _ := e["error_data"].(map[string]any)
			if details, _ := d["details"].(string); code != 400 || (errCode(out) != 131009 && errCode(out) != 131008) || !strings.Contains(details, tc.in) {
				t.Errorf("report %s: %d %v", tc.query, code, out)
			}
		}
	})
}
