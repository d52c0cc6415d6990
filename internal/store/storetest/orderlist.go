package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// testOrderList pages through a business's orders newest first, in one
// state and in all, with orders placed in the same millisecond, and never
// shows another business's orders.
func testOrderList(_ *testing.T, e *env) {
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 250, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 1000, Created: t0, Updated: t0}
	if err := e.db.CreateProduct(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	place := func(biz kontor.ID, at time.Time) commerce.Order {
		o := commerce.Order{ID: e.ids.Next(), Business: biz, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
			Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "rose", Name: "Rose", Quantity: 2, Price: 250}}, Subtotal: 500, Total: 500,
			State: commerce.OrderPending, Text: "bitte rot", Created: at, Expires: at.Add(time.Hour)}
		if short, err := e.db.PlaceOrder(e.ctx, o); err != nil || len(short) > 0 {
			e.t.Fatalf("place: %v %v", short, err)
		}
		return o
	}
	var all []commerce.Order // newest first
	for i := range 25 {
		o := place(cat.Business, t0.Add(time.Duration(i/3)*time.Second)) // three in each millisecond
		if i%4 == 0 {
			if err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderPending, commerce.OrderConfirmed, false); err != nil {
				e.t.Fatal(err)
			}
			o.State = commerce.OrderConfirmed
		}
		all = append(all, o)
	}
	place(e.ids.Next(), t0.Add(time.Hour))               // another business's
	slices.SortFunc(all, func(a, b commerce.Order) int { // newest first; in one millisecond, higher ids first
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	for _, state := range []string{"", commerce.OrderConfirmed, commerce.OrderPending, commerce.OrderPaid} {
		var want []kontor.ID
		for _, o := range all {
			if state == "" || o.State == state {
				want = append(want, o.ID)
			}
		}
		var got []kontor.ID
		q := commerce.OrderQuery{Business: cat.Business, State: state, Limit: 4}
		for pages := 0; ; pages++ {
			os, more, err := commerce.ListOrders(e.ctx, e.db, q)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, o := range os {
				got = append(got, o.ID)
				if o.Business != cat.Business || len(o.Items) != 1 || o.Items[0].Quantity != 2 || o.Total != 500 || o.Customer != phoneA || o.Text != "bitte rot" {
					e.t.Fatalf("listed order: %+v", o)
				}
			}
			if !more {
				break
			}
			if pages > 20 || len(os) == 0 {
				e.t.Fatalf("state %q: more pages than orders", state)
			}
			last := os[len(os)-1]
			q.After = commerce.OrderCursor{Created: last.Created, ID: last.ID}
		}
		if !slices.Equal(got, want) {
			e.t.Errorf("state %q: listed %v, want %v", state, got, want)
		}
	}
	if _, _, err := commerce.ListOrders(e.ctx, e.db, commerce.OrderQuery{Business: cat.Business, State: "lost", Limit: 4}); kontor.KindOf(err) != kontor.Invalid {
		e.t.Errorf("an unknown state: %v", err)
	}
	if _, _, err := commerce.ListOrders(e.ctx, e.db, commerce.OrderQuery{Business: cat.Business, Limit: commerce.MaxOrderPage + 1}); kontor.KindOf(err) != kontor.Invalid {
		e.t.Errorf("too long a page: %v", err)
	}
}

// testOrderHistory: moves and charges are recorded with the change, in
// order; refused ones are not; another order's are not listed.
func testOrderHistory(_ *testing.T, e *env) {
	cat := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 250, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 10, Created: t0, Updated: t0}
	if err := e.db.CreateProduct(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	var orders []kontor.ID
	for range 2 {
		now := time.Now()
		o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR",
			Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "rose", Quantity: 2, Price: 250}}, Subtotal: 500, Total: 500,
			State: commerce.OrderPending, Created: now, Expires: now.Add(time.Hour)}
		if short, err := e.db.PlaceOrder(e.ctx, o); err != nil || len(short) > 0 {
			e.t.Fatalf("place: %v %v", short, err)
		}
		orders = append(orders, o.ID)
	}
	id := orders[0]
	if evs, err := e.db.OrderEvents(e.ctx, id); err != nil || len(evs) != 0 {
		e.t.Fatalf("a new order's events: %v %v", evs, err)
	}
	before := time.Now().Add(-time.Second)
	if err := e.db.MoveOrder(e.ctx, id, commerce.OrderPending, commerce.OrderConfirmed, false); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.SetOrderCharges(e.ctx, id, 40, 450, 100, 890); err != nil {
		e.t.Fatal(err)
	}
	// Refused: the order is no longer pending; the amounts do not add up.
	if err := e.db.MoveOrder(e.ctx, id, commerce.OrderPending, commerce.OrderCanceled, true); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("a stale move: %v", err)
	}
	if err := e.db.SetOrderCharges(e.ctx, id, 40, 450, 100, 999); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("charges that do not add up: %v", err)
	}
	if err := e.db.MoveOrder(e.ctx, id, commerce.OrderConfirmed, commerce.OrderCanceled, true); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.MoveOrder(e.ctx, orders[1], commerce.OrderPending, commerce.OrderCanceled, true); err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.db.OrderEvents(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	want := []commerce.OrderEvent{
		{Kind: commerce.EventMove, From: commerce.OrderPending, To: commerce.OrderConfirmed},
		{Kind: commerce.EventCharges, Tax: 40, Shipping: 450, Discount: 100, Total: 890},
		{Kind: commerce.EventMove, From: commerce.OrderConfirmed, To: commerce.OrderCanceled},
	}
	if len(evs) != len(want) {
		e.t.Fatalf("events %+v, want %+v", evs, want)
	}
	for i, ev := range evs {
		if ev.At.Before(before) || ev.At.After(time.Now()) || (i > 0 && ev.At.Before(evs[i-1].At)) {
			e.t.Errorf("event %d at %v", i, ev.At)
		}
		ev.At = time.Time{}
		if ev != want[i] {
			e.t.Errorf("event %d: %+v, want %+v", i, ev, want[i])
		}
	}
}
