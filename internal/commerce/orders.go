package commerce

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kontor-chat/kontor"
)

// Order states.
const (
	OrderPending   = "pending"   // placed, stock reserved, not paid
	OrderConfirmed = "confirmed" // the business took it
	OrderPaid      = "paid"
	OrderShipped   = "shipped"
	OrderCompleted = "completed"
	OrderCanceled  = "canceled"
	OrderExpired   = "expired" // not paid in time: its stock went back
	OrderRefunded  = "refunded"
)

// DefaultReservation is how long a pending order holds its stock.
const DefaultReservation = 30 * time.Minute

// MaxQuantity is the most of one product one order takes.
const MaxQuantity = 10_000

// Order is an order a person placed from a business's catalog. Amounts are
// minor units of Currency, with the prices at order time. Tax, Shipping
// and Discount are 0 until the business's payment request (order_details)
// sets them; Total is always Subtotal + Tax + Shipping - Discount, never
// below 0 (charges.go).
type Order struct {
	ID       kontor.ID
	Business kontor.ID
	Catalog  kontor.ID
	Customer kontor.Phone
	Items    []OrderItem
	Currency string
	Subtotal int64
	Tax      int64
	Shipping int64
	Discount int64
	Total    int64
	State    string
	Text     string
	Created  time.Time
	Expires  time.Time // when a pending order lets its stock go
}

// OrderItem is one line of an order.
type OrderItem struct {
	Product    kontor.ID
	RetailerID string
	Name       string
	Quantity   int
	Price      int64 // per item, minor units
}

// Short names an item the stock cannot cover.
type Short struct {
	RetailerID string `json:"retailer_id"`
	Wanted     int    `json:"wanted"`
	Available  int    `json:"available"`
}

// OrderStore keeps orders and reserves stock. Implemented by
// internal/store.
type OrderStore interface {
	// PlaceOrder reserves the stock of every item and records o, in one
	// transaction; when any item is short nothing is reserved and the
	// shortages come back. Stock never goes below zero, also with many
	// orders at once on several nodes.
	PlaceOrder(ctx context.Context, o Order) ([]Short, error)
	// ExpireOrders marks pending orders whose reservation ran out before t
	// expired and returns their stock, each exactly once; it returns how
	// many it expired.
	ExpireOrders(ctx context.Context, t time.Time, limit int) (int, error)
	// Order returns an order; kontor.NotFound when none.
	Order(ctx context.Context, id kontor.ID) (Order, error)
}

// OrderRequest is what a person orders: retailer ids and quantities.
type OrderRequest struct {
	Catalog  kontor.ID
	Customer kontor.Phone
	Items    map[string]int
	Text     string
}

// PlaceOrder prices a request from the catalog at this moment and places
// it. A refused order (short stock) returns the shortages and no error.
func (s *Service) PlaceOrder(ctx context.Context, orders OrderStore, r OrderRequest, hold time.Duration) (Order, []Short, error) {
	const op = "commerce.PlaceOrder"
	if len(r.Items) == 0 || len(r.Items) > 100 {
		return Order{}, nil, kontor.Errorf(kontor.Invalid, op, "an order has 1 to 100 products")
	}
	if len(r.Text) > 1024 {
		return Order{}, nil, kontor.Errorf(kontor.Invalid, op, "the text of an order is at most 1024 bytes")
	}
	cat, err := s.Catalog(ctx, r.Catalog)
	if err != nil {
		return Order{}, nil, err
	}
	if hold <= 0 {
		hold = DefaultReservation
	}
	now := s.clock.Now()
	o := Order{ID: s.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: r.Customer, State: OrderPending, Text: r.Text,
		Created: now, Expires: now.Add(hold)}
	// In retailer id order, as the order message lists them (client.Order):
	// the same order on every page, and the same order of stock locks for
	// every order, whatever the map's.
	for _, rid := range slices.Sorted(maps.Keys(r.Items)) {
		q := r.Items[rid]
		if q < 1 || q > MaxQuantity {
			return Order{}, nil, kontor.Errorf(kontor.Invalid, op, "the quantity of %q must be 1 to %d", rid, MaxQuantity)
		}
		p, err := s.store.ProductByRetailerID(ctx, cat.ID, rid)
		if err != nil {
			return Order{}, nil, kontor.Errorf(kontor.Invalid, op, "the catalog has no product %q", rid)
		}
		price := p.UnitPrice()
		if o.Currency == "" {
			o.Currency = p.Currency
		} else if o.Currency != p.Currency {
			return Order{}, nil, kontor.Errorf(kontor.Invalid, op, "an order is in one currency: %q is in %s, the others in %s", rid, p.Currency, o.Currency)
		}
		o.Items = append(o.Items, OrderItem{Product: p.ID, RetailerID: rid, Name: p.Name, Quantity: q, Price: price})
		o.Subtotal += price * int64(q)
	}
	o.Total = o.Subtotal
	short, err := orders.PlaceOrder(ctx, o)
	if err != nil {
		return Order{}, nil, err
	}
	if len(short) > 0 {
		return Order{}, short, nil
	}
	return o, nil, nil
}

// ShortError describes shortages for people.
func ShortError(short []Short) string {
	s := "not enough in stock:"
	for _, x := range short {
		s += fmt.Sprintf(" %s (wanted %d, %d left)", x.RetailerID, x.Wanted, x.Available)
	}
	return s
}

// transitions lists where an order may go from each state. Expired is set
// by the reservation sweep only; canceled and expired are final.
var transitions = map[string][]string{
	OrderPending:   {OrderConfirmed, OrderPaid, OrderCanceled},
	OrderConfirmed: {OrderPaid, OrderCanceled},
	OrderPaid:      {OrderShipped, OrderCompleted, OrderRefunded},
	OrderShipped:   {OrderCompleted, OrderRefunded},
	OrderCompleted: {OrderRefunded},
}

// CanMove says whether an order in state from may go to state to.
func CanMove(from, to string) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// OrderMover changes an order's state in the store.
type OrderMover interface {
	OrderStore
	// MoveOrder sets the state of order id from from to to, only if it is
	// still from; release gives the order's stock back in the same
	// transaction. It returns kontor.Conflict when the state changed.
	MoveOrder(ctx context.Context, id kontor.ID, from, to string, release bool) error
}

// MoveOrder changes the state of an order of business, as the business
// asks: confirmed, paid, shipped, completed, canceled or refunded. An
// order canceled before it was paid gives its stock back.
func (s *Service) MoveOrder(ctx context.Context, orders OrderMover, business, id kontor.ID, to string) (Order, error) {
	const op = "commerce.MoveOrder"
	o, err := orders.Order(ctx, id)
	if err != nil || o.Business != business {
		return Order{}, kontor.Errorf(kontor.NotFound, op, "no order %s", id)
	}
	if !CanMove(o.State, to) {
		return Order{}, kontor.Errorf(kontor.Conflict, op, "an order that is %s cannot become %s", o.State, to)
	}
	release := to == OrderCanceled && (o.State == OrderPending || o.State == OrderConfirmed)
	if err := orders.MoveOrder(ctx, id, o.State, to, release); err != nil {
		return Order{}, err
	}
	o.State = to
	return o, nil
}
