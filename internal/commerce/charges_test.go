package commerce_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

func TestOrderTotal(t *testing.T) {
	for _, c := range []struct {
		subtotal, tax, shipping, discount, want int64
		field                                   string
	}{
		{897, 0, 0, 0, 897, ""},
		{897, 170, 490, 100, 1457, ""},
		{1000, 0, 0, 1000, 0, ""},                             // free
		{1000, 0, 0, 1001, 0, "order.discount"},               // below 0
		{1000, -1, 0, 0, 0, "order.tax"},                      // negative part
		{1000, 0, -5, 0, 0, "order.shipping"},                 //
		{commerce.MaxPrice + 1, 0, 0, 0, 0, "order.subtotal"}, // too large
		{commerce.MaxPrice, commerce.MaxPrice, commerce.MaxPrice, 0, 3 * commerce.MaxPrice, ""}, // exact, no overflow
	} {
		got, fe := commerce.OrderTotal(c.subtotal, c.tax, c.shipping, c.discount)
		switch {
		case c.field == "" && (fe != nil || got != c.want):
			t.Errorf("%+v: %d %v", c, got, fe)
		case c.field != "" && (fe == nil || fe.Field != c.field):
			t.Errorf("%+v: %d %v, want an error on %s", c, got, fe, c.field)
		}
	}
}

func TestStatusTarget(t *testing.T) {
	for _, c := range []struct {
		from, status, to string
		ok               bool
	}{
		{commerce.OrderPending, commerce.StatusProcessing, commerce.OrderConfirmed, true},
		{commerce.OrderConfirmed, commerce.StatusProcessing, commerce.OrderConfirmed, true},
		{commerce.OrderPaid, commerce.StatusProcessing, commerce.OrderPaid, true},
		{commerce.OrderShipped, commerce.StatusProcessing, "", false},
		{commerce.OrderCanceled, commerce.StatusProcessing, "", false},
		{commerce.OrderPending, commerce.StatusPending, commerce.OrderPending, true},
		{commerce.OrderConfirmed, commerce.StatusPending, "", false},
		{commerce.OrderPaid, commerce.StatusPartiallyShipped, commerce.OrderPaid, true},
		{commerce.OrderShipped, commerce.StatusPartiallyShipped, commerce.OrderShipped, true},
		{commerce.OrderPending, commerce.StatusPartiallyShipped, "", false},
		{commerce.OrderPaid, commerce.StatusShipped, commerce.OrderShipped, true},
		{commerce.OrderShipped, commerce.StatusShipped, commerce.OrderShipped, true},
		{commerce.OrderPending, commerce.StatusShipped, "", false}, // not paid
		{commerce.OrderConfirmed, commerce.StatusShipped, "", false},
		{commerce.OrderShipped, commerce.StatusCompleted, commerce.OrderCompleted, true},
		{commerce.OrderPaid, commerce.StatusCompleted, commerce.OrderCompleted, true},
		{commerce.OrderPending, commerce.StatusCompleted, "", false},
		{commerce.OrderPending, commerce.StatusCanceled, commerce.OrderCanceled, true},
		{commerce.OrderConfirmed, commerce.StatusCanceled, commerce.OrderCanceled, true},
		{commerce.OrderCanceled, commerce.StatusCanceled, commerce.OrderCanceled, true},
		{commerce.OrderPaid, commerce.StatusCanceled, "", false}, // refund instead
		{commerce.OrderExpired, commerce.StatusCanceled, "", false},
		{commerce.OrderPending, "captured", "", false},
	} {
		to, ok := commerce.StatusTarget(c.from, c.status)
		if ok != c.ok || (ok && to != c.to) {
			t.Errorf("StatusTarget(%s, %s) = %s %v, want %s %v", c.from, c.status, to, ok, c.to, c.ok)
		}
	}
}

const ann kontor.Phone = "+4915100000001"

// placed puts roses (sale price 249) and tulips (150) in the catalog and
// places an order of 3 roses and 2 tulips for ann: subtotal 1047 EUR cents.
func placed(t *testing.T, e *env) commerce.Order {
	t.Helper()
	ctx := context.Background()
	for _, p := range []commerce.Product{
		{RetailerID: "rose", Name: "Rose", Price: 299, SalePrice: 249, Currency: "EUR", Inventory: 10},
		{RetailerID: "tulip", Name: "Tulpe", Price: 150, Currency: "EUR", Inventory: 10},
	} {
		if _, err := e.svc.CreateProduct(ctx, e.catalog, p); err != nil {
			t.Fatal(err)
		}
	}
	o, short, err := e.svc.PlaceOrder(ctx, e.db, commerce.OrderRequest{Catalog: e.catalog, Customer: ann, Items: map[string]int{"rose": 3, "tulip": 2}}, 0)
	if err != nil || len(short) > 0 || o.Subtotal != 1047 || o.Total != 1047 {
		t.Fatalf("place: %+v %v %v", o, short, err)
	}
	return o
}

