package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Timing of a connection.
const (
	dialWait      = 15 * time.Second // to connect and be welcomed
	writeWait     = 10 * time.Second // for one frame to be written
	pingEvery     = 25 * time.Second // a ping when nothing else is happening
	deadAfter     = 70 * time.Second // silence after which the connection counts as dead
	stableSession = 10 * time.Second // a session this long resets the backoff
	maxBatch      = 512              // frames handled (recorded, acked) together
	maxMismatches = 5                // devices_mismatch answers before a send fails
	maxFailures   = 8                // transient failures before a send fails
	readLimit     = 4 << 20          // bytes of one frame from the server
)

// WebSocket close codes of the protocol.
const (
	closeUnauthenticated websocket.StatusCode = 4001
	closeReplaced        websocket.StatusCode = 4002
	closeTooSlow         websocket.StatusCode = 4008
)

// session is one connection, from welcome to close.
type session struct {
	conn   Conn
	ctx    context.Context // ends with the session
	cancel context.CancelCauseFunc
	kick   chan struct{} // wakes the sender

	mu       sync.Mutex      // leaf; profile.mu may be held when it is taken (outbox)
	inflight map[string]bool // refs written on this connection, not yet answered
}

func (s *session) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// write sends one frame; a failed write ends the session.
func (s *session) write(f *wire.Frame) error { return s.writeFrame(f, false) }

// handOver is write for a frame the session neither changes nor reads
// again, nor its lists: a Conn that can take it over does not copy it.
func (s *session) handOver(f *wire.Frame) error { return s.writeFrame(f, true) }

func (s *session) writeFrame(f *wire.Frame, own bool) error {
	done, err := false, error(nil)
	ho, canHandOver := s.conn.(handOverWriter)
	own = own && canHandOver
	if own {
		done, err = ho.TryHandOver(f)
	} else if tw, ok := s.conn.(tryWriter); ok {
		done, err = tw.TryWrite(f)
	}
	if !done {
		ctx, cancel := context.WithTimeout(s.ctx, writeWait)
		if own {
			err = ho.HandOver(ctx, f)
		} else {
			err = s.conn.Write(ctx, f)
		}
		cancel()
	}
	if err != nil {
		err = fmt.Errorf("writing a %s frame: %w", f.Type, err)
		s.cancel(err)
		return err
	}
	return nil
}

func (s *session) setInflight(ref string, on bool) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.inflight[ref] = true
	} else {
		delete(s.inflight, ref)
	}
}

func (s *session) isInflight(ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight[ref]
}

// run connects, serves and reconnects with backoff until the client is
// closed or stops for good.
func (c *Client) run() {
	defer c.wg.Done()
	attempt := 0
	reported := false // whether the last failure was told as a State event
	for {
		started := time.Now()
		connected, err := c.connect()
		if c.ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrReplaced) || errors.Is(err, ErrUnsupported) {
			c.stop(err)
			return
		}
		if connected {
			reported = false
			if time.Since(started) >= stableSession {
				attempt = 0
			}
		}
		if !reported {
			c.events.push(State{Err: err})
			reported = true
		}
		d := randomBackoff(attempt, c.opts.MinBackoff, c.opts.MaxBackoff)
		attempt++
		c.log.Info("connection lost; reconnecting", "err", err, "in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
	}
}

// connect makes one connection and serves it until it ends; connected
// tells whether the server welcomed the device.
func (c *Client) connect() (connected bool, err error) {
	dctx, cancel := context.WithTimeout(c.ctx, dialWait)
	defer cancel()
	conn, err := c.dial(dctx)
	if err != nil {
		if c.opts.Dial != nil {
			return false, fmt.Errorf("connecting: %w", err)
		}
		return false, fmt.Errorf("connecting to %s: %w", c.wsURL, err)
	}
	if err := c.hello(dctx, conn); err != nil {
		_ = conn.CloseNow()
		return false, err
	}
	return true, c.serve(conn)
}

