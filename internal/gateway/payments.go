package gateway

import (
	"context"
	"io"
	"net/http"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/wire"
)

// Payer lets people pay their own orders and payment providers report on
// payments.
type Payer interface {
	// Pay pays the order of customer; key is the caller's idempotency key
	// ("" for none).
	Pay(ctx context.Context, customer kontor.Phone, order kontor.ID, card, key string) (wire.PaymentOutcome, error)
	// Payment is the state of the payment of customer's order now (a
	// pending one asked after at its provider); NotFound when the order
	// is not customer's or has no payment.
	Payment(ctx context.Context, customer kontor.Phone, order kontor.ID) (wire.PaymentOutcome, error)
	// Webhook verifies and applies a provider's webhook call.
	Webhook(ctx context.Context, provider string, h http.Header, body []byte) error
}

// maxWebhookBody is the largest provider event the API reads.
const maxWebhookBody = 1 << 20

func (a *API) payOrder(w http.ResponseWriter, r *http.Request, _ identity.Device, acct identity.Account) {
	id, err := kontor.ParseID(r.PathValue("id"))
	if err != nil {
		WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "api", "%q is not an order id", r.PathValue("id")))
		return
	}
	var req wire.PayOrder
	if !ReadJSON(w, r, a.Log, &req) {
		return
	}
	out, err := a.Pay.Pay(r.Context(), acct.Phone, id, req.Card, r.Header.Get("Idempotency-Key"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	status := http.StatusOK
	if out.Status == wire.PaymentDeclined || out.Status == wire.PaymentCanceled {
		status = http.StatusPaymentRequired
	}
	WriteJSON(w, status, out)
}

// orderPayment answers GET /v1/orders/{id}/payment: what became of the
// order's payment, for a device that saw it pending.
func (a *API) orderPayment(w http.ResponseWriter, r *http.Request, _ identity.Device, acct identity.Account) {
	id, err := kontor.ParseID(r.PathValue("id"))
	if err != nil {
		WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "api", "%q is not an order id", r.PathValue("id")))
		return
	}
	out, err := a.Pay.Payment(r.Context(), acct.Phone, id)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

// paymentWebhook takes a provider's event: 200 once it is applied (or
// when it is about nothing kontor acts on), 400 for a bad signature or
// body, 5xx when it should be sent again.
func (a *API) paymentWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "api", "the event is over %d bytes or could not be read", maxWebhookBody))
		return
	}
	if err := a.Pay.Webhook(r.Context(), r.PathValue("provider"), r.Header, body); err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]bool{"received": true})
}
