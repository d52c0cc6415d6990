package client

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Event is what Client.Events delivers: a Message (incoming, or a sync copy
// of one this account sent from another device), a Receipt, a Sent, a
// Typing, a Presence, a State or a ServerError.
type Event interface{ event() }

// Receipt says what became of messages this account sent. It arrives on
// every device of the account.
type Receipt struct {
	ID       kontor.ID   // the receipt's own id
	TS       int64       // server time, Unix ms
	Status   string      // StatusDelivered, StatusRead or StatusFailed
	IDs      []kontor.ID // the messages it is about
	By       kontor.Phone
	ByDevice int
}

// Sent reports the end of a message's time in the outbox: the server
// committed it (ID and TS set) or it failed for good (Err set, a
// *SendError or another error).
type Sent struct {
	Ref  string
	Peer kontor.Phone
	ID   kontor.ID
	TS   int64
	Err  error
	// Note is the send's note (SendNoted) when the server committed it,
	// whichever client of the profile queued it: a send left in the
	// outbox by a client that stopped is sent, and told, by the next.
	Note []byte
}

// Typing is a peer device's typing hint.
type Typing struct {
	From       kontor.Phone
	FromDevice int
	On         bool
}

// Presence is the state of a watched number (see Client.Watch).
type Presence struct {
	Phone    kontor.Phone
	Online   bool
	LastSeen int64 // Unix ms; 0 when hidden or never
}

// State reports the connection: Connected after the server welcomed the
// device; not Connected, with the cause in Err, after a drop. The client
// reconnects by itself unless Err is ErrUnauthenticated, ErrReplaced or
// ErrUnsupported: then it has stopped for good (see Client.Err).
type State struct {
	Connected bool
	Err       error
}

// ServerError is an error frame that answers no send (for example a read
// receipt for an unknown number).
type ServerError struct {
	Code    string // one of the wire.Err… codes
	Message string
}

// Error describes the server error.
func (e *ServerError) Error() string { return "server: " + e.Code + ": " + e.Message }

func (Message) event()      {}
func (Receipt) event()      {}
func (Sent) event()         {}
func (Typing) event()       {}
func (Presence) event()     {}
func (State) event()        {}
func (*ServerError) event() {}

// SendError is a send the server refused for good.
type SendError struct {
	Code    string // one of the wire.Err… codes
	Message string
}

// Error describes why the send was refused.
func (e *SendError) Error() string {
	if e.Message == "" || e.Message == e.Code {
		return "send refused: " + e.Code
	}
	return "send refused: " + e.Code + ": " + e.Message
}

// maxQueuedEvents bounds the events waiting for the application. Beyond it
// the oldest are dropped: the profile still holds every message.
const maxQueuedEvents = 10000

// eventQueue hands events to the application in order without ever
// blocking the connection: a goroutine moves them from an in-memory queue
// to the channel. mu is a leaf lock.
type eventQueue struct {
	out    chan Event
	notify chan struct{}
	log    *slog.Logger

	mu      sync.Mutex
	q       []Event
	dropped int
}

// eventsBuffered is how many events wait in the channel itself. A reader
// that takes what is waiting without blocking, to handle it as one batch
// (the business endpoint commits its receipts together), then finds the
// events that came meanwhile: with an unbuffered channel it would find at
// most the one the mover goroutine is holding out, and handle events one
// by one.
const eventsBuffered = 256

func newEventQueue(log *slog.Logger) *eventQueue {
	return &eventQueue{out: make(chan Event, eventsBuffered), notify: make(chan struct{}, 1), log: log}
}

func (e *eventQueue) push(evs ...Event) {
	if len(evs) == 0 {
		return
	}
	e.mu.Lock()
	e.q = append(e.q, evs...)
	if over := len(e.q) - maxQueuedEvents; over > 0 {
		clear(e.q[:over])
		e.q = e.q[over:]
		e.dropped += over
		if e.dropped == over || e.dropped%maxQueuedEvents < over {
			e.log.Warn("events are not being read; dropping the oldest", "dropped", e.dropped)
		}
	}
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

// run delivers events until ctx ends, then closes the channel.
func (e *eventQueue) run(ctx context.Context) {
	defer close(e.out)
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			e.q = nil
			e.mu.Unlock()
			select {
			case <-e.notify:
				continue
			case <-ctx.Done():
				return
			}
		}
		ev := e.q[0]
		e.q[0] = nil
		e.q = e.q[1:]
		e.mu.Unlock()
		select {
		case e.out <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// receiptOf turns a receipt frame into its event.
func receiptOf(f *wire.Frame) Receipt {
	return Receipt{ID: f.ID, TS: f.TS, Status: f.Status, IDs: f.IDs, By: f.By, ByDevice: f.ByDevice}
}
