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

// TestBillingRulesAllowance: with --billing-rules set to rules that
// charge service messages after one free a month, a business's first
// free-form reply is free and its second charged: both statuses of each
// say so (sent and delivered), and the ledger has exactly the second.
func TestBillingRulesAllowance(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rules, []byte(`[{"effective":"2020-01-01","label":"test: one free service message","service_billable":true,
		"categories":{"marketing":{},"utility":{"free_in_window":true},"authentication":{},"authentication-international":{},"service":{"monthly_free":1}}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s := kontortest.Start(t, append(opts, kontortest.WithConfig(func(c *config.Config) { c.BillingRules = rules }))...)
		var view map[string]any
		if code := s.Call(t, http.MethodGet, "/admin/v1/prices/rules", s.Token, nil, &view); code != 200 || view["source"] != "--billing-rules" ||
			view["in_force"].(map[string]any)["label"] != "test: one free service message" {
			t.Fatalf("rules in force: %d %v", code, view)
		}
		hook := newChangeReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930444444", "webhook_url": hook.srv.URL}, hook)
		waba, number, tok := biz.WABA, biz.Number, biz.Token
		ann := newPerson(ctx, t, s, "+4915100000001")
		if _, err := ann.c.Send(ctx, "+4930444444", wire.Content{V: 1, Type: wire.ContentText, Text: "Hallo"}); err != nil {
			t.Fatal(err)
		}
		for got := ann.next(t); got.Content.Type != wire.ContentBusinessNotice; got = ann.next(t) {
		}
		for i, want := range []struct {
			billable bool
			typ      string
		}{{false, "free_customer_service"}, {true, "regular"}} {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, map[string]any{"messaging_product": "whatsapp",
				"to": "4915100000001", "type": "text", "text": map[string]any{"body": "Gern!"}})
			if code != 200 {
				t.Fatalf("reply %d: %d %v", i+1, code, out)
			}
			wamid := out["messages"].([]any)[0].(map[string]any)["id"].(string)
			for got := ann.next(t); got.Content.Text != "Gern!"; got = ann.next(t) {
			}
			for _, status := range []string{"sent", "delivered"} {
				st := hook.status(wamid, status)
				if p := st.Pricing; p == nil || p.Billable != want.billable || p.Type != want.typ || p.Category != "service" || p.PricingModel != "PMP" {
					t.Errorf("reply %d, %s: pricing %+v, want billable %v type %s", i+1, status, st.Pricing, want.billable, want.typ)
				}
			}
		}
		// The ledger charged the second reply only (a service message is
		// priced at the sample card's "other" service rate, 0).
		var usage map[string]any
		for i := 0; ; i++ {
			s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/usage", s.Token, nil, &usage)
			if usage["entries"] == float64(1) {
				break
			}
			if i == 200 {
				t.Fatalf("usage: %v", usage)
			}
			time.Sleep(50 * time.Millisecond)
		}
		lines, _ := usage["lines"].([]any)
		if len(lines) != 1 || lines[0].(map[string]any)["category"] != "service" {
			t.Errorf("usage lines: %v", usage)
		}
	})
}
