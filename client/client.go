package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Errors that stop a client for good, and others it returns.
var (
	// ErrUnauthenticated: the server no longer accepts this device's
	// credential (the device was removed or the account deleted). Reconnecting
	// cannot help; register or link again.
	ErrUnauthenticated = errors.New("client: the server does not accept this device's credential (removed device or deleted account)")
	// ErrReplaced: a newer connection of this same device took over.
	ErrReplaced = errors.New("client: a newer connection of this device replaced this one")
	// ErrUnsupported: the server does not speak this client's protocol version.
	ErrUnsupported = errors.New("client: the server does not speak this protocol version")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("client: closed")
	// ErrOffline: the call needs a connection and there is none right now.
	ErrOffline = errors.New("client: not connected")
)

// Leave names kinds of frames a client leaves on the server: it neither
// records nor acknowledges them, so the server delivers them again to the
// device's next connection. Scripts that only send use it to leave messages
// and receipts to the command that prints them. Left frames count against
// the server's window of unacknowledged frames.
type Leave uint8

// The kinds of frames a client can leave.
const (
	LeaveMessages Leave = 1 << iota // msg frames, incoming and sync copies
	LeaveReceipts                   // receipt frames
)

// Options configure a Client. The zero value works.
type Options struct {
	// Sealer seals and opens payloads; PlainSealer when nil.
	Sealer Sealer
	// HTTPClient carries the device API calls, and its Transport the
	// WebSocket; a default client when nil.
	HTTPClient *http.Client
	// Dial, when set, opens the client's connections to the server in
	// place of the WebSocket to the account's server (which HTTPClient's
	// Transport would carry): a hosted business endpoint's in-process link
	// to its own node. The client says hello on each connection and dials
	// again after one fails, as with the WebSocket.
	Dial func(ctx context.Context) (Conn, error)
	// Logger receives the client's logs; none when nil.
	Logger *slog.Logger
	// Leave names frames to leave on the server.
	Leave Leave
	// HoldReceipts leaves receipt frames unacknowledged when they are
	// recorded: the application acknowledges each (Ack with Receipt.ID)
	// once it has durably done what the receipt asks of it, and a receipt
	// the server delivers again before that (after a crash, on the next
	// connection) is told again, recorded or not. For business endpoints,
	// whose status webhooks and charges must survive a crash.
	HoldReceipts bool
	// MinBackoff and MaxBackoff bound the waits between reconnects and
	// between retries of a send the server could not take (defaults
	// DefaultMinBackoff, DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// NoSync writes the profile without fsync: a crash of the process
	// loses nothing, a crash of the machine may lose the last writes (like
	// SQLite's synchronous=NORMAL). For hosted business endpoints on a
	// server, where the sends themselves are committed by the platform.
	NoSync bool
	// Storage holds the profile when Open gets no directory (the web chat
	// keeps it in IndexedDB, see package client/idb).
	Storage Storage
	// Account is the device to act as when Open gets neither a directory
	// nor a Storage: the client then keeps all its state in memory (tests,
	// load generators).
	Account *Account
}

// Client is one device's connection to a kontor server, with its profile.
// Open starts it; Close stops it. All methods are safe for concurrent use.
type Client struct {
	opts   Options
	prof   *profile
	api    *API
	sealer Sealer
	log    *slog.Logger
	events *eventQueue
	wsURL  string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	close  sync.Once

	flushMu sync.Mutex // serializes writing read receipts

	mu      sync.Mutex
	sess    *session      // the live connection, nil while offline
	ready   chan struct{} // closed while connected
	stopped chan struct{} // closed when the client stopped for good
	stopErr error
	waiters map[string]chan sendResult // ref → a Send waiting for its answer
	retries map[string]*retryState     // ref → how the sends of it went
	watch   []kontor.Phone
}

type sendResult struct {
	id  kontor.ID
	err error
}

