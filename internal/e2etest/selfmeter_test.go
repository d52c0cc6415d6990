package e2etest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestSelfHostedMetering: a self-hosted business (kontor endpoint in its
// own process) sends a marketing template; when it is delivered the
// endpoint reports it, the platform charges it once (the ledger, the
// invoice of kontor admin billing invoice), and the endpoint's delivered
// status carries the pricing the platform charged by. A repeated report
// adds nothing; a report with another business's token, or for a
// business number, is refused. With the credit spent, a paid send is
// refused at the endpoint with 131042 and a free reply still goes.
func TestSelfHostedMetering(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { selfHostedMetering(t) })
	t.Run("postgres", func(t *testing.T) { selfHostedMetering(t, "--db", kontortest.PostgresURL(t)) })
}

func selfHostedMetering(t *testing.T, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := kontortest.StartProcess(t, "", args...)
	biz := startSelfHosted(ctx, t, p)
	defer biz.stop(t)
	var out map[string]any
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+biz.waba+"/message_templates", biz.token, map[string]any{
		"name": "spring_sale", "language": "en_US", "category": "MARKETING",
		"components": []any{map[string]any{"type": "BODY", "text": "Spring sale: 20% off all tulips this week."}}}, &out); code != 200 || out["status"] != "APPROVED" {
		t.Fatalf("template: %d %v", code, out)
	}
	eva := register(ctx, t, p.URL, "eva", "+4915100000077", true)
	open(ctx, t, eva)
	defer func() { eva.c.Close(); eva.s.Close() }()
	template := map[string]any{"messaging_product": "whatsapp", "to": "4915100000077", "type": "template",
		"template": map[string]any{"name": "spring_sale", "language": map[string]any{"code": "en_US"}}}
	wamid := biz.sendAPI(t, template)
	receive(ctx, t, eva, 1)
	pricing := biz.waitStatus(t, wamid, "delivered")
	if pricing["billable"] != true || pricing["category"] != "marketing" || pricing["type"] != "regular" {
		t.Fatalf("the delivered status's pricing: %v", pricing)
	}

	usage := func() map[string]any {
		t.Helper()
		var u map[string]any
		if code := kontortest.Call(t, p.URL, http.MethodGet, "/admin/v1/businesses/"+biz.waba+"/usage?from=2000-01-01&to=2100-01-01", p.Token(), nil, &u); code != 200 {
			t.Fatalf("usage: %d %v", code, u)
		}
		return u
	}
	u := usage()
	lines, _ := u["lines"].([]any)
	if u["entries"] != 1.0 || len(lines) != 1 {
		t.Fatalf("the ledger after one delivered template: %v", u)
	}
	if l := lines[0].(map[string]any); l["category"] != "marketing" || l["market"] != "DE" || l["count"] != 1.0 {
		t.Fatalf("the ledger's line: %v", l)
	}
	cmd := exec.CommandContext(ctx, kontortest.Binary(t), "admin", "--server", p.URL, "--data", p.DataDir,
		"billing", "invoice", "--business", biz.waba, "--month", time.Now().UTC().Format("2006-01"))
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("kontor admin billing invoice: %v", err)
	}
	var inv struct {
		Entries int `json:"entries"`
		Lines   []struct {
			Kind, Market, Category string
			Count                  int
			ExactAmount            string `json:"exact_amount"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(raw, &inv); err != nil || inv.Entries != 1 || len(inv.Lines) != 1 {
		t.Fatalf("the invoice: %s (%v)", raw, err)
	}
	if l := inv.Lines[0]; l.Kind != "message" || l.Market != "DE" || l.Category != "marketing" || l.Count != 1 || l.ExactAmount != u["total"] {
		t.Fatalf("the invoice's line %+v, the ledger's total %v", l, u["total"])
	}

	// The same report again (as after a crash): the same pricing, no charge.
	now := time.Now().UnixMilli()
	report := map[string]any{"message_id": wamid, "to": "4915100000077", "category": "marketing", "sent": now, "delivered": now}
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+biz.number+"/deliveries", biz.token, report, &out); code != 200 ||
		out["charged"] != false || out["pricing"].(map[string]any)["billable"] != true {
		t.Fatalf("the repeated report: %d %v", code, out)
	}
	// Another business's token may not report for this number.
	var other map[string]any
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/admin/v1/businesses", p.Token(),
		map[string]any{"name": "Andere GmbH", "phone": "+4930888888"}, &other); code != 200 {
		t.Fatalf("the other business: %d %v", code, other)
	}
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+biz.number+"/deliveries", other["access_token"].(string), report, &out); code != http.StatusForbidden {
		t.Fatalf("a report with another business's token: %d %v", code, out)
	}
	// Nor may its own token report for a hosted number (the platform meters it).
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+other["phone_number_id"].(string)+"/deliveries", other["access_token"].(string), report, &out); code != 400 {
		t.Fatalf("a report for a hosted number: %d %v", code, out)
	}
	// A message to a business number is not a person's.
	report["to"] = "4930888888"
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+biz.number+"/deliveries", biz.token, report, &out); code != 400 {
		t.Fatalf("a report of a message to a business: %d %v", code, out)
	}
	if u := usage(); u["entries"] != 1.0 {
		t.Fatalf("the ledger after the reports that add nothing: %v", u)
	}

	// Prepaid, nothing paid in: the credit is spent.
	if code := kontortest.Call(t, p.URL, http.MethodPut, "/admin/v1/businesses/"+biz.waba+"/credit", p.Token(),
		map[string]any{"mode": "prepaid", "currency": "USD"}, &out); code != 200 {
		t.Fatalf("credit: %d %v", code, out)
	}
	time.Sleep(2100 * time.Millisecond) // what the platform's node and the endpoint keep of it
	if code := kontortest.Call(t, biz.api, http.MethodPost, "/v21.0/"+biz.number+"/messages", biz.token, template, &out); code != 400 ||
		out["error"].(map[string]any)["code"] != 131042.0 {
		t.Fatalf("a paid send with the credit spent: %d %v", code, out)
	}
	// A reply inside the window is free, and still goes.
	send(ctx, t, eva, biz.phone, wire.Content{V: wire.ContentVersion, Type: wire.ContentText, Text: "selfmeter-question"})
	biz.waitWebhook(t, "selfmeter-question")
	reply := biz.sendAPI(t, map[string]any{"messaging_product": "whatsapp", "to": "4915100000077", "type": "text", "text": map[string]any{"body": "Yes, all week."}})
	receive(ctx, t, eva, 1)
	if pricing := biz.waitStatus(t, reply, "delivered"); pricing["billable"] != false || pricing["type"] != "free_customer_service" {
		t.Fatalf("the free reply's pricing: %v", pricing)
	}
	if u := usage(); u["entries"] != 1.0 {
		t.Fatalf("the ledger after the free reply: %v", u)
	}
}

// sendAPI sends through the endpoint's Business API and returns the wamid.
func (b *selfHosted) sendAPI(t *testing.T, body map[string]any) string {
	t.Helper()
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if code := kontortest.Call(t, b.api, http.MethodPost, "/v21.0/"+b.number+"/messages", b.token, body, &out); code != 200 || len(out.Messages) != 1 {
		t.Fatalf("sending through the endpoint: %d %+v", code, out)
	}
	return out.Messages[0].ID
}

// waitStatus waits for the status webhook of wamid and returns its pricing.
func (b *selfHosted) waitStatus(t *testing.T, wamid, status string) map[string]any {
	t.Helper()
	for range 600 {
		b.mu.Lock()
		for _, h := range b.hooks {
			if !bytes.Contains(h, []byte(wamid)) {
				continue
			}
			var n struct {
				Entry []struct {
					Changes []struct {
						Value struct {
							Statuses []struct {
								ID      string         `json:"id"`
								Status  string         `json:"status"`
								Pricing map[string]any `json:"pricing"`
							} `json:"statuses"`
						} `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			if json.Unmarshal(h, &n) != nil {
				continue
			}
			for _, e := range n.Entry {
				for _, c := range e.Changes {
					for _, s := range c.Value.Statuses {
						if s.ID == wamid && s.Status == status {
							b.mu.Unlock()
							return s.Pricing
						}
					}
				}
			}
		}
		b.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s status of %s came", status, wamid)
	return nil
}
