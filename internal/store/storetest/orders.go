package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// testNoOversell: 500 orders at once for a product with 10 in stock —
// exactly 10 are placed, 490 refused, stock never below zero; expired
// reservations give their stock back exactly once, also when two sweeps
// race.
func testNoOversell(_ *testing.T, e *env) {
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 10, Created: t0, Updated: t0}
	if err := e.db.CreateProduct(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	var placed, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
				Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "rose", Quantity: 1, Price: 299}}, Subtotal: 299, Total: 299,
				State: commerce.OrderPending, Created: t0, Expires: t0.Add(time.Duration(i%2+1) * time.Minute)}
			short, err := e.db.PlaceOrder(e.ctx, o)
			switch {
			case err != nil:
				e.t.Errorf("place: %v", err)
			case len(short) == 0:
				placed.Add(1)
			case short[0].RetailerID == "rose" && short[0].Wanted == 1 && short[0].Available == 0:
				refused.Add(1)
			default:
				e.t.Errorf("shortage: %+v", short)
			}
		})
	}
	wg.Wait()
	if placed.Load() != 10 || refused.Load() != 490 {
		e.t.Fatalf("placed %d, refused %d; want 10 and 490", placed.Load(), refused.Load())
	}
	if got, _ := e.db.Product(e.ctx, p.ID); got.Inventory != 0 {
		e.t.Fatalf("stock %d after selling out", got.Inventory)
	}
	// Two sweeps race over the expired reservations: each order's stock
	// comes back once.
	var expired atomic.Int64
	for range 2 {
		wg.Go(func() {
			n, err := e.db.ExpireOrders(e.ctx, t0.Add(3*time.Minute), 1000)
			if err != nil {
				e.t.Errorf("expire: %v", err)
			}
			expired.Add(int64(n))
		})
	}
	wg.Wait()
	if expired.Load() != 10 {
		e.t.Fatalf("expired %d orders, want 10", expired.Load())
	}
	if got, _ := e.db.Product(e.ctx, p.ID); got.Inventory != 10 {
		e.t.Fatalf("stock %d after the reservations expired, want 10", got.Inventory)
	}
	if n, _ := e.db.ExpireOrders(e.ctx, t0.Add(time.Hour), 1000); n != 0 {
		e.t.Fatalf("expired again: %d", n)
	}
	if _, err := e.db.Order(e.ctx, e.ids.Next()); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("unknown order: %v", err)
	}
}