// hello says hello and waits for the welcome.
func (c *Client) hello(ctx context.Context, conn Conn) error {
	if err := conn.Write(ctx, &wire.Frame{Type: wire.THello, V: wire.Version, Credential: c.prof.account.Credential}); err != nil {
		return closeError("saying hello", err)
	}
	f, err := conn.Read(ctx)
	if err != nil {
		return closeError("waiting for the welcome", err)
	}
	switch {
	case f.Type == wire.TWelcome:
		if f.Phone != c.prof.account.Phone || f.DeviceID != c.prof.account.DeviceID {
			c.log.Warn("welcomed as another device", "welcome_phone", string(f.Phone), "welcome_device", f.DeviceID)
		}
		return nil
	case f.Type == wire.TError && f.Code == wire.ErrUnauthenticated:
		return fmt.Errorf("%w: %s", ErrUnauthenticated, f.Message)
	case f.Type == wire.TError && f.Code == wire.ErrUnsupported:
		return fmt.Errorf("%w: %s", ErrUnsupported, f.Message)
	case f.Type == wire.TError:
		return &ServerError{Code: f.Code, Message: f.Message}
	}
	return fmt.Errorf("the server answered hello with a %q frame", f.Type)
}

// closeError names the error that ended a connection, telling apart the
// close codes after which reconnecting is pointless.
func closeError(doing string, err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case closeUnauthenticated:
			return fmt.Errorf("%w: %s", ErrUnauthenticated, ce.Reason)
		case closeReplaced:
			return fmt.Errorf("%w: %s", ErrReplaced, ce.Reason)
		case websocket.StatusGoingAway:
			return fmt.Errorf("the server is going away: %s", ce.Reason)
		case closeTooSlow:
			return fmt.Errorf("the server closed a slow connection: %s", ce.Reason)
		}
		return fmt.Errorf("the server closed the connection (%d %s)", int(ce.Code), ce.Reason)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// serve runs a welcomed connection: a reader goroutine, a sender goroutine,
// and this one handling frames, until the connection ends.
func (c *Client) serve(conn Conn) error {
	sctx, cancel := context.WithCancelCause(c.ctx)
	s := &session{conn: conn, ctx: sctx, cancel: cancel, kick: make(chan struct{}, 1), inflight: map[string]bool{}}
	frames := make(chan *wire.Frame, maxBatch)
	readErr := make(chan error, 1)
	// The reader has its own context so that a normal close can complete
	// its handshake: it ends when the connection closes, or by stopRead.
	rctx, stopRead := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		readErr <- c.readLoop(rctx, conn, frames)
	}()
	go func() {
		defer wg.Done()
		c.sendLoop(s)
	}()

	c.mu.Lock()
	c.sess = s
	close(c.ready)
	c.mu.Unlock()
	c.log.Info("connected")
	c.events.push(State{Connected: true})
	c.afterWelcome(s)

	err := c.handleFrames(s, frames, readErr)

	c.mu.Lock()
	c.sess = nil
	c.ready = make(chan struct{})
	// What was written on this connection and not answered may have been
	// committed: a later answer of unavailable to the same ref does not
	// say otherwise (Withdraw).
	s.mu.Lock()
	for ref := range s.inflight {
		c.retryLocked(ref).unsure = true
	}
	s.mu.Unlock()
	c.mu.Unlock()
	cancel(err)
	if c.ctx.Err() != nil {
		_ = conn.Close()
	} else {
		_ = conn.CloseNow()
	}
	stopRead()
	wg.Wait()
	return err
}

