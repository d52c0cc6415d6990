package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
)

// shopWith makes a catalog with one product of inventory n and returns
// the product.
func (e *env) shopWith(n int) commerce.Product {
	e.t.Helper()
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: n, Created: t0, Updated: t0}
	if err := e.db.CreateProduct(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	p.Inventory = n
	p.Catalog = cat.ID
	return p
}

// placeFor places an order of one p that expires at t0+1m, for business biz.
func (e *env) placeFor(p commerce.Product, biz kontor.ID) commerce.Order {
	e.t.Helper()
	o := commerce.Order{ID: e.ids.Next(), Business: biz, Catalog: p.Catalog, Customer: phoneA, Currency: "EUR",
		Items: []commerce.OrderItem{{Product: p.ID, RetailerID: p.RetailerID, Quantity: 1, Price: 299}}, Subtotal: 299, Total: 299,
		State: commerce.OrderPending, Created: t0, Expires: t0.Add(time.Minute)}
	short, err := e.db.PlaceOrder(e.ctx, o)
	if err != nil || len(short) > 0 {
		e.t.Fatalf("place: %v %v", short, err)
	}
	return o
}

func (e *env) newPayment(o commerce.Order, key string) payments.Payment {
	return payments.Payment{ID: e.ids.Next(), Order: o.ID, Business: o.Business, Customer: o.Customer, Key: key, Provider: "sandbox",
		Method: "4242424242424242", Card: "visa 4242", Amount: o.Total, Currency: o.Currency, State: payments.Created, Created: t0, Updated: t0}
}

