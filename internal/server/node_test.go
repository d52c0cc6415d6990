package server_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/internal/server"
)

// TestNodeNumbers: nodes on one database never share a node number (it is
// part of every id they make): a second node asking for a number in use is
// refused, nodes that pick their own get different ones, and a number is
// free again once its node stopped.
func TestNodeNumbers(t *testing.T) {
	db := kontortest.PostgresURL(t)
	open := func(node int) (*server.Server, error) {
		cfg := config.Defaults()
		cfg.DataDir, cfg.HTTPAddr, cfg.DB, cfg.Node = t.TempDir(), "127.0.0.1:0", db, node
		return server.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	}
	serve := func(s *server.Server) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx) }()
		return func() { cancel(); <-done }
	}
	a, err := open(7)
	if err != nil {
		t.Fatal(err)
	}
	stopA := serve(a)
	if _, err := open(7); err == nil || !strings.Contains(err.Error(), "held by another running node") {
		t.Fatalf("second node with --node 7: %v", err)
	}
	b, err := open(-1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := open(-1)
	if err != nil {
		t.Fatal(err)
	}
	if b.Node() == c.Node() || b.Node() == 7 || c.Node() == 7 {
		t.Fatalf("nodes got %d, %d next to 7", b.Node(), c.Node())
	}
	stopB, stopC := serve(b), serve(c)
	stopA()
	a2, err := open(7)
	if err != nil {
		t.Fatalf("--node 7 after its node stopped: %v", err)
	}
	serve(a2)()
	stopB()
	stopC()
}
