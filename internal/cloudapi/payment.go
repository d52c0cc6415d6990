package cloudapi

// Payment status webhooks: a status entry with type "payment" (Status.Type)
// and the payment's details (Status.Payment), as the public payment flows
// send them.

// Payment statuses (Status.Status when Status.Type is "payment").
const (
	PaymentStatusPending  = "pending"
	PaymentStatusCaptured = "captured"
	PaymentStatusFailed   = "failed"
	PaymentStatusRefunded = "refunded" // kontor's: the public flows have no refund status
)

// PaymentStatus is the payment a payment status is about.
type PaymentStatus struct {
	ReferenceID string             `json:"reference_id"` // the order's id
	Amount      PaymentAmount      `json:"amount"`
	Currency    string             `json:"currency"`
	Transaction PaymentTransaction `json:"transaction"`
}

// PaymentAmount is an amount as the payment messages write it: Value /
// Offset in the currency's major unit (1999 / 100 = 19.99).
type PaymentAmount struct {
	Value  int64 `json:"value"`
	Offset int64 `json:"offset"`
}

// PaymentTransaction is the provider's side of a payment.
type PaymentTransaction struct {
	ID               string         `json:"id"`                          // kontor's payment id
	PGTransactionID  string         `json:"pg_transaction_id,omitempty"` // the provider's id (pi_…)
	Type             string         `json:"type"`                        // the provider: sandbox, stripe
	Status           string         `json:"status"`                      // success, pending, failed, refunded
	CreatedTimestamp int64          `json:"created_timestamp"`
	UpdatedTimestamp int64          `json:"updated_timestamp"`
	Method           *PaymentMethod `json:"method,omitempty"`
	Error            *PaymentError  `json:"error,omitempty"`
	RefundID         string         `json:"refund_id,omitempty"` // kontor's: the provider's refund
}

// PaymentMethod says how a payment was made.
type PaymentMethod struct {
	Type string `json:"type"` // card
}

// PaymentError says why a payment failed or was refunded.
type PaymentError struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}
