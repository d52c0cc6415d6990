package gateway

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// WebSocket close codes of the device protocol.
const (
	closeGoingAway       = websocket.StatusGoingAway // 1001: server shutting down; reconnect
	closeUnauthenticated = websocket.StatusCode(4001)
	closeReplaced        = websocket.StatusCode(4002)
	closeTooSlow         = websocket.StatusCode(4008)
)

type watch struct {
	account kontor.ID
	phone   kontor.Phone
}

// conn is one device's connection.
type conn struct {
	hub    *Hub
	link   link
	dev    identity.Device
	acct   identity.Account
	sender router.Sender
	ctx    context.Context
	cancel context.CancelFunc
	sends  chan struct{} // one token per send in flight

	mu       sync.Mutex
	q        []*wire.Frame // frames waiting to be written
	spare    []*wire.Frame
	writing  bool // a writer goroutine is running
	closed   bool
	cursor   kontor.ID // highest entry id queued on this connection
	next     kontor.ID // where the next pull starts (exclusive)
	dirty    bool      // the store may hold entries not yet queued here
	pulling  bool
	inflight map[kontor.ID]struct{} // entries queued or written, not yet acked
	// acking holds entries the device acked whose deletion is not yet
	// committed: a pull in that time must not send them again.
	acking   map[kontor.ID]struct{}
	watching []watch

	// rate limit of incoming frames (reader goroutine only)
	tokens float64
	last   time.Time
}

// push offers a committed entry. It is queued at once if the connection is
// caught up; otherwise the connection pulls from the store. It returns why
// the entry was not queued (Pushed when it was).
func (c *conn) push(e *router.Entry) Push {
	f := entryFrame(e)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return PushClosed
	}
	out := Pushed
	switch {
	case c.dirty:
		out = PushDirty
	case c.pulling:
		out = PushPulling
	case e.ID <= c.cursor:
		out = PushBehind
	case len(c.inflight) >= c.hub.cfg.Window:
		out = PushWindow
	case len(c.q) >= c.hub.cfg.QueueFrames:
		out = PushQueue
	}
	if out == Pushed {
		c.q = append(c.q, f)
		c.cursor, c.next = e.ID, e.ID
		c.inflightLocked()[e.ID] = struct{}{}
	} else {
		c.dirty = true
		if e.ID <= c.next {
			c.next = 0 // an entry committed behind what we sent: scan the queue again
		}
	}
	c.startWriterLocked()
	return out
}

// ring is a doorbell: entries from min on are in the store.
func (c *conn) ring(min kontor.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.dirty = true
	if min <= c.next {
		c.next = 0
	}
	c.startWriterLocked()
}

func (c *conn) inflightLocked() map[kontor.ID]struct{} {
	if c.inflight == nil {
		c.inflight = make(map[kontor.ID]struct{})
	}
	return c.inflight
}

// acked removes ids from the window and, if entries are waiting, resumes.
func (c *conn) acked(ids []kontor.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range ids {
		if _, ok := c.inflight[id]; ok {
			delete(c.inflight, id)
			if c.acking == nil {
				c.acking = make(map[kontor.ID]struct{})
			}
			c.acking[id] = struct{}{}
			n++
		}
	}
	if len(c.inflight) == 0 {
		c.inflight = nil // give idle connections their memory back
	}
	if c.dirty {
		c.startWriterLocked()
	}
	return n
}

// ackCommitted forgets acked ids once their deletion is committed.
func (c *conn) ackCommitted(ids []kontor.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.acking, id)
	}
	if len(c.acking) == 0 {
		c.acking = nil
	}
}

// reply queues an answer frame; a connection that lets too many pile up is
// stalled and gets closed.
func (c *conn) reply(f *wire.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.q) >= c.hub.cfg.MaxFrames {
		c.closeLocked(closeTooSlow, "too far behind; reconnect to catch up")
		return
	}
	c.q = append(c.q, f)
	c.startWriterLocked()
}

// hint queues a typing or presence frame, dropping it if the connection is
// backed up.
func (c *conn) hint(f *wire.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.q) >= c.hub.cfg.QueueFrames {
		return
	}
	c.q = append(c.q, f)
	c.startWriterLocked()
}

func (c *conn) watchPhone(account kontor.ID) kontor.Phone {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.watching {
		if w.account == account {
			return w.phone
		}
	}
	return ""
}

func (c *conn) startWriterLocked() {
	if c.writing || c.closed {
		return
	}
	c.writing = true
	c.hub.wg.Add(1)
	go c.writer()
}