func (e *env) orderState(id kontor.ID) string {
	e.t.Helper()
	o, err := e.db.Order(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o.State
}

func (e *env) inventory(id kontor.ID) int {
	e.t.Helper()
	p, err := e.db.Product(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Inventory
}

// testPayments: a payment per attempt, unique by key; one live payment
// per order; moves apply once and only from the states named; a success
// pays the order in the same transaction; a success for an order that can
// no longer be paid becomes refunding; a refund moves the order.
func testPayments(_ *testing.T, e *env) {
	prod := e.shopWith(5)
	biz := e.ids.Next()
	o := e.placeFor(prod, biz)
	p1 := e.newPayment(o, "k1")
	got, existed, err := e.db.StartPayment(e.ctx, p1)
	if err != nil || existed || got.ID != p1.ID {
		e.t.Fatalf("start: %+v %v %v", got, existed, err)
	}
	// The same key again, and another key while p1 is live: both give p1.
	for _, key := range []string{"k1", "k2"} {
		again := e.newPayment(o, key)
		got, existed, err = e.db.StartPayment(e.ctx, again)
		if err != nil || !existed || got.ID != p1.ID || got.Key != "k1" || got.State != payments.Created {
			e.t.Fatalf("start %s again: %+v %v %v", key, got, existed, err)
		}
	}
	// Declined: the order may be paid by a new attempt.
	got, ok, err := e.db.MovePayment(e.ctx, payments.Move{ID: p1.ID, From: []payments.State{payments.Created}, To: payments.Declined, ProviderID: "sbx_1", Reason: "card_declined", At: t0})
	if err != nil || !ok || got.State != payments.Declined || got.Reason != "card_declined" || got.ProviderID != "sbx_1" {
		e.t.Fatalf("decline: %+v %v %v", got, ok, err)
	}
	if got, ok, err = e.db.MovePayment(e.ctx, payments.Move{ID: p1.ID, From: []payments.State{payments.Created, payments.Pending}, To: payments.Succeeded, PayOrder: true, At: t0}); err != nil || ok || got.State != payments.Declined {
		e.t.Fatalf("a declined payment succeeded: %+v %v %v", got, ok, err)
	}
	if e.orderState(o.ID) != commerce.OrderPending {
		e.t.Fatalf("order after a decline: %s", e.orderState(o.ID))
	}
	p2 := e.newPayment(o, "k2")
	if got, existed, err = e.db.StartPayment(e.ctx, p2); err != nil || existed || got.ID != p2.ID {
		e.t.Fatalf("start after decline: %+v %v %v", got, existed, err)
	}
	if got, ok, err = e.db.MovePayment(e.ctx, payments.Move{ID: p2.ID, From: []payments.State{payments.Created}, To: payments.Pending, ProviderID: "sbx_2", At: t0}); err != nil || !ok || got.State != payments.Pending {
		e.t.Fatalf("pending: %+v %v %v", got, ok, err)
	}
	if got, err := e.db.PaymentByCharge(e.ctx, "sandbox", "sbx_2"); err != nil || got.ID != p2.ID {
		e.t.Fatalf("by charge: %+v %v", got, err)
	}
	if _, err := e.db.PaymentByCharge(e.ctx, "stripe", "sbx_2"); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("another provider's charge: %v", err)
	}
	// Sweep: p2 is pending and not announced; p1 declined, not announced.
	sw, err := e.db.PaymentsToSweep(e.ctx, t0.Add(-time.Minute), 100)
	if err != nil || len(sw) != 2 {
		e.t.Fatalf("to sweep: %+v %v", sw, err)
	}
	for _, p := range []payments.Payment{p1, p2} {
		cur, _ := e.db.Payment(e.ctx, p.ID)
		if err := e.db.AnnouncePayment(e.ctx, p.ID, cur.State); err != nil {
			e.t.Fatal(err)
		}
	}
	if sw, _ := e.db.PaymentsToSweep(e.ctx, t0.Add(-time.Minute), 100); len(sw) != 0 {
		e.t.Fatalf("announced and fresh, yet swept: %+v", sw)
	}
	if sw, _ := e.db.PaymentsToSweep(e.ctx, t0.Add(time.Minute), 100); len(sw) != 1 || sw[0].ID != p2.ID {
		e.t.Fatalf("stale pending not swept: %+v", sw)
	}
	// Success pays the order, once.
	for i := range 2 {
		got, ok, err = e.db.MovePayment(e.ctx, payments.Move{ID: p2.ID, From: []payments.State{payments.Created, payments.Pending}, To: payments.Succeeded, PayOrder: true, At: t0.Add(time.Second)})
		if err != nil || ok != (i == 0) || got.State != payments.Succeeded || got.Announced != payments.Pending {
			e.t.Fatalf("succeed %d: %+v %v %v", i, got, ok, err)
		}
	}
	if e.orderState(o.ID) != commerce.OrderPaid || e.inventory(prod.ID) != 4 {
		e.t.Fatalf("after success: %s, stock %d", e.orderState(o.ID), e.inventory(prod.ID))
	}
	if n, _ := e.db.ExpireOrders(e.ctx, t0.Add(time.Hour), 100); n != 0 {
		e.t.Fatalf("a paid order expired")
	}
	// Refund: succeeded → refunding → refunded, the order with it.
	if _, ok, err = e.db.MovePayment(e.ctx, payments.Move{ID: p2.ID, From: []payments.State{payments.Succeeded}, To: payments.Refunding, At: t0}); err != nil || !ok {
		e.t.Fatal(ok, err)
	}
	if got, ok, err = e.db.MovePayment(e.ctx, payments.Move{ID: p2.ID, From: []payments.State{payments.Refunding}, To: payments.Refunded, Refund: "re_1", RefundOrder: true, At: t0}); err != nil || !ok || got.Refund != "re_1" {
		e.t.Fatalf("refund: %+v %v %v", got, ok, err)
	}
	if e.orderState(o.ID) != commerce.OrderRefunded {
		e.t.Fatalf("order after refund: %s", e.orderState(o.ID))
	}
	if ps, err := e.db.OrderPayments(e.ctx, o.ID); err != nil || len(ps) != 2 || ps[0].ID != p1.ID || ps[1].ID != p2.ID {
		e.t.Fatalf("order payments: %+v %v", ps, err)
	}

	// The charges cannot change while a payment is under way (a payment
	// request adding shipping is refused), so the payment pays the total
	// it started with.
	moved := e.placeFor(prod, biz)
	p5 := e.newPayment(moved, "k-moved")
	e.db.StartPayment(e.ctx, p5)
	if err := e.db.SetOrderCharges(e.ctx, moved.ID, 0, 100, 0, moved.Total+100); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("charges changed under a payment: %v", err)
	}
	got, _, err = e.db.MovePayment(e.ctx, payments.Move{ID: p5.ID, From: []payments.State{payments.Created}, To: payments.Succeeded, PayOrder: true, At: t0})
	if err != nil || got.State != payments.Succeeded || e.orderState(moved.ID) != commerce.OrderPaid {
		e.t.Fatalf("success at the total it started with: %+v %v, order %s", got, err, e.orderState(moved.ID))
	}
	if o, err := e.db.Order(e.ctx, moved.ID); err != nil || o.Total != p5.Amount || o.Shipping != 0 {
		e.t.Fatalf("the paid order: %+v %v", o, err)
	}

	// A success that comes after the reservation ran out does not pay
	// the order: the payment is to be refunded, the order left alone.
	late := e.placeFor(prod, biz)
	p3 := e.newPayment(late, "k-late")
	e.db.StartPayment(e.ctx, p3)
	got, ok, err = e.db.MovePayment(e.ctx, payments.Move{ID: p3.ID, From: []payments.State{payments.Created}, To: payments.Succeeded, PayOrder: true, At: late.Expires})
	if err != nil || !ok || got.State != payments.Refunding || got.Reason == "" {
		e.t.Fatalf("late success: %+v %v %v", got, ok, err)
	}
	if e.orderState(late.ID) != commerce.OrderPending {
		e.t.Fatalf("late order: %s", e.orderState(late.ID))
	}
	got, _, _ = e.db.MovePayment(e.ctx, payments.Move{ID: p3.ID, From: []payments.State{payments.Refunding}, To: payments.Refunded, RefundOrder: true, At: late.Expires})
	if got.State != payments.Refunded || e.orderState(late.ID) != commerce.OrderPending {
		e.t.Fatalf("late refund: %+v, order %s", got, e.orderState(late.ID))
	}
	// A confirmed order keeps its stock and may be paid after the hour.
	conf := e.placeFor(prod, biz)
	if err := e.db.MoveOrder(e.ctx, conf.ID, commerce.OrderPending, commerce.OrderConfirmed, false); err != nil {
		e.t.Fatal(err)
	}
	p4 := e.newPayment(conf, "k-conf")
	e.db.StartPayment(e.ctx, p4)
	if got, _, _ = e.db.MovePayment(e.ctx, payments.Move{ID: p4.ID, From: []payments.State{payments.Created}, To: payments.Succeeded, PayOrder: true, At: t0.Add(time.Hour)}); got.State != payments.Succeeded || e.orderState(conf.ID) != commerce.OrderPaid {
		e.t.Fatalf("confirmed order: %+v %s", got, e.orderState(conf.ID))
	}
	if _, err := e.db.Payment(e.ctx, e.ids.Next()); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("unknown payment: %v", err)
	}
}

