package storetest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
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

// testOrderCharges: an order's tax, shipping and discount are set in one
// write that keeps total = subtotal + tax + shipping - discount, only while
// the order is pending or confirmed; a write that does not add up, or
// comes too late, changes nothing.
func testOrderCharges(_ *testing.T, e *env) {
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 10, Created: t0, Updated: t0}
	if err := e.db.CreateProduct(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
		Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "rose", Quantity: 3, Price: 299}}, Subtotal: 897, Total: 897,
		State: commerce.OrderPending, Created: t0, Expires: t0.Add(time.Hour)}
	if short, err := e.db.PlaceOrder(e.ctx, o); err != nil || len(short) > 0 {
		e.t.Fatalf("place: %v %v", short, err)
	}
	got, err := e.db.Order(e.ctx, o.ID)
	if err != nil || got.Tax != 0 || got.Shipping != 0 || got.Discount != 0 || got.Total != 897 {
		e.t.Fatalf("a new order: %+v %v", got, err)
	}
	// 897 + 170 + 490 - 100 = 1457.
	if err := e.db.SetOrderCharges(e.ctx, o.ID, 170, 490, 100, 1457); err != nil {
		e.t.Fatal(err)
	}
	for _, bad := range []struct {
		name                           string
		tax, shipping, discount, total int64
		kind                           kontor.Kind
	}{
		{"total that does not add up", 170, 490, 100, 1458, kontor.Conflict},
		{"negative tax", -1, 0, 0, 896, kontor.Invalid},
		{"negative total", 0, 0, 898, -1, kontor.Invalid},
	} {
		if err := e.db.SetOrderCharges(e.ctx, o.ID, bad.tax, bad.shipping, bad.discount, bad.total); kontor.KindOf(err) != bad.kind {
			e.t.Errorf("%s: %v, want %v", bad.name, err, bad.kind)
		}
	}
	if err := e.db.SetOrderCharges(e.ctx, e.ids.Next(), 0, 0, 0, 0); kontor.KindOf(err) != kontor.Conflict {
		e.t.Errorf("charges of no order: %v", err)
	}
	got, _ = e.db.Order(e.ctx, o.ID)
	if got.Tax != 170 || got.Shipping != 490 || got.Discount != 100 || got.Total != 1457 || got.Subtotal != 897 {
		e.t.Fatalf("after the refused writes: %+v", got)
	}
	if err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderPending, commerce.OrderConfirmed, false); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.SetOrderCharges(e.ctx, o.ID, 0, 490, 0, 1387); err != nil {
		e.t.Fatalf("a confirmed order: %v", err)
	}
	if err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderConfirmed, commerce.OrderPaid, false); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.SetOrderCharges(e.ctx, o.ID, 0, 0, 0, 897); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("charges of a paid order: %v", err)
	}
	if got, _ = e.db.Order(e.ctx, o.ID); got.State != commerce.OrderPaid || got.Total != 1387 || got.Tax != 0 || got.Shipping != 490 {
		e.t.Fatalf("a paid order changed: %+v", got)
	}
}

// testOrderChargesRace: payment requests race the reservation's expiry and
// a cancel. The order ends expired or canceled, its stock back exactly
// once, and its stored total is always subtotal + tax + shipping -
// discount of one request.
func testOrderChargesRace(_ *testing.T, e *env) {
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 10, Created: t0, Updated: t0}
	if err := e.db.CreateProduct(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
		Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "rose", Quantity: 4, Price: 299}}, Subtotal: 1196, Total: 1196,
		State: commerce.OrderPending, Created: t0, Expires: t0.Add(time.Minute)}
	if short, err := e.db.PlaceOrder(e.ctx, o); err != nil || len(short) > 0 {
		e.t.Fatalf("place: %v %v", short, err)
	}
	var wg sync.WaitGroup
	var canceled, expired atomic.Int64
	for i := range 20 {
		wg.Go(func() {
			tax := int64(i * 10)
			if err := e.db.SetOrderCharges(e.ctx, o.ID, tax, 490, 0, 1196+tax+490); err != nil && kontor.KindOf(err) != kontor.Conflict {
				e.t.Errorf("charges: %v", err)
			}
		})
	}
	wg.Go(func() {
		n, err := e.db.ExpireOrders(e.ctx, t0.Add(2*time.Minute), 10)
		if err != nil {
			e.t.Errorf("expire: %v", err)
		}
		expired.Add(int64(n))
	})
	wg.Go(func() {
		err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderPending, commerce.OrderCanceled, true)
		if err == nil {
			canceled.Add(1)
		} else if kontor.KindOf(err) != kontor.Conflict {
			e.t.Errorf("cancel: %v", err)
		}
	})
	wg.Wait()
	got, err := e.db.Order(e.ctx, o.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if canceled.Load()+expired.Load() != 1 || (got.State != commerce.OrderCanceled && got.State != commerce.OrderExpired) {
		e.t.Fatalf("canceled %d, expired %d, state %s: want exactly one", canceled.Load(), expired.Load(), got.State)
	}
	if got.Total != got.Subtotal+got.Tax+got.Shipping-got.Discount || (got.Tax%10) != 0 {
		e.t.Fatalf("stored amounts do not add up: %+v", got)
	}
	if pr, _ := e.db.Product(e.ctx, p.ID); pr.Inventory != 10 {
		e.t.Fatalf("stock %d after the race, want 10 (back exactly once)", pr.Inventory)
	}
	if err := e.db.SetOrderCharges(e.ctx, o.ID, 0, 0, 0, 1196); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("charges after the end: %v", err)
	}
}

