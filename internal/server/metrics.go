package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kontor-chat/kontor/internal/gateway"
)

// metrics are the node's Prometheus metrics; they implement the Metrics
// interfaces of router and gateway.
type metrics struct {
	reg         *prometheus.Registry
	accepted    prometheus.Counter
	delivered   prometheus.Counter
	expired     prometheus.Counter
	batchOps    prometheus.Histogram
	commitSecs  prometheus.Histogram
	connections prometheus.Gauge
	slow        prometheus.Counter
	pushed      prometheus.Counter
	missed      [gateway.NumPush]prometheus.Counter // by gateway.Push; [gateway.Pushed] unused
	pulled      prometheus.Counter
	pulls       prometheus.Counter
	// takeovers and endpointsLost count hosted endpoints this node took
	// over from another node, and closed because it lost their lease.
	takeovers     prometheus.Counter
	endpointsLost prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg:           prometheus.NewRegistry(),
		accepted:      prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_messages_accepted_total", Help: "Messages committed and acknowledged to their senders."}),
		delivered:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_entries_delivered_total", Help: "Queue entries acknowledged by devices."}),
		expired:       prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_entries_expired_total", Help: "Queue entries dropped undelivered after their time."}),
		batchOps:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kontor_commit_batch_ops", Help: "Operations per group-commit transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		commitSecs:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kontor_commit_seconds", Help: "Time of one group-commit transaction.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		connections:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontor_connections", Help: "Device connections open on this node."}),
		slow:          prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_slow_disconnects_total", Help: "Connections closed because the device fell too far behind."}),
		takeovers:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_endpoint_takeovers_total", Help: "Hosted business endpoints this node took over after another node's lease ran out (a cluster's failover)."}),
		endpointsLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_endpoint_leases_lost_total", Help: "Hosted business endpoints this node closed because it lost their lease."}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.accepted, m.delivered, m.expired, m.batchOps, m.commitSecs, m.connections, m.slow, m.takeovers, m.endpointsLost)
	m.pushed = prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_entries_pushed_total", Help: "Queue entries written to a device connected here straight from their commit (no store read)."})
	m.pulled = prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_entries_pulled_total", Help: "Queue entries read back from the store for a device connected here."})
	m.pulls = prometheus.NewCounter(prometheus.CounterOpts{Name: "kontor_queue_reads_total", Help: "Reads of a connected device's queue from the store."})
	missed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontor_push_misses_total", Help: "Committed entries for a device connected here that were left for it to read from the store, by reason."}, []string{"reason"})
	for p := gateway.PushDirty; p < gateway.NumPush; p++ {
		m.missed[p] = missed.WithLabelValues(p.String())
	}
	m.reg.MustRegister(m.pushed, m.pulled, m.pulls, missed)
	return m
}

// commitsCollector reports the store's write transactions by what they
// did (store.DB.Commits).
type commitsCollector struct {
	desc    *prometheus.Desc
	commits func() map[string]int64
}

func newCommitsCollector(commits func() map[string]int64) commitsCollector {
	return commitsCollector{commits: commits, desc: prometheus.NewDesc("kontor_store_commits_total",
		"Write transactions the store committed, by operation (store.Tx is the router's group commit).", []string{"op"}, nil)}
}

// newRetriesCollector reports the store's write transactions run again
// after a deadlock, a serialization failure or a busy database
// (store.DB.Retries).
func newRetriesCollector(retries func() map[string]int64) commitsCollector {
	return commitsCollector{commits: retries, desc: prometheus.NewDesc("kontor_store_retries_total",
		"Write transactions the store ran again after a transient failure (deadlock, serialization failure, busy database), by operation.", []string{"op"}, nil)}
}

func (c commitsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c commitsCollector) Collect(ch chan<- prometheus.Metric) {
	for op, n := range c.commits() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), op)
	}
}

func (m *metrics) Committed(ops int, d time.Duration) {
	m.batchOps.Observe(float64(ops))
	m.commitSecs.Observe(d.Seconds())
}
func (m *metrics) Accepted(n int)  { m.accepted.Add(float64(n)) }
func (m *metrics) Expired(n int)   { m.expired.Add(float64(n)) }
func (m *metrics) Connected(d int) { m.connections.Add(float64(d)) }
func (m *metrics) Delivered(n int) { m.delivered.Add(float64(n)) }
func (m *metrics) SlowDisconnect() { m.slow.Inc() }

func (m *metrics) Offered(byPush *[gateway.NumPush]int) {
	if n := byPush[gateway.Pushed]; n > 0 {
		m.pushed.Add(float64(n))
	}
	for p := gateway.PushDirty; p < gateway.NumPush; p++ {
		if n := byPush[p]; n > 0 {
			m.missed[p].Add(float64(n))
		}
	}
}

func (m *metrics) Pulled(read, queued int) {
	m.pulls.Inc()
	if queued > 0 {
		m.pulled.Add(float64(queued))
	}
}