// testConcurrentPay: many requests start a payment for one order at
// once, with the same key and with different keys: exactly one payment
// is made, and every request gets it.
func testConcurrentPay(_ *testing.T, e *env) {
	prod := e.shopWith(1)
	o := e.placeFor(prod, e.ids.Next())
	var fresh atomic.Int64
	var ids sync.Map
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			got, existed, err := e.db.StartPayment(e.ctx, e.newPayment(o, fmt.Sprintf("key-%d", i%2)))
			if err != nil {
				e.t.Errorf("start: %v", err)
				return
			}
			if !existed {
				fresh.Add(1)
			}
			ids.Store(got.ID, true)
		})
	}
	wg.Wait()
	n := 0
	ids.Range(func(any, any) bool { n++; return true })
	if fresh.Load() != 1 || n != 1 {
		e.t.Fatalf("%d payments made, %d ids seen; want 1 and 1", fresh.Load(), n)
	}
	if ps, _ := e.db.OrderPayments(e.ctx, o.ID); len(ps) != 1 {
		e.t.Fatalf("%d payments stored", len(ps))
	}
}

// testPayRacesExpiry: a payment's success and the reservation sweep race
// for the same order, many times: each time exactly one wins — the order
// is paid and keeps its stock, or it expired, its stock came back once and
// the payment is to be refunded. Never both, never neither.
func testPayRacesExpiry(_ *testing.T, e *env) {
	const rounds = 30
	prod := e.shopWith(rounds)
	biz := e.ids.Next()
	var paid, expired int
	for i := range rounds {
		o := e.placeFor(prod, biz)
		p := e.newPayment(o, fmt.Sprintf("race-%d", i))
		e.db.StartPayment(e.ctx, p)
		var got payments.Payment
		var n int
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			var err error
			// The provider said yes just before the reservation ran out.
			got, _, err = e.db.MovePayment(e.ctx, payments.Move{ID: p.ID, From: []payments.State{payments.Created}, To: payments.Succeeded, PayOrder: true, At: o.Expires.Add(-time.Millisecond)})
			if err != nil {
				e.t.Error(err)
			}
		})
		wg.Go(func() {
			<-start
			var err error
			if n, err = e.db.ExpireOrders(e.ctx, o.Expires.Add(time.Millisecond), 1000); err != nil {
				e.t.Error(err)
			}
		})
		close(start)
		wg.Wait()
		switch st := e.orderState(o.ID); {
		case st == commerce.OrderPaid && got.State == payments.Succeeded && n == 0:
			paid++
		case st == commerce.OrderExpired && got.State == payments.Refunding && n == 1:
			expired++
		default:
			e.t.Fatalf("round %d: order %s, payment %s, sweep expired %d", i, st, got.State, n)
		}
		if stock := e.inventory(prod.ID); stock != rounds-1-i+expired {
			e.t.Fatalf("round %d: stock %d, want %d (%d paid, %d expired)", i, stock, rounds-1-i+expired, paid, expired)
		}
	}
	if n, _ := e.db.ExpireOrders(e.ctx, t0.Add(time.Hour), 1000); n != 0 {
		e.t.Fatalf("expired %d more afterwards", n)
	}
	e.t.Logf("%d rounds: %d paid, %d expired", rounds, paid, expired)
}
