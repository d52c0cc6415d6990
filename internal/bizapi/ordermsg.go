package bizapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/endpoint"
)

// Orders changed by the messages a business sends about them: a payment
// request (order_details) sets an order's charges, order news
// (order_status) moves it. An endpoint does this when it sends such a
// message; a self-hosted endpoint asks the platform through
// POST /{order-id}/order_messages (a kontor extension), answered here.

// orderMessageIn is the body of POST /{order-id}/order_messages: the
// person the message goes to, and either the payment request in minor
// units or the order_status value.
type orderMessageIn struct {
	Customer       string              `json:"customer"`
	PaymentRequest *paymentRequestJSON `json:"payment_request"`
	OrderStatus    string              `json:"order_status"`
}

type paymentRequestJSON struct {
	Currency  string `json:"currency"`
	CatalogID string `json:"catalog_id,omitempty"`
	Items     []struct {
		RetailerID string `json:"retailer_id"`
		Quantity   int64  `json:"quantity"`
		Price      int64  `json:"price"`
	} `json:"items"`
	Subtotal int64 `json:"subtotal"`
	Tax      int64 `json:"tax"`
	Shipping int64 `json:"shipping"`
	Discount int64 `json:"discount"`
	Total    int64 `json:"total"`
}

func (p *paymentRequestJSON) request() commerce.PaymentRequest {
	r := commerce.PaymentRequest{Currency: p.Currency, CatalogID: p.CatalogID, Subtotal: p.Subtotal, Tax: p.Tax, Shipping: p.Shipping,
		Discount: p.Discount, Total: p.Total}
	for _, it := range p.Items {
		r.Items = append(r.Items, commerce.RequestItem{RetailerID: it.RetailerID, Quantity: it.Quantity, Price: it.Price})
	}
	return r
}

// orderMessages serves POST /{order-id}/order_messages with a token of
// the order's business (messaging scope). An order of another business
// answers as if there were none (100, subcode 33): the caller then sends
// its message as a free-standing one.
func (a *API) orderMessages(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	if a.Orders == nil {
		a.fail(w, notFound(id))
		return
	}
	tok := token(r)
	if tok == "" {
		a.fail(w, cloudapi.NewError(cloudapi.CodeAccessToken, "An active access token must be used to query information about the current user."))
		return
	}
	o, err := a.Orders.Order(r.Context(), id)
	if err != nil {
		a.fail(w, notFound(id))
		return
	}
	if err := a.Auth.Check(r.Context(), tok, o.Business, business.ScopeMessaging); err != nil {
		if kontor.KindOf(err) == kontor.Forbidden {
			a.fail(w, notFound(id))
			return
		}
		a.failErr(w, err)
		return
	}
	body, cerr := a.readBody(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	var in orderMessageIn
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: %v", err))
		return
	}
	if in.Customer == "" {
		a.fail(w, cloudapi.Missing("customer"))
		return
	}
	customer, err := kontor.ParsePhone("+" + strings.TrimPrefix(in.Customer, "+"))
	if err != nil {
		a.fail(w, cloudapi.Invalid("customer", fmt.Sprintf("%q is not a phone number with its country code", in.Customer)))
		return
	}
	switch {
	case (in.PaymentRequest == nil) == (in.OrderStatus == ""):
		a.fail(w, cloudapi.NewError(cloudapi.CodeMissingParameter, "The parameter payment_request or order_status is required (one of them)."))
		return
	case in.PaymentRequest != nil:
		o, err = a.Orders.RequestPayment(r.Context(), o.Business, id, customer, in.PaymentRequest.request())
	default:
		o, err = a.Orders.UpdateOrder(r.Context(), o.Business, id, customer, in.OrderStatus)
	}
	if kontor.KindOf(err) == kontor.NotFound {
		a.fail(w, notFound(id))
		return
	}
	if err != nil {
		cerr := endpoint.OrderError(err)
		if cerr.Code == cloudapi.CodeUnknown {
			a.Log.Error("changing an order", "order", id, "err", err)
		}
		a.fail(w, cerr)
		return
	}
	a.ok(w, orderJSON(o))
}

// PlatformOrders changes orders on a platform's Business API, for a
// self-hosted endpoint (endpoint.Orders): POST
// /{version}/{order-id}/order_messages with the business's access token.
type PlatformOrders struct {
	Base  string // the platform's base URL
	Token string // an access token with the messaging scope
	// Client makes the calls (a client with a 10-second timeout if nil).
	Client *http.Client
}

// RequestPayment asks the platform to set the charges of order id.
func (p *PlatformOrders) RequestPayment(ctx context.Context, id kontor.ID, customer kontor.Phone, r commerce.PaymentRequest) error {
	pr := &paymentRequestJSON{Currency: r.Currency, CatalogID: r.CatalogID, Subtotal: r.Subtotal, Tax: r.Tax, Shipping: r.Shipping,
		Discount: r.Discount, Total: r.Total}
	for _, it := range r.Items {
		pr.Items = append(pr.Items, struct {
			RetailerID string `json:"retailer_id"`
			Quantity   int64  `json:"quantity"`
			Price      int64  `json:"price"`
		}{it.RetailerID, it.Quantity, it.Price})
	}
	return p.post(ctx, id, orderMessageIn{Customer: string(customer), PaymentRequest: pr})
}

// UpdateOrder asks the platform to move order id as status says.
func (p *PlatformOrders) UpdateOrder(ctx context.Context, id kontor.ID, customer kontor.Phone, status string) error {
	return p.post(ctx, id, orderMessageIn{Customer: string(customer), OrderStatus: status})
}

// post sends one change: kontor.NotFound when the platform knows no such
// order of this business, kontor.Unavailable when it cannot be asked, and
// its public error (in the chain) when it refuses.
func (p *PlatformOrders) post(ctx context.Context, id kontor.ID, in orderMessageIn) error {
	const op = "bizapi.PlatformOrders"
	b, err := json.Marshal(in)
	if err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(p.Base, "/")+"/v23.0/"+id.String()+"/order_messages", bytes.NewReader(b))
	if err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Content-Type", "application/json")
	client := p.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform could not be asked to change the order", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform's answer could not be read", Err: err}
	}
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var out struct {
		Error struct {
			Code      int `json:"code"`
			Subcode   int `json:"error_subcode"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &out) != nil || out.Error.Code == 0 || resp.StatusCode >= 500 {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: fmt.Sprintf("the platform answered the order change with HTTP %d", resp.StatusCode)}
	}
	if out.Error.Subcode == 33 {
		return kontor.Errorf(kontor.NotFound, op, "the platform has no order %s of this business", id)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// The endpoint's own credentials, not the caller's request: the
		// caller can do nothing about it but wait for the operator.
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: fmt.Sprintf("the platform refused the endpoint's access token (%d: %s)", out.Error.Code, out.Error.ErrorData.Details)}
	}
	cerr := cloudapi.NewError(out.Error.Code, out.Error.ErrorData.Details)
	return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: cerr.Details, Err: cerr}
}
