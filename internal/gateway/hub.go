package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// Hints carries the hints other nodes need: typing and presence. Losing one
// loses no data.
type Hints interface {
	Typing(to kontor.ID, from kontor.Phone, fromDevice int, on bool)
	Presence(account kontor.ID, online bool, lastSeen int64)
}

// Identity is what the gateway needs of the identity service.
type Identity interface {
	Authenticate(ctx context.Context, cred string) (identity.Device, identity.Account, error)
	Seen(ctx context.Context, device kontor.ID, t time.Time) error
	Account(ctx context.Context, phone kontor.Phone) (identity.Account, error)
}

// Metrics receives the gateway's measurements.
type Metrics interface {
	Connected(delta int)
	Delivered(n int)
	SlowDisconnect()
	// Offered counts entries a commit offered to connections here, by
	// what became of them (indexed by Push).
	Offered(byPush *[NumPush]int)
	// Pulled counts one read of a connection's queue from the store: the
	// entries it returned and how many of them were new to the connection.
	Pulled(read, queued int)
}

// Config tunes the gateway.
type Config struct {
	Window      int           // unacknowledged frames per connection (default 1000)
	QueueFrames int           // frames waiting to be written before pushes turn into pulls (default 256)
	MaxFrames   int           // frames waiting before the connection counts as stalled (default 2048)
	WriteWait   time.Duration // how long one write may take (default 10 s)
	HelloWait   time.Duration // how long a new connection may take to say hello (default 10 s)
	MaxSends    int           // sends in flight per connection (default 256)
	FrameRate   float64       // frames per second per connection (default 5000)
}

// minPull is the room the window must have before a connection that is
// behind reads its queue again: a device that acks a few frames at a time
// at the edge of its window then gets its entries in reads of a useful
// size, not one store read per few acks.
func (c *Config) minPull() int { return max(1, min(64, c.Window/8)) }

func (c *Config) defaults() {
	if c.Window <= 0 {
		c.Window = 1000
	}
	if c.QueueFrames <= 0 {
		c.QueueFrames = 256
	}
	if c.MaxFrames <= 0 {
		c.MaxFrames = 2048
	}
	if c.WriteWait <= 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.HelloWait <= 0 {
		c.HelloWait = 10 * time.Second
	}
	if c.MaxSends <= 0 {
		c.MaxSends = 256
	}
	if c.FrameRate <= 0 {
		c.FrameRate = 5000
	}
}

// Hub is the set of connections of one node.
type Hub struct {
	cfg     Config
	router  *router.Router
	ident   Identity
	hints   Hints
	metrics Metrics
	clock   kontor.Clock
	log     *slog.Logger

	mu        sync.Mutex
	byDevice  map[kontor.ID]*conn
	byAccount map[kontor.ID][]*conn
	watchers  map[kontor.ID][]*conn     // account watched → connections watching it
	remote    map[kontor.ID]map[int]int // account → online count reported by other nodes, by node
	closing   bool
	wg        sync.WaitGroup
}

// NewHub returns an empty hub.
func NewHub(cfg Config, r *router.Router, ident Identity, hints Hints, metrics Metrics, clock kontor.Clock, log *slog.Logger) *Hub {
	cfg.defaults()
	return &Hub{cfg: cfg, router: r, ident: ident, hints: hints, metrics: metrics, clock: clock, log: log,
		byDevice: map[kontor.ID]*conn{}, byAccount: map[kontor.ID][]*conn{}, watchers: map[kontor.ID][]*conn{},
		remote: map[kontor.ID]map[int]int{}}
}

// Offer delivers committed entries to the devices connected here and returns
// the entries whose devices are not connected here (for other nodes).
func (h *Hub) Offer(entries []router.Entry) (elsewhere []router.Entry) {
	conns := make([]*conn, len(entries))
	h.mu.Lock()
	for i := range entries {
		conns[i] = h.byDevice[entries[i].Device]
	}
	h.mu.Unlock()
	var byPush [NumPush]int
	for i, c := range conns {
		if c == nil {
			elsewhere = append(elsewhere, entries[i])
			continue
		}
		byPush[c.push(&entries[i])]++
	}
	h.metrics.Offered(&byPush)
	return elsewhere
}

