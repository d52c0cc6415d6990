package client

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor/wire"
)

// Conn carries the frames of one connection to a kontor server, in order
// in each direction. The client opens one per connection attempt, says
// hello on it, and opens a new one after it fails (Options.Dial). The
// WebSocket to /v1/ws is one; a server's in-process link to its hosted
// business endpoints is another. Methods must be safe for concurrent use.
type Conn interface {
	// Read returns the next frame from the server. When the server closed
	// the connection with a protocol close code, Read returns the frames
	// written before it, then a websocket.CloseError with the code.
	Read(ctx context.Context) (*wire.Frame, error)
	// Write sends one frame. The frame's payload bodies may be kept by the
	// other end: they are not changed after Write.
	Write(ctx context.Context, f *wire.Frame) error
	// Close closes the connection normally, waiting briefly for the server.
	Close() error
	// CloseNow drops the connection.
	CloseNow() error
}

// tryWriter is a Conn that can write a frame at once when there is room,
// without a deadline (the in-process connection of a hosted endpoint): a
// session then makes no timeout context, with its timer, for each frame.
// done is false when the frame would have to wait; then nothing was
// written.
type tryWriter interface {
	TryWrite(f *wire.Frame) (done bool, err error)
}

// handOverWriter is a Conn that can take a frame over instead of copying
// it (the in-process connection, whose Write and TryWrite copy the frame
// and its lists): the writer changes neither afterwards. A session hands
// over the send frames it builds for each message.
type handOverWriter interface {
	HandOver(ctx context.Context, f *wire.Frame) error
	TryHandOver(f *wire.Frame) (done bool, err error)
}

// dial opens a connection: Options.Dial's, or the WebSocket.
func (c *Client) dial(ctx context.Context) (Conn, error) {
	if c.opts.Dial != nil {
		conn, err := c.opts.Dial(ctx)
		if err == nil && conn == nil {
			err = errors.New("the dialer returned no connection")
		}
		return conn, err
	}
	ws, drop, err := c.dialWebSocket(ctx)
	if err != nil {
		drop()
		return nil, err
	}
	ws.SetReadLimit(readLimit)
	return &wsConn{ws: ws, drop: drop, log: c.log}, nil
}

// wsConn is the WebSocket to /v1/ws: one JSON frame per text message.
type wsConn struct {
	ws   *websocket.Conn
	drop func() // closes the TCP connections of the dial
	log  *slog.Logger
}

func (w *wsConn) Read(ctx context.Context) (*wire.Frame, error) {
	for {
		typ, b, err := w.ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		if typ != websocket.MessageText {
			continue
		}
		f, err := decodeServerFrame(b)
		if err != nil {
			w.log.Warn("ignoring a bad frame from the server", "err", err)
			continue
		}
		return f, nil
	}
}

// decodeServerFrame parses one frame from the server.
func decodeServerFrame(b []byte) (*wire.Frame, error) {
	var f wire.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Type == "" {
		return nil, errors.New("frame has no type")
	}
	return &f, nil
}

func (w *wsConn) Write(ctx context.Context, f *wire.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return w.ws.Write(ctx, websocket.MessageText, b)
}

// Close closes normally, but waits at most a second for the server to
// answer the close; then it drops the connection.
func (w *wsConn) Close() error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.ws.Close(websocket.StatusNormalClosure, "")
	}()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		w.drop()
		<-done
	}
	w.drop()
	return nil
}

func (w *wsConn) CloseNow() error {
	err := w.ws.CloseNow()
	w.drop()
	return err
}
