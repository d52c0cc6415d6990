package cli

import (
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

func TestDescribeOrderMessages(t *testing.T) {
	pay := &wire.PaymentRequest{ReferenceID: "386285559745613828", OrderID: "386285559745613828", GoodsType: "physical-goods", Currency: "EUR",
		Items:    []wire.PaymentItem{{RetailerID: "rose", Name: "Rose", Price: 249, RegularPrice: 299, Quantity: 3}, {Name: "Tulpe", Price: 150, Quantity: 2}},
		Subtotal: 1047, Tax: &wire.Charge{Amount: 105, Description: "MwSt."}, Shipping: &wire.Charge{Amount: 490},
		Discount: &wire.Charge{Amount: 100, Program: "Stammkunde"}, Total: 1542}
	own := *pay
	own.OrderID, own.ReferenceID, own.Currency = "", "inv-77", "JPY"
	for _, c := range []struct {
		name      string
		c         wire.Content
		want, not []string
	}{
		{"payment request for an order", wire.Content{Type: wire.ContentInteractive, Interactive: &wire.Interactive{Type: wire.InteractiveOrderDetails,
			Body: "Ihre Bestellung", Footer: "Danke", Payment: pay}},
			[]string{"Ihre Bestellung", "your order 386285559745613828", "3 × Rose (rose) à 2.49 EUR (was 2.99 EUR) = 7.47 EUR", "2 × Tulpe à 1.50 EUR = 3.00 EUR",
				"subtotal 10.47 EUR", "tax 1.05 EUR (MwSt.)", "shipping 4.90 EUR", "discount -1.00 EUR (Stammkunde)", "total 15.42 EUR",
				"pay with /pay CARD 386285559745613828", "Danke"}, nil},
		{"the business's own request", wire.Content{Type: wire.ContentInteractive, Interactive: &wire.Interactive{Type: wire.InteractiveOrderDetails,
			Body: "Rechnung", Payment: &own}}, []string{"payment request inv-77", "total 1542 JPY"}, []string{"/pay"}},
		{"order news", wire.Content{Type: wire.ContentInteractive, Interactive: &wire.Interactive{Type: wire.InteractiveOrderStatus, Body: "Unterwegs!",
			OrderStatus: &wire.OrderStatus{ReferenceID: "386285559745613828", OrderID: "386285559745613828", Status: "shipped", Description: "DHL 0034"}}},
			[]string{"📦 your order 386285559745613828 is shipped: DHL 0034 — Unterwegs!"}, nil},
		{"news of the business's own order", wire.Content{Type: wire.ContentInteractive, Interactive: &wire.Interactive{Type: wire.InteractiveOrderStatus,
			OrderStatus: &wire.OrderStatus{ReferenceID: "inv-77", Status: "teleported"}}}, []string{"order inv-77 is teleported"}, []string{"your order"}},
	} {
		got := describe(c.c)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q is not in\n%s", c.name, w, got)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: %q is in\n%s", c.name, w, got)
			}
		}
	}
}