type retryState struct {
	mismatches int       // devices_mismatch answers
	failures   int       // answers or local failures worth a retry
	notBefore  time.Time // no new try before
	withdrawn  bool      // never written again (Withdraw)
	unsure     bool      // written on a connection that ended before its answer
}

// retryLocked returns the retry state of ref, made if needed; c.mu held.
func (c *Client) retryLocked(ref string) *retryState {
	r := c.retries[ref]
	if r == nil {
		r = &retryState{}
		c.retries[ref] = r
	}
	return r
}

// Open opens the profile in dir and starts connecting in the background;
// it does not wait for the connection (see WaitConnected). The client runs
// until Close, which must be called, or until ctx ends. With dir empty the
// client keeps its state in opts.Storage or, without one, in memory,
// acting as opts.Account.
//
// Only one process at a time may open a profile (ErrProfileInUse).
func Open(ctx context.Context, dir string, opts Options) (*Client, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, where := opts.Storage, "the profile's storage"
	if dir != "" {
		st, where = &DirStorage{Dir: dir, NoSync: opts.NoSync}, dir
	}
	p, err := openProfile(st, where, opts.Account, log)
	if err != nil {
		return nil, err
	}
	wsURL, err := webSocketURL(p.account.Server)
	if err != nil {
		p.close()
		return nil, err
	}
	if opts.Sealer == nil {
		opts.Sealer = PlainSealer{}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	c := &Client{
		opts: opts, prof: p, api: p.account.API(opts.HTTPClient), sealer: opts.Sealer,
		log:    log.With("phone", string(p.account.Phone), "device", p.account.DeviceID),
		events: newEventQueue(log), wsURL: wsURL,
		ready: make(chan struct{}), stopped: make(chan struct{}),
		waiters: map[string]chan sendResult{}, retries: map[string]*retryState{},
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.events.run(c.ctx)
	}()
	go c.run()
	return c, nil
}

// webSocketURL turns the server's base URL into the URL of /v1/ws.
func webSocketURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("client: %q is not a server URL like http://127.0.0.1:8080", server)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("client: server URL %q must start with http:// or https://", server)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/ws"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// Close stops the client: it closes the connection normally, waits for the
// client's goroutines and releases the profile. Messages still in the
// outbox are sent by the next client that opens the profile. Close always
// returns nil.
func (c *Client) Close() error {
	c.close.Do(func() {
		c.cancel()
		c.wg.Wait()
		c.prof.close()
	})
	return nil
}

// Events returns the channel of events: messages, receipts, outcomes of
// sends, typing, presence and connection states, in the order they
// happened. Read it promptly: a client never blocks on it, and drops the
// oldest events beyond 10,000 unread ones waiting behind the channel's
// own 256 (the profile still holds every message). What waits in the
// channel can be taken without blocking, as one batch. The channel is
// closed when the client stops.
func (c *Client) Events() <-chan Event { return c.events.out }

// Account returns the device this client acts as.
func (c *Client) Account() Account { return c.prof.account }

// API returns the device HTTP API acting as this device.
func (c *Client) API() *API { return c.api }

// Err returns why the client stopped for good (ErrUnauthenticated,
// ErrReplaced, ErrUnsupported), or nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopErr
}

// WaitConnected waits until the server has welcomed this device. It
// returns at once when the client is connected, and the reason when the
// client stopped.
func (c *Client) WaitConnected(ctx context.Context) error {
	c.mu.Lock()
	ready, stopped := c.ready, c.stopped
	c.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-stopped:
		return c.Err()
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrClosed
	}
}

// Conversations summarizes the conversations in the profile, newest first.
func (c *Client) Conversations() []Conversation { return c.prof.conversations() }

// History returns the last limit messages exchanged with peer (all when
// limit <= 0), oldest first.
func (c *Client) History(peer kontor.Phone, limit int) []Message { return c.prof.history(peer, limit) }

