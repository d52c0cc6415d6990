package commerce

import (
	"context"
	"fmt"

	"github.com/kontor-chat/kontor"
)

// Payment requests and status updates that a business sends about an order
// (the public order_details and order_status messages). The Business API
// checks a message's own shape; this file checks it against the order the
// person placed and changes the order.
//
// Field names in the errors are those of the message's
// interactive.action.parameters (total_amount, order.subtotal,
// order.items[1].quantity …), so the API can name the parameter.

// OrderTotal returns subtotal + tax + shipping - discount. Every part is 0
// to MaxPrice and the total may not fall below 0; the error names the
// part that breaks the rule. Exact integer arithmetic: with each part at
// most 10^15 nothing can overflow.
func OrderTotal(subtotal, tax, shipping, discount int64) (int64, *FieldError) {
	for _, p := range []struct {
		field string
		v     int64
	}{{"order.subtotal", subtotal}, {"order.tax", tax}, {"order.shipping", shipping}, {"order.discount", discount}} {
		if p.v < 0 || p.v > MaxPrice {
			return 0, &FieldError{p.field, fmt.Sprintf("%d is not an amount from 0 to %d", p.v, int64(MaxPrice))}
		}
	}
	total := subtotal + tax + shipping - discount
	if total < 0 {
		return 0, &FieldError{"order.discount", fmt.Sprintf("a discount of %d is more than subtotal + tax + shipping (%d): the total would be below 0", discount, subtotal+tax+shipping)}
	}
	return total, nil
}

// PaymentRequest is what a payment request asks a person to pay, in minor
// units of Currency.
type PaymentRequest struct {
	Currency  string
	CatalogID string // "" when the message names none
	Items     []RequestItem
	Subtotal  int64
	Tax       int64
	Shipping  int64
	Discount  int64
	Total     int64
}

// RequestItem is a line of a payment request: Price is what one item
// costs (the sale amount when the message gives one).
type RequestItem struct {
	RetailerID string
	Quantity   int64
	Price      int64
}

// ChargeStore keeps the charges of orders. Implemented by internal/store.
type ChargeStore interface {
	OrderMover
	// SetOrderCharges sets tax, shipping, discount and total of order id
	// in one write, only while the order is pending or confirmed and
	// subtotal + tax + shipping - discount = total; kontor.Conflict when
	// the order is in another state (or gone).
	SetOrderCharges(ctx context.Context, id kontor.ID, tax, shipping, discount, total int64) error
}

// orderOf finds order id of business and checks it is customer's:
// kontor.NotFound for an order of another business (or none), Invalid
// when another person placed it.
func (s *Service) orderOf(ctx context.Context, orders OrderStore, op string, business, id kontor.ID, customer kontor.Phone) (Order, error) {
	o, err := orders.Order(ctx, id)
	if kontor.KindOf(err) == kontor.NotFound || (err == nil && o.Business != business) {
		return Order{}, kontor.Errorf(kontor.NotFound, op, "no order %s", id)
	}
	if err != nil {
		return Order{}, err
	}
	if o.Customer != customer {
		return Order{}, invalid(op, &FieldError{"reference_id", fmt.Sprintf("order %s was placed by another person than the recipient", id)})
	}
	return o, nil
}

// CheckPaymentRequest says whether r asks for exactly order o: its
// currency, its items with their quantities and prices (in any order), its
// subtotal, and a total that is the subtotal plus r's charges. It returns
// the first rule r breaks.
func CheckPaymentRequest(o Order, r PaymentRequest) *FieldError {
	if r.Currency != o.Currency {
		return &FieldError{"currency", fmt.Sprintf("order %s is in %s, not %s", o.ID, o.Currency, r.Currency)}
	}
	if r.CatalogID != "" && r.CatalogID != o.Catalog.String() {
		return &FieldError{"order.catalog_id", fmt.Sprintf("order %s is from catalog %s, not %s", o.ID, o.Catalog, r.CatalogID)}
	}
	lines := make(map[string]OrderItem, len(o.Items))
	for _, it := range o.Items {
		lines[it.RetailerID] = it
	}
	seen := map[string]bool{}
	for i, it := range r.Items {
		p := fmt.Sprintf("order.items[%d]", i)
		if it.RetailerID == "" {
			return &FieldError{p + ".retailer_id", fmt.Sprintf("required: order %s is a kontor order, and its items are named by retailer id", o.ID)}
		}
		line, ok := lines[it.RetailerID]
		if !ok {
			return &FieldError{p + ".retailer_id", fmt.Sprintf("order %s has no item %q", o.ID, it.RetailerID)}
		}
		if seen[it.RetailerID] {
			return &FieldError{p + ".retailer_id", fmt.Sprintf("%q is listed twice", it.RetailerID)}
		}
		seen[it.RetailerID] = true
		if it.Quantity != int64(line.Quantity) {
			return &FieldError{p + ".quantity", fmt.Sprintf("order %s has %d of %q, not %d", o.ID, line.Quantity, it.RetailerID, it.Quantity)}
		}
		if it.Price != line.Price {
			return &FieldError{p + ".amount", fmt.Sprintf("%q costs %d in order %s (minor units of %s, the price when it was ordered), not %d", it.RetailerID, line.Price, o.ID, o.Currency, it.Price)}
		}
	}
	if len(seen) != len(lines) {
		for _, it := range o.Items {
			if !seen[it.RetailerID] {
				return &FieldError{"order.items", fmt.Sprintf("order %s also has %d of %q", o.ID, it.Quantity, it.RetailerID)}
			}
		}
	}
	if r.Subtotal != o.Subtotal {
		return &FieldError{"order.subtotal", fmt.Sprintf("order %s has a subtotal of %d, not %d", o.ID, o.Subtotal, r.Subtotal)}
	}
	total, fe := OrderTotal(o.Subtotal, r.Tax, r.Shipping, r.Discount)
	if fe != nil {
		return fe
	}
	if total != r.Total {
		return &FieldError{"total_amount", fmt.Sprintf("subtotal + tax + shipping - discount of order %s is %d, not %d", o.ID, total, r.Total)}
	}
	return nil
}

