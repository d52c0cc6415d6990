package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Node numbers go into every id this node makes, so two running nodes must
// never share one: each node leases its number in the store, renews the
// lease while it runs and gives it up when it stops. A node that cannot
// renew in time stops serving rather than risk ids another node makes too.
const (
	nodeLease = time.Minute
	nodeRenew = 15 * time.Second
)

// claimNode leases want (or, when want is -1, any free number). The holder
// is this host and data directory (which only one process can hold, see
// lock.go): a node that restarts after a crash takes its lease back at
// once instead of waiting for it to run out.
func (s *Server) claimNode(ctx context.Context, want int) error {
	host, _ := os.Hostname()
	dir, err := filepath.Abs(s.cfg.DataDir)
	if err != nil {
		dir = s.cfg.DataDir
	}
	s.holder = host + ":" + dir
	s.lostNode = make(chan error, 1)
	now := time.Now()
	n, err := s.db.ClaimNode(ctx, s.holder, want, now, now.Add(nodeLease))
	if err != nil {
		s.holder = ""
		return err
	}
	s.node = n
	s.log.Info("node number leased", "node", n)
	return nil
}

// keepNode renews the lease until ctx ends.
func (s *Server) keepNode(ctx context.Context) {
	t := time.NewTicker(nodeRenew)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, nodeRenew)
		ok, err := s.db.RenewNode(rctx, s.node, s.holder, time.Now().Add(nodeLease))
		cancel()
		switch {
		case err == nil && ok:
			last = time.Now()
		case err == nil:
			s.lostNode <- fmt.Errorf("node number %d was taken over by another node; stopping so that no id is made twice", s.node)
			return
		case time.Since(last) > nodeLease-nodeRenew:
			s.lostNode <- fmt.Errorf("could not renew the lease of node number %d for %s: %w", s.node, time.Since(last).Round(time.Second), err)
			return
		default:
			s.log.Warn("renewing the node lease failed; retrying", "node", s.node, "err", err)
		}
	}
}

// Node is this node's number.
func (s *Server) Node() int { return s.node }
