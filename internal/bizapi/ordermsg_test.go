package bizapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// shopBusiness is a hosted business with a webhook receiver.
type shopBusiness struct {
	createdBusiness
	hook *receiver
}

func newShopBusiness(t *testing.T, s *kontortest.Server, name, phone string) *shopBusiness {
	t.Helper()
	hook := newReceiver(t)
	return &shopBusiness{newBusiness(t, s, map[string]any{"name": name, "phone": phone, "webhook_url": hook.srv.URL}, hook), hook}
}

// orderDetails is a payment request body to ann for reference ref with 3
// roses at price (each), 2 tulips at 1.50, 1.05 tax, 4.90 shipping and
// 1.00 off; total is what total_amount says.
func orderDetails(ref string, rosePrice, total int64, currency string) map[string]any {
	subtotal := 3*rosePrice + 2*150
	return map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "type": "interactive", "interactive": map[string]any{
		"type": "order_details", "body": map[string]any{"text": "Ihre Bestellung"},
		"action": map[string]any{"name": "review_and_pay", "parameters": map[string]any{
			"reference_id": ref, "type": "physical-goods", "payment_type": "kontor", "payment_configuration": "default", "currency": currency,
			"total_amount": map[string]any{"value": total, "offset": 100},
			"order": map[string]any{"status": "pending", "items": []any{
				map[string]any{"retailer_id": "rose", "name": "Rote Rose", "amount": map[string]any{"value": rosePrice, "offset": 100}, "quantity": 3},
				map[string]any{"retailer_id": "tulip", "name": "Tulpe", "amount": map[string]any{"value": 150, "offset": 100}, "quantity": 2}},
				"subtotal": map[string]any{"value": subtotal, "offset": 100},
				"tax":      map[string]any{"value": 105, "offset": 100, "description": "MwSt."},
				"shipping": map[string]any{"value": 490, "offset": 100},
				"discount": map[string]any{"value": 100, "offset": 100}}}}}}
}

func orderStatus(ref, status string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "type": "interactive", "interactive": map[string]any{
		"type": "order_status", "body": map[string]any{"text": "Neuigkeiten"},
		"action": map[string]any{"name": "review_order", "parameters": map[string]any{"reference_id": ref,
			"order": map[string]any{"status": status, "description": "Paket " + status}}}}}
}

// interactiveFrom returns the next payment request or order news ann gets
// from the business at from (notices and other messages are skipped).
func interactiveFrom(t *testing.T, p *person, from kontor.Phone) *wire.Interactive {
	t.Helper()
	for {
		m := p.next(t)
		if m.Problem != "" {
			t.Fatalf("undecryptable: %s", m.Problem)
		}
		if m.From == from && m.Content.Interactive != nil {
			return m.Content.Interactive
		}
	}
}

