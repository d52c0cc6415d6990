package e2e

import (
	"context"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

// BenchmarkOneWay seals and opens messages in one direction: the chain
// moves on, the ratchet does not turn.
func BenchmarkOneWay(b *testing.B) {
	for _, st := range []struct {
		name   string
		dir    func(b *testing.B) string
		nosync bool
	}{
		{"memory", func(*testing.B) string { return "" }, false},
		{"disk", func(b *testing.B) string { return b.TempDir() }, false},
		// As hosted business endpoints keep their key stores.
		{"disk-nosync", func(b *testing.B) string { return b.TempDir() }, true},
	} {
		b.Run(st.name, func(b *testing.B) {
			x, y := establishedPair(b, st.dir, st.nosync)
			msg := []byte(`{"type":"text","text":"a message of ordinary length, about as long as most are"}`)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				p, err := x.s.Seal(ctx, bob, msg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := y.s.Open(ctx, alice, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPingPong answers every message: the ratchet turns each time.
func BenchmarkPingPong(b *testing.B) {
	kd := newKeyDir(b)
	x, y := kd.join(b, alice, ""), kd.join(b, bob, "")
	msg := []byte(`{"type":"text","text":"a message of ordinary length, about as long as most are"}`)
	ctx := context.Background()
	from, to := x, y
	for b.Loop() {
		p, err := from.s.Seal(ctx, to.addr, msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := to.s.Open(ctx, from.addr, p); err != nil {
			b.Fatal(err)
		}
		from, to = to, from
	}
}

// BenchmarkNewSession starts a session (bundle fetch from a local fake key
// directory, X3DH on both sides) and sends its first message.
func BenchmarkNewSession(b *testing.B) {
	kd := newKeyDir(b)
	ctx := context.Background()
	y := kd.join(b, bob, "")
	for b.Loop() {
		b.StopTimer()
		// A fresh sender each time, so each round starts a session.
		kd.forget(carol)
		z := &party{t: b, kd: kd, addr: carol, clock: newFakeClock()}
		z.start()
		if _, err := z.s.Maintain(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := y.s.Maintain(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p, err := z.s.Seal(ctx, bob, []byte("hello"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := y.s.Open(ctx, carol, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal seals messages for one device of an established session,
// as a hosted business endpoint does for each API call: no Open on the
// other side, so the sending chain moves on alone.
func BenchmarkSeal(b *testing.B) {
	for _, st := range []struct {
		name   string
		dir    func(b *testing.B) string
		nosync bool
	}{
		{"memory", func(*testing.B) string { return "" }, false},
		{"disk-nosync", func(b *testing.B) string { return b.TempDir() }, true},
	} {
		b.Run(st.name, func(b *testing.B) {
			x, _ := establishedPair(b, st.dir, st.nosync)
			msg := []byte(`{"type":"text","text":"a message of ordinary length, about as long as most are"}`)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.s.Seal(ctx, bob, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// establishedPair returns alice and bob with a session each way, their
// key stores in dir(b) ("" in memory), synced unless nosync.
func establishedPair(b *testing.B, dir func(*testing.B) string, nosync bool) (x, y *party) {
	kd := newKeyDir(b)
	join := func(a wire.DeviceAddress) *party {
		p := &party{t: b, kd: kd, addr: a, dir: dir(b), nosync: nosync, clock: newFakeClock()}
		p.start()
		if _, err := p.s.Maintain(context.Background()); err != nil {
			b.Fatal(err)
		}
		return p
	}
	x, y = join(alice), join(bob)
	y.recv(x, x.send(y, "start"), "start")
	x.recv(y, y.send(x, "answer"), "answer")
	return x, y
}
