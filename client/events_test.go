package client

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestEventsWaitInTheChannel: events pushed while the application is busy
// wait in the channel itself, in order, so that a reader draining what is
// there without blocking takes them as one batch (the business endpoint
// commits its receipts so) rather than one by one; beyond the channel's
// room they wait in the queue.
func TestEventsWaitInTheChannel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := newEventQueue(slog.New(slog.DiscardHandler))
	go q.run(ctx)
	tests := []struct {
		name string
		n    int
	}{
		{"a few", 5},
		{"the channel's room", eventsBuffered},
		{"more than it holds", eventsBuffered + 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.n {
				q.push(Receipt{ID: 1, TS: int64(i)})
			}
			want := min(tt.n, eventsBuffered)
			for len(q.out) < want && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			// Drained without blocking, as the endpoint does.
			got := 0
		drain:
			for got < tt.n {
				select {
				case ev := <-q.out:
					if r, ok := ev.(Receipt); !ok || r.TS != int64(got) {
						t.Fatalf("event %d: %+v", got, ev)
					}
					got++
				default:
					if got < want {
						t.Fatalf("%d events ready without blocking, want at least %d", got, want)
					}
					break drain
				}
			}
			for ; got < tt.n; got++ { // the rest come from the queue
				select {
				case ev := <-q.out:
					if r, ok := ev.(Receipt); !ok || r.TS != int64(got) {
						t.Fatalf("event %d: %+v", got, ev)
					}
				case <-ctx.Done():
					t.Fatalf("only %d of %d events", got, tt.n)
				}
			}
		})
	}
}
