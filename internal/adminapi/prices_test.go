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
	var vs map[string][]any
	if code := s.Call(t, http.MethodGet, "/admin/v1/prices/versions", s.Token, nil, &vs); code != 200 || len(vs["data"]) != 2 {
		t.Fatalf("versions: %d %v", code, vs)
	}
}
