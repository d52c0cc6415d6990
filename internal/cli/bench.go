package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/kontor-chat/kontor/internal/bench"
)

const benchUsage = `Usage: kontor bench [flags]

A load generator over loopback. Without --server it starts its own
"kontor serve" (this binary) on a free port with a fresh data directory,
the database given by --db, and stops it afterwards.

Load (the default): --devices simulated devices in a ring, each sending to
the next, --messages in all, at --rate per second or as fast as possible.
Reports end-to-end throughput (due to be sent → read by the recipient
device), latency p50/p99/p99.9, sent-answer latency, the CPU the server and
the load generator took, and the server's memory. Payloads are encrypted
with the Signal protocol, as real devices send them, unless --plain.

Idle (--idle N): holds N idle device connections and reports the server's
memory per connection.

Orders (--orders N): makes a business selling one hot product (--stock
items; default one per order) in the chat, registers --devices people and
places N one-item orders through the device API (POST
/v1/shops/{phone}/orders) at --rate per second or as fast as possible with
--window calls in flight. Reports orders per second, placed and refused,
latency p50/p95/p99 (due → answered), and checks that exactly
min(orders, stock) were placed and the stock left is never below zero.

Flags:`

func runBench(ctx context.Context, env Env) error {
	var cfg bench.Config
	fs := flag.NewFlagSet("kontor bench", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	server := fs.String("server", env.Getenv("KONTOR_SERVER"), "a running server's base URL (env KONTOR_SERVER), started with --allow-networks 127.0.0.0/8 for the webhook receiver on loopback; none: start one")
	data := fs.String("data", envOr(env.Getenv, "KONTOR_DATA", "./kontor-data"), "the running server's data directory, for the operator credential (or env KONTOR_OPERATOR_TOKEN)")
	db := fs.String("db", "", "database of the server bench starts: empty for SQLite, or postgres://…")
	fs.StringVar(&cfg.Debug, "debug", "", "base URL of the running server's --debug-addr: memory is then read after a garbage collection (bench's own server always has one)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	plain := fs.Bool("plain", false, "send plain payloads instead of Signal-protocol ciphertext (the messaging core's envelopes)")
	fs.IntVar(&cfg.Devices, "devices", 64, "simulated devices")
	fs.IntVar(&cfg.Messages, "messages", 100_000, "messages to measure")
	fs.IntVar(&cfg.Warmup, "warmup", -1, "messages sent first and not measured (default messages/20)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per second in all; 0 means as fast as possible")
	fs.IntVar(&cfg.Window, "window", 64, "most unanswered sends per device")
	fs.IntVar(&cfg.Size, "size", 128, "payload bytes per message")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "give up after this long")
	fs.IntVar(&cfg.Idle, "idle", 0, "idle mode: hold this many connections")
	fs.BoolVar(&cfg.Template, "template", false, "with --api: send a marketing template (paid, charged when delivered) instead of a free text reply")
	fs.BoolVar(&cfg.Offline, "offline", false, "with --api: the people disconnect after their first message, so the run measures what the server accepts without the load generator decrypting at the same time; then they reconnect and every message must arrive and decrypt")
	fs.BoolVar(&cfg.Referral, "referral", false, "with --api: the people's first messages come from an ad, so the business's messages are free (entry-point window); with --template, metering's cost is the difference to the same run without it")
	fs.StringVar(&cfg.APIServer, "api-server", "", "with --api: send the API calls through this other node of --server's cluster (they are forwarded to the node running the endpoint); its CPU counts as the server's")
	fs.BoolVar(&cfg.API, "api", false, "Business API mode: send through POST /{version}/{phone-number-id}/messages of a hosted business to --devices people")
	fs.IntVar(&cfg.Orders, "orders", 0, "orders mode: place this many orders for one hot product through the device API")
	fs.IntVar(&cfg.Stock, "stock", 0, "orders mode: the hot product's stock (0: one per order, warm-up included)")
	fs.DurationVar(&cfg.Hold, "hold", 10*time.Second, "idle mode: how long to hold them before measuring")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "kontor bench: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if cfg.Warmup < 0 {
		cfg.Warmup = cfg.Messages / 20
		if cfg.Orders > 0 {
			cfg.Warmup = cfg.Orders / 20
		}
	}
	cfg.Encrypt = !*plain
	if *server == "" {
		srv, err := startServer(ctx, env, *db)
		if err != nil {
			return err
		}
		defer srv.stop(env)
		*server, cfg.Token, cfg.Debug = srv.url, srv.token, srv.debug
	} else {
		tok, err := operatorToken(env.Getenv, *data)
		if err != nil {
			return err
		}
		cfg.Server, cfg.Token = strings.TrimRight(*server, "/"), tok
	}
	cfg.Server = strings.TrimRight(*server, "/")
	cfg.APIServer = strings.TrimRight(cfg.APIServer, "/")
	if isTerminal(env.Stderr) {
		cfg.Progress = func(done, total int) {
			fmt.Fprintf(env.Stderr, "\r%d / %d ", done, total)
		}
	}
	res, err := bench.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	printBench(env, res)
	return nil
}

func printBench(env Env, r bench.Result) {
	w := env.Stdout
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	if r.Mode == "idle" {
		fmt.Fprintf(w, "idle: %d connections held (%s)\n", r.Server.Connections, r.Database)
		fmt.Fprintf(w, "  per connection: %.1f KiB resident, %.1f KiB Go heap+stacks\n", float64(r.PerConnRSS)/1024, float64(r.PerConnHeap)/1024)
		fmt.Fprintf(w, "  server: %s resident, %s heap, %s stacks, %d goroutines\n", mib(r.Server.RSS), mib(r.Server.HeapInuse), mib(r.Server.StackInuse), r.Server.Goroutines)
		fmt.Fprintf(w, "  errors: %d\n", r.Errors)
		return
	}
	if r.Mode == "api" {
		fmt.Fprintf(w, "business API: %d people, %s (%s)\n", r.Devices, map[bool]string{true: fmt.Sprintf("at %.0f/s", r.Rate), false: "as fast as possible"}[r.Rate > 0], r.Database)
		fmt.Fprintf(w, "  accepted: %d messages in %.2fs = %.0f msgs/s (persisted, encrypted, queued)\n", r.Messages, r.Seconds, r.Throughput)
		fmt.Fprintf(w, "  API call: p50 %v  p99 %v  p99.9 %v  max %v\n", r.P50, r.P99, r.P999, r.Max)
		if r.DrainSeconds > 0 {
			fmt.Fprintf(w, "  delivered to the person after coming back online: %d in %.2fs\n", r.Delivered, r.DrainSeconds)
		} else {
			fmt.Fprintf(w, "  delivered to the person: %d, p50 %v  p99 %v\n", r.Delivered, r.DeliveredP50, r.DeliveredP99)
		}
		fmt.Fprintf(w, "  webhooks received: %d, %.0f/s\n", r.Webhooks, r.WebhookRate)
		fmt.Fprintf(w, "  charged in the ledger: %d\n", r.Charged)
		fmt.Fprintf(w, "  cpu: server %.2f cores (%.0f msgs per server CPU-second), load generator %.2f cores\n", r.ServerCores, r.ServerCapacity, r.ClientCores)
		fmt.Fprintf(w, "  errors: %d\n", r.Errors)
		return
	}
	if r.Mode == "orders" {
		left := 0
		if r.Left != nil {
			left = *r.Left
		}
		fmt.Fprintf(w, "orders: one hot product, %d in stock, %d people, %s (%s)\n", r.Stock, r.Devices, map[bool]string{true: fmt.Sprintf("at %.0f/s", r.Rate), false: "as fast as possible"}[r.Rate > 0], r.Database)
		fmt.Fprintf(w, "  answered: %d orders in %.2fs = %.0f orders/s\n", r.Orders, r.Seconds, r.Throughput)
		fmt.Fprintf(w, "  latency (due → answered): p50 %v  p95 %v  p99 %v  p99.9 %v  max %v\n", r.P50, r.P95, r.P99, r.P999, r.Max)
		fmt.Fprintf(w, "  placed %d, refused %d (warm-up included), stock left %d: no oversell\n", r.Placed, r.Refused, left)
		fmt.Fprintf(w, "  cpu: server %.2f cores (%.0f orders per server CPU-second), load generator %.2f cores\n", r.ServerCores, r.ServerCapacity, r.ClientCores)
		fmt.Fprintf(w, "  errors: %d\n", r.Errors)
		return
	}
	rate := "as fast as possible"
	if r.Rate > 0 {
		rate = fmt.Sprintf("at %.0f/s", r.Rate)
	}
	payloads := fmt.Sprintf("%d-byte plain payloads", r.Size)
	if r.Encrypted {
		payloads = fmt.Sprintf("%d-byte messages, end-to-end encrypted", r.Size)
	}
	fmt.Fprintf(w, "load: %d devices, %s, %s (%s)\n", r.Devices, payloads, rate, r.Database)
	fmt.Fprintf(w, "  delivered: %d messages in %.2fs = %.0f msgs/s\n", r.Messages, r.Seconds, r.Throughput)
	fmt.Fprintf(w, "  end to end: p50 %v  p99 %v  p99.9 %v  max %v\n", r.P50, r.P99, r.P999, r.Max)
	fmt.Fprintf(w, "  sent answer: p50 %v  p99 %v\n", r.SentP50, r.SentP99)
	fmt.Fprintf(w, "  cpu: server %.2f cores (%.0f msgs per server CPU-second), load generator %.2f cores\n", r.ServerCores, r.ServerCapacity, r.ClientCores)
	fmt.Fprintf(w, "  server: %s resident, %s heap, %d goroutines\n", mib(r.Server.RSS), mib(r.Server.HeapInuse), r.Server.Goroutines)
	fmt.Fprintf(w, "  errors: %d, redelivered: %d\n", r.Errors, r.Redelivered)
}

// benchServer is the kontor serve that bench started.
type benchServer struct {
	cmd   *exec.Cmd
	dir   string
	url   string
	debug string
	token string
}

// startServer runs this binary's serve on a free loopback port.
func startServer(ctx context.Context, env Env, db string) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kontor-bench-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	debug, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// The load's webhook receiver listens on loopback: allow it.
	args := []string{"serve", "--data", dir, "--http", addr, "--debug-addr", debug, "--log-level", "warn", "--allow-networks", "127.0.0.0/8,::1/128"}
	if db != "" {
		args = append(args, "--db", db)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = env.Stderr, env.Stderr
	cmd.Env = append(os.Environ(), "KONTOR_OPERATOR_TOKEN=")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &benchServer{cmd: cmd, dir: dir, url: "http://" + addr, debug: "http://" + debug}
	fmt.Fprintf(env.Stderr, "kontor bench: started kontor serve (pid %d) on %s, data in %s\n", cmd.Process.Pid, addr, dir)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop(env)
			return nil, errors.New("kontor bench: the server it started did not become ready in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(dir, "operator.token"))
	if err != nil {
		s.stop(env)
		return nil, err
	}
	s.token = strings.TrimSpace(string(b))
	return s, nil
}

// stop ends the server gracefully and removes its data.
func (s *benchServer) stop(env Env) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(env.Stderr, "kontor bench: the server did not stop in 30 s; killing it")
		_ = s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
