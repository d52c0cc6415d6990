package endpoint

import (
	"context"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// Delivery is what a self-hosted endpoint tells the platform of a
// delivered message so the platform can charge it: metadata only, never
// the message's content. The platform decides the pricing from it with
// its own billing rules (and counts free allowances), exactly as a hosted
// endpoint's decide does.
type Delivery struct {
	ID   kontor.ID    // the message id: the key of its charge
	Peer kontor.Phone // the person it went to (their market)
	// Category is the message's pricing category: service for a
	// free-form message, a template's category otherwise.
	Category string
	Sent     time.Time // when the endpoint sent it: the rules in force then decide
	// InWindow: sent while the person's 24-hour customer service window
	// was open (not business-initiated).
	InWindow bool
	// EntryPoint: sent inside a free entry-point window.
	EntryPoint bool
	Delivered  time.Time // the delivered receipt's time
}

// Reporter has a self-hosted endpoint's deliveries charged on the
// platform (bizapi.PlatformMeter). Report returns the pricing the
// platform decided and charged by; a repeated report of a message charges
// nothing more and answers the same decision. An error leaves the
// delivered receipt unacknowledged, so it is reported again (on the
// device's next connection), except kontor.Invalid: the platform refused
// the report for good, and the status goes out with the endpoint's own
// decision.
type Reporter interface {
	Report(ctx context.Context, d Delivery) (billing.Decision, error)
}

// report has a delivery charged by cfg.Report and returns the decision
// the delivered status carries.
func (e *Endpoint) report(ctx context.Context, rec MessageRecord, peer kontor.Phone, at time.Time) (billing.Decision, error) {
	sent := rec.Created
	if sent.IsZero() || sent.After(at) {
		// Created is taken after the send's answer (self-hosted), so a
		// fast receipt can come before it; the message was sent by the
		// time it was delivered.
		sent = at
	}
	return e.cfg.Report.Report(ctx, Delivery{ID: rec.ID, Peer: peer, Category: rec.Category, Sent: sent,
		InWindow: !rec.Initiated, EntryPoint: rec.EntryPoint, Delivered: at})
}