// Queue puts a message to to in the outbox and returns it (status pending,
// with its Ref) without waiting: a Sent event tells when the server has
// committed it, or that it failed for good. The outbox is in the profile:
// messages not yet committed are sent again, with the same ref, after a
// reconnect or by the next client to open the profile, and the server never
// commits one twice.
func (c *Client) Queue(to kontor.Phone, content wire.Content) (Message, error) {
	m, _, err := c.queue(NewRef(), to, content, nil, false)
	return m, err
}

// Send queues a message like Queue and waits until the server has committed
// it, returning the server's id. When ctx ends first, the message stays in
// the outbox and is still sent later; Send then returns ctx's error.
func (c *Client) Send(ctx context.Context, to kontor.Phone, content wire.Content) (kontor.ID, error) {
	return c.SendRef(ctx, NewRef(), to, content)
}

// SendRef is Send with the send's ref chosen by the caller (NewRef), who
// can then tie work of its own to the send before it goes out (a hosted
// business endpoint's writes that commit in the send's transaction).
// A ref used before on this device names that earlier send: the server
// commits nothing new and answers with its id.
func (c *Client) SendRef(ctx context.Context, ref string, to kontor.Phone, content wire.Content) (kontor.ID, error) {
	return c.SendNoted(ctx, ref, to, content, nil)
}

// SendNoted is SendRef with a note: the caller's own data about the send
// (any bytes, or nil), written with it into the outbox and handed back in its
// Sent event once the server committed it. A send this client did not
// see committed (it closed, its profile was taken over) may be sent by
// the next client that opens the profile, whose Sent event carries the
// note: a business endpoint keeps there what the send's record needs.
func (c *Client) SendNoted(ctx context.Context, ref string, to kontor.Phone, content wire.Content, note []byte) (kontor.ID, error) {
	if ref == "" {
		return 0, kontor.Errorf(kontor.Invalid, "client.Send", "a send needs a ref")
	}
	m, ch, err := c.queue(ref, to, content, note, true)
	if err != nil {
		return 0, err
	}
	select {
	case r := <-ch:
		return r.id, r.err
	case <-ctx.Done():
		c.dropWaiter(m.Ref)
		return 0, fmt.Errorf("client.Send: %w; the message stays in the outbox and is sent when the server can be reached", ctx.Err())
	case <-c.ctx.Done():
		c.dropWaiter(m.Ref)
		return 0, ErrClosed
	}
}

// What Withdraw says of a send it took out of the outbox.
var (
	// ErrWithdrawn: the server never committed the send, and never will.
	ErrWithdrawn = errors.New("client: the send was withdrawn before the server committed it; it never goes out")
	// ErrFateUnknown: the send is never written again, but it was written
	// before on a connection that ended before its answer, or its answer
	// did not come in time: the server may have committed it (it then
	// went out, once) or not.
	ErrFateUnknown = errors.New("client: the send was withdrawn, but the server may have committed it before")
)

// withdrawPoll is how often Withdraw looks whether the answer to a send in
// flight has come.
const withdrawPoll = 5 * time.Millisecond