// readLoop reads frames until the connection fails.
func (c *Client) readLoop(ctx context.Context, conn Conn, frames chan<- *wire.Frame) error {
	for {
		f, err := conn.Read(ctx)
		if err != nil {
			return closeError("reading", err)
		}
		select {
		case frames <- f:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// afterWelcome sends what a new connection must say: the watch list and
// read receipts not yet written; and starts the outbox.
func (c *Client) afterWelcome(s *session) {
	c.mu.Lock()
	watch := slices.Clone(c.watch)
	c.mu.Unlock()
	if len(watch) > 0 {
		if s.write(&wire.Frame{Type: wire.TWatch, Phones: watch}) != nil {
			return
		}
	}
	c.flushReads(s)
	s.wake()
}

// handleFrames handles frames in batches until the connection ends.
func (c *Client) handleFrames(s *session, frames <-chan *wire.Frame, readErr <-chan error) error {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	last := time.Now()
	batch := make([]*wire.Frame, 0, maxBatch)
	for {
		select {
		case f := <-frames:
			batch = append(batch[:0], f)
		more:
			for len(batch) < maxBatch {
				select {
				case f := <-frames:
					batch = append(batch, f)
				default:
					break more
				}
			}
			last = time.Now()
			if err := c.handleBatch(s, batch); err != nil {
				return err
			}
		case err := <-readErr:
			// Frames read before the failure are still worth recording.
			batch = batch[:0]
			for len(frames) > 0 {
				batch = append(batch, <-frames)
			}
			if len(batch) > 0 {
				_ = c.handleBatch(s, batch)
			}
			return err
		case <-ping.C:
			if time.Since(last) > deadAfter {
				return fmt.Errorf("the server said nothing for %s", deadAfter)
			}
			if err := s.write(&wire.Frame{Type: wire.TPing}); err != nil {
				return err
			}
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		}
	}
}

// handleBatch records a batch, acknowledges what was recorded, then tells
// the application.
func (c *Client) handleBatch(s *session, batch []*wire.Frame) error {
	acks, evs, err := c.process(s.ctx, s, batch)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(acks, wire.MaxAckIDs) {
		if err := s.write(&wire.Frame{Type: wire.TAck, IDs: chunk}); err != nil {
			break // recorded, so a redelivery is dropped as a duplicate
		}
	}
	c.events.push(evs...)
	return nil
}

// process applies frames from the server to the profile. It returns the
// ids to acknowledge, which it has recorded durably, and the events to
// tell. s is nil when no connection is involved (tests).
func (c *Client) process(ctx context.Context, s *session, frames []*wire.Frame) (acks []kontor.ID, evs []Event, err error) {
	var changes []change
	var done []Sent
	handled := map[kontor.ID]bool{}
	answered := map[string]bool{}
	// The refs answered are no longer in flight once their answers are
	// recorded (and told), not before: Withdraw takes a send that is not
	// in flight for one whose answer cannot come any more.
	var cleared []string
	retried := false // the sender must look again once they are cleared
	for _, f := range frames {
		switch f.Type {
		case wire.TMsg, wire.TReceipt:
			if (f.Type == wire.TMsg && c.opts.Leave&LeaveMessages != 0) || (f.Type == wire.TReceipt && c.opts.Leave&LeaveReceipts != 0) {
				continue
			}
			if f.ID <= 0 {
				c.log.Warn("ignoring a frame without id", "type", f.Type)
				continue
			}
			held := f.Type == wire.TReceipt && c.opts.HoldReceipts
			if !held {
				acks = append(acks, f.ID)
			}
			if handled[f.ID] || c.prof.seenID(f.ID) {
				if held && !handled[f.ID] && len(f.IDs) > 0 {
					// Not acknowledged by the application: told again.
					handled[f.ID] = true
					evs = append(evs, receiptOf(f))
				}
				continue // delivered again: at least once
			}
			handled[f.ID] = true
			if f.Type == wire.TMsg {
				if m, ok := c.openMessage(ctx, f); ok {
					changes = append(changes, change{m.Peer, record{Msg: &m}})
					evs = append(evs, m)
					continue
				}
			} else if ch, ok := c.receiptChange(f); ok {
				changes = append(changes, ch)
				evs = append(evs, receiptOf(f))
				continue
			}
			c.prof.markSeen(f.ID) // dropped: acked, and dropped again if it comes back
			if held {
				acks = append(acks, f.ID)
			}
		case wire.TSent:
			cleared = append(cleared, f.Ref)
			m, ok := c.prof.messageByRef(f.Ref)
			if !ok || m.Status != StatusPending || answered[f.Ref] || f.ID <= 0 {
				continue // answered before, or not ours
			}
			answered[f.Ref] = true
			changes = append(changes, change{m.Peer, record{Ref: f.Ref, ID: f.ID, TS: f.TS, Status: StatusSent}})
			done = append(done, Sent{Ref: f.Ref, Peer: m.Peer, ID: f.ID, TS: f.TS, Note: m.Note})
		case wire.TError:
			if f.Ref == "" {
				evs = append(evs, &ServerError{Code: f.Code, Message: f.Message})
				continue
			}
			cleared = append(cleared, f.Ref)
			m, ok := c.prof.messageByRef(f.Ref)
			if !ok || m.Status != StatusPending || answered[f.Ref] {
				continue
			}
			if c.retryAfter(&m, f) {
				retried = true
				continue
			}
			answered[f.Ref] = true
			serr := &SendError{Code: f.Code, Message: f.Message}
			changes = append(changes, change{m.Peer, record{Ref: f.Ref, Status: StatusFailed, Problem: serr.Error()}})
			done = append(done, Sent{Ref: f.Ref, Peer: m.Peer, Err: serr})
		case wire.TTyping:
			if from, err := kontor.ParsePhone(string(f.From)); err == nil {
				evs = append(evs, Typing{From: from, FromDevice: f.FromDevice, On: f.On})
			}
		case wire.TPresence:
			if from, err := kontor.ParsePhone(string(f.From)); err == nil {
				evs = append(evs, Presence{Phone: from, Online: f.Online, LastSeen: f.LastSeen})
			}
		case wire.TPong, wire.TWelcome:
		default:
			c.log.Debug("ignoring an unknown frame type", "type", f.Type)
		}
	}
	if err := c.prof.write(changes); err != nil {
		return nil, nil, err // the session ends: those in flight are unsure
	}
	for _, d := range done {
		c.finish(d.Ref, d.ID, d.Err)
		evs = append(evs, d)
	}
	for _, ref := range cleared {
		s.setInflight(ref, false)
	}
	if retried && s != nil {
		s.wake()
	}
	return acks, evs, nil
}

// openMessage turns a msg frame into a Message. A frame that names no
// valid sender is dropped (ok false); content that cannot be opened or
// read is kept with a Problem.
func (c *Client) openMessage(ctx context.Context, f *wire.Frame) (m Message, ok bool) {
	own := c.prof.account
	from, err := kontor.ParsePhone(string(f.From))
	if err != nil || from != f.From || f.FromDevice < 1 {
		c.log.Warn("dropping a message with a bad sender", "msg_id", f.ID, "from", string(f.From))
		return m, false
	}
	m = Message{ID: f.ID, TS: f.TS, Peer: from, From: from, FromDevice: f.FromDevice, Status: StatusReceived}
	if f.To != "" { // a sync copy of what another device of ours sent
		to, err := kontor.ParsePhone(string(f.To))
		if err != nil || to != f.To || from != own.Phone {
			c.log.Warn("dropping a sync copy with a bad address", "msg_id", f.ID, "to", string(f.To))
			return m, false
		}
		m.Peer, m.Outgoing, m.Status = to, true, StatusSent
	} else if from == own.Phone {
		c.log.Warn("dropping a message from this account without a recipient", "msg_id", f.ID)
		return m, false
	}
	plain, err := c.sealer.Open(ctx, wire.DeviceAddress{Phone: from, DeviceID: f.FromDevice}, f.Body)
	if err != nil {
		m.Problem = "could not open the payload: " + err.Error()
		return m, true
	}
	content, err := wire.DecodeContent(plain)
	if err != nil {
		m.Problem = err.Error()
		return m, true
	}
	m.Content = content
	return m, true
}

// receiptChange turns a receipt frame into a change of the conversation
// the messages belong to.
func (c *Client) receiptChange(f *wire.Frame) (change, bool) {
	switch f.Status {
	case StatusDelivered, StatusRead, StatusFailed:
	default:
		c.log.Warn("ignoring a receipt with an unknown status", "status", f.Status)
		return change{}, false
	}
	peer, err := kontor.ParsePhone(string(f.By))
	if err != nil || peer != f.By {
		peer = ""
	}
	for _, id := range f.IDs {
		if p, ok := c.prof.peerOf(id); ok {
			peer = p
			break
		}
	}
	if peer == "" {
		c.log.Warn("ignoring a receipt of unknown messages from a bad sender", "by", string(f.By))
		return change{}, false
	}
	ids := f.IDs[:min(len(f.IDs), wire.MaxAckIDs)]
	return change{peer, record{IDs: ids, Status: f.Status, Frame: f.ID, TS: f.TS}}, true
}

// retryAfter decides whether a refused send is tried again: after fresh
// device lists on devices_mismatch, after a backoff when the server was
// busy or failing.
func (c *Client) retryAfter(m *Message, f *wire.Frame) bool {
	c.mu.Lock()
	r := c.retryLocked(m.Ref)
	retry := false
	switch f.Code {
	case wire.ErrDevicesMismatch:
		r.mismatches++
		retry = r.mismatches <= maxMismatches
	case wire.ErrRateLimited, wire.ErrUnavailable, wire.ErrInternal:
		r.failures++
		r.notBefore = time.Now().Add(randomBackoff(r.failures-1, c.opts.MinBackoff, c.opts.MaxBackoff))
		retry = r.failures <= maxFailures
	}
	retry = retry && !r.withdrawn // its answer ends a withdrawn send
	c.mu.Unlock()
	if !retry {
		return false
	}
	if f.Code == wire.ErrDevicesMismatch {
		stale := map[kontor.Phone]bool{}
		for _, a := range slices.Concat(f.Missing, f.Stale) {
			stale[a.Phone] = true
		}
		if len(stale) == 0 {
			stale[m.Peer], stale[c.prof.account.Phone] = true, true
		}
		for p := range stale {
			c.prof.setDevices(p, nil)
		}
		c.log.Info("device lists changed; sending again", "ref", m.Ref, "peer", string(m.Peer))
	}
	return true
}

// claimWrite marks ref in flight on s before its frame is written, unless
// it was withdrawn or s is no longer the live connection. Under c.mu, so
// that Withdraw sees a send either in flight or never written again.
func (c *Client) claimWrite(s *session, ref string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s {
		return false
	}
	if r := c.retries[ref]; r != nil && r.withdrawn {
		return false
	}
	s.setInflight(ref, true)
	return true
}

// sendLoop writes the outbox on one connection: every message not yet
// answered on it, when woken and when a backoff ends.
func (c *Client) sendLoop(s *session) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-s.kick:
		case <-timer.C:
		case <-s.ctx.Done():
			return
		}
		if wake := c.sendPending(s); !wake.IsZero() {
			timer.Reset(time.Until(wake))
		}
	}
}