// Ring tells a device connected here that entries from id min on are waiting
// in the store (a doorbell from another node).
func (h *Hub) Ring(device, min kontor.ID) {
	h.mu.Lock()
	c := h.byDevice[device]
	h.mu.Unlock()
	if c != nil {
		c.ring(min)
	}
}

// Kick closes the connection of a device that was removed.
func (h *Hub) Kick(device kontor.ID) {
	h.mu.Lock()
	c := h.byDevice[device]
	h.mu.Unlock()
	if c != nil {
		c.closeWith(closeUnauthenticated, "device removed")
	}
}

// Typing delivers a typing hint to the account's devices connected here.
func (h *Hub) Typing(to kontor.ID, from kontor.Phone, fromDevice int, on bool) {
	f := &wire.Frame{Type: wire.TTyping, From: from, FromDevice: fromDevice, On: on}
	h.mu.Lock()
	cs := append([]*conn(nil), h.byAccount[to]...)
	h.mu.Unlock()
	for _, c := range cs {
		c.hint(f)
	}
}

// RemotePresence records presence reported by another node and tells the
// watchers here.
func (h *Hub) RemotePresence(node int, account kontor.ID, online bool, lastSeen int64) {
	h.mu.Lock()
	m := h.remote[account]
	if online {
		if m == nil {
			m = map[int]int{}
			h.remote[account] = m
		}
		m[node] = 1
	} else if m != nil {
		delete(m, node)
		if len(m) == 0 {
			delete(h.remote, account)
		}
	}
	h.mu.Unlock()
	h.tellWatchers(account, lastSeen)
}

// online reports whether account has a device connected anywhere; h.mu held.
func (h *Hub) onlineLocked(account kontor.ID) bool {
	return len(h.byAccount[account]) > 0 || len(h.remote[account]) > 0
}

func (h *Hub) tellWatchers(account kontor.ID, lastSeen int64) {
	h.mu.Lock()
	ws := append([]*conn(nil), h.watchers[account]...)
	online := h.onlineLocked(account)
	h.mu.Unlock()
	if len(ws) == 0 {
		return
	}
	f := &wire.Frame{Type: wire.TPresence, Online: online}
	if !online {
		f.LastSeen = lastSeen
	}
	for _, c := range ws {
		ff := *f
		ff.From = c.watchPhone(account)
		c.hint(&ff)
	}
}

// add registers c, replacing an older connection of the same device.
func (h *Hub) add(c *conn) (old *conn, firstOfAccount bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old = h.byDevice[c.dev.ID]
	if old != nil {
		h.removeLocked(old)
	}
	firstOfAccount = len(h.byAccount[c.acct.ID]) == 0
	h.byDevice[c.dev.ID] = c
	h.byAccount[c.acct.ID] = append(h.byAccount[c.acct.ID], c)
	return old, firstOfAccount
}

// remove unregisters c; it reports whether c was the account's last
// connection here.
func (h *Hub) remove(c *conn) (last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byDevice[c.dev.ID] != c {
		h.unwatchLocked(c)
		return false
	}
	h.removeLocked(c)
	return len(h.byAccount[c.acct.ID]) == 0
}

func (h *Hub) removeLocked(c *conn) {
	if h.byDevice[c.dev.ID] == c {
		delete(h.byDevice, c.dev.ID)
	}
	cs := h.byAccount[c.acct.ID]
	for i, x := range cs {
		if x == c {
			cs = append(cs[:i], cs[i+1:]...)
			break
		}
	}
	if len(cs) == 0 {
		delete(h.byAccount, c.acct.ID)
	} else {
		h.byAccount[c.acct.ID] = cs
	}
	h.unwatchLocked(c)
}

func (h *Hub) unwatchLocked(c *conn) {
	for _, a := range c.watching {
		ws := h.watchers[a.account]
		for i, x := range ws {
			if x == c {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(h.watchers, a.account)
		} else {
			h.watchers[a.account] = ws
		}
	}
}

// Count returns the number of connections here.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byDevice)
}

// Close closes every connection with "going away" and waits for them.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closing = true
	cs := make([]*conn, 0, len(h.byDevice))
	for _, c := range h.byDevice {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.closeWith(closeGoingAway, "server shutting down")
	}
	// A peer has a moment to answer the close handshake; then the
	// connections are cut.
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		for _, c := range cs {
			c.cancel() // aborts the reads: the library drops the connection
		}
		<-done
	}
}
