package bizapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestBilling drives billing through the real server: a prepaid business
// with nothing in its account cannot send a paid template (131042) but
// its free reply goes out; after a top-up the template goes, is charged
// once when delivered, and shows in the pricing analytics (for the
// business's token and its partner's) and on the invoice that
// `kontor admin billing invoice` prints; a final invoice does not change.
func TestBilling(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		hook := newChangeReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930333333", "webhook_url": hook.srv.URL}, hook)
		waba, number, tok := biz.WABA, biz.Number, biz.Token
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+waba+"/message_templates", tok, orderReady("de")); code != 200 || out["status"] != "APPROVED" {
			t.Fatalf("template: %d %v", code, out)
		}
		ann := newPerson(ctx, t, s, "+4915100000001")
		bob := newPerson(ctx, t, s, "+4915100000009")
		if _, err := ann.c.Send(ctx, "+4930333333", wire.Content{V: 1, Type: wire.ContentText, Text: "Hallo"}); err != nil {
			t.Fatal(err)
		}
		for got := ann.next(t); got.Content.Type != wire.ContentBusinessNotice; got = ann.next(t) {
		}

		var acc map[string]any
		if code := s.Call(t, http.MethodPut, "/admin/v1/businesses/"+waba+"/credit", s.Token, map[string]any{"mode": "prepaid", "currency": "USD"}, &acc); code != 200 ||
			acc["available"] != "0" {
			t.Fatalf("credit: %d %v", code, acc)
		}
		send := "/v21.0/" + number + "/messages"
		code, out := api(t, s, http.MethodPost, send, tok, sendOrderReady("4915100000009", "Bob", "#42"))
		if code != 400 || errCode(out) != 131042 || !strings.Contains(fmt.Sprint(out), "Business eligibility payment issue") {
			t.Fatalf("a paid template without credit: %d %v", code, out)
		}
		code, out = api(t, s, http.MethodPost, send, tok, map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "type": "text",
			"text": map[string]any{"body": "Gern!"}})
		if code != 200 {
			t.Fatalf("a free reply without credit: %d %v", code, out)
		}
		if c := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+waba+"/topups", s.Token, map[string]any{"amount": "-1"}, nil); c != 400 {
			t.Fatalf("a negative top-up: %d", c)
		}
		if s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/credit", s.Token, nil, &acc); acc["balance"] != "0" {
			t.Fatalf("a refused top-up changed the balance: %v", acc)
		}
		var top map[string]any
		if c := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+waba+"/topups", s.Token, map[string]any{"amount": "1.00", "reference": "wire-1"}, &top); c != 200 {
			t.Fatalf("top-up: %d %v", c, top)
		}
		// Nodes trust what they read of the credit for a second.
		var wamid string
		for i := 0; ; i++ {
			code, out = api(t, s, http.MethodPost, send, tok, sendOrderReady("4915100000009", "Bob", "#42"))
			if code == 200 {
				wamid = out["messages"].([]any)[0].(map[string]any)["id"].(string)
				break
			}
			if errCode(out) != 131042 || i == 100 {
				t.Fatalf("a paid template after the top-up: %d %v", code, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for got := bob.next(t); got.Content.Type != wire.ContentTemplate; got = bob.next(t) {
		}
		if st := hook.status(wamid, "delivered"); st.Pricing == nil || !st.Pricing.Billable {
			t.Fatalf("delivered: %+v", st.Pricing)
		}
		// Charged once, at the sample card's US-dollar rate for Germany's
		// utility messages, off the balance.
		for i := 0; ; i++ {
			s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/credit", s.Token, nil, &acc)
			if acc["balance"] == "0.945" {
				break
			}
			if i == 200 {
				t.Fatalf("balance after the delivered template: %v", acc)
			}
			time.Sleep(50 * time.Millisecond)
		}

		// Pricing analytics, in the public shape.
		now := time.Now().UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		q := fmt.Sprintf(`pricing_analytics.start(%d).end(%d).granularity(DAILY).dimensions(["COUNTRY","PRICING_CATEGORY","PHONE"])`, day.Unix(), day.Add(24*time.Hour).Unix())
		code, out = api(t, s, http.MethodGet, "/v21.0/"+waba+"?fields=currency,"+urlQuery(q), tok, nil)
		pa, _ := out["pricing_analytics"].(map[string]any)
		data, _ := pa["data"].([]any)
		if code != 200 || out["currency"] != "USD" || len(data) != 1 {
			t.Fatalf("pricing analytics: %d %v", code, out)
		}
		points := data[0].(map[string]any)["data_points"].([]any)
		p := points[0].(map[string]any)
		if len(points) != 1 || p["country"] != "DE" || p["pricing_category"] != "UTILITY" || p["volume"] != float64(1) || p["cost"] != 0.055 ||
			p["phone_number"] != "4930333333" || p["start"] != float64(day.Unix()) {
			t.Fatalf("data points: %v", points)
		}
		for _, c := range []struct {
			name, fields string
			code         int
		}{
			{"bad granularity", `pricing_analytics.start(1).end(2).granularity(WEEKLY)`, 100},
			{"no start", `pricing_analytics.end(2).granularity(DAILY)`, 131008},
			{"end before start", `pricing_analytics.start(5).end(2).granularity(DAILY)`, 100},
			{"bad dimension", `pricing_analytics.start(1).end(2).granularity(DAILY).dimensions([COLOUR])`, 100},
			{"unknown modifier", `pricing_analytics.start(1).end(2).granularity(DAILY).colour(red)`, 100},
			{"unbalanced", `pricing_analytics.start(1.end(2)`, 100},
			{"unknown field", `colour`, 100},
		} {
			if code, out := api(t, s, http.MethodGet, "/v21.0/"+waba+"?fields="+urlQuery(c.fields), tok, nil); code/100 != 4 || errCode(out) != c.code {
				t.Errorf("%s: %d %v, want code %d", c.name, code, out, c.code)
			}
		}
		// The partner sees its client's analytics with its own token;
		// another business's token sees nothing.
		var partner, ptok, other map[string]any
		s.Call(t, http.MethodPost, "/admin/v1/partners", s.Token, map[string]any{"name": "BSP"}, &partner)
		pid := partner["partner_id"].(string)
		s.Call(t, http.MethodPost, "/admin/v1/partners/"+pid+"/grants", s.Token, map[string]any{"business_id": waba}, nil)
		s.Call(t, http.MethodPost, "/admin/v1/tokens", s.Token, map[string]any{"partner_id": pid, "scopes": "messaging,management"}, &ptok)
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+waba+"?fields="+urlQuery(q), ptok["access_token"].(string), nil); code != 200 || out["pricing_analytics"] == nil {
			t.Fatalf("the partner's analytics: %d %v", code, out)
		}
		s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Other", "phone": "+4930444444"}, &other)
		if code, _ := api(t, s, http.MethodGet, "/v21.0/"+waba+"?fields="+urlQuery(q), other["access_token"].(string), nil); code == 200 {
			t.Fatal("another business read the analytics")
		}

		// The invoice, through kontor admin.
		run := func(args ...string) (string, int) {
			var stdout, stderr bytes.Buffer
			code := cli.RunEnv(ctx, cli.Env{Args: append([]string{"admin", "--server", s.URL, "billing"}, args...), Stdin: strings.NewReader(""),
				Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
					if k == "KONTOR_OPERATOR_TOKEN" {
						return s.Token
					}
					return ""
				}})
			return stdout.String() + stderr.String(), code
		}
		month := now.Format("2006-01")
		outText, rc := run("invoice", "--business", waba, "--month", month)
		var inv struct {
			Currency string `json:"currency"`
			Total    int64  `json:"total"`
			Status   string `json:"status"`
			Lines    []struct {
				Market, Category, UnitPrice string
				Count, Amount               int64
			} `json:"lines"`
		}
		if rc != 0 || json.Unmarshal([]byte(outText), &inv) != nil {
			t.Fatalf("invoice: %d %s", rc, outText)
		}
		// 0.055 rounds half to even to 0.06.
		if inv.Currency != "USD" || inv.Total != 6 || inv.Status != "draft" || len(inv.Lines) != 1 || inv.Lines[0].Market != "DE" ||
			inv.Lines[0].Category != "utility" || inv.Lines[0].Count != 1 || inv.Lines[0].Amount != 6 {
			t.Fatalf("invoice: %s", outText)
		}
		if !strings.Contains(outText, `"unit_price":"0.055"`) {
			t.Fatalf("unit price: %s", outText)
		}
		if outText, rc := run("invoice", "--business", waba, "--month", month, "--finalize"); rc == 0 || !strings.Contains(outText, "not over") {
			t.Fatalf("finalizing this month: %d %s", rc, outText)
		}
		// Last month: an adjustment on its draft, then final; a second
		// adjustment is refused and changes nothing.
		last := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
		if outText, rc := run("adjust", "--business", waba, "--month", last, "--amount", "2.50", "--currency", "USD", "--note", "setup"); rc != 0 {
			t.Fatalf("adjust: %d %s", rc, outText)
		}
		outText, rc = run("invoice", "--business", waba, "--month", last, "--finalize")
		if rc != 0 || !strings.Contains(outText, `"total":250`) || !strings.Contains(outText, `"status":"final"`) {
			t.Fatalf("finalize last month: %d %s", rc, outText)
		}
		if outText, rc := run("invoice", "--business", waba, "--month", last, "--finalize"); rc == 0 || !strings.Contains(outText, "final already") {
			t.Fatalf("finalizing again: %d %s", rc, outText)
		}
		if outText, rc := run("adjust", "--business", waba, "--month", last, "--amount", "1", "--currency", "USD"); rc == 0 || !strings.Contains(outText, "final") {
			t.Fatalf("adjusting a final invoice: %d %s", rc, outText)
		}
		if outText, rc := run("invoice", "--business", waba, "--month", last); rc != 0 || !strings.Contains(outText, `"total":250`) {
			t.Fatalf("the final invoice changed: %d %s", rc, outText)
		}
		outText, rc = run("invoice", "--business", waba, "--month", month, "--csv")
		if rc != 0 || !strings.HasPrefix(outText, "month,business_id,kind,market,category,count,unit_price,exact_amount,amount,markup,currency\n") ||
			!strings.Contains(outText, month+","+waba+",message,DE,utility,1,0.055,0.055,0.06,,USD\n") || !strings.Contains(outText, ",total,,,1,,,0.06,,USD") {
			t.Fatalf("csv: %d %s", rc, outText)
		}
		// The partner's invoice has a section for its client, with the
		// same charge (no markup set).
		if outText, rc := run("invoice", "--partner", pid, "--month", month); rc != 0 || !strings.Contains(outText, `"sections"`) ||
			!strings.Contains(outText, `"total":6`) || !strings.Contains(outText, waba) {
			t.Fatalf("partner invoice: %d %s", rc, outText)
		}
		if outText, rc := run("invoice", "--month", month); rc == 0 {
			t.Fatalf("invoice without a business: %s", outText)
		}
		if outText, rc := run("invoice", "--business", waba, "--month", "2026-13"); rc == 0 || !strings.Contains(outText, "not a month") {
			t.Fatalf("a bad month: %d %s", rc, outText)
		}
		// The partner's invoice: the client's section with a 10 % markup.
		if outText, rc := run("markup", "--partner", pid, "--bps", "1000"); rc != 0 {
			t.Fatalf("markup: %d %s", rc, outText)
		}
		outText, rc = run("invoice", "--partner", pid, "--month", month)
		if rc != 0 || !strings.Contains(outText, `"total":7`) || !strings.Contains(outText, `"markup":1`) {
			t.Fatalf("partner invoice: %d %s", rc, outText)
		}
	})
}

// urlQuery escapes a fields parameter.
func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", `"`, "%22", "[", "%5B", "]", "%5D")
	return r.Replace(s)
}
