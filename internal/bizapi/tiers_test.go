package bizapi_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestVolumeTiers: with --billing-rules whose utility rate is halved from
// the second message of a month, a business's two delivered utility
// templates to Germany are charged 0.055 and then 0.0275, each status
// says billable, and the invoice has a line per unit price.
func TestVolumeTiers(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rules, []byte(`[{"effective":"2020-01-01","label":"test: utility tiers",
		"categories":{"marketing":{},"utility":{"free_in_window":true,"tiers":[{"from":2,"discount_bps":5000}]},
		"authentication":{},"authentication-international":{},"service":{}}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s := kontortest.Start(t, append(opts, kontortest.WithConfig(func(c *config.Config) { c.BillingRules = rules }))...)
		hook := newChangeReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930555555", "webhook_url": hook.srv.URL}, hook)
		waba, number, tok := biz.WABA, biz.Number, biz.Token
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+waba+"/message_templates", tok, orderReady("de")); code != 200 || out["status"] != "APPROVED" {
			t.Fatalf("template: %d %v", code, out)
		}
		bob := newPerson(ctx, t, s, "+4915100000009")
		for i := range 2 {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, sendOrderReady("4915100000009", "Bob", "#4"+string(rune('0'+i))))
			if code != 200 {
				t.Fatalf("template %d: %d %v", i+1, code, out)
			}
			wamid := out["messages"].([]any)[0].(map[string]any)["id"].(string)
			for got := bob.next(t); got.Content.Type != wire.ContentTemplate; got = bob.next(t) {
			}
			if st := hook.status(wamid, "delivered"); st.Pricing == nil || !st.Pricing.Billable || st.Pricing.Category != "utility" || st.Pricing.Type != "regular" {
				t.Fatalf("template %d delivered: %+v", i+1, st.Pricing)
			}
		}
		var inv map[string]any
		for i := 0; ; i++ {
			s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/invoices/"+time.Now().UTC().Format("2006-01"), s.Token, nil, &inv)
			if inv["entries"] == float64(2) {
				break
			}
			if i == 200 {
				t.Fatalf("invoice: %v", inv)
			}
			time.Sleep(50 * time.Millisecond)
		}
		lines, _ := inv["lines"].([]any)
		if len(lines) != 2 || inv["total_text"] != "0.09" {
			t.Fatalf("invoice lines: %v", inv)
		}
		for i, want := range []string{"0.0275", "0.055"} {
			if l := lines[i].(map[string]any); l["unit_price"] != want || l["count"] != float64(1) || l["market"] != "DE" || l["category"] != "utility" {
				t.Errorf("line %d: %v, want unit price %s", i+1, l, want)
			}
		}
	})
}