// request is the payment request that fits o, with 10 % tax, 4.90 shipping
// and 1.00 off.
func request(o commerce.Order) commerce.PaymentRequest {
	return commerce.PaymentRequest{Currency: "EUR", CatalogID: o.Catalog.String(),
		Items:    []commerce.RequestItem{{RetailerID: "tulip", Quantity: 2, Price: 150}, {RetailerID: "rose", Quantity: 3, Price: 249}},
		Subtotal: 1047, Tax: 105, Shipping: 490, Discount: 100, Total: 1542}
}

func fieldOf(err error) string {
	var fe *commerce.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestRequestPayment(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		o := placed(t, e)
		for _, c := range []struct {
			name   string
			change func(r *commerce.PaymentRequest)
			field  string
		}{
			{"another currency", func(r *commerce.PaymentRequest) { r.Currency = "USD" }, "currency"},
			{"another catalog", func(r *commerce.PaymentRequest) { r.CatalogID = "1" }, "order.catalog_id"},
			{"an item without retailer id", func(r *commerce.PaymentRequest) { r.Items[0].RetailerID = "" }, "order.items[0].retailer_id"},
			{"an item not ordered", func(r *commerce.PaymentRequest) { r.Items[0].RetailerID = "lily" }, "order.items[0].retailer_id"},
			{"an item twice", func(r *commerce.PaymentRequest) { r.Items[1] = r.Items[0] }, "order.items[1].retailer_id"},
			{"another quantity", func(r *commerce.PaymentRequest) { r.Items[1].Quantity = 4 }, "order.items[1].quantity"},
			{"the regular price", func(r *commerce.PaymentRequest) { r.Items[1].Price = 299 }, "order.items[1].amount"},
			{"an item left out", func(r *commerce.PaymentRequest) { r.Items = r.Items[:1] }, "order.items"},
			{"another subtotal", func(r *commerce.PaymentRequest) { r.Subtotal = 1000 }, "order.subtotal"},
			{"a total that does not add up", func(r *commerce.PaymentRequest) { r.Total++ }, "total_amount"},
			{"a discount above everything", func(r *commerce.PaymentRequest) { r.Discount, r.Total = 2000, 0 }, "order.discount"},
		} {
			r := request(o)
			c.change(&r)
			_, err := e.svc.RequestPayment(ctx, e.db, e.waba, o.ID, ann, r)
			if kontor.KindOf(err) != kontor.Invalid || fieldOf(err) != c.field {
				t.Errorf("%s: %v (field %q), want Invalid on %s", c.name, err, fieldOf(err), c.field)
			}
		}
		if got, _ := e.db.Order(ctx, o.ID); got.Total != 1047 || got.Tax != 0 {
			t.Fatalf("a refused request changed the order: %+v", got)
		}
		if _, err := e.svc.RequestPayment(ctx, e.db, e.waba+1, o.ID, ann, request(o)); kontor.KindOf(err) != kontor.NotFound {
			t.Errorf("another business: %v", err)
		}
		if _, err := e.svc.RequestPayment(ctx, e.db, e.waba, o.ID+1, ann, request(o)); kontor.KindOf(err) != kontor.NotFound {
			t.Errorf("no such order: %v", err)
		}
		if _, err := e.svc.RequestPayment(ctx, e.db, e.waba, o.ID, "+4915100000002", request(o)); kontor.KindOf(err) != kontor.Invalid || fieldOf(err) != "reference_id" {
			t.Errorf("another person: %v", err)
		}
		got, err := e.svc.RequestPayment(ctx, e.db, e.waba, o.ID, ann, request(o))
		if err != nil || got.Total != 1542 || got.Tax != 105 || got.Shipping != 490 || got.Discount != 100 {
			t.Fatalf("request: %+v %v", got, err)
		}
		// Again (a retried message), and a corrected one: both fine while pending.
		if _, err := e.svc.RequestPayment(ctx, e.db, e.waba, o.ID, ann, request(o)); err != nil {
			t.Fatalf("again: %v", err)
		}
		r := request(o)
		r.Shipping, r.Total = 0, 1052
		if _, err := e.svc.RequestPayment(ctx, e.db, e.waba, o.ID, ann, r); err != nil {
			t.Fatalf("free shipping: %v", err)
		}
		if got, _ := e.db.Order(ctx, o.ID); got.Total != 1052 || got.Shipping != 0 || got.Tax != 105 {
			t.Fatalf("stored: %+v", got)
		}
		if _, err := e.svc.MoveOrder(ctx, e.db, e.waba, o.ID, commerce.OrderPaid); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.RequestPayment(ctx, e.db, e.waba, o.ID, ann, request(o))
		if kontor.KindOf(err) != kontor.Conflict || fieldOf(err) != "reference_id" || !strings.Contains(err.Error(), "paid") {
			t.Fatalf("a paid order: %v", err)
		}
		if got, _ := e.db.Order(ctx, o.ID); got.Total != 1052 {
			t.Fatalf("a paid order's total changed: %+v", got)
		}
	})
}

