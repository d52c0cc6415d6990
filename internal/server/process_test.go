package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

const (
	ann = "+4915100000001"
	ben = "+4915100000002"
)

func account(t *testing.T, p *kontortest.Process, phone string) string {
	t.Helper()
	var c wire.DeviceCredentials
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/admin/v1/accounts", p.Token(), map[string]string{"phone": phone}, &c); code != 200 {
		t.Fatalf("account %s: %d", phone, code)
	}
	return c.Credential
}

// TestCrashBetweenSendAndReceive stops the server after a message was
// acknowledged to its sender and before the recipient connected: with
// SIGTERM (graceful, exit 0) and with SIGKILL. The message arrives once.
func TestCrashBetweenSendAndReceive(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			p := kontortest.StartProcess(t, "")
			annCred := account(t, p, ann)
			a := kontortest.Dial(t, p.WS, annCred)
			benCred := account(t, p, ben)
			var ids []kontor.ID
			for i := range 50 {
				f := a.Text(fmt.Sprintf("r%d", i), ben, []int{1}, fmt.Sprintf("before the crash %d", i))
				if f.Type != wire.TSent {
					t.Fatalf("send: %+v", f)
				}
				ids = append(ids, f.ID)
			}
			err := p.Signal(sig)
			if sig == syscall.SIGTERM && err != nil {
				t.Fatalf("SIGTERM: exit %v, want 0\n%s", err, p.Log())
			}
			p.Restart()
			b := kontortest.Dial(t, p.WS, benCred)
			for i, want := range ids {
				m := b.Expect(wire.TMsg)
				if m.ID != want || !strings.Contains(string(m.Body), fmt.Sprintf("before the crash %d\"", i)) {
					t.Fatalf("message %d: %+v", i, m)
				}
				b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{m.ID}})
			}
			b.Send(wire.Frame{Type: wire.TPing})
			b.Expect(wire.TPong) // no second copy came before the pong
			// The sender, reconnecting, repeats a ref (as a client does
			// when it never heard back): the first id comes back, and
			// Ben gets nothing new.
			a = kontortest.Dial(t, p.WS, annCred)
			if f := a.Text("r7", ben, []int{1}, "before the crash 7"); f.ID != ids[7] {
				t.Fatalf("repeated ref after restart: %+v, want id %d", f, ids[7])
			}
			b.Send(wire.Frame{Type: wire.TPing})
			b.Expect(wire.TPong)
		})
	}
}

// TestSecondServeRefuses checks the data directory lock.
func TestSecondServeRefuses(t *testing.T) {
	p := kontortest.StartProcess(t, "")
	out, err := runKontor(t, "serve", "--data", p.DataDir, "--http", kontortest.FreeAddr(t))
	if err == nil || !strings.Contains(out, "in use by another kontor serve") {
		t.Fatalf("second serve: err=%v\n%s", err, out)
	}
}

// TestTwoNodes runs two processes on one PostgreSQL and one external NATS:
// a person on each node, chatting both ways, and node 2 is stopped and
// restarted mid-conversation without losing a message.
func TestTwoNodes(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	n1 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "1")
	n2 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "2")
	annCred, benCred := account(t, n1, ann), account(t, n2, ben)
	a := kontortest.Dial(t, n1.WS, annCred)
	b := kontortest.Dial(t, n2.WS, benCred)

	receipts := map[kontor.Phone]int{} // delivered receipts seen, by the one who got the message
	// next returns the next msg frame, acking receipts on the way.
	next := func(d *kontortest.Device) wire.Frame {
		t.Helper()
		for {
			f := d.Next()
			switch f.Type {
			case wire.TMsg:
				return f
			case wire.TReceipt:
				if f.Status == wire.StatusDelivered {
					receipts[f.By]++
				}
				d.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{f.ID}})
			}
		}
	}
	exchange := func(from, to *kontortest.Device, toPhone string, ref string) {
		t.Helper()
		f := from.Text(ref, toPhone, []int{1}, "msg "+ref)
		if f.Type != wire.TSent {
			t.Fatalf("%s: %+v", ref, f)
		}
		if m := next(to); m.ID != f.ID {
			t.Fatalf("%s: got %+v", ref, m)
		}
		to.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{f.ID}})
	}
	for i := range 10 {
		exchange(a, b, ben, fmt.Sprintf("a%d", i))
		exchange(b, a, ann, fmt.Sprintf("b%d", i))
	}
	if receipts[ben] == 0 {
		t.Fatalf("no delivered receipt crossed from node 2 to node 1: %v", receipts)
	}

	// Node 2 goes away; Ann keeps writing; Ben comes back on the restarted node 2.
	if err := n2.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("node 2 SIGTERM: %v", err)
	}
	var sent []kontor.ID
	for i := range 20 {
		f := a.Text(fmt.Sprintf("c%d", i), ben, []int{1}, fmt.Sprintf("while node 2 was down %d", i))
		if f.Type != wire.TSent {
			t.Fatalf("send while node 2 down: %+v", f)
		}
		sent = append(sent, f.ID)
	}
	n2.Restart()
	b = kontortest.Dial(t, n2.WS, benCred)
	for i, want := range sent {
		f := next(b)
		if f.ID != want {
			t.Fatalf("after restart, message %d: id %d, want %d", i, f.ID, want)
		}
		b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{f.ID}})
	}
	// And live delivery across nodes works again, both ways.
	exchange(a, b, ben, "d1")
	exchange(b, a, ann, "d2")
}
