package gateway

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// pipeFrames is how many frames each direction of an in-process connection
// holds before a write waits for the reader: the WebSocket's socket
// buffers, in frames.
const pipeFrames = 256

// errDropped is what reads return after the other end dropped an
// in-process connection without a close code (CloseNow).
var errDropped = errors.New("gateway: the in-process connection was dropped")

// pipe is the two directions of an in-process connection. Frames are
// handed over as values: neither end changes a frame after writing it or
// after reading it.
type pipe struct {
	toServer, toClient chan *wire.Frame
	riders             *router.Riders // of the device's sends; may be nil

	once   sync.Once
	done   chan struct{} // closed by the first close of either end
	reason error         // why, for reads after done: a websocket.CloseError or errDropped
}

func newPipe(riders *router.Riders) *pipe {
	return &pipe{toServer: make(chan *wire.Frame, pipeFrames), toClient: make(chan *wire.Frame, pipeFrames), riders: riders, done: make(chan struct{})}
}

// end closes the pipe for both ends with reason; the first reason counts.
func (p *pipe) end(reason error) {
	p.once.Do(func() {
		p.reason = reason
		close(p.done)
	})
}

// trySend writes f to ch if there is room now; done is false when f
// would have to wait (and was not written), true when it was written or the
// pipe is closed (err).
func (p *pipe) trySend(ch chan<- *wire.Frame, f *wire.Frame) (done bool, err error) {
	select {
	case <-p.done:
		return true, p.reason
	default:
	}
	select {
	case ch <- f:
		return true, nil
	default:
		return false, nil
	}
}

// send writes f to ch unless the pipe is closed or ctx ends.
func (p *pipe) send(ctx context.Context, ch chan<- *wire.Frame, f *wire.Frame) error {
	if done, err := p.trySend(ch, f); done {
		return err
	}
	select {
	case ch <- f:
		return nil
	case <-p.done:
		return p.reason
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recv reads the next frame of ch: frames written before a close are read
// before the close is reported, as on a WebSocket.
func (p *pipe) recv(ctx context.Context, ch <-chan *wire.Frame) (*wire.Frame, error) {
	select {
	case f := <-ch:
		return f, nil
	default:
	}
	select {
	case f := <-ch:
		return f, nil
	case <-p.done:
		select {
		case f := <-ch:
			return f, nil
		default:
			return nil, p.reason
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// localLink is the gateway's end of an in-process connection.
type localLink struct{ p *pipe }

// read checks a frame as DecodeFrame checks one off a WebSocket: the
// same limits and fields hold for in-process devices.
func (l localLink) read(ctx context.Context) (*wire.Frame, error) {
	f, err := l.p.recv(ctx, l.p.toServer)
	if err != nil {
		return nil, err
	}
	if f == nil || f.Type == "" {
		return nil, &badFrame{err: &wire.FrameError{Code: wire.ErrBadFrame, Msg: "frame has no type"}}
	}
	if err := f.Check(); err != nil {
		return f, &badFrame{err: err}
	}
	return f, nil
}

func (l localLink) write(ctx context.Context, f *wire.Frame) error {
	return l.p.send(ctx, l.p.toClient, f)
}

func (l localLink) tryWrite(f *wire.Frame) (bool, error) {
	return l.p.trySend(l.p.toClient, f)
}

func (l localLink) close(code websocket.StatusCode, reason string) error {
	l.p.end(websocket.CloseError{Code: code, Reason: reason})
	return nil
}

func (l localLink) closeNow() error {
	l.p.end(errDropped)
	return nil
}

func (l localLink) rider(ref string) router.Rider { return l.p.riders.Get(ref) }

// LocalConn is the device's end of an in-process connection to this node
// (Hub.Local): the hosted business endpoints' link to their own node. It
// behaves as the device's WebSocket does — hello first, the same checks,
// window, acks, pushes and close codes (a close by the server is reported
// as a websocket.CloseError) — but frames pass as Go values: no JSON, no
// socket. It implements client.Conn. All methods are safe for concurrent
// use.
type LocalConn struct{ p *pipe }

// Read returns the next frame from the server.
func (c *LocalConn) Read(ctx context.Context) (*wire.Frame, error) {
	return c.p.recv(ctx, c.p.toClient)
}

// Write hands one frame to the server. The server keeps the frame's
// payload bodies: the caller must not change them afterwards; the frame and
// its lists are copied.
func (c *LocalConn) Write(ctx context.Context, f *wire.Frame) error {
	ff, err := copyFrame(f)
	if err != nil {
		return err
	}
	return c.p.send(ctx, c.p.toServer, ff)
}

// TryWrite is Write when the server has room for the frame now, without
// waiting: done is false when the frame would have to wait, and then
// nothing was written (Write it). A caller writing with a deadline spares
// the deadline's context and timer for most frames (the client's session
// does).
func (c *LocalConn) TryWrite(f *wire.Frame) (done bool, err error) {
	ff, err := copyFrame(f)
	if err != nil {
		return true, err
	}
	return c.p.trySend(c.p.toServer, ff)
}

// HandOver is Write for a frame the caller hands over: it changes
// neither the frame nor its lists afterwards, so they are not copied (the
// client's session hands over the send frame it builds per message).
func (c *LocalConn) HandOver(ctx context.Context, f *wire.Frame) error {
	if f == nil {
		return errors.New("gateway: writing a nil frame")
	}
	return c.p.send(ctx, c.p.toServer, f)
}

// TryHandOver is TryWrite for a frame the caller hands over (HandOver).
func (c *LocalConn) TryHandOver(f *wire.Frame) (done bool, err error) {
	if f == nil {
		return true, errors.New("gateway: writing a nil frame")
	}
	return c.p.trySend(c.p.toServer, f)
}

// copyFrame copies the frame and its lists, which the writer may change
// afterwards.
func copyFrame(f *wire.Frame) (*wire.Frame, error) {
	if f == nil {
		return nil, errors.New("gateway: writing a nil frame")
	}
	ff := *f
	ff.IDs, ff.Phones = slices.Clone(f.IDs), slices.Clone(f.Phones)
	ff.Payloads, ff.Sync = slices.Clone(f.Payloads), slices.Clone(f.Sync)
	return &ff, nil
}

// Close closes the connection normally. Frames the server has not read
// yet are still read and handled, as on a WebSocket.
func (c *LocalConn) Close() error {
	c.p.end(websocket.CloseError{Code: websocket.StatusNormalClosure})
	return nil
}

// CloseNow drops the connection.
func (c *LocalConn) CloseNow() error {
	c.p.end(errDropped)
	return nil
}

// Local connects a device of this node in process and returns the
// device's end. The device proves who it is with its credential in the
// hello frame, as on a WebSocket; the connection then runs like one.
func (h *Hub) Local() (*LocalConn, error) { return h.LocalWith(nil) }

// LocalWith is Local for a device whose sends may carry riders: a send
// whose ref has a rider in riders hands it to the router
// (router.Router.SendWith), to write in the send's transaction.
func (h *Hub) LocalWith(riders *router.Riders) (*LocalConn, error) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return nil, kontor.Errorf(kontor.Unavailable, "gateway.Local", "the node is shutting down")
	}
	h.wg.Add(1)
	h.mu.Unlock()
	p := newPipe(riders)
	go h.serve(localLink{p})
	return &LocalConn{p}, nil
}
