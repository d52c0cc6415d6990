package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// TestPipe checks the in-process link's WebSocket-like semantics: frames
// in order, frames written before a close read before it, the close code
// seen by both ends, writes after a close refused, and the device's
// writes copied.
func TestPipe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tests := []struct {
		name    string
		closeBy func(srv localLink, dev *LocalConn)
		want    error // what both ends read after the frames
	}{
		{"server closes with a code", func(srv localLink, _ *LocalConn) { _ = srv.close(closeReplaced, "replaced") },
			websocket.CloseError{Code: closeReplaced, Reason: "replaced"}},
		{"device closes normally", func(_ localLink, dev *LocalConn) { _ = dev.Close() },
			websocket.CloseError{Code: websocket.StatusNormalClosure}},
		{"device drops", func(_ localLink, dev *LocalConn) { _ = dev.CloseNow() }, errDropped},
		{"server drops", func(srv localLink, _ *LocalConn) { _ = srv.closeNow() }, errDropped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipe(nil)
			srv, dev := localLink{p}, &LocalConn{p}
			ids := []kontor.ID{1, 2}
			for i := range 3 {
				if err := srv.write(ctx, &wire.Frame{Type: wire.TPong, TS: int64(i)}); err != nil {
					t.Fatal(err)
				}
			}
			ack := &wire.Frame{Type: wire.TAck, IDs: ids}
			if err := dev.Write(ctx, ack); err != nil {
				t.Fatal(err)
			}
			ack.IDs[0] = 99 // the device reuses its slice: the server's copy stays
			tt.closeBy(srv, dev)
			for i := range 3 {
				f, err := dev.Read(ctx)
				if err != nil || f.TS != int64(i) {
					t.Fatalf("device read %d: %+v %v", i, f, err)
				}
			}
			if _, err := dev.Read(ctx); err != tt.want {
				t.Fatalf("device after the frames: %v, want %v", err, tt.want)
			}
			f, err := srv.read(ctx)
			if err != nil || f.Type != wire.TAck || f.IDs[0] != 1 {
				t.Fatalf("server read: %+v %v", f, err)
			}
			if _, err := srv.read(ctx); err != tt.want {
				t.Fatalf("server after the frames: %v, want %v", err, tt.want)
			}
			if err := dev.Write(ctx, &wire.Frame{Type: wire.TPing}); err == nil {
				t.Fatal("a write after the close was taken")
			}
			if err := srv.write(ctx, &wire.Frame{Type: wire.TPong}); err == nil {
				t.Fatal("a server write after the close was taken")
			}
		})
	}
}

// TestPipeTryWrite: a try-write hands a frame over (copied) when there is
// room, declines without writing when the other end is pipeFrames behind,
// and reports a closed pipe.
func TestPipeTryWrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := newPipe(nil)
	srv, dev := localLink{p}, &LocalConn{p}
	ack := &wire.Frame{Type: wire.TAck, IDs: []kontor.ID{1}}
	for i := range pipeFrames {
		if done, err := dev.TryWrite(ack); !done || err != nil {
			t.Fatalf("device try-write %d: %v %v", i, done, err)
		}
		if done, err := srv.tryWrite(&wire.Frame{Type: wire.TPong, TS: int64(i)}); !done || err != nil {
			t.Fatalf("server try-write %d: %v %v", i, done, err)
		}
	}
	ack.IDs[0] = 99
	if done, err := dev.TryWrite(ack); done || err != nil {
		t.Fatalf("device try-write to a full pipe: %v %v", done, err)
	}
	if done, err := srv.tryWrite(&wire.Frame{Type: wire.TPong}); done || err != nil {
		t.Fatalf("server try-write to a full pipe: %v %v", done, err)
	}
	if f, err := srv.read(ctx); err != nil || f.IDs[0] != 1 {
		t.Fatalf("server read: %+v %v", f, err)
	}
	if f, err := dev.Read(ctx); err != nil || f.TS != 0 {
		t.Fatalf("device read: %+v %v", f, err)
	}
	_ = dev.Close()
	if done, err := dev.TryWrite(ack); !done || err == nil {
		t.Fatalf("try-write after close: %v %v", done, err)
	}
	if done, err := srv.tryWrite(ack); !done || err == nil {
		t.Fatalf("server try-write after close: %v %v", done, err)
	}
}

// TestPipeHandOver: a frame handed over reaches the server as it is (not
// copied), waiting or not; a full pipe declines a try, a closed one and a
// nil frame are refused.
func TestPipeHandOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := newPipe(nil)
	srv, dev := localLink{p}, &LocalConn{p}
	first := &wire.Frame{Type: wire.TAck, IDs: []kontor.ID{1}}
	if err := dev.HandOver(ctx, first); err != nil {
		t.Fatal(err)
	}
	if f, err := srv.read(ctx); err != nil || f != first {
		t.Fatalf("server read %p %v, want the frame handed over (%p)", f, err, first)
	}
	for i := range pipeFrames {
		if done, err := dev.TryHandOver(&wire.Frame{Type: wire.TAck, IDs: []kontor.ID{kontor.ID(i + 1)}}); !done || err != nil {
			t.Fatalf("try-hand-over %d: %v %v", i, done, err)
		}
	}
	if done, err := dev.TryHandOver(first); done || err != nil {
		t.Fatalf("try-hand-over to a full pipe: %v %v", done, err)
	}
	if f, err := srv.read(ctx); err != nil || f.IDs[0] != 1 {
		t.Fatalf("server read: %+v %v", f, err)
	}
	if err := dev.HandOver(ctx, nil); err == nil {
		t.Fatal("a nil frame was handed over")
	}
	if done, err := dev.TryHandOver(nil); !done || err == nil {
		t.Fatalf("try-hand-over of nil: %v %v", done, err)
	}
	_ = dev.Close()
	if err := dev.HandOver(ctx, first); err == nil {
		t.Fatal("a hand-over after close was taken")
	}
	if done, err := dev.TryHandOver(first); !done || err == nil {
		t.Fatalf("try-hand-over after close: %v %v", done, err)
	}
}
