package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// PayOrder pays an order the person placed, with a card (a sandbox test
// card such as 4242424242424242, or a Stripe PaymentMethod id). key, when
// not empty, is sent as the Idempotency-Key: the same key again returns
// the first payment. A declined card comes back as an outcome with Status
// "declined", not as an error; an order that cannot be paid (expired,
// canceled, not the person's) is an error.
func (a *API) PayOrder(ctx context.Context, order, card, key string) (wire.PaymentOutcome, error) {
	const op = "client.PayOrder"
	b, err := json.Marshal(wire.PayOrder{Card: card})
	if err != nil {
		return wire.PaymentOutcome{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(a.Server, "/")+"/v1/orders/"+url.PathEscape(order)+"/pay", bytes.NewReader(b))
	if err != nil {
		return wire.PaymentOutcome{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "bad server URL", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if a.Credential == "" {
		return wire.PaymentOutcome{}, kontor.Errorf(kontor.Unauthenticated, op, "this call needs a device credential")
	}
	req.Header.Set("Authorization", "Bearer "+a.Credential)
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return wire.PaymentOutcome{}, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "could not reach the server at " + a.Server, Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var out wire.PaymentOutcome
	if (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPaymentRequired) && json.Unmarshal(body, &out) == nil && out.Status != "" {
		return out, nil
	}
	return wire.PaymentOutcome{}, answerError(op, resp.StatusCode, body)
}

// OrderPayment asks what became of the payment of an order the person
// placed (after PayOrder answered "pending", say): the outcome as PayOrder
// gives it. The error is kontor.NotFound when the order is not the
// person's or nobody paid it yet.
func (a *API) OrderPayment(ctx context.Context, order string) (wire.PaymentOutcome, error) {
	var out wire.PaymentOutcome
	err := a.do(ctx, "client.OrderPayment", http.MethodGet, "/v1/orders/"+url.PathEscape(order)+"/payment", true, nil, &out)
	return out, err
}
