package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/bench"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestRun runs every mode briefly against a real server: the load ring
// (plain and encrypted), the Business API, orders and idle connections. It checks
// what a run reports, not how fast it is.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs loads; skipped in -short")
	}
	s := kontortest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, c := range []struct {
		name string
		cfg  bench.Config
		want int // messages measured
	}{
		{"plain", bench.Config{Devices: 8, Messages: 400, Warmup: 40}, 400},
		{"encrypted", bench.Config{Devices: 4, Messages: 100, Warmup: 8, Encrypt: true}, 100},
		{"rate", bench.Config{Devices: 4, Messages: 100, Rate: 500}, 100},
		{"api", bench.Config{Devices: 3, Messages: 60, Warmup: 6, API: true, Window: 8}, 60},
		{"api template", bench.Config{Devices: 3, Messages: 60, Warmup: 6, API: true, Template: true, Window: 8}, 60},
		{"api offline", bench.Config{Devices: 3, Messages: 60, Warmup: 6, API: true, Offline: true, Window: 8}, 60},
		{"api template from an ad", bench.Config{Devices: 3, Messages: 60, Warmup: 6, API: true, Template: true, Referral: true, Window: 8}, 60},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Server, cfg.Token = s.URL, s.Token
			r, err := bench.Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Messages != c.want || r.Errors != 0 || r.Throughput <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Server.RSS == 0 {
				t.Fatalf("result: %+v", r)
			}
			if cfg.API && (r.Delivered != c.want || r.Webhooks == 0 || r.ServerCapacity <= 0) {
				t.Fatalf("api result: %+v", r)
			}
			// Offline people get every message after the run, so no
			// delivery latency is measured, but the drain is.
			if cfg.API && cfg.Offline != (r.DrainSeconds > 0 && r.DeliveredP99 == 0) {
				t.Fatalf("offline %v, result: %+v", cfg.Offline, r)
			}
			// Paid templates are charged when delivered (the warm-up's too);
			// free replies and templates in an entry-point window are not.
			if paid := cfg.Template && !cfg.Referral; cfg.API && (paid && (r.Charged < c.want || r.Charged > c.want+cfg.Warmup) || !paid && r.Charged != 0) {
				t.Fatalf("charged %d of %d delivered (template %v, referral %v)", r.Charged, r.Delivered, cfg.Template, cfg.Referral)
			}
		})
	}
	// Orders: every order placed when the stock covers them; with less in
	// stock, exactly the stock is placed and the rest refused, and the run
	// reads the stock back at zero.
	for _, c := range []struct {
		name                  string
		cfg                   bench.Config
		placed, refused, left int
	}{
		{"orders", bench.Config{Devices: 8, Orders: 300, Warmup: 20, Window: 16}, 320, 0, 0},
		{"orders sold out", bench.Config{Devices: 4, Orders: 200, Warmup: 10, Stock: 50, Rate: 2000, Window: 8}, 50, 160, 0},
		{"orders spare stock", bench.Config{Devices: 4, Orders: 50, Stock: 80, Window: 4}, 50, 0, 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Server, cfg.Token = s.URL, s.Token
			r, err := bench.Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Mode != "orders" || r.Orders != cfg.Orders || r.Placed != c.placed || r.Refused != c.refused || r.Left == nil || *r.Left != c.left ||
				r.Errors != 0 || r.Throughput <= 0 || r.P50 <= 0 || r.P95 < r.P50 || r.P99 < r.P95 || r.Database != "sqlite" {
				t.Fatalf("result: %+v", r)
			}
		})
	}
	t.Run("idle", func(t *testing.T) {
		r, err := bench.Run(ctx, bench.Config{Server: s.URL, Token: s.Token, Idle: 50, Hold: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if r.Server.Connections < 50 || r.Errors != 0 {
			t.Fatalf("idle result: %+v", r)
		}
	})
}
