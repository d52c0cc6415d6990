package cli_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestRecvOrderMessages: kontor client recv prints a business's payment
// request and order news as JSON, amounts in minor units.
func TestRecvOrderMessages(t *testing.T) {
	s := kontortest.Start(t)
	var biz struct {
		Number string `json:"phone_number_id"`
		Token  string `json:"access_token"`
	}
	if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen Anna", "phone": "+4930111111"}, &biz); code != 200 {
		t.Fatalf("business: %d", code)
	}
	ann := filepath.Join(t.TempDir(), "ann")
	env := map[string]string{}
	run(t, env, "client", "register", "--server", s.URL, "--phone", "+4915100000001", "--profile", ann)
	run(t, env, "client", "send", "--profile", ann, "--to", "+4930111111", "Was kostet das?")
	details := map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "type": "interactive", "interactive": map[string]any{
		"type": "order_details", "body": map[string]any{"text": "Ihre Rechnung"},
		"action": map[string]any{"name": "review_and_pay", "parameters": map[string]any{
			"reference_id": "inv-1", "type": "digital-goods", "currency": "JPY", "total_amount": map[string]any{"value": 1400, "offset": 1},
			"order": map[string]any{"status": "pending",
				"items":    []any{map[string]any{"name": "Tee", "amount": map[string]any{"value": 500, "offset": 1}, "quantity": 3}},
				"subtotal": map[string]any{"value": 1500, "offset": 1}, "discount": map[string]any{"value": 100, "offset": 1}}}}}}
	// The person's text opens the window once the endpoint has it.
	var out map[string]any
	for i := 0; ; i++ {
		code := kontortest.Call(t, s.URL, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, details, &out)
		if code == 200 {
			break
		}
		if i > 200 {
			t.Fatalf("payment request: %d %v", code, out)
		}
		run(t, env, "client", "recv", "--profile", ann, "--wait", "20ms") // let time pass without sleeping blindly
	}
	status := map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "type": "interactive", "interactive": map[string]any{
		"type": "order_status", "body": map[string]any{"text": "Bezahlt, danke"},
		"action": map[string]any{"name": "review_order", "parameters": map[string]any{"reference_id": "inv-1", "order": map[string]any{"status": "completed"}}}}}
	if code := kontortest.Call(t, s.URL, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, status, &out); code != 200 {
		t.Fatalf("order news: %d %v", code, out)
	}
	var pay, news map[string]any
	for i := 0; i < 20 && (pay == nil || news == nil); i++ {
		for _, l := range lines(t, run(t, env, "client", "recv", "--profile", ann, "--wait", "1s", "--count", "3")) {
			if p, ok := l["payment_request"].(map[string]any); ok {
				pay = p
				if l["text"] != "Ihre Rechnung" || l["type"] != "interactive" {
					t.Fatalf("payment request line: %v", l)
				}
			}
			if o, ok := l["order_status"].(map[string]any); ok {
				news = o
			}
		}
	}
	if pay == nil || pay["reference_id"] != "inv-1" || pay["currency"] != "JPY" || pay["subtotal"] != 1500.0 || pay["total"] != 1400.0 ||
		pay["discount"].(map[string]any)["amount"] != 100.0 || pay["order_id"] != nil {
		t.Fatalf("payment request: %v", pay)
	}
	if news == nil || news["status"] != "completed" || news["reference_id"] != "inv-1" {
		t.Fatalf("order news: %v", news)
	}
}
