package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// ServeHTTP accepts a device's WebSocket at /v1/ws and runs it on a
// goroutine of its own until it closes. ServeHTTP itself returns at once:
// the HTTP server's goroutine, with its grown stack and the request it
// holds, is not kept for the life of an idle connection.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // devices are not browsers bound to an origin; the credential is the guard
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		h.wg.Done()
		return // Accept wrote the HTTP error
	}
	ws.SetReadLimit(wire.MaxFrame + 1)
	go h.serve(wsLink{ws})
}

// serve runs one accepted connection, a WebSocket or an in-process one.
func (h *Hub) serve(l link) {
	defer h.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &conn{hub: h, link: l, ctx: ctx, cancel: cancel, sends: make(chan struct{}, h.cfg.MaxSends)}
	// The handshake runs on a goroutine of its own: authenticating goes
	// deep into the store, and a stack grown for it would stay with the
	// connection's reader for as long as the device is connected.
	ok := make(chan bool, 1)
	go func() { ok <- h.hello(c) }()
	if !<-ok {
		return
	}
	h.metrics.Connected(1)
	defer h.metrics.Connected(-1)
	h.readLoop(c)
	c.closeWith(websocket.StatusNormalClosure, "")
	h.gone(c)
}

// hello runs the handshake: the first frame must be a valid hello.
func (h *Hub) hello(c *conn) bool {
	ctx, cancel := context.WithTimeout(c.ctx, h.cfg.HelloWait)
	defer cancel()
	fail := func(code websocket.StatusCode, f *wire.Frame) bool {
		_ = c.link.write(ctx, f)
		_ = c.link.close(code, f.Message)
		return false
	}
	f, err := c.link.read(ctx)
	var bad *badFrame
	if err != nil && !errors.As(err, &bad) {
		_ = c.link.closeNow()
		return false
	}
	if bad != nil && bad.notText {
		return fail(websocket.StatusUnsupportedData, errorFrame("", bad.err))
	}
	if bad != nil || f.Type != wire.THello {
		msg := "the first frame must be hello"
		if bad != nil {
			msg = bad.err.Error()
		}
		return fail(websocket.StatusPolicyViolation, &wire.Frame{Type: wire.TError, Code: wire.ErrUnauthenticated, Message: msg})
	}
	if f.V != wire.Version {
		return fail(websocket.StatusPolicyViolation, &wire.Frame{Type: wire.TError, Code: wire.ErrUnsupported, Message: "this server speaks protocol version 1"})
	}
	dev, acct, err := h.ident.Authenticate(ctx, f.Credential)
	if err != nil {
		ef := errorFrame("", err)
		if kontor.KindOf(err) == kontor.Unauthenticated {
			return fail(closeUnauthenticated, ef)
		}
		return fail(websocket.StatusTryAgainLater, ef)
	}
	c.dev, c.acct = dev, acct
	c.sender = router.Sender{Account: acct.ID, Phone: acct.Phone, Device: dev.ID, Num: dev.Num}
	c.dirty = true // whatever waits in the store goes out first
	now := h.clock.Now()
	old, first := h.add(c)
	if old != nil {
		old.closeWith(closeReplaced, "replaced by a newer connection of this device")
	}
	c.reply(&wire.Frame{Type: wire.TWelcome, V: wire.Version, Phone: acct.Phone, DeviceID: dev.Num, TS: now.UnixMilli()})
	if err := h.ident.Seen(c.ctx, dev.ID, now); err != nil {
		h.log.Warn("recording last seen failed", "device", dev.ID, "err", err)
	}
	if first {
		h.hints.Presence(acct.ID, true, 0)
		h.tellWatchers(acct.ID, 0)
	}
	return true
}

// gone cleans up after a connection closed.
func (h *Hub) gone(c *conn) {
	if !h.remove(c) {
		return
	}
	now := h.clock.Now()
	if err := h.ident.Seen(context.Background(), c.dev.ID, now); err != nil {
		h.log.Warn("recording last seen failed", "device", c.dev.ID, "err", err)
	}
	seen := now.UnixMilli()
	if c.acct.LastSeenPrivacy == identity.PrivacyNobody {
		seen = 0
	}
	h.hints.Presence(c.acct.ID, false, seen)
	h.tellWatchers(c.acct.ID, seen)
}

