package gateway_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/gateway"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestClientInProcess runs the client SDK over the in-process link, as a
// hosted endpoint does: sends, incoming messages, a reconnect after the
// link fails (unacknowledged frames come again), and the close codes that
// stop a client.
func TestClientInProcess(t *testing.T) {
	s := kontortest.Start(t)
	annCreds := s.Account(t, ann)
	b := s.Connect(t, kontortest.WebSocket, s.Account(t, ben).Credential)

	var mu sync.Mutex
	var links []*gateway.LocalConn
	dial := func(context.Context) (client.Conn, error) {
		c, err := s.DialLocal()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		links = append(links, c)
		mu.Unlock()
		return c, nil
	}
	lastLink := func() (*gateway.LocalConn, int) {
		mu.Lock()
		defer mu.Unlock()
		return links[len(links)-1], len(links)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Open(ctx, "", client.Options{Account: &client.Account{Server: s.URL, DeviceCredentials: annCreds},
		Dial: dial, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	message := func(text string) client.Message {
		t.Helper()
		for {
			select {
			case ev := <-c.Events():
				if m, ok := ev.(client.Message); ok && m.Content.Text == text {
					return m
				}
			case <-ctx.Done():
				t.Fatalf("no message %q", text)
			}
		}
	}

	id, err := c.Send(ctx, ben, wire.Content{Type: "text", Text: "over the link"})
	if err != nil {
		t.Fatal(err)
	}
	benGets := func() wire.Frame {
		t.Helper()
		for {
			if f := b.Next(); f.Type == wire.TMsg {
				b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{f.ID}})
				return f
			}
		}
	}
	if m := benGets(); m.ID != id || m.From != ann {
		t.Fatalf("ben got %+v, want id %d", m, id)
	}
	if f := b.Text("b1", ann, []int{1}, "back"); f.Type != wire.TSent {
		t.Fatalf("ben's send: %+v", f)
	}
	if m := message("back"); m.From != ben {
		t.Fatalf("ann got %+v", m)
	}

	// The link fails: the client dials again and goes on; Ben's message
	// arrives over the new link too if it was not yet acknowledged, and is
	// dropped as a duplicate either way.
	first, _ := lastLink()
	_ = first.CloseNow()
	if _, err := first.Read(ctx); err == nil {
		t.Fatal("a dropped link still reads")
	}
	if err := first.Write(ctx, &wire.Frame{Type: wire.TPing}); err == nil {
		t.Fatal("a dropped link still writes")
	}
	if _, err := c.Send(ctx, ben, wire.Content{Type: "text", Text: "after the reconnect"}); err != nil {
		t.Fatal(err)
	}
	if _, n := lastLink(); n < 2 {
		t.Fatalf("%d links dialed, want a second", n)
	}
	if m := benGets(); m.From != ann || !strings.Contains(string(m.Body), "after the reconnect") {
		t.Fatalf("ben got %+v", m)
	}

	// Another connection of the same device replaces this one: close
	// 4002, and the client stops for good.
	d := s.Connect(t, kontortest.InProcess, annCreds.Credential)
	select {
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not stop")
	case <-func() chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for c.Err() == nil && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
		}()
		return done
	}():
	}
	if !errors.Is(c.Err(), client.ErrReplaced) {
		t.Fatalf("client stopped with %v, want ErrReplaced", c.Err())
	}
	d.Send(wire.Frame{Type: wire.TPing})
	for f := d.Next(); f.Type != wire.TPong; f = d.Next() {
		if f.Type != wire.TMsg && f.Type != wire.TReceipt { // what waits for Ann comes to the new connection
			t.Fatalf("the replacing connection got %+v", f)
		}
	}
}

// TestLocalShutdown: a node shutting down closes in-process links with
// "going away", as it does WebSockets, and takes no new ones.
func TestLocalShutdown(t *testing.T) {
	s := kontortest.Start(t)
	a := s.Connect(t, kontortest.InProcess, s.Account(t, ann).Credential)
	s.Stop()
	if _, err := a.NextWithin(5 * time.Second); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("want close 1001, got %v", err)
	}
	if _, err := s.DialLocal(); err == nil {
		t.Fatal("a stopped node took an in-process connection")
	}
}
