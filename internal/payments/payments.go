package payments

import (
	"context"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
)

// State is where a payment is.
type State string

// The states of a payment (see the package documentation).
const (
	Created   State = "created"   // recorded; the provider has not answered yet
	Pending   State = "pending"   // the provider is still deciding
	Succeeded State = "succeeded" // the money is taken and the order is paid
	Declined  State = "declined"  // the provider refused the card; nothing was taken
	Canceled  State = "canceled"  // stopped before it completed; nothing was taken
	Refunding State = "refunding" // money was taken and must go back
	Refunded  State = "refunded"  // the money went back
)

// Live says whether a payment in state s holds money or may take it; an
// order has at most one live payment.
func (s State) Live() bool { return s != Declined && s != Canceled && s != Refunded }

// Payment is one attempt to pay an order. Amounts are minor units of
// Currency.
type Payment struct {
	ID         kontor.ID
	Order      kontor.ID
	Business   kontor.ID
	Customer   kontor.Phone
	Key        string // the idempotency key, unique in the store
	Provider   string // "sandbox", "stripe"
	ProviderID string // the provider's id of the charge (pi_…, sbx_…); "" until it answered
	Method     string // what the provider charges: a sandbox test card, a Stripe PaymentMethod id
	Card       string // for people: "visa 4242"
	Amount     int64
	Currency   string
	State      State
	Reason     string // why it was declined, canceled or refunded
	Refund     string // the provider's id of the refund
	Created    time.Time
	Updated    time.Time
	// Announced is the last state every observer accepted.
	Announced State
}

// Charge asks a provider to take an amount.
type Charge struct {
	Key         string // idempotency key: the same key gives the same charge
	Amount      int64  // minor units, > 0
	Currency    string // ISO 4217, upper case
	Method      string // as Provider.Method returned it
	Order       kontor.ID
	Payment     kontor.ID
	Description string
}

// Result is the provider's view of a charge.
type Result struct {
	ID       string // the provider's id
	State    State  // Pending, Succeeded, Declined or Canceled
	Amount   int64  // 0 when the provider did not say
	Currency string
	Reason   string // why it was declined or canceled
}

// RefundRequest asks a provider to give a charge's money back.
type RefundRequest struct {
	Key      string
	ID       string // the provider's id of the charge
	Amount   int64
	Currency string
	Reason   string
}

// Event is what a provider's webhook says: the charge ID is now in State
// (Pending, Succeeded, Declined, Canceled, or Refunded when it was refunded
// at the provider). An event kontor does not act on has an empty State.
type Event struct {
	ID    string // the provider's event id
	Type  string // the provider's event type
	State State
	// Charge is the provider's id of the charge the event is about.
	Charge string
	Amount int64
	// Currency is upper case.
	Currency string
	Reason   string
	// Payment is kontor's payment id when the provider carries it (Stripe:
	// metadata[kontor_payment]), so an event that overtakes the answer to
	// the charge still finds its payment.
	Payment kontor.ID
}

// Header is what webhook verification reads from a request: an
// http.Header does.
type Header interface {
	Get(key string) string
}

// Provider takes payments. Every method that changes something takes an
// idempotency key: called again with the same key, it returns the first
// answer and changes nothing more.
type Provider interface {
	// Name is the provider's name in payments and webhook paths.
	Name() string
	// Method checks what a person gave to pay with and returns what to
	// charge (never a real card number: the sandbox takes only its test
	// cards, Stripe a PaymentMethod id) and how to show it ("visa 4242").
	// A bad one is kontor.Invalid.
	Method(card string) (method, display string, err error)
	// Charge creates and confirms a charge. A declined card is a Result
	// in state Declined, not an error; errors are the provider's faults
	// or ours (ErrProvider).
	Charge(ctx context.Context, c Charge) (Result, error)
	// Lookup returns the charge's current state.
	Lookup(ctx context.Context, id string) (Result, error)
	// Cancel stops a pending charge; one that already succeeded comes
	// back Succeeded.
	Cancel(ctx context.Context, id, key string) (Result, error)
	// Refund gives a charge's money back and returns the refund's id.
	Refund(ctx context.Context, r RefundRequest) (string, error)
	// Webhook verifies a webhook call's signature and reads its event;
	// a bad or stale signature is ErrSignature.
	Webhook(h Header, body []byte, now time.Time) (Event, error)
}

// Errors callers tell apart.
var (
	// ErrSignature: a webhook call is not signed by the provider, or
	// its signature is too old.
	ErrSignature = errors.New("payments: bad webhook signature")
	// ErrProvider: the provider failed or refused a request for a reason
	// that is not the card's.
	ErrProvider = errors.New("payments: the payment provider failed")
	// ErrNotPayable: the order cannot be paid (expired, canceled).
	ErrNotPayable = errors.New("payments: the order cannot be paid")
)

// Move is a change of a payment's state in the store, applied only if the
// payment is in one of From.
type Move struct {
	ID   kontor.ID
	From []State
	To   State
	// Set when not empty.
	ProviderID, Card, Reason, Refund string
	// PayOrder (with To Succeeded): move the order to paid in the same
	// transaction, if it may still be paid at At — pending with its
	// reservation running past At, or confirmed — and its total and
	// currency are the payment's. If not, the payment becomes Refunding
	// instead (with the reason) and the order is left alone.
	PayOrder bool
	// RefundOrder (with To Refunded): move the order to refunded in the
	// same transaction if it is paid, shipped or completed.
	RefundOrder bool
	At          time.Time
}

// Store keeps payments. Implemented by internal/store.
type Store interface {
	// StartPayment records p (state Created) unless a payment with its
	// key exists, or a live payment of its order does: then it returns
	// that one and true. The store enforces both uniquely, across nodes.
	StartPayment(ctx context.Context, p Payment) (Payment, bool, error)
	// Payment returns a payment; kontor.NotFound when none.
	Payment(ctx context.Context, id kontor.ID) (Payment, error)
	// PaymentByCharge finds a payment by its provider's charge id.
	PaymentByCharge(ctx context.Context, provider, id string) (Payment, error)
	// OrderPayments returns an order's payments, oldest first.
	OrderPayments(ctx context.Context, order kontor.ID) ([]Payment, error)
	// MovePayment applies m and returns the payment as it is afterwards
	// and whether m applied.
	MovePayment(ctx context.Context, m Move) (Payment, bool, error)
	// AnnouncePayment records that observers accepted state s of
	// payment id.
	AnnouncePayment(ctx context.Context, id kontor.ID, s State) error
	// PaymentsToSweep returns up to limit payments that are created or
	// pending and last changed before stale, refunding, or not yet
	// announced in their state.
	PaymentsToSweep(ctx context.Context, stale time.Time, limit int) ([]Payment, error)
}
