package bus_test

import (
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/bus"
)

type got struct {
	mu     sync.Mutex
	events []string
	ch     chan struct{}
}

func newGot() *got { return &got{ch: make(chan struct{}, 100)} }

func (g *got) add(s string) {
	g.mu.Lock()
	g.events = append(g.events, s)
	g.mu.Unlock()
	g.ch <- struct{}{}
}

func (g *got) Ring(device, min kontor.ID)       { g.add("ring " + device.String() + " " + min.String()) }
func (g *got) DevicesChanged(account kontor.ID) { g.add("devices " + account.String()) }
func (g *got) Kick(device kontor.ID)            { g.add("kick " + device.String()) }
func (g *got) RemotePresence(node int, account kontor.ID, online bool, lastSeen int64) {
	g.add("presence " + account.String() + map[bool]string{true: " online", false: " offline"}[online] + " " + kontor.ID(lastSeen).String())
}
func (g *got) Typing(to kontor.ID, from kontor.Phone, fromDevice int, on bool) {
	g.add("typing " + to.String() + " " + string(from) + " " + kontor.ID(fromDevice).String() + map[bool]string{true: " on", false: " off"}[on])
}
func (g *got) DirectoryChanged(kind byte, id kontor.ID) {
	g.add("directory " + string(rune(kind)) + " " + id.String())
}

func (g *got) wait(t *testing.T, n int) []string {
	t.Helper()
	for range n {
		select {
		case <-g.ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d of %d events: %v", len(g.events), n, g.events)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.events...)
}

// suite runs against two nodes on the same NATS.
func suite(t *testing.T, open func(t *testing.T, node int) *bus.Bus) {
	n1, n2 := open(t, 1), open(t, 2)
	g1, g2 := newGot(), newGot()
	if err := n1.Subscribe(g1); err != nil {
		t.Fatal(err)
	}
	if err := n2.Subscribe(g2); err != nil {
		t.Fatal(err)
	}
	n1.Doorbell(7, 42)
	n1.DevicesChanged(8)
	n1.Kick(9)
	n1.Presence(10, true, 0)
	n1.Presence(10, false, 1234)
	n1.Typing(11, "+4915100000001", 2, true)
	n1.DirectoryChanged('t', 12)
	want := []string{"ring 7 42", "devices 8", "kick 9", "presence 10 online 0", "presence 10 offline 1234", "typing 11 +4915100000001 2 on", "directory t 12"}
	// Each kind of hint has its own subject: order holds within a kind only.
	evs := g2.wait(t, len(want))
	pos := map[string]int{}
	for i, e := range evs {
		pos[e] = i + 1
	}
	for _, w := range want {
		if pos[w] == 0 {
			t.Fatalf("missing %q in %v", w, evs)
		}
	}
	if pos["presence 10 online 0"] > pos["presence 10 offline 1234"] {
		t.Fatalf("presence out of order: %v", evs)
	}
	// A node ignores its own hints.
	time.Sleep(100 * time.Millisecond)
	g1.mu.Lock()
	defer g1.mu.Unlock()
	if len(g1.events) != 0 {
		t.Fatalf("node 1 heard itself: %v", g1.events)
	}
	if err := n1.Ready(); err != nil {
		t.Fatal(err)
	}
}

func TestEmbedded(t *testing.T) {
	// Node 2 is a second in-process connection to node 1's embedded server.
	dir := t.TempDir()
	b1, err := bus.Open(bus.Config{DataDir: dir, Node: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b1.Close)
	if !b1.Embedded() {
		t.Fatal("not embedded")
	}
	b2, err := bus.Attach(b1, 2, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b2.Close)
	suite(t, func(t *testing.T, node int) *bus.Bus {
		if node == 1 {
			return b1
		}
		return b2
	})
	if _, err := os.Stat(dir + "/nats"); err != nil {
		t.Fatalf("JetStream directory: %v", err)
	}
}

func TestExternal(t *testing.T) {
	url := os.Getenv("KONTOR_TEST_NATS")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KONTOR_TEST_NATS is not set, but CI is")
		}
		t.Skip("KONTOR_TEST_NATS not set: skipping the external NATS run")
	}
	suite(t, func(t *testing.T, node int) *bus.Bus {
		b, err := bus.Open(bus.Config{URL: url, Node: node + 1000*int(time.Now().UnixNano()%1000), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		return b
	})
}
