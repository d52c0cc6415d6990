package endpoint

import (
	"context"
	"errors"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/wire"
)

// Orders ties the payment requests (order_details) and order news
// (order_status) a business sends to the orders people placed with it on
// the platform. Hosted endpoints call the platform's commerce service;
// self-hosted ones its Business API. Both answer for the endpoint's own
// business only.
type Orders interface {
	// RequestPayment sets the tax, shipping and discount of order id, as
	// the payment request r to customer states them
	// (commerce.Service.RequestPayment). kontor.NotFound when id is no
	// order of this business.
	RequestPayment(ctx context.Context, id kontor.ID, customer kontor.Phone, r commerce.PaymentRequest) error
	// UpdateOrder moves order id as order news with status to customer
	// says (commerce.Service.ApplyOrderStatus). kontor.NotFound when id is
	// no order of this business.
	UpdateOrder(ctx context.Context, id kontor.ID, customer kontor.Phone, status string) error
}

// linkOrder ties a payment request or order news in c to the kontor order
// its reference id names, if it names one of this business: the order
// takes the request's charges or moves, and c carries the order's id. A
// reference id that is not an order of this business (the business's own
// id) leaves every order alone: the message goes out as it is. It runs
// before the message is sent: a refused change sends nothing; a send that
// fails after the change leaves the order changed, and sending the same
// message again changes it no further.
func (e *Endpoint) linkOrder(ctx context.Context, to kontor.Phone, c *wire.Content) *cloudapi.Error {
	in := c.Interactive
	if in == nil || e.cfg.Orders == nil {
		return nil
	}
	var ref string
	switch {
	case in.Type == wire.InteractiveOrderDetails && in.Payment != nil:
		ref = in.Payment.ReferenceID
	case in.Type == wire.InteractiveOrderStatus && in.OrderStatus != nil:
		ref = in.OrderStatus.ReferenceID
	default:
		return nil
	}
	id, err := kontor.ParseID(ref)
	if err != nil {
		return nil // not a kontor id
	}
	if in.Payment != nil {
		err = e.cfg.Orders.RequestPayment(ctx, id, to, paymentRequest(in.Payment))
	} else {
		err = e.cfg.Orders.UpdateOrder(ctx, id, to, in.OrderStatus.Status)
	}
	switch {
	case kontor.KindOf(err) == kontor.NotFound:
		return nil
	case err != nil:
		cerr := OrderError(err)
		if cerr.Code == cloudapi.CodeUnknown {
			e.log.Error("changing an order for a message", "order", id, "err", err)
		}
		return cerr
	}
	if in.Payment != nil {
		in.Payment.OrderID = id.String()
	} else {
		in.OrderStatus.OrderID = id.String()
	}
	return nil
}

// paymentRequest is what p asks for, for commerce.
func paymentRequest(p *wire.PaymentRequest) commerce.PaymentRequest {
	r := commerce.PaymentRequest{Currency: p.Currency, CatalogID: p.CatalogID, Subtotal: p.Subtotal, Total: p.Total}
	for _, it := range p.Items {
		r.Items = append(r.Items, commerce.RequestItem{RetailerID: it.RetailerID, Quantity: it.Quantity, Price: it.Price})
	}
	for _, c := range []struct {
		ch  *wire.Charge
		dst *int64
	}{{p.Tax, &r.Tax}, {p.Shipping, &r.Shipping}, {p.Discount, &r.Discount}} {
		if c.ch != nil {
			*c.dst = c.ch.Amount
		}
	}
	return r
}

// OrderError is the public error for an order change that was refused:
// 131009 naming the parameter of the message that does not fit the order
// (interactive.action.parameters.total_amount, ….order.status …), 131016
// when the platform cannot be asked, 131000 for a fault of ours. A public
// error in err's chain (the platform's own answer to a self-hosted
// endpoint) is returned as it is.
func OrderError(err error) *cloudapi.Error {
	const pp = "interactive.action.parameters."
	var ce *cloudapi.Error
	if errors.As(err, &ce) {
		return ce
	}
	var fe *commerce.FieldError
	kind := kontor.KindOf(err)
	switch {
	case errors.As(err, &fe) && (kind == kontor.Invalid || kind == kontor.Conflict):
		return cloudapi.Invalid(pp+fe.Field, fe.Reason)
	case kind == kontor.Conflict:
		return cloudapi.Invalid(pp+"reference_id", kontor.MessageOf(err))
	case kind == kontor.Invalid:
		return cloudapi.Invalid(pp+"reference_id", kontor.MessageOf(err))
	case kind == kontor.Unavailable:
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The order could not be changed now; try again.")
	}
	return cloudapi.Internal()
}
