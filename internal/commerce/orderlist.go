package commerce

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kontor-chat/kontor"
)

// OrderStates are the states an order can be in, in the order people
// meet them.
var OrderStates = []string{OrderPending, OrderConfirmed, OrderPaid, OrderShipped, OrderCompleted, OrderRefunded, OrderCanceled, OrderExpired}

// MaxOrderPage is the most orders one page of a list holds.
const MaxOrderPage = 200

// OrderCursor is where a page of orders continues: the orders placed
// before Created, or at Created with an id below ID (newest first).
type OrderCursor struct {
	Created time.Time
	ID      kontor.ID
}

// OrderQuery asks for a page of a business's orders, newest first: those
// in State ("" is every state), after the cursor (zero: from the newest),
// at most Limit (1 to MaxOrderPage).
type OrderQuery struct {
	Business kontor.ID
	State    string
	After    OrderCursor
	Limit    int
}

// OrderLister lists orders. Implemented by internal/store.
type OrderLister interface {
	// ListOrders returns up to q.Limit orders of q.Business in q.State
	// ("" any), newest first (created, then id, descending), strictly
	// after q.After when it is set; more says whether there are others
	// after the last one.
	ListOrders(ctx context.Context, q OrderQuery) (orders []Order, more bool, err error)
	// OrderEvents returns the moves and charges of order id, oldest
	// first.
	OrderEvents(ctx context.Context, id kontor.ID) ([]OrderEvent, error)
}

// Kinds of order events.
const (
	EventMove    = "move"    // the state went From → To (MoveOrder)
	EventCharges = "charges" // a payment request set tax, shipping, discount and total
)

// OrderEvent is one line of an order's history, written by the store in
// the transaction of the change. Placing, payments and expiry are not
// events: the order and its payments carry their times.
type OrderEvent struct {
	At                             time.Time
	Kind                           string
	From, To                       string // EventMove
	Tax, Shipping, Discount, Total int64  // EventCharges
}

// ListOrders checks q and returns its page of orders.
func ListOrders(ctx context.Context, store OrderLister, q OrderQuery) ([]Order, bool, error) {
	const op = "commerce.ListOrders"
	if q.State != "" && !slices.Contains(OrderStates, q.State) {
		return nil, false, kontor.Errorf(kontor.Invalid, op, "%q is not an order state; choose one of the list", q.State)
	}
	if q.Limit < 1 || q.Limit > MaxOrderPage {
		return nil, false, kontor.Errorf(kontor.Invalid, op, "a page holds 1 to %d orders, not %d", MaxOrderPage, q.Limit)
	}
	return store.ListOrders(ctx, q)
}

// MoveError says in words why an order in state from cannot become to,
// and what can be done with it instead.
func MoveError(from, to string) string {
	next := transitions[from]
	if len(next) == 0 {
		return fmt.Sprintf("The order is %s, and a %s order does not change any more.", from, from)
	}
	return fmt.Sprintf("An order that is %s cannot become %s; it can become %s.", from, to, orList(next))
}

// NextStates lists the states an order in state from may move to.
func NextStates(from string) []string { return slices.Clone(transitions[from]) }

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := ""
	for i, x := range s[:len(s)-1] {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out + " or " + s[len(s)-1]
}
