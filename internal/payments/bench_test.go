package payments_test

import (
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
)

// BenchmarkPay: pay placed orders with the sandbox's success card
// through the Service and the store (SQLite): the payment row, the
// provider's answer, the order paid in one transaction, the announcement.
// Placing the orders is not measured.
func BenchmarkPay(b *testing.B) {
	f := newFixture(b, "")
	p := f.product
	p.ID, p.RetailerID, p.Inventory = f.ids.Next(), "bench", 1_000_000_000
	if err := f.db.CreateProduct(f.ctx, p); err != nil {
		b.Fatal(err)
	}
	orders := make([]commerce.Order, b.N)
	for i := range orders {
		now := f.clock.Now()
		orders[i] = commerce.Order{ID: f.ids.Next(), Business: 77, Catalog: p.Catalog, Customer: ann, Currency: "EUR",
			Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "bench", Quantity: 1, Price: 299}}, Subtotal: 299, Total: 299,
			State: commerce.OrderPending, Created: now, Expires: now.Add(time.Hour)}
		if short, err := f.db.PlaceOrder(f.ctx, orders[i]); err != nil || len(short) > 0 {
			b.Fatal(short, err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		got, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: orders[i].ID, Customer: ann, Card: "4242424242424242"})
		if err != nil || got.State != payments.Succeeded {
			b.Fatal(got, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
}
