package adminapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

func post(t *testing.T, s *kontortest.Server, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestPrices(t *testing.T) {
	s := kontortest.Start(t)
	// A fresh install has the sample sheet, labelled as an example.
	var sh map[string]any
	if code := s.Call(t, http.MethodGet, "/admin/v1/prices", s.Token, nil, &sh); code != 200 || !strings.Contains(sh["label"].(string), "EXAMPLE") {
		t.Fatalf("sample sheet: %d %v", code, sh)
	}
	code, out := post(t, s, "/admin/v1/prices?effective=2027-01-01&label=ours", "market,category,currency,price\nDE,marketing,EUR,0.1365\nother,marketing,EUR,0.06\n")
	if code != 200 || out["label"] != "ours" || len(out["rates"].([]any)) != 2 {
		t.Fatalf("import: %d %v", code, out)
	}
	// Until it takes effect the sample stays in force.
	if s.Call(t, http.MethodGet, "/admin/v1/prices?at=2026-12-31", s.Token, nil, &sh); !strings.Contains(sh["label"].(string), "EXAMPLE") {
		t.Fatalf("before: %v", sh)
	}
	if s.Call(t, http.MethodGet, "/admin/v1/prices?at=2027-01-01", s.Token, nil, &sh); sh["label"] != "ours" {
		t.Fatalf("after: %v", sh)
	}
	rate := sh["rates"].([]any)[0].(map[string]any)
	if rate["price"] != "0.1365" {
		t.Fatalf("price kept exactly: %v", rate)
	}
	// A bad sheet is refused whole, with every problem named.
	code, out = post(t, s, "/admin/v1/prices", "market,category,currency,price\nDE,promo,EUR,1\nXXL,marketing,EUR,1\nFR,marketing,EUR,-1\n")
	if code != 400 || len(out["rows"].([]any)) != 3 {
		t.Fatalf("bad sheet: %d %v", code, out)
	}
	// Versions follow each other: one on the date of the newest, or before
	// it, would overlap and is refused, changing nothing.
	for _, eff := range []string{"2027-01-01", "2026-12-20"} {
		code, out = post(t, s, "/admin/v1/prices?effective="+eff+"&label=overlap", "market,category,currency,price\nother,marketing,EUR,0.07\n")
		if e, _ := out["error"].(map[string]any); code != 409 || e == nil || !strings.Contains(e["message"].(string), "effective from 2027-01-01") {
			t.Fatalf("overlapping sheet %s: %d %v", eff, code, out)
		}
	}
	var vs map[string][]any
	if code := s.Call(t, http.MethodGet, "/admin/v1/prices/versions", s.Token, nil, &vs); code != 200 || len(vs["data"]) != 2 {
		t.Fatalf("versions: %d %v", code, vs)
	}
	if s.Call(t, http.MethodGet, "/admin/v1/prices?at=2027-06-01", s.Token, nil, &sh); sh["label"] != "ours" {
		t.Fatalf("an overlapping sheet changed the one in force: %v", sh)
	}
	// One after it is a new version.
	if code, out = post(t, s, "/admin/v1/prices?effective=2027-02-01&label=feb", "market,category,currency,price\nother,marketing,EUR,0.07\n"); code != 200 {
		t.Fatalf("next version: %d %v", code, out)
	}
}

// TestPriceRules: the operator reads the billing rules in force; the
// July 2025 set decides at every date, the October 2026 set ships but is
// not in force; a bad date is a clear error.
func TestPriceRules(t *testing.T) {
	s := kontortest.Start(t)
	for _, at := range []string{"", "?at=2025-01-01", "?at=2026-10-01", "?at=2027-03-01T10:00:00Z"} {
		var v struct {
			InForce struct {
				Effective       string `json:"effective"`
				ServiceBillable bool   `json:"service_billable"`
				Categories      map[string]struct {
					FreeInWindow bool `json:"free_in_window"`
					MonthlyFree  int  `json:"monthly_free"`
				} `json:"categories"`
			} `json:"in_force"`
			Sets    []map[string]any `json:"sets"`
			Shipped []map[string]any `json:"shipped"`
		}
		if code := s.Call(t, http.MethodGet, "/admin/v1/prices/rules"+at, s.Token, nil, &v); code != 200 {
			t.Fatalf("rules%s: %d", at, code)
		}
		if v.InForce.Effective != "2025-07-01" || v.InForce.ServiceBillable || !v.InForce.Categories["utility"].FreeInWindow ||
			v.InForce.Categories["marketing"].FreeInWindow || len(v.InForce.Categories) != 5 {
			t.Errorf("rules%s in force: %+v", at, v.InForce)
		}
		if len(v.Sets) != 1 || len(v.Shipped) != 2 || v.Shipped[1]["effective"] != "2026-10-01" || v.Shipped[1]["service_billable"] != true {
			t.Errorf("rules%s: sets %v, shipped %v", at, v.Sets, v.Shipped)
		}
	}
	var e map[string]any
	if code := s.Call(t, http.MethodGet, "/admin/v1/prices/rules?at=yesterday", s.Token, nil, &e); code != 400 {
		t.Errorf("a bad date: %d %v", code, e)
	}
	if code := s.Call(t, http.MethodGet, "/admin/v1/prices/rules", "wrong", nil, &e); code != 401 && code != 403 {
		t.Errorf("without the operator's token: %d", code)
	}
}