// Withdraw takes the send of ref out of the outbox for good: this client
// never writes it again, and nor does the next one to open the profile
// (it is recorded failed, with a Sent event). A send written on the live
// connection whose answer is still due is waited for until ctx ends; its
// answer ends it, whatever it says. Withdraw returns the server's id when
// the server committed the send (before, or while Withdraw waited),
// ErrWithdrawn when the server never committed it, and ErrFateUnknown
// when that cannot be known. A send that failed for good before is
// ErrWithdrawn too: the server did not commit it.
func (c *Client) Withdraw(ctx context.Context, ref string) (kontor.ID, error) {
	const op = "client.Withdraw"
	if _, ok := c.prof.messageByRef(ref); !ok {
		return 0, kontor.Errorf(kontor.NotFound, op, "no send with ref %q", ref)
	}
	t := time.NewTicker(withdrawPoll)
	defer t.Stop()
	for {
		// Once withdrawn, the send is never claimed for writing again
		// (claimWrite); one not in flight then has had its last answer
		// recorded (process clears a ref after recording its answer).
		c.mu.Lock()
		r := c.retryLocked(ref)
		r.withdrawn = true
		s, unsure := c.sess, r.unsure
		inflight := s != nil && s.isInflight(ref)
		c.mu.Unlock()
		m, _ := c.prof.messageByRef(ref)
		if m.Status != StatusPending {
			c.mu.Lock()
			delete(c.retries, ref) // finished before: nothing left to retry
			c.mu.Unlock()
			if m.Status == StatusSent || rank(m.Status) > rank(StatusFailed) {
				return m.ID, nil // answered while Withdraw waited, or before
			}
			return 0, ErrWithdrawn // failed for good: refused, not committed
		}
		if !inflight || ctx.Err() != nil {
			// An answer still due (Withdraw gave up waiting) finds it
			// failed and changes nothing.
			err := ErrWithdrawn
			if unsure || inflight {
				err = ErrFateUnknown
			}
			if werr := c.prof.write([]change{{m.Peer, record{Ref: ref, Status: StatusFailed, Problem: err.Error()}}}); werr != nil {
				return 0, fmt.Errorf("%s: recording the withdrawn send: %w", op, werr)
			}
			c.finish(ref, 0, err)
			c.events.push(Sent{Ref: ref, Peer: m.Peer, Err: err})
			return 0, err
		}
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-c.ctx.Done():
			return 0, ErrClosed
		}
	}
}

func (c *Client) queue(ref string, to kontor.Phone, content wire.Content, note []byte, wait bool) (Message, chan sendResult, error) {
	const op = "client.Send"
	to, err := kontor.ParsePhone(string(to))
	if err != nil {
		return Message{}, nil, err
	}
	own := c.prof.account
	if to == own.Phone {
		return Message{}, nil, kontor.Errorf(kontor.Invalid, op, "cannot send to your own number")
	}
	if content.Type == "" {
		content.Type = "text"
	}
	if content.V == 0 {
		content.V = wire.ContentVersion
	}
	body, err := wire.EncodeContent(content)
	if err == nil {
		_, err = wire.DecodeContent(body)
	}
	if err != nil {
		return Message{}, nil, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error()}
	}
	if content.Type == "text" && strings.TrimSpace(content.Text) == "" {
		return Message{}, nil, kontor.Errorf(kontor.Invalid, op, "a text message needs some text")
	}
	if len(body) > wire.MaxPayload {
		return Message{}, nil, kontor.Errorf(kontor.Invalid, op, "the message is %d bytes, over the limit of %d", len(body), wire.MaxPayload)
	}
	m := Message{Ref: ref, TS: time.Now().UnixMilli(), Peer: to, From: own.Phone, FromDevice: own.DeviceID,
		Outgoing: true, Content: content, Status: StatusPending, Note: note}
	var ch chan sendResult
	c.mu.Lock()
	if c.stopErr != nil {
		err := c.stopErr
		c.mu.Unlock()
		return Message{}, nil, err
	}
	if wait {
		ch = make(chan sendResult, 1)
		c.waiters[m.Ref] = ch
	}
	c.mu.Unlock()
	if err := c.prof.write([]change{{to, record{Msg: &m}}}); err != nil {
		c.dropWaiter(m.Ref)
		return Message{}, nil, err
	}
	c.kickSender()
	return m, ch, nil
}

// NewRef makes a send's ref, unique per device: the time in milliseconds
// (48 bits) then 48 random bits, in hex. A device's refs sort by the time
// they were made, so the server's index of refs (by device and ref) grows
// at its end: random refs wrote a page of it at random for nearly every
// send (docs/performance.md).
func NewRef() string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

