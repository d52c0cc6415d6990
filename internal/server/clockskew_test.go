package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gauge reads the one gauge reg holds.
func gauge(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "kontor_endpoint_clock_skew_seconds" || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, %v; want the skew gauge alone", mfs, err)
	}
	return mfs[0].GetMetric()[0].GetGauge().GetValue()
}

// TestClockSkew: the skew is the node's clock at the middle of the
// reading minus the database's; it is over the limit (an eighth of the
// lease) only by more than half the round trip.
func TestClockSkew(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	const lease = 20 * time.Second // limit 2.5 s
	tests := []struct {
		name       string
		db         time.Time     // read between t0 and t0+rtt
		rtt        time.Duration // of the reading
		skew, marg time.Duration
		over       bool
	}{
		{"in time", t0.Add(5 * time.Millisecond), 10 * time.Millisecond, 0, 5 * time.Millisecond, false},
		{"node ahead, under the limit", t0.Add(-2 * time.Second), 0, 2 * time.Second, 0, false},
		{"node ahead, at the limit", t0.Add(-2500 * time.Millisecond), 0, 2500 * time.Millisecond, 0, false},
		{"node ahead, over the limit", t0.Add(-3 * time.Second), 0, 3 * time.Second, 0, true},
		{"node behind, over the limit", t0.Add(3 * time.Second), 0, -3 * time.Second, 0, true},
		{"over only within a slow round trip", t0.Add(-2 * time.Second), 2 * time.Second, 3 * time.Second, time.Second, false},
		{"over beyond a slow round trip", t0.Add(-3 * time.Second), 2 * time.Second, 4 * time.Second, time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skew, marg := clockSkew(t0, tt.db, t0.Add(tt.rtt))
			if skew != tt.skew || marg != tt.marg {
				t.Errorf("clockSkew = %s ± %s; want %s ± %s", skew, marg, tt.skew, tt.marg)
			}
			if got := tooSkewed(skew, marg, lease); got != tt.over {
				t.Errorf("tooSkewed(%s ± %s, lease %s) = %v; want %v", skew, marg, lease, got, tt.over)
			}
		})
	}
}

// TestSkewWatch: a node whose clock is off the database's says so once in
// the log, and once when it is back in time; the gauge shows the last
// reading; a failed reading changes nothing.
func TestSkewWatch(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	w := newSkewWatch(20*time.Second, reg, slog.New(slog.NewTextHandler(&logs, nil)))
	off := 10 * time.Second
	read := func(context.Context) (time.Time, error) { return time.Now().Add(-off), nil }
	warned := func() int { return strings.Count(logs.String(), "clock is off the database's") }
	back := func() int { return strings.Count(logs.String(), "agrees with the database's again") }

	for range 3 {
		w.check(context.Background(), read)
	}
	if g := gauge(t, reg); g < 9 || g > 11 {
		t.Errorf("gauge %v s; want about 10", g)
	}
	if warned() != 1 || back() != 0 {
		t.Fatalf("after three skewed readings: %d warnings, %d all-clears; want 1, 0\n%s", warned(), back(), logs.String())
	}
	w.check(context.Background(), func(context.Context) (time.Time, error) { return time.Time{}, errors.New("down") })
	if warned() != 1 || back() != 0 || gauge(t, reg) < 9 {
		t.Fatalf("a failed reading changed the watch\n%s", logs.String())
	}
	off = 0
	for range 2 {
		w.check(context.Background(), read)
	}
	if warned() != 1 || back() != 1 {
		t.Fatalf("after the clock was set right: %d warnings, %d all-clears; want 1, 1\n%s", warned(), back(), logs.String())
	}
	if g := gauge(t, reg); g < -1 || g > 1 {
		t.Errorf("gauge %v s; want about 0", g)
	}
}

// TestSkewWatchRun: the lease renewal triggers a reading and goes on: a
// trigger never waits, however long a reading takes; triggers while one
// runs make one more reading after it, not one each; each reading is
// bounded by the timeout, and run ends with its context.
func TestSkewWatchRun(t *testing.T) {
	w := newSkewWatch(20*time.Second, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	started, release := make(chan struct{}), make(chan struct{})
	reads, bounded := 0, true
	read := func(ctx context.Context) (time.Time, error) {
		reads++ // run's goroutine only; read after run returned
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > time.Minute {
			bounded = false
		}
		started <- struct{}{}
		select {
		case <-release:
			return time.Now(), nil
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, time.Minute, read)
	}()
	w.trigger()
	<-started // the first reading hangs on a slow database
	for range 3 {
		w.trigger() // the renewals go on
	}
	release <- struct{}{}
	<-started // one more reading for the three triggers
	release <- struct{}{}
	w.trigger()
	<-started
	cancel() // ends the hanging reading and run
	<-done
	if reads != 3 || !bounded {
		t.Fatalf("%d readings (bounded by the timeout: %v); want 3, bounded", reads, bounded)
	}
}
