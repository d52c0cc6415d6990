package bus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/kontor-chat/kontor"
)

// Subjects of the hints.
const (
	subjRing     = "kontor.v1.ring"
	subjDevices  = "kontor.v1.devices"
	subjKick     = "kontor.v1.kick"
	subjPresence = "kontor.v1.presence"
	subjTyping   = "kontor.v1.typing"
	subjDir      = "kontor.v1.directory"
)

// Handler receives the hints other nodes publish. Calls must not block.
type Handler interface {
	Ring(device, min kontor.ID)
	DevicesChanged(account kontor.ID)
	Kick(device kontor.ID)
	RemotePresence(node int, account kontor.ID, online bool, lastSeen int64)
	Typing(to kontor.ID, from kontor.Phone, fromDevice int, on bool)
	// DirectoryChanged says that a row other nodes may cache (a token, a
	// number, a business, an app: kind is the store's word for which)
	// changed.
	DirectoryChanged(kind byte, id kontor.ID)
}

// Config says where the bus is.
type Config struct {
	// URL is "" for the embedded server, or nats://host:port[,nats://…] for an
	// external cluster.
	URL string
	// DataDir holds the embedded server's JetStream files (under nats/).
	DataDir string
	// Node tells this node's hints apart from others'.
	Node   int
	Logger *slog.Logger
}

// Bus is a connection to NATS (and, when embedded, the server itself).
type Bus struct {
	node int
	nc   *nats.Conn
	srv  *server.Server
	subs []*nats.Subscription
	log  *slog.Logger
}

// Open starts the embedded server or connects to the external one.
func Open(cfg Config) (*Bus, error) {
	b := &Bus{node: cfg.Node, log: cfg.Logger}
	opts := []nats.Option{
		nats.Name(fmt.Sprintf("kontor-node-%d", cfg.Node)),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(8 << 20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				cfg.Logger.Warn("bus disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { cfg.Logger.Info("bus reconnected") }),
	}
	url := cfg.URL
	if url == "" {
		dir := filepath.Join(cfg.DataDir, "nats")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("bus: %w", err)
		}
		srv, err := server.NewServer(&server.Options{
			ServerName: "kontor-embedded",
			DontListen: true,
			JetStream:  true,
			StoreDir:   dir,
			NoSigs:     true,
			NoLog:      true,
			MaxPayload: 1 << 20,
		})
		if err != nil {
			return nil, fmt.Errorf("bus: embedded NATS: %w", err)
		}
		srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			srv.Shutdown()
			return nil, errors.New("bus: embedded NATS did not start within 10 s")
		}
		b.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
		url = ""
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if b.srv != nil {
			b.srv.Shutdown()
		}
		return nil, fmt.Errorf("bus: connect %s: %w", cfg.URL, err)
	}
	b.nc = nc
	return b, nil
}

// Attach returns a second node's bus on the same NATS connection's server:
// for tests of several nodes in one process with the embedded server.
// Closing it leaves the server to b.
func Attach(b *Bus, node int, log *slog.Logger) (*Bus, error) {
	var nc *nats.Conn
	var err error
	if b.srv != nil {
		nc, err = nats.Connect("", nats.InProcessServer(b.srv))
	} else {
		nc, err = nats.Connect(b.nc.ConnectedUrl())
	}
	if err != nil {
		return nil, fmt.Errorf("bus: attach: %w", err)
	}
	return &Bus{node: node, nc: nc, log: log}, nil
}

// Embedded reports whether the bus runs its own server.
func (b *Bus) Embedded() bool { return b.srv != nil }

// Ready reports whether the connection is up.
func (b *Bus) Ready() error {
	if !b.nc.IsConnected() {
		return errors.New("bus: not connected to NATS")
	}
	return nil
}

