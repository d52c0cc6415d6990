// Package payments takes the money for kontor orders: a small Provider
// interface (charge, look up, cancel, refund, verify a webhook), two
// providers behind it — the built-in Sandbox with documented test cards,
// and Stripe, spoken over its REST API with net/http — and the Service
// that ties a payment to an order.
//
// The model. A payment is one attempt to pay one order, keyed by an
// idempotency key that is unique in the store. Its states:
//
//	created → pending → succeeded → refunded
//	   │         │  └──→ declined / canceled
//	   │         └────→ refunding → refunded   (the order was gone, or its total changed, when the money came)
//	   └─→ succeeded / declined / canceled
//
// The store allows at most one payment per order that holds money or may
// take it (created, pending, succeeded, refunding), so an order is never
// charged twice, however many requests race on however many nodes.
// A success is recorded in the same transaction that moves the order to
// paid, and only while the order may still be paid (pending and not past
// its reservation, or confirmed) for the amount the payment took (a
// payment request may change an order's total while it is being paid:
// that payment is refunded and the order may be paid again). When the reservation sweep wins that
// race, the payment becomes refunding and the Service gives the money back
// through the provider; when the payment wins, the sweep finds nothing to
// expire. Either way, once.
//
// Every provider call carries an idempotency key derived from the
// payment's, so a retried call (a crash, a timeout, two nodes) never makes
// a second charge or refund at the provider either.
//
// Observers (the business's payment status webhook, billing's commerce
// fee) hear of every state a payment reaches, at least once, after it is
// committed: the Service calls them at once, and Sweep calls them again
// until they all return nil. They must be idempotent by (payment id,
// state).
//
// This package never imports the store or HTTP servers; net/http is used
// only as a client (Stripe's API, the sandbox's webhook calls).
package payments