// writer pulls when needed and writes queued frames, then exits when there
// is nothing left to do.
func (c *conn) writer() {
	defer c.hub.wg.Done()
	cfg := &c.hub.cfg
	for {
		c.mu.Lock()
		if c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if c.dirty && !c.pulling && cfg.Window-len(c.inflight) >= cfg.minPull() && len(c.q) < cfg.QueueFrames {
			c.pulling, c.dirty = true, false
			after := c.next
			limit := min(cfg.Window-len(c.inflight), cfg.QueueFrames-len(c.q), 256)
			c.mu.Unlock()
			es, err := c.hub.router.Pull(c.ctx, c.dev.ID, after, limit)
			c.mu.Lock()
			c.pulling = false
			if err != nil {
				c.writing = false
				c.mu.Unlock()
				if c.ctx.Err() == nil {
					c.hub.log.Error("pull failed", "device", c.dev.ID, "err", err)
				}
				c.closeWith(websocket.StatusInternalError, "could not read the queue; reconnect")
				return
			}
			queued := 0
			for i := range es {
				e := &es[i]
				if _, ok := c.inflight[e.ID]; ok {
					continue
				}
				if _, ok := c.acking[e.ID]; ok {
					continue
				}
				queued++
				c.q = append(c.q, entryFrame(e))
				c.inflightLocked()[e.ID] = struct{}{}
				if e.ID > c.cursor {
					c.cursor = e.ID
				}
			}
			if len(es) == limit {
				c.dirty = true
				c.next = es[len(es)-1].ID
			} else {
				c.next = c.cursor
			}
			c.mu.Unlock()
			c.hub.metrics.Pulled(len(es), queued)
			continue
		}
		if len(c.q) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.q
		c.q, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		tw, _ := c.link.(tryWriter)
		for i, f := range batch {
			done, err := false, error(nil)
			if tw != nil {
				done, err = tw.tryWrite(f)
			}
			if !done {
				ctx, cancel := context.WithTimeout(c.ctx, cfg.WriteWait)
				err = c.link.write(ctx, f)
				cancel()
			}
			batch[i] = nil
			if err != nil {
				c.mu.Lock()
				c.writing = false
				c.mu.Unlock()
				if c.ctx.Err() == nil {
					c.hub.metrics.SlowDisconnect()
				}
				c.closeWith(closeTooSlow, "write failed or timed out")
				return
			}
		}
		c.mu.Lock()
		if c.spare == nil {
			c.spare = batch[:0]
		}
		c.mu.Unlock()
	}
}

func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	c.q = nil
	l, cancel := c.link, c.cancel
	go func() {
		_ = l.close(code, reason)
		cancel()
	}()
}

// allow is the incoming frame rate limit (token bucket, burst = one second).
func (c *conn) allow(now time.Time) bool {
	rate := c.hub.cfg.FrameRate
	if c.last.IsZero() {
		c.tokens = rate
	} else {
		c.tokens = min(rate, c.tokens+now.Sub(c.last).Seconds()*rate)
	}
	c.last = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// entryFrame turns a queue entry into its frame.
func entryFrame(e *router.Entry) *wire.Frame {
	f := &wire.Frame{ID: e.ID, TS: e.TS, From: e.From, FromDevice: e.FromDevice}
	switch e.Kind {
	case router.KindMessage:
		f.Type, f.Body = wire.TMsg, e.Body
	case router.KindSync:
		f.Type, f.Body, f.To = wire.TMsg, e.Body, e.To
	case router.KindReceipt:
		r, err := router.DecodeReceipt(e.Body)
		if err != nil {
			r.Status = wire.StatusDelivered
		}
		f.Type, f.Status, f.IDs, f.By, f.ByDevice = wire.TReceipt, r.Status, r.IDs, e.From, e.FromDevice
		f.From, f.FromDevice = "", 0
	}
	return f
}

// errorFrame maps an error to the protocol's error frame: the gateway's one table.
func errorFrame(ref string, err error) *wire.Frame {
	f := &wire.Frame{Type: wire.TError, Ref: ref, Message: kontor.MessageOf(err)}
	var mm *router.MismatchError
	var fe *wire.FrameError
	switch {
	case errors.As(err, &mm):
		f.Code, f.Missing, f.Stale = wire.ErrDevicesMismatch, mm.Missing, mm.Stale
	case errors.As(err, &fe):
		f.Code, f.Message = fe.Code, fe.Msg
	case errors.Is(err, router.ErrUnknownRecipient):
		f.Code = wire.ErrUnknownRecipient
	default:
		switch kontor.KindOf(err) {
		case kontor.Invalid, kontor.NotFound, kontor.Conflict:
			f.Code = wire.ErrBadFrame
		case kontor.Unauthenticated, kontor.Forbidden:
			f.Code = wire.ErrUnauthenticated
		case kontor.RateLimited:
			f.Code = wire.ErrRateLimited
		case kontor.Unavailable:
			f.Code = wire.ErrUnavailable
		default:
			f.Code, f.Message = wire.ErrInternal, "something went wrong on the server"
		}
	}
	if f.Message == "" {
		f.Message = f.Code
	}
	return f
}
