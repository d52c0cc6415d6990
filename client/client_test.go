package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

func TestRegister(t *testing.T) {
	tests := []struct {
		name  string
		noDev bool
		code  string
		ask   string
		want  string // error kind, "" for success
	}{
		{name: "code from /dev/otp"},
		{name: "code given", code: "123456"},
		{name: "code asked", noDev: true, ask: "123456"},
		{name: "no way to get the code", noDev: true, want: "invalid"},
		{name: "wrong code asked", noDev: true, ask: "000000", want: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.set(func(fs *fakeServer) { fs.noDev = tt.noDev })
			dir := filepath.Join(t.TempDir(), "p")
			r := Registration{Server: fs.URL, Phone: alice, Code: tt.code, DeviceName: "test"}
			if tt.code != "" {
				fs.set(func(fs *fakeServer) { fs.codes[alice] = tt.code })
			}
			if tt.ask != "" {
				r.AskCode = func(context.Context) (string, error) { return tt.ask, nil }
			}
			a, err := Register(context.Background(), dir, r)
			if tt.want != "" {
				if err == nil || kontor.KindOf(err).String() != tt.want {
					t.Fatalf("err = %v, want kind %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Phone != alice || a.DeviceID != 1 || a.Credential == "" {
				t.Fatalf("account %+v", a)
			}
			checkMode(t, dir, 0o700)
			checkMode(t, filepath.Join(dir, accountFile), 0o600)
			got, err := LoadAccount(dir)
			if err != nil || got != a {
				t.Fatalf("LoadAccount = %+v, %v; want %+v", got, err, a)
			}
			if _, err := Register(context.Background(), dir, Registration{Server: fs.URL, Phone: alice, Code: "123456"}); err == nil {
				t.Fatal("registering into a used profile worked")
			}
		})
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
	}
}

func TestLink(t *testing.T) {
	fs := newFakeServer(t)
	primary := fs.account(alice, 1)[0]
	lc, err := primary.API(nil).LinkCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, err := Link(context.Background(), dir, Registration{Server: fs.URL, Phone: alice, Code: lc.Code})
	if err != nil {
		t.Fatal(err)
	}
	if a.DeviceID != 2 {
		t.Fatalf("linked device %d, want 2", a.DeviceID)
	}
	ds, err := a.API(nil).Devices(context.Background())
	if err != nil || len(ds.Devices) != 2 {
		t.Fatalf("devices %+v, %v", ds, err)
	}
}

func TestSendReceiveReceipts(t *testing.T) {
	fs := newFakeServer(t)
	a := openDir(t, t.TempDir(), fs.account(alice, 1)[0], fastOptions())
	b := openMem(t, fs.account(bob, 1)[0], fastOptions())
	ctx := context.Background()

	id, err := a.Send(ctx, bob, wire.Content{Type: "text", Text: "hallo", ReplyTo: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if s := next[Sent](t, a); s.ID != id || s.Peer != bob || s.Err != nil {
		t.Fatalf("sent event %+v, want id %v", s, id)
	}
	m := next[Message](t, b)
	if m.ID != id || m.From != alice || m.Peer != alice || m.Outgoing || m.Content.Text != "hallo" || m.Content.ReplyTo != "7" || m.Status != StatusReceived {
		t.Fatalf("received %+v", m)
	}
	if r := next[Receipt](t, a); r.Status != StatusDelivered || !slices.Equal(r.IDs, []kontor.ID{id}) || r.By != bob {
		t.Fatalf("receipt %+v", r)
	}
	eventually(t, "delivered in history", func() bool { return a.History(bob, 0)[0].Status == StatusDelivered })

	if cs := b.Conversations(); len(cs) != 1 || cs[0].Unread != 1 || cs[0].Peer != alice {
		t.Fatalf("conversations %+v", cs)
	}
	if err := b.Read(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if cs := b.Conversations(); cs[0].Unread != 0 || cs[0].Last.Status != StatusRead {
		t.Fatalf("after read: %+v", cs)
	}
	if r := next[Receipt](t, a); r.Status != StatusRead || r.IDs[0] != id {
		t.Fatalf("receipt %+v", r)
	}
	eventually(t, "read in history", func() bool { return a.History(bob, 0)[0].Status == StatusRead })
	eventually(t, "queues empty", func() bool { return fs.queued(a.Account()) == 0 && fs.queued(b.Account()) == 0 })
}

// A message delivered again after a restart (its ack was lost) is acked
// again but neither recorded nor told twice; the same holds for receipts.
func TestDedupeAcrossRestart(t *testing.T) {
	fs := newFakeServer(t)
	dir := t.TempDir()
	acct := fs.account(bob, 1)[0]
	fs.account(alice, 1)
	body, _ := wire.EncodeContent(text("once"))
	msg := wire.Frame{Type: wire.TMsg, ID: 42, TS: 1700000000000, From: alice, FromDevice: 1, Body: body}
	rcpt := wire.Frame{Type: wire.TReceipt, ID: 43, TS: 1700000000001, Status: StatusDelivered, IDs: []kontor.ID{7}, By: alice, ByDevice: 1}

	b := openDir(t, dir, acct, fastOptions())
	fs.push(acct, msg)
	fs.push(acct, rcpt)
	if m := next[Message](t, b); m.ID != 42 {
		t.Fatalf("got %+v", m)
	}
	next[Receipt](t, b)
	eventually(t, "acked", func() bool { return fs.queued(acct) == 0 })
	_ = b.Close()

	fs.push(acct, msg) // at least once: the same frames again
	fs.push(acct, rcpt)
	b = openDir(t, dir, acct, fastOptions())
	next[State](t, b)
	eventually(t, "acked again", func() bool { return fs.queued(acct) == 0 })
	noEvent[Message](t, b, 100*time.Millisecond)
	if h := b.History(alice, 0); len(h) != 1 || h[0].Content.Text != "once" {
		t.Fatalf("history %+v", h)
	}
}

// A send whose answer was lost is sent again with the same ref after the
// reconnect, and the server's first id comes back.
func TestOutboxLostAnswer(t *testing.T) {
	fs := newFakeServer(t)
	fs.set(func(fs *fakeServer) { fs.dropSent = 1 })
	a := openMem(t, fs.account(alice, 1)[0], fastOptions())
	b := openMem(t, fs.account(bob, 1)[0], fastOptions())
	id, err := a.Send(context.Background(), bob, text("hi"))
	if err != nil {
		t.Fatal(err)
	}
	h := a.History(bob, 0)
	if len(h) != 1 || h[0].ID != id || h[0].Status == StatusPending {
		t.Fatalf("history %+v", h)
	}
	if n := fs.sendCount(h[0].Ref); n != 2 {
		t.Fatalf("ref sent %d times, want 2", n)
	}
	if m := next[Message](t, b); m.ID != id {
		t.Fatalf("got %+v", m)
	}
	noEvent[Message](t, b, 100*time.Millisecond)
}

// A message queued but not committed before the client stopped is sent by
// the next client on the profile, with the same ref, and its Sent event
// carries the note it was queued with; the history keeps no note once
// the send is answered.
func TestOutboxAcrossRestart(t *testing.T) {
	fs := newFakeServer(t)
	dir := t.TempDir()
	acct := fs.account(alice, 1)[0]
	fs.account(bob, 1)
	fs.set(func(fs *fakeServer) { fs.hold = true })
	a := openDir(t, dir, acct, fastOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	const note = `{"record":"of the caller","n":1}`
	if _, err := a.SendNoted(ctx, NewRef(), bob, text("later"), []byte(note)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want a deadline error", err)
	}
	h := a.History(bob, 0)
	ref := h[0].Ref
	if string(h[0].Note) != note {
		t.Fatalf("pending send's note %q, want %q", h[0].Note, note)
	}
	_ = a.Close()

	fs.set(func(fs *fakeServer) { fs.hold = false })
	a = openDir(t, dir, acct, fastOptions())
	s := next[Sent](t, a)
	if s.Ref != ref || s.ID == 0 || string(s.Note) != note {
		t.Fatalf("sent %+v (note %s), want ref %s, note %s", s, s.Note, ref, note)
	}
	if n := fs.sendCount(ref); n < 2 {
		t.Fatalf("ref sent %d times", n)
	}
	if h := a.History(bob, 0); len(h) != 1 || h[0].Note != nil {
		t.Fatalf("history once sent %+v", h)
	}
	_ = a.Close()
	a = openDir(t, dir, acct, fastOptions())
	if h := a.History(bob, 0); len(h) != 1 || h[0].Status != StatusSent || h[0].ID != s.ID || h[0].Note != nil {
		t.Fatalf("history after restart %+v", h)
	}
}

// When devices change, the server's devices_mismatch makes the client fetch
// the lists again and resend the same ref, covering the new devices and
// syncing to its own other devices.
func TestDevicesMismatch(t *testing.T) {
	fs := newFakeServer(t)
	as := fs.account(alice, 2)
	fs.account(bob, 1)
	a := openMem(t, as[0], fastOptions())
	a2 := openMem(t, as[1], fastOptions())
	ctx := context.Background()
	if _, err := a.Send(ctx, bob, text("one")); err != nil {
		t.Fatal(err)
	}
	if m := next[Message](t, a2); !m.Outgoing || m.Peer != bob || m.Content.Text != "one" || m.Status != StatusSent {
		t.Fatalf("sync copy %+v", m)
	}
	b2 := openMem(t, fs.addDevice(bob), fastOptions())
	fs.removeDevice(alice, 2)
	id, err := a.Send(ctx, bob, text("two"))
	if err != nil {
		t.Fatal(err)
	}
	ref := a.History(bob, 0)[1].Ref
	if n := fs.sendCount(ref); n != 2 {
		t.Fatalf("ref sent %d times, want 2", n)
	}
	fs.mu.Lock()
	last := fs.lastSend[len(fs.lastSend)-1]
	fs.mu.Unlock()
	if len(last.Payloads) != 2 || len(last.Sync) != 0 {
		t.Fatalf("payloads %+v sync %+v", last.Payloads, last.Sync)
	}
	if m := next[Message](t, b2); m.ID != id {
		t.Fatalf("new device got %+v", m)
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name   string
		to     kontor.Phone
		refuse []string
		code   string // "" = sent in the end
	}{
		{"unknown recipient", carol, nil, wire.ErrUnknownRecipient},
		{"rate limited, then sent", bob, []string{wire.ErrRateLimited, wire.ErrUnavailable}, ""},
		{"too large", bob, []string{wire.ErrTooLarge}, wire.ErrTooLarge},
		{"mismatch forever", bob, slices.Repeat([]string{wire.ErrDevicesMismatch}, maxMismatches+1), wire.ErrDevicesMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.account(bob, 1)
			fs.set(func(fs *fakeServer) { fs.refuse = tt.refuse })
			a := openMem(t, fs.account(alice, 1)[0], fastOptions())
			id, err := a.Send(context.Background(), tt.to, text("x"))
			h := a.History(tt.to, 0)
			if tt.code == "" {
				if err != nil || id == 0 || h[0].Status != StatusSent {
					t.Fatalf("Send = %v, %v; history %+v", id, err, h)
				}
				return
			}
			var se *SendError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("Send error %v, want code %s", err, tt.code)
			}
			if h[0].Status != StatusFailed || h[0].Problem == "" {
				t.Fatalf("history %+v", h)
			}
			if s := next[Sent](t, a); s.Err == nil {
				t.Fatalf("sent event %+v", s)
			}
		})
	}
}

func TestSendRejectsLocally(t *testing.T) {
	fs := newFakeServer(t)
	a := openMem(t, fs.account(alice, 1)[0], fastOptions())
	for _, tc := range []struct {
		to kontor.Phone
		c  wire.Content
	}{
		{alice, text("me")},
		{"12345", text("bad number")},
		{bob, text("  ")},
		{bob, text(string(make([]byte, wire.MaxText+1)))},
	} {
		if _, err := a.Send(context.Background(), tc.to, tc.c); kontor.KindOf(err) != kontor.Invalid {
			t.Errorf("Send(%s, %.10q) = %v, want invalid", tc.to, tc.c.Text, err)
		}
	}
}

func TestStopsForGood(t *testing.T) {
	tests := []struct {
		name string
		do   func(fs *fakeServer, a Account)
		want error
	}{
		{"revoked", func(fs *fakeServer, a Account) { fs.revoke(a) }, ErrUnauthenticated},
		{"replaced", func(fs *fakeServer, a Account) {
			d, _, err := websocket.Dial(context.Background(), "ws"+fs.URL[len("http"):]+"/v1/ws", nil)
			if err != nil {
				panic(err)
			}
			b, _ := jsonFrame(wire.Frame{Type: wire.THello, V: 1, Credential: a.Credential})
			_ = d.Write(context.Background(), websocket.MessageText, b)
			_, _, _ = d.Read(context.Background())
		}, ErrReplaced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeServer(t)
			acct := fs.account(alice, 1)[0]
			fs.account(bob, 1)
			a := openMem(t, acct, fastOptions())
			if err := a.WaitConnected(context.Background()); err != nil {
				t.Fatal(err)
			}
			tt.do(fs, acct)
			for {
				st := next[State](t, a)
				if st.Err != nil {
					if !errors.Is(st.Err, tt.want) {
						t.Fatalf("state %+v, want %v", st, tt.want)
					}
					break
				}
			}
			if !errors.Is(a.Err(), tt.want) {
				t.Fatalf("Err = %v", a.Err())
			}
			if _, err := a.Send(context.Background(), bob, text("x")); !errors.Is(err, tt.want) {
				t.Fatalf("Send after stop = %v", err)
			}
			if err := a.WaitConnected(context.Background()); !errors.Is(err, tt.want) {
				t.Fatalf("WaitConnected after stop = %v", err)
			}
		})
	}
}

func TestReconnectAfterGoingAway(t *testing.T) {
	fs := newFakeServer(t)
	acct := fs.account(alice, 1)[0]
	fs.account(bob, 1)
	a := openMem(t, acct, fastOptions())
	if err := a.Watch(context.Background(), bob); err != nil {
		t.Fatal(err)
	}
	if p := next[Presence](t, a); p.Phone != bob || p.Online {
		t.Fatalf("presence %+v", p)
	}
	if st := next[State](t, a); !st.Connected {
		t.Fatalf("state %+v", st)
	}
	fs.kick(acct, websocket.StatusGoingAway, "restart")
	if st := next[State](t, a); st.Connected || st.Err == nil {
		t.Fatalf("state %+v", st)
	}
	if st := next[State](t, a); !st.Connected {
		t.Fatalf("state %+v", st)
	}
	// The watch list is sent again on the new connection.
	if p := next[Presence](t, a); p.Phone != bob {
		t.Fatalf("presence %+v", p)
	}
	if _, err := a.Send(context.Background(), bob, text("still here")); err != nil {
		t.Fatal(err)
	}
}

func TestTyping(t *testing.T) {
	fs := newFakeServer(t)
	a := openMem(t, fs.account(alice, 1)[0], fastOptions())
	b := openMem(t, fs.account(bob, 1)[0], fastOptions())
	ctx := context.Background()
	for _, c := range []*testClient{a, b} {
		if err := c.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Typing(ctx, bob, true); err != nil {
		t.Fatal(err)
	}
	if ty := next[Typing](t, b); ty.From != alice || !ty.On {
		t.Fatalf("typing %+v", ty)
	}
}

// Leave keeps msg and receipt frames on the server for a later session.
func TestLeave(t *testing.T) {
	fs := newFakeServer(t)
	acct := fs.account(bob, 1)[0]
	body, _ := wire.EncodeContent(text("keep"))
	fs.push(acct, wire.Frame{Type: wire.TMsg, ID: 42, From: alice, FromDevice: 1, Body: body})
	fs.push(acct, wire.Frame{Type: wire.TReceipt, ID: 43, Status: StatusRead, IDs: []kontor.ID{1}, By: alice, ByDevice: 1})
	b := openMem(t, acct, Options{Leave: LeaveMessages})
	if r := next[Receipt](t, b); r.ID != 43 {
		t.Fatalf("receipt %+v", r)
	}
	eventually(t, "receipt acked", func() bool { return fs.queued(acct) == 1 })
	noEvent[Message](t, b, 100*time.Millisecond)
	if fs.queued(acct) != 1 {
		t.Fatal("the message was acked")
	}
}

// A message that cannot be read is still recorded (with a Problem) and
// acked, so it does not block the queue; frames with a bad sender are
// dropped.
func TestBadMessages(t *testing.T) {
	fs := newFakeServer(t)
	acct := fs.account(bob, 1)[0]
	fs.push(acct, wire.Frame{Type: wire.TMsg, ID: 50, From: "../../etc", FromDevice: 1, Body: []byte("x")})
	fs.push(acct, wire.Frame{Type: wire.TMsg, ID: 51, From: alice, FromDevice: 1, Body: []byte("not json")})
	b := openMem(t, acct, fastOptions())
	m := next[Message](t, b)
	if m.ID != 51 || m.Problem == "" {
		t.Fatalf("got %+v", m)
	}
	eventually(t, "both acked", func() bool { return fs.queued(acct) == 0 })
}

func jsonFrame(f wire.Frame) ([]byte, error) { return json.Marshal(&f) }

// Close gives a server that does not answer the close handshake a second,
// not the WebSocket library's five, and a closed client writes nothing.
func TestCloseWithDeafServer(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		_, _, _ = ws.Read(r.Context())
		b, _ := json.Marshal(&wire.Frame{Type: wire.TWelcome, V: 1, Phone: alice, DeviceID: 1})
		_ = ws.Write(r.Context(), websocket.MessageText, b)
		<-stop // never reads again
	}))
	defer srv.Close()
	defer close(stop)
	dir := t.TempDir()
	c := openDir(t, dir, Account{Server: srv.URL, DeviceCredentials: wire.DeviceCredentials{Phone: alice, DeviceID: 1, Credential: "x"}}, fastOptions())
	if err := c.WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = c.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, err := c.Queue(bob, text("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Queue after Close = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, convDir, bob+convExt)); err == nil {
		t.Fatal("a closed client wrote to its profile")
	}
}

// With HoldReceipts a receipt is told but left on the server until the
// application acknowledges it: told again on the next connection (though
// recorded), and no more once acknowledged.
func TestHoldReceipts(t *testing.T) {
	fs := newFakeServer(t)
	dir := t.TempDir()
	acct := fs.account(bob, 1)[0]
	fs.account(alice, 1)
	rcpt := wire.Frame{Type: wire.TReceipt, ID: 43, TS: 1700000000001, Status: StatusDelivered, IDs: []kontor.ID{7}, By: alice, ByDevice: 1}
	opts := fastOptions()
	opts.HoldReceipts = true

	b := openDir(t, dir, acct, opts)
	fs.push(acct, rcpt)
	if r := next[Receipt](t, b); r.ID != 43 || len(r.IDs) != 1 || r.IDs[0] != 7 {
		t.Fatalf("got %+v", r)
	}
	time.Sleep(50 * time.Millisecond)
	if n := fs.queued(acct); n != 1 {
		t.Fatalf("%d frames queued, want the held receipt", n)
	}
	_ = b.Close() // a crash before the application acknowledged it

	b = openDir(t, dir, acct, opts)
	if r := next[Receipt](t, b); r.ID != 43 || r.Status != StatusDelivered {
		t.Fatalf("told again: %+v", r)
	}
	b.Ack(43)
	eventually(t, "acked", func() bool { return fs.queued(acct) == 0 })
	_ = b.Close()

	fs.push(acct, rcpt) // the ack was lost after all: dropped (seen) but told again
	b = openDir(t, dir, acct, opts)
	next[Receipt](t, b)
	b.Ack(43)
	eventually(t, "acked again", func() bool { return fs.queued(acct) == 0 })
	_ = b.Close()
	b = openDir(t, dir, acct, opts)
	next[State](t, b)
	noEvent[Receipt](t, b, 100*time.Millisecond)
}
