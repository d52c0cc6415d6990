package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A lease's expiry is written by its holder's clock and read by the other
// nodes' (failover.go): nodes whose clocks disagree by a quarter of the
// lease or more may take an endpoint over while its holder still runs it
// (its writes are fenced, but its sends are cut short). No node sees the
// others' clocks, but each sees the database's: after each renewal of its
// leases a node reads the database's clock and says when its own is off
// from it by more than an eighth of the lease — two nodes within that of
// the database are within a quarter of each other. The reading runs in its
// own goroutine (run), so a slow database never holds up a renewal.

// skewWatch compares the node's clock with the database's.
type skewWatch struct {
	lease time.Duration
	gauge prometheus.Gauge
	log   *slog.Logger
	over  bool // the last reading was over the limit: said once (run's goroutine only)
	poke  chan struct{}
}

func newSkewWatch(lease time.Duration, reg prometheus.Registerer, log *slog.Logger) *skewWatch {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontor_endpoint_clock_skew_seconds",
		Help: "This node's clock minus the database's, as last read at a renewal of its hosted endpoints' leases (a cluster's nodes must agree to well under a quarter of --endpoint-lease)."})
	if err := reg.Register(g); err != nil {
		log.Warn("the clock skew gauge is not exported", "err", err)
	}
	return &skewWatch{lease: lease, gauge: g, log: log, poke: make(chan struct{}, 1)}
}

// trigger asks run for a reading, without waiting: a trigger while one
// runs is kept for after it (one at most).
func (w *skewWatch) trigger() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// run reads the database's clock with read once per trigger, each reading
// bounded by timeout, until ctx ends.
func (w *skewWatch) run(ctx context.Context, timeout time.Duration, read func(context.Context) (time.Time, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.poke:
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		w.check(rctx, read)
		cancel()
	}
}

// clockSkew is how far the node's clock is ahead of the database's (db,
// read between the node's before and after), and the uncertainty of that
// (half the round trip).
func clockSkew(before, db, after time.Time) (skew, margin time.Duration) {
	margin = after.Sub(before) / 2
	return before.Add(margin).Sub(db), margin
}

// skewLimit is how far a node's clock may be off the database's: an
// eighth of the lease, so that two nodes each within it agree to a
// quarter.
func skewLimit(lease time.Duration) time.Duration { return lease / 8 }

// tooSkewed says whether skew is over the limit for certain: by more than
// the reading's own uncertainty (a slow round trip proves nothing).
func tooSkewed(skew, margin, lease time.Duration) bool {
	return skew.Abs()-margin > skewLimit(lease)
}

// check reads the database's clock with read and tells the log (once when
// the skew goes over the limit, once when it is back) and the gauge.
func (w *skewWatch) check(ctx context.Context, read func(context.Context) (time.Time, error)) {
	before := time.Now()
	db, err := read(ctx)
	after := time.Now()
	if err != nil {
		return // the renewal says what is wrong with the database
	}
	skew, margin := clockSkew(before, db, after)
	w.gauge.Set(skew.Seconds())
	switch over := tooSkewed(skew, margin, w.lease); {
	case over && !w.over:
		w.log.Warn("this node's clock is off the database's by more than an eighth of the endpoint lease: hosted endpoints may be taken over while their holder runs them; keep the nodes' clocks in time (NTP)",
			"skew", skew.Round(time.Millisecond), "uncertainty", margin.Round(time.Millisecond), "lease", w.lease)
		w.over = true
	case !over && w.over:
		w.log.Info("this node's clock agrees with the database's again", "skew", skew.Round(time.Millisecond), "lease", w.lease)
		w.over = false
	}
}