// TestOrderMessages: a hosted business sends a payment request and order
// news for an order a person placed: the person's device receives and
// decrypts them, the order's charges and state change in the store;
// requests that do not fit the order are refused (131009) and change
// nothing; another business naming the order's id changes nothing.
func TestOrderMessages(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		anna := newShopBusiness(t, s, "Blumen Anna", "+4930111111")
		var cat struct {
			ID string `json:"catalog_id"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", s.Token, map[string]any{"business_id": anna.WABA}, &cat); code != 200 {
			t.Fatalf("catalog: %d", code)
		}
		for _, p := range []map[string]any{
			{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "sale_price": 249, "currency": "EUR", "inventory": 5},
			{"retailer_id": "tulip", "name": "Tulpe", "price": 150, "currency": "EUR", "inventory": 10},
		} {
			if code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/products", anna.Token, p); code != 200 {
				t.Fatalf("product: %d %v", code, out)
			}
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+anna.Number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", anna.Token, nil); code != 200 {
			t.Fatalf("settings: %d %v", code, out)
		}
		ann := newPerson(ctx, t, s, "+4915100000001")
		shop, err := ann.c.API().WholeCatalog(ctx, "+4930111111")
		if err != nil {
			t.Fatal(err)
		}
		cart := map[string]int{"rose": 3, "tulip": 2}
		placed, err := ann.c.API().PlaceOrder(ctx, "+4930111111", cart, "")
		if err != nil || placed.Status != "placed" || placed.Total != 1047 {
			t.Fatalf("place: %+v %v", placed, err)
		}
		order, _ := client.Order(shop, cart, "")
		order.Order.OrderID = placed.OrderID
		if _, err := ann.c.Send(ctx, "+4930111111", order); err != nil {
			t.Fatal(err)
		}
		// The business learns the order's id from the order webhook.
		v := anna.hook.wait("the order", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 && v.Messages[0].Type == "order" })
		if o := v.Messages[0].Order; o == nil || o.OrderID != placed.OrderID {
			t.Fatalf("the order webhook does not name the order: %+v", o)
		}
		orderIs := func(what, status string, tax, total float64) {
			t.Helper()
			code, got := api(t, s, http.MethodGet, "/v21.0/"+placed.OrderID, anna.Token, nil)
			if code != 200 || got["status"] != status || got["tax"] != tax || got["total"] != total || got["subtotal"] != 10.47 {
				t.Fatalf("%s: the order is %d %v; want %s, tax %v, total %v", what, code, got, status, tax, total)
			}
		}
		send := func(b *shopBusiness, body map[string]any) (int, map[string]any) {
			t.Helper()
			return api(t, s, http.MethodPost, "/v21.0/"+b.Number+"/messages", b.Token, body)
		}

		// Refused: nothing changes, nothing is sent.
		for _, c := range []struct {
			name   string
			body   map[string]any
			detail string
		}{
			{"a total that does not add up", orderDetails(placed.OrderID, 249, 1543, "EUR"), "total_amount"},
			{"the regular price instead of the sale price", orderDetails(placed.OrderID, 299, 1692, "EUR"), "order.items[0].amount"},
			{"another currency", orderDetails(placed.OrderID, 249, 1542, "USD"), "parameters.currency"},
			{"a status the order cannot have", orderStatus(placed.OrderID, "shipped"), "order.status"},
			{"a payment status", orderStatus(placed.OrderID, "captured"), "order.status"},
		} {
			code, out := send(anna, c.body)
			e, _ := out["error"].(map[string]any)
			d, _ := e["error_data"].(map[string]any)
			if code != 400 || errCode(out) != 131009 || !strings.Contains(fmt.Sprint(d["details"]), c.detail) {
				t.Fatalf("%s: %d %v, want 131009 naming %s", c.name, code, out, c.detail)
			}
			orderIs(c.name, "pending", 0, 10.47)
		}

		// The payment request sets the charges; ann's device gets it,
		// tied to her order.
		if code, out := send(anna, orderDetails(placed.OrderID, 249, 1542, "EUR")); code != 200 {
			t.Fatalf("payment request: %d %v", code, out)
		}
		orderIs("after the payment request", "pending", 1.05, 15.42)
		it := interactiveFrom(t, ann, "+4930111111")
		p := it.Payment
		if it.Type != "order_details" || p == nil || p.OrderID != placed.OrderID || p.ReferenceID != placed.OrderID || p.Total != 1542 ||
			p.Subtotal != 1047 || p.Tax.Amount != 105 || p.Shipping.Amount != 490 || p.Discount.Amount != 100 || len(p.Items) != 2 || p.Items[0].Price != 249 {
			t.Fatalf("ann got %+v %+v", it, p)
		}

		// Order news moves the order; ann gets each.
		for _, c := range []struct{ status, state string }{{"processing", "confirmed"}, {"processing", "confirmed"}, {"canceled", "canceled"}} {
			if code, out := send(anna, orderStatus(placed.OrderID, c.status)); code != 200 {
				t.Fatalf("%s: %d %v", c.status, code, out)
			}
			orderIs(c.status, c.state, 1.05, 15.42)
			it := interactiveFrom(t, ann, "+4930111111")
			if it.Type != "order_status" || it.OrderStatus == nil || it.OrderStatus.OrderID != placed.OrderID || it.OrderStatus.Status != c.status {
				t.Fatalf("%s: ann got %+v %+v", c.status, it, it.OrderStatus)
			}
		}
		if code, out := send(anna, orderDetails(placed.OrderID, 249, 1542, "EUR")); code != 400 || errCode(out) != 131009 {
			t.Fatalf("a payment request for a canceled order: %d %v", code, out)
		}
		// The cancel gave the stock back: all 5 roses can be ordered.
		second, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 5}, "")
		if err != nil || second.Status != "placed" {
			t.Fatalf("after the cancel: %+v %v", second, err)
		}

		// The business's own reference: sent as it is, no order touched.
		if code, out := send(anna, orderDetails("inv-77", 249, 1542, "EUR")); code != 200 {
			t.Fatalf("own reference: %d %v", code, out)
		}
		if it := interactiveFrom(t, ann, "+4930111111"); it.Payment == nil || it.Payment.OrderID != "" || it.Payment.ReferenceID != "inv-77" {
			t.Fatalf("own reference: ann got %+v", it.Payment)
		}

		// Another business names Anna's order: a free-standing request to
		// ann, and Anna's order stays as it is.
		bert := newShopBusiness(t, s, "Bert", "+4930222222")
		if _, err := ann.c.Send(ctx, "+4930222222", wire.Content{V: 1, Type: "text", Text: "Hallo Bert"}); err != nil {
			t.Fatal(err)
		}
		bert.hook.wait("ann's text", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 && v.Messages[0].Type == "text" })
		for _, body := range []map[string]any{orderStatus(second.OrderID, "canceled"), orderDetails(second.OrderID, 249, 1542, "EUR")} {
			if code, out := send(bert, body); code != 200 {
				t.Fatalf("bert: %d %v", code, out)
			}
			it := interactiveFrom(t, ann, "+4930222222")
			if (it.Payment != nil && it.Payment.OrderID != "") || (it.OrderStatus != nil && it.OrderStatus.OrderID != "") {
				t.Fatalf("bert's message is tied to Anna's order: %+v %+v", it.Payment, it.OrderStatus)
			}
		}
		if code, got := api(t, s, http.MethodGet, "/v21.0/"+second.OrderID, anna.Token, nil); code != 200 || got["status"] != "pending" || got["total"] != 12.45 {
			t.Fatalf("Anna's second order after Bert's messages: %d %v", code, got)
		}

		// The platform's side of a self-hosted endpoint: the same changes
		// through POST /{order-id}/order_messages, the same refusals.
		po := &bizapi.PlatformOrders{Base: s.URL, Token: anna.Token}
		id, _ := kontor.ParseID(second.OrderID)
		bad := commerce.PaymentRequest{Currency: "EUR", Items: []commerce.RequestItem{{RetailerID: "rose", Quantity: 5, Price: 249}}, Subtotal: 1245, Total: 1246}
		err = po.RequestPayment(ctx, id, "+4915100000001", bad)
		if ce := endpoint.OrderError(err); ce.Code != 131009 || !strings.Contains(ce.Details, "interactive.action.parameters.total_amount") {
			t.Fatalf("through the platform, a total that does not add up: %v", err)
		}
		good := bad
		good.Shipping, good.Total = 490, 1735
		if err := po.RequestPayment(ctx, id, "+4915100000001", good); err != nil {
			t.Fatalf("through the platform: %v", err)
		}
		if err := po.UpdateOrder(ctx, id, "+4915100000001", "processing"); err != nil {
			t.Fatalf("through the platform: %v", err)
		}
		if code, got := api(t, s, http.MethodGet, "/v21.0/"+second.OrderID, anna.Token, nil); code != 200 || got["status"] != "confirmed" || got["total"] != 17.35 || got["shipping"] != 4.9 {
			t.Fatalf("after the platform's changes: %d %v", code, got)
		}
		if err := po.UpdateOrder(ctx, id, "+4915100000002", "canceled"); kontor.KindOf(err) == kontor.NotFound || endpoint.OrderError(err).Code != 131009 {
			t.Fatalf("another person's order: %v", err)
		}
		bertPO := &bizapi.PlatformOrders{Base: s.URL, Token: bert.Token}
		if err := bertPO.UpdateOrder(ctx, id, "+4915100000001", "canceled"); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("Bert's token on Anna's order: %v", err)
		}
		if code, got := api(t, s, http.MethodGet, "/v21.0/"+second.OrderID, anna.Token, nil); code != 200 || got["status"] != "confirmed" {
			t.Fatalf("after Bert's try: %d %v", code, got)
		}
		// A bad token of the endpoint is the platform's trouble, not the caller's: 131016.
		badPO := &bizapi.PlatformOrders{Base: s.URL, Token: "ktk_nope"}
		if err := badPO.UpdateOrder(ctx, id, "+4915100000001", "canceled"); kontor.KindOf(err) != kontor.Unavailable || endpoint.OrderError(err).Code != 131016 {
			t.Fatalf("a bad token: %v", err)
		}
	})
}
