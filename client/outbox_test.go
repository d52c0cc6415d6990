package client

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

// pendingProfile returns a profile in memory whose outbox holds n messages
// to bob, refs r0…r(n-1) in that order, and a sent one (not in the outbox).
func pendingProfile(tb testing.TB, n int) *profile {
	tb.Helper()
	p := newProfile(Account{DeviceCredentials: wire.DeviceCredentials{Phone: alice, DeviceID: 1}}, slog.New(slog.DiscardHandler))
	for i := range n {
		m := Message{Ref: fmt.Sprint("r", i), TS: int64(100 - i%3), Peer: bob, From: alice, FromDevice: 1, Outgoing: true,
			Status: StatusPending, Content: wire.Content{V: 1, Type: "text", Text: "hello"}}
		if err := p.write([]change{{bob, record{Msg: &m}}}); err != nil {
			tb.Fatal(err)
		}
	}
	sent := Message{Ref: "sent", TS: 1, Peer: bob, Outgoing: true, Status: StatusSent, ID: 7}
	if err := p.write([]change{{bob, record{Msg: &sent}}}); err != nil {
		tb.Fatal(err)
	}
	return p
}

// The outbox is the pending messages, oldest first (by time, then by the
// order they were queued in), but for those the sender skips.
func TestOutboxSkip(t *testing.T) {
	tests := []struct {
		name string
		skip func(string) bool
		want []string
	}{
		{"no skip", nil, []string{"r2", "r5", "r1", "r4", "r0", "r3"}},
		{"skip nothing", func(string) bool { return false }, []string{"r2", "r5", "r1", "r4", "r0", "r3"}},
		{"skip some", func(ref string) bool { return ref == "r1" || ref == "r3" }, []string{"r2", "r5", "r4", "r0"}},
		{"skip all", func(string) bool { return true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pendingProfile(t, 6)
			var got []string
			for _, m := range p.outbox(tt.skip) {
				if m.Status != StatusPending || m.Content.Text != "hello" {
					t.Errorf("outbox has %+v", m)
				}
				got = append(got, m.Ref)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("outbox %v, want %v", got, tt.want)
			}
		})
	}
}

// The outbox is copied only where it is not in flight: a business
// endpoint's sender is woken by each send while dozens are in flight.
func TestOutboxSkipCopiesNothingInFlight(t *testing.T) {
	p := pendingProfile(t, 64)
	if n := testing.AllocsPerRun(100, func() { p.outbox(func(string) bool { return true }) }); n != 0 {
		t.Errorf("an outbox all in flight allocates %v times", n)
	}
}

// BenchmarkOutboxInFlight is the sender's look at an outbox of 64 messages
// of which all but one are in flight, as a business endpoint's is: "copy"
// copies them all and drops those in flight after (as sendPending did
// before outbox took skip), "skip" does not copy them.
func BenchmarkOutboxInFlight(b *testing.B) {
	p := pendingProfile(b, 64)
	inflight := map[string]bool{}
	for i := range 63 {
		inflight[fmt.Sprint("r", i)] = true
	}
	isInflight := func(ref string) bool { return inflight[ref] }
	b.Run("copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, m := range p.outbox(nil) {
				if !isInflight(m.Ref) {
					n++
				}
			}
			if n != 1 {
				b.Fatal(n)
			}
		}
	})
	b.Run("skip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ob := p.outbox(isInflight); len(ob) != 1 {
				b.Fatal(len(ob))
			}
		}
	})
}