// RequestPayment sets the tax, shipping and discount of order id of
// business, as the payment request r to customer states them, and returns
// the order with its new total. The order must be customer's and still
// pending or confirmed, and r must ask for exactly its items and
// subtotal (CheckPaymentRequest); otherwise nothing changes. An order of
// another business is kontor.NotFound. Sending the same request again
// changes nothing more.
func (s *Service) RequestPayment(ctx context.Context, orders ChargeStore, business, id kontor.ID, customer kontor.Phone, r PaymentRequest) (Order, error) {
	const op = "commerce.RequestPayment"
	o, err := s.orderOf(ctx, orders, op, business, id, customer)
	if err != nil {
		return Order{}, err
	}
	if o.State != OrderPending && o.State != OrderConfirmed {
		return Order{}, &kontor.Error{Kind: kontor.Conflict, Op: op, Msg: fmt.Sprintf("order %s is %s", id, o.State),
			Err: &FieldError{"reference_id", fmt.Sprintf("order %s is %s: a payment request can be sent only while it is pending or confirmed", id, o.State)}}
	}
	if fe := CheckPaymentRequest(o, r); fe != nil {
		return Order{}, invalid(op, fe)
	}
	if err := orders.SetOrderCharges(ctx, id, r.Tax, r.Shipping, r.Discount, r.Total); err != nil {
		return Order{}, err
	}
	o.Tax, o.Shipping, o.Discount, o.Total = r.Tax, r.Shipping, r.Discount, r.Total
	return o, nil
}

// Statuses of the public order_status message.
const (
	StatusPending          = "pending"
	StatusProcessing       = "processing"
	StatusPartiallyShipped = "partially_shipped"
	StatusShipped          = "shipped"
	StatusCompleted        = "completed"
	StatusCanceled         = "canceled"
)

// StatusTarget returns the state an order in state from goes to when the
// business says status: processing confirms a pending order (and leaves a
// confirmed or paid one as it is), shipped, completed and canceled move
// it there, pending and partially_shipped change nothing. ok is false
// when status does not fit the order's state (a canceled order cannot be
// processing); the move itself is then still checked by CanMove.
func StatusTarget(from, status string) (to string, ok bool) {
	switch status {
	case StatusProcessing:
		switch from {
		case OrderPending:
			return OrderConfirmed, true
		case OrderConfirmed, OrderPaid:
			return from, true
		}
	case StatusPending:
		return from, from == OrderPending
	case StatusPartiallyShipped:
		return from, from == OrderPaid || from == OrderShipped
	case StatusShipped:
		return OrderShipped, from == OrderShipped || CanMove(from, OrderShipped)
	case StatusCompleted:
		return OrderCompleted, from == OrderCompleted || CanMove(from, OrderCompleted)
	case StatusCanceled:
		return OrderCanceled, from == OrderCanceled || CanMove(from, OrderCanceled)
	}
	return from, false
}

// ApplyOrderStatus moves order id of business as an order_status message
// to customer says (StatusTarget), with MoveOrder's rules: a canceled
// order gives its stock back. A status that repeats the order's state
// changes nothing (so a retried message is harmless). An order of another
// business is kontor.NotFound; a status that does not fit the order is a
// Conflict naming both; captured and failed are Invalid for a kontor
// order, whose payments kontor records itself.
func (s *Service) ApplyOrderStatus(ctx context.Context, orders OrderMover, business, id kontor.ID, customer kontor.Phone, status string) (Order, error) {
	const op = "commerce.ApplyOrderStatus"
	o, err := s.orderOf(ctx, orders, op, business, id, customer)
	if err != nil {
		return Order{}, err
	}
	switch status {
	case StatusPending, StatusProcessing, StatusPartiallyShipped, StatusShipped, StatusCompleted, StatusCanceled:
	case "captured", "failed":
		return Order{}, invalid(op, &FieldError{"order.status", fmt.Sprintf("%q is a payment status: kontor records the payments of order %s itself", status, id)})
	default:
		return Order{}, invalid(op, &FieldError{"order.status", fmt.Sprintf("%q is not an order status", status)})
	}
	to, ok := StatusTarget(o.State, status)
	if !ok {
		return Order{}, &kontor.Error{Kind: kontor.Conflict, Op: op, Msg: fmt.Sprintf("order %s is %s", id, o.State),
			Err: &FieldError{"order.status", fmt.Sprintf("order %s is %s: it cannot be %s", id, o.State, status)}}
	}
	if to == o.State {
		return o, nil
	}
	return s.MoveOrder(ctx, orders, business, id, to)
}
