package gateway

import (
	"context"
	"encoding/json"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// link carries the frames of one connection: a device's WebSocket (wsLink)
// or an in-process pipe to a device of this node (local.go). A connection
// runs the same handshake, checks, window and close behaviour over both.
type link interface {
	// read returns the next frame from the device. A frame that arrived
	// but cannot be taken is returned as a *badFrame error (with the frame
	// when it was readable enough to name its ref): the connection answers
	// it and goes on. Any other error ends the connection.
	read(ctx context.Context) (*wire.Frame, error)
	// write hands one frame to the device, in order.
	write(ctx context.Context, f *wire.Frame) error
	// close ends the connection with a protocol close code; the device's
	// reads return the frames written before, then the close.
	close(code websocket.StatusCode, reason string) error
	// closeNow drops the connection.
	closeNow() error
	// rider returns the rider of the device's send with ref, or nil: only
	// an in-process link carries riders (router.Rider).
	rider(ref string) router.Rider
}

// tryWriter is a link that can hand over a frame at once when there is
// room, without a deadline (an in-process pipe): the writer then makes no
// timeout context, with its timer, for the frame. done is false when the
// frame would have to wait; then nothing was written.
type tryWriter interface {
	tryWrite(f *wire.Frame) (done bool, err error)
}

// badFrame is a frame the device sent that the gateway cannot take.
type badFrame struct {
	err     error // a *wire.FrameError, for the answer
	notText bool  // not a text message (WebSocket only)
}

func (b *badFrame) Error() string { return b.err.Error() }
func (b *badFrame) Unwrap() error { return b.err }

// wsLink is a device's WebSocket: frames are JSON text messages.
type wsLink struct{ ws *websocket.Conn }

func (l wsLink) read(ctx context.Context) (*wire.Frame, error) {
	typ, b, err := l.ws.Read(ctx)
	if err != nil {
		// A closed connection, or a frame over the read limit, which the
		// WebSocket library answers by closing with 1009 (message too big).
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, &badFrame{err: &wire.FrameError{Code: wire.ErrBadFrame, Msg: "frames are JSON text messages"}, notText: true}
	}
	f, err := wire.DecodeFrame(b)
	if err != nil {
		return f, &badFrame{err: err}
	}
	return f, nil
}

func (l wsLink) write(ctx context.Context, f *wire.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return l.ws.Write(ctx, websocket.MessageText, b)
}

func (l wsLink) close(code websocket.StatusCode, reason string) error {
	return l.ws.Close(code, reason)
}

func (l wsLink) closeNow() error { return l.ws.CloseNow() }

// rider: a device over a WebSocket never carries riders.
func (wsLink) rider(string) router.Rider { return nil }