func (c *Client) dropWaiter(ref string) {
	c.mu.Lock()
	delete(c.waiters, ref)
	c.mu.Unlock()
}

// finish ends a ref's sending: its waiter, if any, gets the result.
func (c *Client) finish(ref string, id kontor.ID, err error) {
	c.mu.Lock()
	ch := c.waiters[ref]
	delete(c.waiters, ref)
	delete(c.retries, ref)
	c.mu.Unlock()
	if ch != nil {
		ch <- sendResult{id: id, err: err} // buffered, one result per waiter
	}
}

// Read marks messages from peer as read on this device and sends read
// receipts for them: ids, or every unread message of peer when none are
// given. Receipts that cannot be written now are kept in the profile and
// sent after the next connect.
func (c *Client) Read(ctx context.Context, peer kontor.Phone, ids ...kontor.ID) error {
	peer, err := kontor.ParsePhone(string(peer))
	if err != nil {
		return err
	}
	changed, err := c.prof.markRead(peer, ids)
	if err != nil || len(changed) == 0 {
		return err
	}
	if s := c.session(); s != nil && ctx.Err() == nil {
		c.flushReads(s)
	}
	return nil
}

// Ack acknowledges receipt frames told with HoldReceipts (Receipt.ID):
// the server deletes them. Offline, or when the write fails, nothing is
// lost: the server delivers them again on the next connection.
func (c *Client) Ack(ids ...kontor.ID) {
	s := c.session()
	if s == nil {
		return
	}
	for chunk := range slices.Chunk(ids, wire.MaxAckIDs) {
		if s.write(&wire.Frame{Type: wire.TAck, IDs: chunk}) != nil {
			return
		}
	}
}

// flushReads writes the read receipts waiting in the profile.
func (c *Client) flushReads(s *session) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	for peer, ids := range c.prof.reads() {
		for chunk := range slices.Chunk(ids, wire.MaxAckIDs) {
			if err := s.write(&wire.Frame{Type: wire.TRead, To: peer, IDs: chunk}); err != nil {
				return
			}
			c.prof.readsSent(peer, chunk)
		}
	}
}

// Typing tells to's devices that this device's user is typing (on) or
// stopped. It is a hint: ErrOffline when not connected, nothing kept.
func (c *Client) Typing(ctx context.Context, to kontor.Phone, on bool) error {
	to, err := kontor.ParsePhone(string(to))
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s := c.session()
	if s == nil {
		return ErrOffline
	}
	return s.write(&wire.Frame{Type: wire.TTyping, To: to, On: on})
}

// Watch replaces the numbers whose presence this client follows: the
// server answers with a Presence event for each at once and on every
// change. The list is sent again after every reconnect; an empty list
// stops watching.
func (c *Client) Watch(ctx context.Context, phones ...kontor.Phone) error {
	list := make([]kontor.Phone, 0, len(phones))
	for _, p := range phones {
		pp, err := kontor.ParsePhone(string(p))
		if err != nil {
			return err
		}
		list = append(list, pp)
	}
	if len(list) > 256 {
		return kontor.Errorf(kontor.Invalid, "client.Watch", "at most 256 numbers can be watched")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.watch = list
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.write(&wire.Frame{Type: wire.TWatch, Phones: list})
}

func (c *Client) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// kickSender wakes the live connection's sender, if any.
func (c *Client) kickSender() {
	if s := c.session(); s != nil {
		s.wake()
	}
}

// stop ends the client for good after err.
func (c *Client) stop(err error) {
	c.mu.Lock()
	c.stopErr = err
	waiters := c.waiters
	c.waiters = map[string]chan sendResult{}
	close(c.stopped)
	c.mu.Unlock()
	for _, ch := range waiters {
		ch <- sendResult{err: err}
	}
	c.log.Info("stopped for good", "err", err) // the application learns it from Err and a State event
	c.events.push(State{Err: err})
}
