package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/kontor-chat/kontor/wire"
)

// TestWithdraw: a withdrawn send is never written again, by this client
// or the next on the profile, and Withdraw says whether the server may
// have committed it.
func TestWithdraw(t *testing.T) {
	tests := []struct {
		name string
		// before sets the server up for the send's first write; after
		// returns when the send is where Withdraw is to find it.
		before  func(fs *fakeServer)
		after   func(t *testing.T, fs *fakeServer, a *testClient, ref string)
		want    error // nil: the server's id comes back
		written int   // send frames the server saw
	}{
		{"in backoff after unavailable", func(fs *fakeServer) { fs.refuse = []string{wire.ErrUnavailable} },
			func(t *testing.T, fs *fakeServer, a *testClient, ref string) {
				eventually(t, "refused", func() bool { return fs.sendCount(ref) == 1 && !a.session().isInflight(ref) })
			}, ErrWithdrawn, 1},
		{"in flight, no answer", func(fs *fakeServer) { fs.hold = true },
			func(t *testing.T, fs *fakeServer, a *testClient, ref string) {
				eventually(t, "written", func() bool { return fs.sendCount(ref) == 1 })
			}, ErrFateUnknown, 1},
		{"written on a lost connection, then unavailable", func(fs *fakeServer) { fs.hold = true },
			func(t *testing.T, fs *fakeServer, a *testClient, ref string) {
				eventually(t, "written", func() bool { return fs.sendCount(ref) == 1 })
				fs.set(func(fs *fakeServer) { fs.hold, fs.refuse = false, []string{wire.ErrUnavailable} })
				fs.kick(a.Account(), websocket.StatusGoingAway, "restart")
				eventually(t, "refused on the next connection", func() bool {
					s := a.session()
					return fs.sendCount(ref) == 2 && s != nil && !s.isInflight(ref)
				})
			}, ErrFateUnknown, 2},
		{"committed before", func(fs *fakeServer) {},
			func(t *testing.T, fs *fakeServer, a *testClient, ref string) {
				eventually(t, "sent", func() bool { m, _ := a.prof.messageByRef(ref); return m.Status == StatusSent })
			}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeServer(t)
			dir := t.TempDir()
			acct := fs.account(alice, 1)[0]
			fs.account(bob, 1)
			// Retries and reconnects wait 0.5–1 s: Withdraw finds a
			// refused send waiting for its next try.
			opts := Options{MinBackoff: time.Second, MaxBackoff: time.Second}
			a := openDir(t, dir, acct, opts)
			if err := a.WaitConnected(context.Background()); err != nil {
				t.Fatal(err)
			}
			fs.set(tt.before)
			ref := NewRef()
			ctx, cancel := context.WithCancel(context.Background())
			sent := make(chan error, 1)
			go func() {
				_, err := a.SendRef(ctx, ref, bob, text("once at most"))
				sent <- err
			}()
			eventually(t, "queued", func() bool { _, ok := a.prof.messageByRef(ref); return ok })
			tt.after(t, fs, a, ref)
			cancel()
			<-sent

			wctx, wcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer wcancel()
			id, err := a.Withdraw(wctx, ref)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (id != 0) {
				t.Fatalf("Withdraw = %d, %v; want %v", id, err, tt.want)
			}
			m, _ := a.prof.messageByRef(ref)
			if tt.want != nil {
				if m.Status != StatusFailed {
					t.Fatalf("withdrawn send has status %s", m.Status)
				}
				if s := next[Sent](t, a); s.Ref != ref || !errors.Is(s.Err, tt.want) {
					t.Fatalf("Sent event %+v", s)
				}
			}
			// The server heals; the send is never written again, nor
			// by the next client on the profile.
			fs.set(func(fs *fakeServer) { fs.hold, fs.refuse = false, nil })
			a.kickSender()
			time.Sleep(1200 * time.Millisecond) // past the next try
			_ = a.Close()
			a = openDir(t, dir, acct, opts)
			if err := a.WaitConnected(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if n := fs.sendCount(ref); n != tt.written {
				t.Fatalf("the send was written %d times, want %d", n, tt.written)
			}
			if again, _ := a.prof.messageByRef(ref); again.Status != m.Status {
				t.Fatalf("after a restart the send has status %s, want %s", again.Status, m.Status)
			}
		})
	}
}