// Conn returns the NATS connection (for JetStream users and tests).
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Subscribe delivers other nodes' hints to h.
func (b *Bus) Subscribe(h Handler) error {
	subs := []struct {
		subj string
		fn   func(node int, d []byte)
	}{
		{subjRing, func(_ int, d []byte) {
			if len(d) == 16 {
				h.Ring(kontor.ID(u64(d)), kontor.ID(u64(d[8:])))
			}
		}},
		{subjDevices, func(_ int, d []byte) {
			if len(d) == 8 {
				h.DevicesChanged(kontor.ID(u64(d)))
			}
		}},
		{subjKick, func(_ int, d []byte) {
			if len(d) == 8 {
				h.Kick(kontor.ID(u64(d)))
			}
		}},
		{subjPresence, func(node int, d []byte) {
			if len(d) == 17 {
				h.RemotePresence(node, kontor.ID(u64(d)), d[16] == 1, int64(u64(d[8:])))
			}
		}},
		{subjTyping, func(_ int, d []byte) {
			if len(d) >= 14 {
				h.Typing(kontor.ID(u64(d)), kontor.Phone(d[14:]), int(binary.BigEndian.Uint32(d[8:])), d[12] == 1)
			}
		}},
		{subjDir, func(_ int, d []byte) {
			if len(d) == 9 {
				h.DirectoryChanged(d[0], kontor.ID(u64(d[1:])))
			}
		}},
	}
	for _, s := range subs {
		fn, subj := s.fn, s.subj
		sub, err := b.nc.Subscribe(subj, func(m *nats.Msg) {
			node, data, ok := b.unwrap(m.Data)
			if !ok || node == b.node {
				return
			}
			fn(node, data)
		})
		if err != nil {
			return fmt.Errorf("bus: subscribe %s: %w", subj, err)
		}
		_ = sub.SetPendingLimits(1<<20, 256<<20)
		b.subs = append(b.subs, sub)
	}
	return b.nc.Flush()
}

// Every message starts with the publishing node's number (4 bytes).
func (b *Bus) wrap(n int) []byte {
	buf := make([]byte, 4, 4+n)
	binary.BigEndian.PutUint32(buf, uint32(b.node))
	return buf
}

func (b *Bus) unwrap(d []byte) (int, []byte, bool) {
	if len(d) < 4 {
		return 0, nil, false
	}
	return int(binary.BigEndian.Uint32(d)), d[4:], true
}

func (b *Bus) publish(subj string, data []byte) {
	if err := b.nc.Publish(subj, data); err != nil {
		b.log.Debug("bus publish failed", "subject", subj, "err", err)
	}
}

// Doorbell rings device on whichever node holds it: entries from min on wait.
func (b *Bus) Doorbell(device, min kontor.ID) {
	d := b.wrap(16)
	d = binary.BigEndian.AppendUint64(d, uint64(device))
	d = binary.BigEndian.AppendUint64(d, uint64(min))
	b.publish(subjRing, d)
}

// DevicesChanged tells other nodes that an account's devices changed.
func (b *Bus) DevicesChanged(account kontor.ID) {
	b.publish(subjDevices, binary.BigEndian.AppendUint64(b.wrap(8), uint64(account)))
}

// Kick tells other nodes to close a removed device's connection.
func (b *Bus) Kick(device kontor.ID) {
	b.publish(subjKick, binary.BigEndian.AppendUint64(b.wrap(8), uint64(device)))
}

// Presence tells other nodes whether account is online on this node.
func (b *Bus) Presence(account kontor.ID, online bool, lastSeen int64) {
	d := binary.BigEndian.AppendUint64(b.wrap(17), uint64(account))
	d = binary.BigEndian.AppendUint64(d, uint64(lastSeen))
	if online {
		d = append(d, 1)
	} else {
		d = append(d, 0)
	}
	b.publish(subjPresence, d)
}

// Typing tells the nodes holding account to's devices that from is typing.
func (b *Bus) Typing(to kontor.ID, from kontor.Phone, fromDevice int, on bool) {
	d := binary.BigEndian.AppendUint64(b.wrap(14+len(from)), uint64(to))
	d = binary.BigEndian.AppendUint32(d, uint32(fromDevice))
	if on {
		d = append(d, 1, 0)
	} else {
		d = append(d, 0, 0)
	}
	d = append(d, from...)
	b.publish(subjTyping, d)
}

// DirectoryChanged tells other nodes to forget a cached row that changed.
func (b *Bus) DirectoryChanged(kind byte, id kontor.ID) {
	d := append(b.wrap(9), kind)
	b.publish(subjDir, binary.BigEndian.AppendUint64(d, uint64(id)))
}

// Close flushes and closes the connection, then stops the embedded server.
func (b *Bus) Close() {
	for _, s := range b.subs {
		_ = s.Unsubscribe()
	}
	_ = b.nc.Drain()
	deadline := time.Now().Add(5 * time.Second)
	for !b.nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	b.nc.Close()
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

func u64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
