package wire

// PayOrder is POST /v1/orders/{id}/pay: the person who placed the order
// pays it with a card (a sandbox test card, or a Stripe PaymentMethod id).
// An Idempotency-Key header makes a retried request find the first
// payment; without one, paying an order again returns its payment.
type PayOrder struct {
	Card string `json:"card"`
}

// Payment outcomes (PaymentOutcome.Status).
const (
	PaymentSucceeded = "succeeded" // the order is paid
	PaymentPending   = "pending"   // the provider is still deciding; pay again (or wait) to see the outcome
	PaymentDeclined  = "declined"  // nothing was taken; the order keeps its stock until it expires
	PaymentCanceled  = "canceled"  // stopped before it completed; nothing was taken
	PaymentRefunded  = "refunded"  // the money went back (refunding: on its way back)
	PaymentRefunding = "refunding"
)

// PaymentOutcome answers PayOrder (HTTP 200, or 402 when declined), and
// GET /v1/orders/{id}/payment: the state of the order's payment now.
type PaymentOutcome struct {
	PaymentID   string `json:"payment_id"`
	OrderID     string `json:"order_id"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	Amount      int64  `json:"amount"` // minor units
	Currency    string `json:"currency"`
	Card        string `json:"card,omitempty"` // "visa 4242"
	Provider    string `json:"provider"`
	OrderStatus string `json:"order_status,omitempty"`
}