// testChargesAndPayments: a payment charges the order's total as it is
// when the payment starts. Charges cannot change while a payment is under
// way (until it is declined), and a payment at a total that is no longer
// the order's is refused, unless it is a retry of one already recorded.
func testChargesAndPayments(_ *testing.T, e *env) {
	prod := e.shopWith(5)
	o := e.placeFor(prod, e.ids.Next()) // one rose: 299
	if err := e.db.SetOrderCharges(e.ctx, o.ID, 30, 490, 0, 819); err != nil {
		e.t.Fatal(err)
	}
	stale := e.newPayment(o, "stale") // at 299, the total before the charges
	if _, _, err := e.db.StartPayment(e.ctx, stale); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("a payment at the old total: %v", err)
	}
	o.Total = 819
	p := e.newPayment(o, "k1")
	if got, existed, err := e.db.StartPayment(e.ctx, p); err != nil || existed || got.Amount != 819 {
		e.t.Fatalf("a payment at the total: %+v %v %v", got, existed, err)
	}
	err := e.db.SetOrderCharges(e.ctx, o.ID, 30, 0, 0, 329)
	if kontor.KindOf(err) != kontor.Conflict || !strings.Contains(kontor.MessageOf(err), "payment") {
		e.t.Fatalf("charges while a payment is under way: %v", err)
	}
	if got, _ := e.db.Order(e.ctx, o.ID); got.Total != 819 {
		e.t.Fatalf("the total changed under a payment: %+v", got)
	}
	if _, ok, err := e.db.MovePayment(e.ctx, payments.Move{ID: p.ID, From: []payments.State{payments.Created}, To: payments.Declined, Reason: "card_declined", At: t0}); err != nil || !ok {
		e.t.Fatalf("decline: %v %v", ok, err)
	}
	if err := e.db.SetOrderCharges(e.ctx, o.ID, 30, 0, 0, 329); err != nil {
		e.t.Fatalf("charges after the decline: %v", err)
	}
	// A retry of the declined attempt's key finds it, whatever the total.
	if got, existed, err := e.db.StartPayment(e.ctx, p); err != nil || !existed || got.ID != p.ID {
		e.t.Fatalf("the declined attempt again: %+v %v %v", got, existed, err)
	}
}

// testOrderMix races orders of several items for two products: a refused
// order takes nothing (also when an earlier order of the same moment took
// what it needed), shortages name every short item with what was left, and
// the stock left is the stock minus exactly what the placed orders hold.
// An order whose caller gave up first is not placed.
func testOrderMix(_ *testing.T, e *env) {
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	stock := map[string]int{"rose": 7, "tulip": 4}
	ids := map[string]kontor.ID{}
	for rid, n := range stock {
		p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: rid, Name: rid, Price: 100, Currency: "EUR",
			Availability: "in stock", Condition: "new", Inventory: n, Created: t0, Updated: t0}
		if err := e.db.CreateProduct(e.ctx, p); err != nil {
			e.t.Fatal(err)
		}
		ids[rid] = p.ID
	}
	// An order its caller gave up before it was placed is not placed.
	gone, cancel := context.WithCancel(e.ctx)
	cancel()
	o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
		Items: []commerce.OrderItem{{Product: ids["rose"], RetailerID: "rose", Quantity: 1, Price: 100}}, Subtotal: 100, Total: 100,
		State: commerce.OrderPending, Created: t0, Expires: t0.Add(time.Hour)}
	if _, err := e.db.PlaceOrder(gone, o); err == nil {
		e.t.Error("an order with its context canceled was placed")
	}
	if _, err := e.db.Order(e.ctx, o.ID); kontor.KindOf(err) != kontor.NotFound {
		e.t.Errorf("the canceled order: %v", err)
	}
	if got, _ := e.db.Product(e.ctx, ids["rose"]); got.Inventory != stock["rose"] {
		e.t.Errorf("stock %d after a canceled order, want %d", got.Inventory, stock["rose"])
	}

	carts := []map[string]int{{"rose": 1, "tulip": 1}, {"rose": 2}, {"tulip": 3}, {"rose": 1, "tulip": 2}, {"rose": 8, "tulip": 5}}
	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			cart := carts[i%len(carts)]
			o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
				State: commerce.OrderPending, Created: t0, Expires: t0.Add(time.Hour)}
			for rid, q := range cart {
				o.Items = append(o.Items, commerce.OrderItem{Product: ids[rid], RetailerID: rid, Quantity: q, Price: 100})
			}
			short, err := e.db.PlaceOrder(e.ctx, o)
			if err != nil {
				e.t.Errorf("place: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if len(short) == 0 {
				for rid, q := range cart {
					taken[rid] += q
				}
				return
			}
			for _, s := range short {
				if s.Wanted != cart[s.RetailerID] || s.Available >= s.Wanted || s.Available < 0 {
					e.t.Errorf("order %v: shortage %+v", cart, s)
				}
			}
			if cart["rose"] == 8 && len(short) != 2 {
				e.t.Errorf("8 roses and 5 tulips are both short, always: %+v", short)
			}
		})
	}
	wg.Wait()
	for rid, n := range stock {
		got, err := e.db.Product(e.ctx, ids[rid])
		if err != nil {
			e.t.Fatal(err)
		}
		if taken[rid] > n || got.Inventory != n-taken[rid] {
			e.t.Errorf("%s: %d in stock, placed orders hold %d, %d left", rid, n, taken[rid], got.Inventory)
		}
	}
	if taken["rose"] == 0 || taken["tulip"] == 0 {
		e.t.Errorf("nothing placed: %v", taken)
	}
}
