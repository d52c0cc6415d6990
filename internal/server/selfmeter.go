package server

import (
	"context"
	"fmt"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
)

// selfMeter charges the deliveries self-hosted endpoints report
// (bizapi.Metering): the same rules, allowances, ledger and credit as a
// hosted endpoint's, after checking the report against what the platform
// saw. What it cannot check (the category, the window, a message never
// reported) the endpoint is trusted with; docs/billing.md says so.
type selfMeter struct{ s *Server }

// maxSkew is how far a reported time may be from the platform's.
const maxSkew = 5 * time.Minute

func (m selfMeter) Allow(ctx context.Context, biz kontor.ID) error { return m.s.credit.Allow(ctx, biz) }

func (m selfMeter) Deliver(ctx context.Context, n business.Number, d endpoint.Delivery) (bizapi.Charge, error) {
	const op = "server.selfMeter"
	invalid := func(format string, args ...any) (bizapi.Charge, error) {
		return bizapi.Charge{}, kontor.Errorf(kontor.Invalid, op, format, args...)
	}
	now := m.s.clock.Now()
	// The router gave the message its id when it took it: its time is
	// the send's, whatever the endpoint's clock says.
	sent := d.ID.Time()
	if sent.After(now.Add(maxSkew)) {
		return invalid("message %s has an id from the future: it is not a message the platform took", d.ID)
	}
	if diff := d.Sent.Sub(sent).Abs(); diff > maxSkew {
		return invalid("sent (%s) is %s away from when the platform took message %s (%s)", d.Sent.UTC().Format(time.RFC3339), diff.Round(time.Second), d.ID, sent.UTC().Format(time.RFC3339))
	}
	if d.Peer == n.Phone {
		return invalid("message %s was not delivered to a person: %s is this business number", d.ID, d.Peer)
	}
	if _, err := m.s.db.NumberByPhone(ctx, d.Peer); err == nil {
		return invalid("%s is a business number, not a person: messages between businesses are not reported", d.Peer)
	} else if kontor.KindOf(err) != kontor.NotFound {
		return bizapi.Charge{}, err
	}
	if _, err := m.s.db.Recipient(ctx, d.Peer); kontor.KindOf(err) == kontor.NotFound {
		return invalid("no one on this platform has the number %s", d.Peer)
	} else if err != nil {
		return bizapi.Charge{}, err
	}
	// A delivered receipt the endpoint has not acknowledged yet (it
	// reports before it does) tells who got the message and when.
	delivered := d.Delivered
	from, at, held, err := m.s.db.HeldDelivery(ctx, n.Phone, d.ID)
	if err != nil {
		return bizapi.Charge{}, err
	}
	switch {
	case held && from != d.Peer:
		return invalid("message %s was delivered to %s, not to %s", d.ID, from, d.Peer)
	case held:
		delivered = at
	case delivered.After(now.Add(maxSkew)):
		return invalid("delivered (%s) is in the future", delivered.UTC().Format(time.RFC3339))
	case delivered.Before(sent.Add(-maxSkew)):
		return invalid("delivered (%s) is before message %s was sent", delivered.UTC().Format(time.RFC3339), d.ID)
	}
	// Decided as a hosted endpoint's decide does, by the rules in force
	// when it was sent, its allowance counted once per message id.
	rs := m.s.rules.At(sent)
	dec := rs.Decide(d.Category, d.InWindow, d.EntryPoint, false)
	if free := rs.Categories[dec.Category].MonthlyFree; dec.Billable && free > 0 {
		within, err := m.s.db.UseAllowance(ctx, n.ID, dec.Category, sent, d.ID, free)
		if err != nil {
			return bizapi.Charge{}, fmt.Errorf("%s: counting message %s against its allowance: %w", op, d.ID, err)
		}
		dec = rs.Decide(d.Category, d.InWindow, d.EntryPoint, within)
	}
	// Its record (metadata, no content) lets the messaging limit and the
	// quality rating see the number's reach, as for a hosted number.
	if err := m.s.db.PutMessages(ctx, []endpoint.MessageRecord{{Number: n.ID, ID: d.ID, Peer: d.Peer, Outgoing: true,
		Category: dec.Category, Created: sent, Initiated: !d.InWindow, EntryPoint: d.EntryPoint}}); err != nil {
		return bizapi.Charge{}, err
	}
	c := bizapi.Charge{Pricing: dec}
	if !dec.Billable {
		return c, nil
	}
	c.Entry, c.Added, err = m.s.ledger.ChargeMessage(ctx, billing.Message{ID: d.ID, Business: n.Business, Number: n.ID,
		To: d.Peer, Category: dec.Category, At: delivered})
	return c, err
}
