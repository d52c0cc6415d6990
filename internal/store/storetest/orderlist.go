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