// sendWorkers is how many conversations' messages are sealed and written
// at once: sealing waits on each peer device's session (and its file), so
// different people's messages go in parallel; one person's stay in order.
const sendWorkers = 8

// sendPending writes send frames for the outbox; it returns when the next
// message in backoff is due (zero if none). Messages to one peer go in
// outbox order; different peers' go in parallel, and sendPending returns
// once all are written.
func (c *Client) sendPending(s *session) (wake time.Time) {
	var mu sync.Mutex
	later := func(t time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	groups := map[kontor.Phone][]Message{}
	var order []kontor.Phone
	now := time.Now()
	for _, m := range c.prof.outbox(s.isInflight) {
		c.mu.Lock()
		var notBefore time.Time
		withdrawn := false
		if r := c.retries[m.Ref]; r != nil {
			notBefore, withdrawn = r.notBefore, r.withdrawn
		}
		c.mu.Unlock()
		if withdrawn {
			continue
		}
		if now.Before(notBefore) {
			later(notBefore)
			continue
		}
		if _, ok := groups[m.Peer]; !ok {
			order = append(order, m.Peer)
		}
		groups[m.Peer] = append(groups[m.Peer], m)
	}
	sem := make(chan struct{}, sendWorkers)
	var wg sync.WaitGroup
	for _, peer := range order {
		ms := groups[peer]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for i := range ms {
				m := &ms[i]
				if s.ctx.Err() != nil {
					return
				}
				f, err := c.sendFrame(s.ctx, m)
				if err != nil {
					if s.ctx.Err() != nil {
						return
					}
					if nb, again := c.sendTrouble(m, err); again {
						later(nb)
					}
					continue
				}
				if !c.claimWrite(s, m.Ref) {
					continue // withdrawn meanwhile, or the session ended
				}
				if c.log.Enabled(s.ctx, slog.LevelDebug) { // the arguments alone cost allocations per message
					c.log.Debug("sending", "ref", m.Ref, "peer", string(m.Peer), "devices", len(f.Payloads), "sync", len(f.Sync))
				}
				if s.handOver(f) != nil { // f is sendFrame's, used no more
					return
				}
			}
		})
	}
	wg.Wait()
	if s.ctx.Err() != nil {
		return time.Time{}
	}
	return wake
}

