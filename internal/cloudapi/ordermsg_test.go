package cloudapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

func TestOrderMessageContent(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       *wire.Interactive
	}{
		{"payment request", interactive(orderDetailsEUR), &wire.Interactive{Type: "order_details", Header: &wire.Header{Type: "text", Text: "Blumen Anna"},
			Body: "Ihre Bestellung", Footer: "Danke!", Payment: &wire.PaymentRequest{ReferenceID: "386285559745613828", GoodsType: "physical-goods",
				PaymentType: "kontor", PaymentConfiguration: "default", Currency: "EUR", CatalogID: "386285559745613000",
				Items:    []wire.PaymentItem{{RetailerID: "rose", Name: "Rose", Price: 249, RegularPrice: 299, Quantity: 3}, {RetailerID: "tulip", Name: "Tulpe", Price: 150, Quantity: 2}},
				Subtotal: 1047, Tax: &wire.Charge{Amount: 105, Description: "MwSt. 10 %"}, Shipping: &wire.Charge{Amount: 490},
				Discount: &wire.Charge{Amount: 100, Description: "Treue", Program: "Stammkunde"}, Total: 1542,
				Expires: 1764627000000, ExpiresText: "heute"}}},
		{"payment request in yen", validSend(t, "order_details in JPY"), &wire.Interactive{Type: "order_details", Body: "x",
			Payment: &wire.PaymentRequest{ReferenceID: "r1", GoodsType: "digital-goods", Currency: "JPY",
				Items: []wire.PaymentItem{{Name: "Tee", Price: 500, Quantity: 3}}, Subtotal: 1500, Total: 1500}}},
		{"payment request in dinars", validSend(t, "order_details in BHD"), &wire.Interactive{Type: "order_details", Body: "x",
			Payment: &wire.PaymentRequest{ReferenceID: "r1", GoodsType: "digital-goods", Currency: "BHD",
				Items: []wire.PaymentItem{{Name: "Dates", Price: 1234, Quantity: 1}}, Subtotal: 1234, Total: 1234}}},
		{"status, partially-shipped", validSend(t, "order_status"), &wire.Interactive{Type: "order_status", Body: "Shipped",
			OrderStatus: &wire.OrderStatus{ReferenceID: "order-123.1", Status: "partially_shipped", Description: "first box"}}},
		{"status canceled", validSend(t, "order_status canceled"), &wire.Interactive{Type: "order_status", Body: "Sorry",
			OrderStatus: &wire.OrderStatus{ReferenceID: "386285559745613828", Status: "canceled"}}},
	} {
		got, e := ToContent(ctx, mustParse(t, c.body), &fakeMedia{}, nil)
		if e != nil {
			t.Errorf("%s: %v", c.name, e)
			continue
		}
		if got.Type != wire.ContentInteractive || got.Check() != nil || !got.Known() {
			t.Errorf("%s: %+v %v", c.name, got, got.Check())
		}
		if !reflect.DeepEqual(got.Interactive, c.want) {
			gb, _ := json.Marshal(got.Interactive)
			wb, _ := json.Marshal(c.want)
			t.Errorf("%s:\n got %s\nwant %s", c.name, gb, wb)
		}
	}
}

// FuzzOrderMessage feeds ParseSend order_details and order_status bodies:
// whatever it accepts must become content that passes wire's checks (the
// amounts add up, in minor units, never below 0) with the same total, so
// a person's app never gets a payment request that ParseSend let through
// but that does not add up.
func FuzzOrderMessage(f *testing.F) {
	for _, c := range validSends {
		if strings.Contains(c.body, `"order_`) {
			f.Add([]byte(c.body))
		}
	}
	for _, c := range invalidSends {
		if strings.Contains(c.body, `"order_`) {
			f.Add([]byte(c.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := ParseSend(body)
		if e != nil || req.Interactive == nil {
			return
		}
		typ := req.Interactive.Type
		if typ != InteractiveOrderDetails && typ != InteractiveOrderStatus {
			return
		}
		c, e := ToContent(ctx, req, &fakeMedia{}, nil)
		if e != nil {
			if req.Interactive.Header != nil && e.Code != CodeInvalidValue {
				return // a header's media the fake does not resolve
			}
			t.Fatalf("%s accepted but not converted: %v", body, e)
		}
		if err := c.Check(); err != nil {
			t.Fatalf("%s: content does not check: %v", body, err)
		}
		if p := c.Interactive.Payment; typ == InteractiveOrderDetails && (p == nil || p.Total != req.Interactive.Action.Parameters.TotalAmount.Value || p.Total < 0) {
			t.Fatalf("%s: payment %+v", body, p)
		}
	})
}

// BenchmarkOrderDetails parses, checks and converts a payment request with
// two items and every charge, as an endpoint does for each one it sends.
func BenchmarkOrderDetails(b *testing.B) {
	body := []byte(interactive(orderDetailsEUR))
	for b.Loop() {
		req, e := ParseSend(body)
		if e != nil {
			b.Fatal(e)
		}
		if _, e := ToContent(ctx, req, nil, nil); e != nil {
			b.Fatal(e)
		}
	}
}
