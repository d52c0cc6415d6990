package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrNoResponders says that no node serves the subject of a request: it
// reached no one, so nothing was done.
var ErrNoResponders = errors.New("bus: no node serves the subject")

// Call is a request another node made to a subject this node serves
// (Bus.Serve), or a message sent there with Send. Reply answers a
// request, once; it fails on a message sent with Send.
type Call struct {
	Data []byte
	m    *nats.Msg
}

// Reply answers the call.
func (c Call) Reply(data []byte) error { return c.m.Respond(data) }

// Serve calls h with each request sent to subj. Within a queue group
// ("" for none) one subscriber gets each request. h runs on the
// subscription's own goroutine, one call after the other: a handler that
// waits hands the call to a goroutine of its own. stop ends the
// subscription: it returns once the server sends no more and h has seen
// every call that came before (up to 5 s), so none is dropped unanswered.
func (b *Bus) Serve(subj, queue string, h func(Call)) (stop func(), err error) {
	sub, err := b.nc.QueueSubscribe(subj, queue, func(m *nats.Msg) { h(Call{Data: m.Data, m: m}) })
	if err != nil {
		return nil, fmt.Errorf("bus: serve %s: %w", subj, err)
	}
	_ = sub.SetPendingLimits(64<<10, 256<<20)
	// The subscription is known to the server before Serve returns, so a
	// request right after it finds it.
	_ = b.nc.Flush()
	return func() {
		if err := sub.Drain(); err != nil {
			_ = sub.Unsubscribe()
			return
		}
		for deadline := time.Now().Add(5 * time.Second); sub.IsValid() && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
	}, nil
}

// Request sends data to whoever serves subj and returns the reply, waiting
// until ctx ends. It returns ErrNoResponders at once when no one serves subj.
func (b *Bus) Request(ctx context.Context, subj string, data []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, subj, data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoResponders
	}
	if err != nil {
		return nil, fmt.Errorf("bus: request %s: %w", subj, err)
	}
	return m.Data, nil
}

// Send publishes data to subj without waiting for an answer.
func (b *Bus) Send(subj string, data []byte) { b.publish(subj, data) }

// Inbox returns a new subject that no other node uses, for the rest of one
// exchange.
func (b *Bus) Inbox() string { return b.nc.NewInbox() }

// MaxPayload is the largest message the NATS server takes, in bytes.
func (b *Bus) MaxPayload() int { return int(b.nc.MaxPayload()) }