func TestApplyOrderStatus(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		o := placed(t, e)
		step := func(status, want string) {
			t.Helper()
			got, err := e.svc.ApplyOrderStatus(ctx, e.db, e.waba, o.ID, ann, status)
			if err != nil || got.State != want {
				t.Fatalf("%s: %+v %v, want %s", status, got.State, err, want)
			}
			if stored, _ := e.db.Order(ctx, o.ID); stored.State != want {
				t.Fatalf("%s: stored %s, want %s", status, stored.State, want)
			}
		}
		refused := func(status string, kind kontor.Kind) {
			t.Helper()
			before, _ := e.db.Order(ctx, o.ID)
			_, err := e.svc.ApplyOrderStatus(ctx, e.db, e.waba, o.ID, ann, status)
			if kontor.KindOf(err) != kind || fieldOf(err) != "order.status" {
				t.Fatalf("%s: %v, want %v on order.status", status, err, kind)
			}
			if after, _ := e.db.Order(ctx, o.ID); after.State != before.State {
				t.Fatalf("%s: refused but moved from %s to %s", status, before.State, after.State)
			}
		}
		step(commerce.StatusPending, commerce.OrderPending)
		refused(commerce.StatusShipped, kontor.Conflict) // not paid yet
		refused("captured", kontor.Invalid)
		step(commerce.StatusProcessing, commerce.OrderConfirmed)
		step(commerce.StatusProcessing, commerce.OrderConfirmed) // a retry
		if _, err := e.svc.ApplyOrderStatus(ctx, e.db, e.waba+1, o.ID, ann, commerce.StatusCanceled); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("another business: %v", err)
		}
		if _, err := e.svc.ApplyOrderStatus(ctx, e.db, e.waba, o.ID, "+4915100000002", commerce.StatusCanceled); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("another person: %v", err)
		}
		if _, err := e.svc.MoveOrder(ctx, e.db, e.waba, o.ID, commerce.OrderPaid); err != nil {
			t.Fatal(err)
		}
		refused(commerce.StatusCanceled, kontor.Conflict) // paid: refund instead
		step(commerce.StatusPartiallyShipped, commerce.OrderPaid)
		step(commerce.StatusShipped, commerce.OrderShipped)
		step(commerce.StatusCompleted, commerce.OrderCompleted)
		refused(commerce.StatusProcessing, kontor.Conflict)

		// Canceling gives the stock back.
		o2, _, err := e.svc.PlaceOrder(ctx, e.db, commerce.OrderRequest{Catalog: e.catalog, Customer: ann, Items: map[string]int{"rose": 7}}, 0)
		if err != nil || o2.ID == 0 {
			t.Fatalf("second order: %+v %v", o2, err)
		}
		rose, _ := e.db.ProductByRetailerID(ctx, e.catalog, "rose")
		if rose.Inventory != 0 {
			t.Fatalf("roses left: %d", rose.Inventory)
		}
		o = o2
		step(commerce.StatusCanceled, commerce.OrderCanceled)
		step(commerce.StatusCanceled, commerce.OrderCanceled) // once: the stock comes back once
		if rose, _ = e.db.ProductByRetailerID(ctx, e.catalog, "rose"); rose.Inventory != 7 {
			t.Fatalf("roses after the cancel: %d, want 7", rose.Inventory)
		}
	})
}

// TestOrderItemsInRetailerIDOrder: an order's items are in retailer id
// order, as the order message lists them, whatever the map's order (the
// console showed them shuffled; stock was locked in a random order).
func TestOrderItemsInRetailerIDOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := []string{"anemone", "dahlia", "iris", "lily", "rose", "tulip"}
	items := map[string]int{}
	for _, id := range ids {
		if _, err := e.svc.CreateProduct(ctx, e.catalog, commerce.Product{RetailerID: id, Name: id, Price: 100, Currency: "EUR", Inventory: 100}); err != nil {
			t.Fatal(err)
		}
		items[id] = 1
	}
	for range 5 {
		o, short, err := e.svc.PlaceOrder(ctx, e.db, commerce.OrderRequest{Catalog: e.catalog, Customer: ann, Items: items}, 0)
		if err != nil || len(short) > 0 {
			t.Fatalf("place: %v %v", short, err)
		}
		var got []string
		for _, it := range o.Items {
			got = append(got, it.RetailerID)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("items in the order %v, want %v", got, ids)
		}
	}
}