// sendTrouble handles a send that could not even be written: a recipient
// that does not exist fails at once, other troubles are retried a few
// times after a backoff.
func (c *Client) sendTrouble(m *Message, err error) (notBefore time.Time, again bool) {
	c.mu.Lock()
	r := c.retryLocked(m.Ref)
	r.failures++
	r.notBefore = time.Now().Add(randomBackoff(r.failures-1, c.opts.MinBackoff, c.opts.MaxBackoff))
	notBefore, again = r.notBefore, r.failures <= maxFailures && !r.withdrawn
	c.mu.Unlock()
	var serr *SendError
	if errors.As(err, &serr) {
		again = false
	}
	if again {
		c.log.Warn("could not prepare a send; trying again", "ref", m.Ref, "err", err)
		return notBefore, true
	}
	if serr == nil {
		serr = &SendError{Code: wire.ErrInternal, Message: err.Error()}
	}
	if werr := c.prof.write([]change{{m.Peer, record{Ref: m.Ref, Status: StatusFailed, Problem: serr.Error()}}}); werr != nil {
		c.log.Error("recording a failed send", "ref", m.Ref, "err", werr)
		return notBefore, true
	}
	c.finish(m.Ref, 0, serr)
	c.events.push(Sent{Ref: m.Ref, Peer: m.Peer, Err: serr})
	return time.Time{}, false
}

