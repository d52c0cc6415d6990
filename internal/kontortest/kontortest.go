// Package kontortest runs real kontor servers for tests, as httptest does
// for handlers: in process on 127.0.0.1:0 (Start), or as a separate
// `kontor serve` process that can be stopped with SIGTERM or SIGKILL
// (StartProcess).
//
// The store is SQLite in a temporary directory unless the test asks for
// PostgreSQL (Postgres option), which needs KONTOR_TEST_POSTGRES; the bus is
// the embedded NATS unless the NATS option names an external one.
package kontortest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/server"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// Server is a kontor node started for a test.
type Server struct {
	// URL is the HTTP base, e.g. http://127.0.0.1:40123.
	URL string
	// WS is the device WebSocket URL.
	WS string
	// Token is the operator credential.
	Token string
	// DataDir is the node's data directory.
	DataDir string
	Config  config.Config

	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
}

// Option changes the configuration of a test server.
type Option func(*config.Config)

// WithDB sets the database URL.
func WithDB(url string) Option { return func(c *config.Config) { c.DB = url } }

// WithNATS sets an external NATS URL.
func WithNATS(url string) Option { return func(c *config.Config) { c.NATS = url } }

// WithDataDir uses dir as the data directory (to restart a node on its data).
func WithDataDir(dir string) Option { return func(c *config.Config) { c.DataDir = dir } }

// WithClock runs the node on clock (see Clock).
func WithClock(clock kontor.Clock) Option { return func(c *config.Config) { c.Clock = clock } }

// Clock is the wall clock moved on by Advance, for a node that must live
// through hours or days in a test (WithClock). It never goes back.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the wall clock plus what Advance added.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// Loopback is the allow list test servers start with (--allow-networks),
// the one --dev gives: tests fetch media links from, and deliver webhooks
// to, servers on 127.0.0.1, which a default kontor refuses as not public.
const Loopback = config.DevNetworks

// PublicOnly starts the server with kontor's default allow list (none):
// media links and webhook URLs must be public addresses.
func PublicOnly() Option { return func(c *config.Config) { c.AllowNetworks = "" } }

// WithConfig lets a test change anything else.
func WithConfig(f func(*config.Config)) Option { return Option(f) }

// Start starts a node in this process, with --dev on and loopback allowed
// (Loopback), and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Dev = true
	cfg.LogLevel = "warn"
	cfg.AllowNetworks = Loopback
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("kontortest: starting server: %v", err)
	}
	s := &Server{URL: "http://" + srv.Addr(), WS: "ws://" + srv.Addr() + "/v1/ws", Token: srv.OperatorToken(),
		DataDir: cfg.DataDir, Config: cfg, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the node down gracefully and waits for it (idempotent).
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
	}
}

// testWriter sends the server's log to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// PostgresURL returns a DSN for a fresh schema in the database named by
// KONTOR_TEST_POSTGRES, dropped when the test ends. Without the variable the
// test is skipped, or fails when CI is set (CI must not pass by skipping).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return storetest.PostgresURL(t)
}

// NATSURL returns KONTOR_TEST_NATS, skipping (or failing under CI) without it.
func NATSURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("KONTOR_TEST_NATS")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KONTOR_TEST_NATS is not set, but CI is: NATS tests must run in CI")
		}
		t.Skip("KONTOR_TEST_NATS not set: skipping the external NATS run of this test")
	}
	return u
}

// Backends lists the stores a test should run on: "sqlite" always and
// "postgres" (a fresh schema URL) when KONTOR_TEST_POSTGRES is set.
func Backends(t *testing.T, run func(t *testing.T, opts ...Option)) {
	t.Run("sqlite", func(t *testing.T) { run(t) })
	t.Run("postgres", func(t *testing.T) { run(t, WithDB(PostgresURL(t))) })
}
