package gateway

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

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

// pullStore is a router.Store whose queue reads are counted; a device's
// queue holds entries 1 to n.
type pullStore struct {
	router.Store // nil: only Pull is used
	mu           sync.Mutex
	n            kontor.ID
	pulls        []int // the limit of each read
}

func (s *pullStore) Pull(_ context.Context, _, after kontor.ID, limit int) ([]router.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls = append(s.pulls, limit)
	var es []router.Entry
	for id := after + 1; id <= s.n && len(es) < limit; id++ {
		es = append(es, router.Entry{ID: id, Kind: router.KindMessage})
	}
	return es, nil
}

func (s *pullStore) reads() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pulls)
}

type nopMetrics struct{}

func (nopMetrics) Connected(int)           {}
func (nopMetrics) Delivered(int)           {}
func (nopMetrics) SlowDisconnect()         {}
func (nopMetrics) Offered(*[NumPush]int)   {}
func (nopMetrics) Pulled(read, queued int) {}

// TestPullWaitsForRoom: a connection that is behind, at the edge of its
// window, reads its queue again only once acks have freed minPull frames
// of it, not after each ack of a frame or two.
func TestPullWaitsForRoom(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := Config{Window: 80, QueueFrames: 256}
	cfg.defaults()
	room := cfg.minPull() // 10
	st := &pullStore{n: 1000}
	r := router.New(router.Config{}, st, nil, nil, kontor.NewIDs(kontor.SystemClock{}, 1), kontor.SystemClock{}, slog.New(slog.DiscardHandler))
	h := &Hub{cfg: cfg, router: r, metrics: nopMetrics{}, log: slog.New(slog.DiscardHandler)}
	p := newPipe(nil)
	c := &conn{hub: h, link: localLink{p}, ctx: ctx, cancel: cancel}
	go func() { // the device reads what it is sent
		for {
			if _, err := (&LocalConn{p}).Read(ctx); err != nil {
				return
			}
		}
	}()
	idle := func() {
		t.Helper()
		for {
			c.mu.Lock()
			busy := c.writing
			c.mu.Unlock()
			if !busy {
				return
			}
			if ctx.Err() != nil {
				t.Fatal("the writer did not finish")
			}
			time.Sleep(time.Millisecond)
		}
	}
	c.mu.Lock()
	c.dirty = true
	c.startWriterLocked()
	c.mu.Unlock()
	idle()
	if got := st.reads(); len(got) != 1 || got[0] != cfg.Window {
		t.Fatalf("first reads: %v, want one of %d", got, cfg.Window)
	}
	// The window is full and more waits in the store. Acks of one frame
	// each: no read until room frames are free, then one read of them.
	for id := kontor.ID(1); id <= kontor.ID(room); id++ {
		c.acked([]kontor.ID{id})
		idle()
		want := 1
		if int(id) >= room {
			want = 2
		}
		if got := st.reads(); len(got) != want {
			t.Fatalf("after %d acks: reads %v, want %d", id, got, want)
		}
	}
	if got := st.reads(); got[1] != room {
		t.Fatalf("second read of %d, want %d", got[1], room)
	}
}