// sendFrame seals m for every current device of its peer and every other
// device of this account.
func (c *Client) sendFrame(ctx context.Context, m *Message) (*wire.Frame, error) {
	own := c.prof.account
	plain, err := wire.EncodeContent(m.Content)
	if err != nil {
		return nil, &SendError{Code: wire.ErrBadFrame, Message: err.Error()}
	}
	peerDevs, err := c.deviceList(ctx, m.Peer)
	if err != nil {
		return nil, err
	}
	ownDevs, err := c.deviceList(ctx, own.Phone)
	if err != nil {
		return nil, err
	}
	f := &wire.Frame{Type: wire.TSend, Ref: m.Ref, To: m.Peer}
	for _, d := range peerDevs {
		addr := wire.DeviceAddress{Phone: m.Peer, DeviceID: d}
		body, err := c.sealer.Seal(ctx, addr, plain)
		if err != nil {
			return nil, fmt.Errorf("sealing for %s: %w", addr, err)
		}
		f.Payloads = append(f.Payloads, wire.Payload{DeviceID: d, Body: body})
	}
	for _, d := range ownDevs {
		if d == own.DeviceID {
			continue
		}
		addr := wire.DeviceAddress{Phone: own.Phone, DeviceID: d}
		body, err := c.sealer.Seal(ctx, addr, plain)
		if err != nil {
			return nil, fmt.Errorf("sealing for %s: %w", addr, err)
		}
		f.Sync = append(f.Sync, wire.Payload{DeviceID: d, Body: body})
	}
	return f, nil
}

// deviceList returns the device ids of phone, from the profile's cache or
// the server.
func (c *Client) deviceList(ctx context.Context, phone kontor.Phone) ([]int, error) {
	if ids, ok := c.prof.devices(phone); ok && len(ids) > 0 {
		return ids, nil
	}
	var r wire.DevicesResponse
	var err error
	if phone == c.prof.account.Phone {
		r, err = c.api.Devices(ctx)
	} else {
		r, err = c.api.AccountDevices(ctx, phone)
	}
	if kontor.KindOf(err) == kontor.NotFound {
		return nil, &SendError{Code: wire.ErrUnknownRecipient, Message: kontor.MessageOf(err)}
	}
	if err != nil {
		return nil, fmt.Errorf("fetching the devices of %s: %w", phone, err)
	}
	ids := make([]int, 0, len(r.Devices))
	for _, d := range r.Devices {
		if d.DeviceID > 0 && !slices.Contains(ids, d.DeviceID) {
			ids = append(ids, d.DeviceID)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 && phone != c.prof.account.Phone {
		return nil, &SendError{Code: wire.ErrUnknownRecipient, Message: fmt.Sprintf("%s has no devices", phone)}
	}
	c.prof.setDevices(phone, ids)
	return ids, nil
}
