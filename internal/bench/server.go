package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTimes are CPU seconds used so far.
type cpuTimes struct{ server, client float64 }

// cpu reads the server's CPU time from its metrics (both nodes' with
// APIServer) and this process's own.
func (h *harness) cpu(ctx context.Context) (cpuTimes, error) {
	var t cpuTimes
	m, err := h.metrics(ctx)
	if err != nil {
		return t, err
	}
	t.server = m["process_cpu_seconds_total"]
	if a := h.cfg.APIServer; a != "" && a != h.cfg.Server { // the other node is the server too
		m, err := h.metricsOf(ctx, a)
		if err != nil {
			return t, err
		}
		t.server += m["process_cpu_seconds_total"]
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return t, err
	}
	t.client = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	return t, nil
}

// Memory is what the server says about itself.
type Memory struct {
	RSS         int64  `json:"rss_bytes"`        // process_resident_memory_bytes
	HeapInuse   int64  `json:"heap_inuse_bytes"` // go_memstats_heap_inuse_bytes
	StackInuse  int64  `json:"stack_inuse_bytes"`
	Goroutines  int64  `json:"goroutines"`
	Connections int64  `json:"connections"`
	Database    string `json:"database"`
}

// memory reads the server's /metrics and admin stats.
func (h *harness) memory(ctx context.Context) (Memory, error) {
	var m Memory
	if h.cfg.Debug != "" {
		// The heap profile with gc=1 collects garbage first.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.cfg.Debug+"/debug/pprof/heap?gc=1", nil)
		if err != nil {
			return m, err
		}
		resp, err := h.http.Do(req)
		if err != nil {
			return m, fmt.Errorf("bench: asking the server for a garbage collection: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	vals, err := h.metrics(ctx)
	if err != nil {
		return m, err
	}
	m.RSS = int64(vals["process_resident_memory_bytes"])
	m.HeapInuse = int64(vals["go_memstats_heap_inuse_bytes"])
	m.StackInuse = int64(vals["go_memstats_stack_inuse_bytes"])
	m.Goroutines = int64(vals["go_goroutines"])
	var st struct {
		Connections int64  `json:"connections"`
		Store       string `json:"store"`
	}
	if err := h.admin(ctx, http.MethodGet, "/admin/v1/stats", nil, &st); err != nil {
		return m, err
	}
	m.Connections, m.Database = st.Connections, st.Store
	return m, nil
}

// metrics reads the server's /metrics: the value of each unlabelled series.
func (h *harness) metrics(ctx context.Context) (map[string]float64, error) {
	return h.metricsOf(ctx, h.cfg.Server)
}

// metricsOf reads the /metrics of the node at base.
func (h *harness) metricsOf(ctx context.Context, base string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: reading the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = f
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: reading the server's metrics: %w", err)
	}
	return out, nil
}

// admin calls the admin API.
func (h *harness) admin(ctx context.Context, method, path string, in, out any) error {
	return h.call(ctx, method, path, h.cfg.Token, in, out)
}

// call calls the server with a bearer token, sending in and decoding the
// answer into out (either may be nil); an answer other than 200 is an error.
func (h *harness) call(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.cfg.Server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.http.Do(req)
	if err != nil {
		return fmt.Errorf("bench: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// idle holds Idle connections and reports the server's memory per connection.
func (h *harness) idle(ctx context.Context) (Result, error) {
	cfg := h.cfg
	res := Result{Mode: "idle", Devices: cfg.Idle}
	before, err := h.settled(ctx)
	if err != nil {
		return res, err
	}
	devs, err := h.connect(ctx, cfg.Idle, func(n int) {
		if cfg.Progress != nil && n%1000 == 0 {
			cfg.Progress(n, cfg.Idle)
		}
	})
	if err != nil {
		return res, err
	}
	defer func() {
		for _, d := range devs {
			d.ws.CloseNow()
		}
	}()
	// Idle devices still read, so that pings are answered and a close is seen.
	lost := make(chan struct{}, len(devs))
	for _, d := range devs {
		go func() {
			for {
				if _, _, err := d.ws.Read(ctx); err != nil {
					if ctx.Err() == nil {
						lost <- struct{}{}
					}
					return
				}
			}
		}()
	}
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	after, err := h.settled(ctx)
	if err != nil {
		return res, err
	}
	res.Errors = len(lost)
	res.Server = after
	res.Database = after.Database
	if after.Connections > 0 {
		res.PerConnRSS = (after.RSS - before.RSS) / after.Connections
		res.PerConnHeap = (after.HeapInuse + after.StackInuse - before.HeapInuse - before.StackInuse) / after.Connections
	}
	if after.Connections < int64(cfg.Idle) {
		return res, fmt.Errorf("bench: the server holds %d of %d connections", after.Connections, cfg.Idle)
	}
	return res, nil
}

// settled reads the server's memory a few times, a second apart, and
// returns the smallest reading: garbage the server has not collected yet
// should not count against connections.
func (h *harness) settled(ctx context.Context) (Memory, error) {
	var best Memory
	for i := range 3 {
		if i > 0 {
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return best, ctx.Err()
			}
		}
		m, err := h.memory(ctx)
		if err != nil {
			return best, err
		}
		if i == 0 || m.HeapInuse+m.StackInuse < best.HeapInuse+best.StackInuse {
			best = m
		}
	}
	return best, nil
}
