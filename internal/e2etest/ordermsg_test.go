package e2etest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestSelfHostedOrderMessages: a self-hosted business (kontor endpoint in
// its own process) sends a payment request for an order a person placed
// on the platform: the endpoint has the platform check it and set the
// order's charges, the person's device decrypts it tied to the order; a
// request that does not fit the order is refused with the same 131009 a
// hosted endpoint gives, and changes nothing.
func TestSelfHostedOrderMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := kontortest.StartProcess(t, "")
	biz := startSelfHosted(ctx, t, p)
	defer biz.stop(t)
	platform := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var out map[string]any
		code := kontortest.Call(t, p.URL, method, path, biz.token, body, &out)
		return code, out
	}
	var cat map[string]any
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/admin/v1/catalogs", p.Token(), map[string]any{"business_id": biz.waba}, &cat); code != 200 {
		t.Fatalf("catalog: %d %v", code, cat)
	}
	if code, out := platform(http.MethodPost, "/v21.0/"+cat["catalog_id"].(string)+"/products",
		map[string]any{"retailer_id": "brot", "name": "Brot", "price": 350, "currency": "EUR", "inventory": 4}); code != 200 {
		t.Fatalf("product: %d %v", code, out)
	}
	if code, out := platform(http.MethodPost, "/v21.0/"+biz.number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", nil); code != 200 {
		t.Fatalf("settings: %d %v", code, out)
	}
	dan := register(ctx, t, p.URL, "dan", "+4915100000055", true)
	open(ctx, t, dan)
	defer func() { dan.c.Close(); dan.s.Close() }()
	shop, err := dan.c.API().WholeCatalog(ctx, biz.phone)
	if err != nil {
		t.Fatal(err)
	}
	cart := map[string]int{"brot": 2}
	placed, err := dan.c.API().PlaceOrder(ctx, biz.phone, cart, "")
	if err != nil || placed.Status != "placed" || placed.Total != 700 {
		t.Fatalf("place: %+v %v", placed, err)
	}
	order, _ := client.Order(shop, cart, "order-note-"+placed.OrderID)
	order.Order.OrderID = placed.OrderID
	send(ctx, t, dan, biz.phone, order)
	biz.waitWebhook(t, "order-note-"+placed.OrderID) // the window is open

	details := func(shipping, total int64) map[string]any {
		return map[string]any{"messaging_product": "whatsapp", "to": "4915100000055", "type": "interactive", "interactive": map[string]any{
			"type": "order_details", "body": map[string]any{"text": "Ihre Bestellung"},
			"action": map[string]any{"name": "review_and_pay", "parameters": map[string]any{
				"reference_id": placed.OrderID, "type": "physical-goods", "currency": "EUR", "total_amount": map[string]any{"value": total, "offset": 100},
				"order": map[string]any{"status": "pending",
					"items":    []any{map[string]any{"retailer_id": "brot", "name": "Brot", "amount": map[string]any{"value": 350, "offset": 100}, "quantity": 3}},
					"subtotal": map[string]any{"value": 1050, "offset": 100}, "shipping": map[string]any{"value": shipping, "offset": 100}}}}}}
	}
	var out map[string]any
	// Three loaves: the order has two. The platform refuses; nothing changes.
	if code := kontortest.Call(t, biz.api, http.MethodPost, "/v21.0/"+biz.number+"/messages", biz.token, details(250, 1300), &out); code != 400 ||
		!strings.Contains(out["error"].(map[string]any)["error_data"].(map[string]any)["details"].(string), "order.items[0].quantity") {
		t.Fatalf("three loaves: %d %v", code, out)
	}
	if code, got := platform(http.MethodGet, "/v21.0/"+placed.OrderID, nil); code != 200 || got["total"] != 7.0 || got["shipping"] != 0.0 {
		t.Fatalf("after the refusal: %d %v", code, got)
	}
	good := details(250, 950)
	items := good["interactive"].(map[string]any)["action"].(map[string]any)["parameters"].(map[string]any)["order"].(map[string]any)
	items["items"].([]any)[0].(map[string]any)["quantity"] = 2
	items["subtotal"] = map[string]any{"value": 700, "offset": 100}
	if code := kontortest.Call(t, biz.api, http.MethodPost, "/v21.0/"+biz.number+"/messages", biz.token, good, &out); code != 200 {
		t.Fatalf("payment request: %d %v", code, out)
	}
	if code, got := platform(http.MethodGet, "/v21.0/"+placed.OrderID, nil); code != 200 || got["total"] != 9.5 || got["shipping"] != 2.5 {
		t.Fatalf("after the payment request: %d %v", code, got)
	}
	for _, m := range receive(ctx, t, dan, 1) {
		it := m.Content.Interactive
		if m.Problem != "" || m.Content.Type != wire.ContentInteractive || it == nil || it.Payment == nil || it.Payment.OrderID != placed.OrderID || it.Payment.Total != 950 {
			t.Fatalf("dan got %+v (%s)", m.Content, m.Problem)
		}
	}
}
