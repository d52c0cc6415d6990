package cli

import (
	"fmt"
	"strings"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/wire"
)

// How kontor chat shows a business's payment requests and order news.

// money writes minor units of currency as "15.42 EUR" (the decimals of
// the currency, as the Business API's offsets count them).
func money(v int64, currency string) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return sign + minorText(v, cloudapi.MinorExponent(currency)) + " " + currency
}

// describePayment shows a payment request: the items, the subtotal, the
// charges, the total and how to pay.
func describePayment(it *wire.Interactive) string {
	p := it.Payment
	var b strings.Builder
	if it.Header != nil && it.Header.Text != "" {
		b.WriteString(it.Header.Text + ": ")
	}
	b.WriteString(it.Body)
	if p.OrderID != "" {
		fmt.Fprintf(&b, "\n    💳 payment request for your order %s", p.OrderID)
	} else {
		fmt.Fprintf(&b, "\n    💳 payment request %s (the business's own reference; kontor knows no order of yours behind it)", p.ReferenceID)
	}
	for _, li := range p.Items {
		name := li.Name
		if li.RetailerID != "" {
			name += " (" + li.RetailerID + ")"
		}
		line := fmt.Sprintf("\n    %d × %s à %s", li.Quantity, name, money(li.Price, p.Currency))
		if li.RegularPrice > li.Price {
			line += " (was " + money(li.RegularPrice, p.Currency) + ")"
		}
		b.WriteString(line + " = " + money(li.Price*li.Quantity, p.Currency))
	}
	fmt.Fprintf(&b, "\n    subtotal %s", money(p.Subtotal, p.Currency))
	for _, c := range []struct {
		what string
		ch   *wire.Charge
		sign int64
	}{{"tax", p.Tax, 1}, {"shipping", p.Shipping, 1}, {"discount", p.Discount, -1}} {
		if c.ch == nil {
			continue
		}
		line := fmt.Sprintf("\n    %s %s", c.what, money(c.sign*c.ch.Amount, p.Currency))
		var notes []string
		for _, n := range []string{c.ch.Description, c.ch.Program} {
			if n != "" {
				notes = append(notes, n)
			}
		}
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, ", ") + ")"
		}
		b.WriteString(line)
	}
	fmt.Fprintf(&b, "\n    total %s", money(p.Total, p.Currency))
	if p.ExpiresText != "" {
		fmt.Fprintf(&b, " — %s", p.ExpiresText)
	}
	if p.OrderID != "" {
		fmt.Fprintf(&b, "\n    pay with /pay CARD %s", p.OrderID)
	}
	if it.Footer != "" {
		b.WriteString("\n    " + it.Footer)
	}
	return b.String()
}

// statusWords says an order_status value in words.
var statusWords = map[string]string{
	"pending": "waiting for payment", "processing": "being prepared", "partially_shipped": "partly shipped",
	"shipped": "shipped", "completed": "completed", "canceled": "canceled", "captured": "paid", "failed": "not paid (the payment failed)",
}

// describeOrderStatus shows order news as one line.
func describeOrderStatus(it *wire.Interactive) string {
	s := it.OrderStatus
	words, ok := statusWords[s.Status]
	if !ok {
		words = s.Status
	}
	ref := "order " + s.ReferenceID
	if s.OrderID != "" {
		ref = "your order " + s.OrderID
	}
	line := "📦 " + ref + " is " + words
	if s.Description != "" {
		line += ": " + s.Description
	}
	if it.Body != "" {
		line += " — " + it.Body
	}
	return line
}
