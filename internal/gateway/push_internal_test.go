package gateway

import (
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/router"
)

// TestPushOutcome checks what becomes of a committed entry offered to a
// connection in each state: queued straight away only when the connection
// is caught up and has room; otherwise left for a pull (dirty), with the
// pull rewound when the entry lies behind what was sent.
func TestPushOutcome(t *testing.T) {
	cfg := Config{Window: 4, QueueFrames: 2}
	cfg.defaults()
	tests := []struct {
		name      string
		setup     func(c *conn)
		id        kontor.ID
		want      Push
		wantQ     int       // frames queued after the push
		wantDirty bool      // left for a pull
		wantNext  kontor.ID // where the next pull starts
	}{
		{"caught up", func(c *conn) {}, 10, Pushed, 1, false, 10},
		{"dirty", func(c *conn) { c.dirty = true }, 10, PushDirty, 0, true, 5},
		{"pulling", func(c *conn) { c.pulling = true }, 10, PushPulling, 0, true, 5},
		{"behind what was queued", func(c *conn) {}, 4, PushBehind, 0, true, 0},
		{"window full", func(c *conn) {
			for i := range kontor.ID(4) {
				c.inflightLocked()[i+1] = struct{}{}
			}
		}, 10, PushWindow, 0, true, 5},
		{"queue full", func(c *conn) { c.q = append(c.q, entryFrame(&router.Entry{ID: 1}), entryFrame(&router.Entry{ID: 2})) }, 10, PushQueue, 2, true, 5},
		{"closed", func(c *conn) { c.closed = true }, 10, PushClosed, 0, false, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{hub: &Hub{cfg: cfg}, cursor: 5, next: 5}
			c.writing = true // no writer goroutine: the test looks at the state
			tt.setup(c)
			got := c.push(&router.Entry{ID: tt.id, Kind: router.KindMessage})
			if got != tt.want {
				t.Fatalf("push: %v, want %v", got, tt.want)
			}
			if len(c.q) != tt.wantQ || c.dirty != tt.wantDirty || c.next != tt.wantNext {
				t.Fatalf("after push: %d queued, dirty %v, next %d; want %d, %v, %d", len(c.q), c.dirty, c.next, tt.wantQ, tt.wantDirty, tt.wantNext)
			}
			if _, ok := c.inflight[tt.id]; ok != (got == Pushed) {
				t.Fatalf("entry in the window: %v, pushed: %v", ok, got == Pushed)
			}
		})
	}
}
