package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestAdminStock runs kontor admin stock and sales against a real server.
func TestAdminStock(t *testing.T) {
	s := kontortest.Start(t)
	var biz struct {
		WABA  string `json:"waba_id"`
		Token string `json:"access_token"`
	}
	if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen Anna", "phone": "+4930111111"}, &biz); code != 200 {
		t.Fatalf("business: %d", code)
	}
	var cat struct {
		ID string `json:"catalog_id"`
	}
	if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", s.Token, map[string]any{"business_id": biz.WABA}, &cat); code != 200 {
		t.Fatalf("catalog: %d", code)
	}
	var prod struct {
		ID string `json:"id"`
	}
	if code := s.Call(t, http.MethodPost, "/v21.0/"+cat.ID+"/products", biz.Token, map[string]any{"retailer_id": "rose", "name": "Rose",
		"price": 299, "currency": "EUR", "inventory": 10}, &prod); code != 200 {
		t.Fatalf("product: %d", code)
	}
	run := func(args ...string) (map[string]any, string, string, int) {
		var stdout, stderr bytes.Buffer
		env := cli.Env{Args: append([]string{"admin", "--server", s.URL}, args...), Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string {
				if k == "KONTOR_OPERATOR_TOKEN" {
					return s.Token
				}
				return ""
			}}
		code := cli.RunEnv(context.Background(), env)
		var m map[string]any
		_ = json.Unmarshal(stdout.Bytes(), &m)
		return m, stdout.String(), stderr.String(), code
	}
	m, out, errOut, code := run("stock", "adjust", "--product", prod.ID, "--delta", "-3", "--reason", "damaged", "--note", "Sturm", "--by", "Anna")
	if code != 0 || m["inventory"] != 7.0 || m["source"] != "admin" || m["reason"] != "damaged" || m["note"] != "Sturm" || m["seq"] != 1.0 {
		t.Fatalf("adjust: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "adjust", "--product", prod.ID, "--delta", "-3", "--reason", "damaged", "--key", "k1"); code != 0 || m["inventory"] != 4.0 {
		t.Fatalf("adjust with a key: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "adjust", "--product", prod.ID, "--delta", "-3", "--reason", "damaged", "--key", "k1"); code != 0 || m["inventory"] != 4.0 || m["seq"] != 2.0 {
		t.Fatalf("adjust again with the key: %d %s %s", code, out, errOut)
	}
	if _, _, _, code = run("stock", "adjust", "--product", prod.ID, "--delta", "3", "--reason", "received", "--key", "k1-undo"); code != 0 {
		t.Fatal("undo")
	}
	if m, out, errOut, code = run("stock", "threshold", "--product", prod.ID, "--set", "8"); code != 0 || m["low_stock_threshold"] != 8.0 || m["low_stock"] != true {
		t.Fatalf("threshold: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "list", "--catalog", cat.ID, "--low"); code != 0 || len(m["data"].([]any)) != 1 {
		t.Fatalf("list --low: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "adjust", "--product", prod.ID, "--delta", "5", "--reason", "received"); code != 0 || m["low_stock_alert"] != false {
		t.Fatalf("received: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "show", "--product", prod.ID); code != 0 || m["inventory"] != 12.0 || m["low_stock"] != false || m["reserved"] != 0.0 {
		t.Fatalf("show: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "history", "--product", prod.ID, "--limit", "1"); code != 0 || len(m["data"].([]any)) != 1 || m["more"] != true ||
		m["data"].([]any)[0].(map[string]any)["seq"] != 4.0 {
		t.Fatalf("history: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "threshold", "--product", prod.ID, "--clear"); code != 0 || m["low_stock_threshold"] != nil {
		t.Fatalf("clear: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("stock", "list", "--catalog", cat.ID, "--low"); code != 0 || len(m["data"].([]any)) != 0 {
		t.Fatalf("list --low after clearing: %d %s %s", code, out, errOut)
	}
	if m, out, errOut, code = run("sales", "report", "--business", biz.WABA, "--from", "2026-12-01", "--to", "2026-12-31"); code != 0 ||
		m["group_by"] != "day" || len(m["data"].([]any)) != 0 {
		t.Fatalf("report: %d %s %s", code, out, errOut)
	}
	if _, out, errOut, code = run("sales", "report", "--business", biz.WABA, "--from", "2026-12-01", "--to", "2026-12-31", "--by", "product", "--csv"); code != 0 ||
		out != "product_id,retailer_id,name,currency,orders,units,gross,refunded,net\n" {
		t.Fatalf("report CSV: %d %q %s", code, out, errOut)
	}
	// Bad input: a clear message and a failing exit code; nothing changes.
	for _, tc := range []struct {
		args []string
		in   string
	}{
		{[]string{"stock", "adjust", "--product", prod.ID, "--delta", "-3", "--reason", "stolen"}, "reason"},
		{[]string{"stock", "adjust", "--product", prod.ID, "--delta", "-13", "--reason", "damaged"}, "only 12 available"},
		{[]string{"stock", "adjust", "--product", prod.ID, "--delta", "2000000", "--reason", "received"}, "at most 1000000"},
		{[]string{"stock", "adjust", "--product", "12345", "--delta", "1", "--reason", "received"}, "no product"},
		{[]string{"stock", "adjust", "--delta", "1", "--reason", "received"}, "missing a required flag"},
		{[]string{"stock", "threshold", "--product", prod.ID}, "--set N or --clear"},
		{[]string{"stock", "list", "--catalog", "12345"}, "no catalog"},
		{[]string{"sales", "report", "--business", biz.WABA, "--from", "2026-12-31", "--to", "2026-12-01"}, "before since"},
		{[]string{"sales", "report", "--business", biz.WABA, "--from", "1.12.2026", "--to", "2026-12-31"}, "YYYY-MM-DD"},
		{[]string{"sales", "report", "--business", "12345", "--from", "2026-12-01", "--to", "2026-12-31"}, "12345"},
	} {
		if _, _, errOut, code := run(tc.args...); code == 0 || !strings.Contains(errOut, tc.in) {
			t.Errorf("%v: %d %q", tc.args, code, errOut)
		}
	}
	if m, _, _, _ = run("stock", "show", "--product", prod.ID); m["inventory"] != 12.0 {
		t.Fatalf("refused adjustments changed the stock: %v", m)
	}
}