func (h *Hub) readLoop(c *conn) {
	for {
		f, err := c.link.read(c.ctx)
		var bad *badFrame
		if err != nil && !errors.As(err, &bad) {
			return // closed
		}
		if !c.allow(time.Now()) {
			ref := ""
			if f != nil {
				ref = f.Ref
			}
			c.reply(&wire.Frame{Type: wire.TError, Ref: ref, Code: wire.ErrRateLimited, Message: "too many frames; slow down"})
			continue
		}
		if bad != nil {
			ref := ""
			if f != nil {
				ref = f.Ref
			}
			c.reply(errorFrame(ref, bad.err))
			continue
		}
		h.handle(c, f)
	}
}

func (h *Hub) handle(c *conn, f *wire.Frame) {
	switch f.Type {
	case wire.TSend:
		select {
		case c.sends <- struct{}{}:
		case <-c.ctx.Done():
			return
		}
		ref := f.Ref
		h.router.SendWith(c.ctx, c.sender, f, c.link.rider(ref), func(res router.SendResult) {
			<-c.sends
			if res.Err != nil {
				c.reply(errorFrame(ref, res.Err))
				return
			}
			c.reply(&wire.Frame{Type: wire.TSent, Ref: ref, ID: res.ID, TS: res.TS})
		})
	case wire.TAck:
		if n := c.acked(f.IDs); n > 0 {
			h.metrics.Delivered(n)
		}
		ids := f.IDs
		h.router.Ack(c.sender, ids, func(error) { c.ackCommitted(ids) })
	case wire.TRead:
		h.router.Read(c.ctx, c.sender, f.To, f.IDs, func(err error) {
			if err != nil {
				c.reply(errorFrame("", err))
			}
		})
	case wire.TTyping:
		r, err := h.router.Recipient(c.ctx, f.To)
		if err != nil {
			c.reply(errorFrame("", err))
			return
		}
		h.hints.Typing(r.Account, c.acct.Phone, c.dev.Num, f.On)
		h.Typing(r.Account, c.acct.Phone, c.dev.Num, f.On)
	case wire.TWatch:
		h.watch(c, f.Phones)
	case wire.TPing:
		c.reply(&wire.Frame{Type: wire.TPong})
	case wire.THello:
		c.reply(&wire.Frame{Type: wire.TError, Code: wire.ErrBadFrame, Message: "already said hello"})
	default:
		c.reply(&wire.Frame{Type: wire.TError, Code: wire.ErrBadFrame, Message: "a client does not send " + f.Type + " frames"})
	}
}

// watch replaces the presence watch list of c and reports the current state.
func (h *Hub) watch(c *conn, phones []kontor.Phone) {
	var ws []watch
	var accts []identity.Account
	for _, p := range phones {
		a, err := h.ident.Account(c.ctx, p)
		if err != nil {
			continue // unknown numbers are not watched; no presence frame tells they do not exist
		}
		ws = append(ws, watch{account: a.ID, phone: p})
		accts = append(accts, a)
	}
	h.mu.Lock()
	h.unwatchLocked(c)
	c.mu.Lock()
	c.watching = ws
	c.mu.Unlock()
	for _, w := range ws {
		h.watchers[w.account] = append(h.watchers[w.account], c)
	}
	online := make([]bool, len(ws))
	for i, w := range ws {
		online[i] = h.onlineLocked(w.account)
	}
	h.mu.Unlock()
	for i, a := range accts {
		f := &wire.Frame{Type: wire.TPresence, From: ws[i].phone, Online: online[i]}
		if !online[i] && a.LastSeenPrivacy != identity.PrivacyNobody && !a.LastSeen.IsZero() {
			f.LastSeen = a.LastSeen.UnixMilli()
		}
		c.hint(f)
	}
}
