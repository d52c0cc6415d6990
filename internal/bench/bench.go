// Package bench is kontor's load generator: simulated devices that speak the
// device protocol to a running server over loopback, and measure end-to-end
// throughput, latency and the server's memory. kontor bench runs it.
//
// A load run creates Devices accounts through the admin API, connects one
// device for each and makes a ring: device i sends to device i+1. A message's
// latency runs from the moment it was due to be sent (its place in the
// schedule at the given rate, or the moment it was written when running as
// fast as possible) to the moment the recipient device reads it, so a server
// that falls behind cannot hide it (no coordinated omission). Every message
// is committed before its sent answer; the run counts both.
//
// An idle run connects Idle devices that say hello and then only answer
// pings, and reports the server's memory growth per connection.
package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/wire"
)

// Config says what to run. Server and Token are required.
type Config struct {
	Server string // base URL, e.g. http://127.0.0.1:8080
	Token  string // operator credential, to create accounts
	// Debug is the base URL of the server's --debug-addr, if it has one:
	// memory is then read right after a garbage collection it asks for.
	Debug string

	Devices  int           // simulated devices in the ring (default 64)
	Messages int           // messages in all (default 100,000)
	Rate     float64       // messages per second in all; 0 means as fast as possible
	Window   int           // most unanswered sends per device (default 64)
	Size     int           // payload bytes per message, at least 8 (default 128)
	Timeout  time.Duration // give up after this long (default 10 minutes)
	Warmup   int           // messages sent first and not measured

	// Encrypt seals every payload with the Signal protocol (client/e2e),
	// as real devices do; otherwise payloads are plain bytes.
	Encrypt bool

	// API runs the Business API load instead (see api.go).
	API bool
	// APIServer (API mode) is another node of Server's cluster to send
	// the API calls through, so they are forwarded to the node running
	// the business's endpoint (internal/relay); its CPU counts as the
	// server's too. Empty: Server.
	APIServer string
	// Template (API mode): send a marketing template (a paid message,
	// charged when delivered) instead of a free text reply.
	Template bool
	// Referral (API mode): each person's first message comes from an ad
	// (it carries a referral), so what the business sends them is free in
	// the free entry-point window. With Template: the same template sends
	// as the paid ones, without the credit check and the ledger write —
	// the cost of metering is the difference.
	Referral bool
	// Offline (API mode): the people disconnect after their first
	// message, so the run measures what the server accepts (persisted,
	// encrypted, queued) without the load generator decrypting on the same
	// cores; afterwards they reconnect and every message must arrive and
	// decrypt.
	Offline bool

	// Orders, when set, runs the order load instead (see orders.go): this
	// many one-item orders for one hot product, after Warmup more, from
	// Devices people, at Rate or as fast as possible with Window in flight.
	Orders int
	// Stock is the hot product's inventory; 0 means one for every order
	// (warm-up included), so that every order is placed.
	Stock int

	Idle int           // idle mode: hold this many connections instead
	Hold time.Duration // idle mode: how long to hold them before measuring (default 10 s)

	// Progress, when set, is called about once a second with the messages
	// delivered so far (load) or connections open (idle).
	Progress func(done, total int)
}

func (c *Config) defaults() {
	if c.Devices <= 0 {
		c.Devices = 64
	}
	if c.Messages <= 0 {
		c.Messages = 100_000
	}
	if c.Window <= 0 {
		c.Window = 64
	}
	if c.Size < 8 {
		c.Size = 128
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Minute
	}
	c.Warmup = max(c.Warmup, 0)
	if c.Hold <= 0 {
		c.Hold = 10 * time.Second
	}
}

// Result is what a run measured. Durations are in milliseconds in JSON.
type Result struct {
	Mode     string  `json:"mode"` // "load", "api", "orders" or "idle"
	Devices  int     `json:"devices"`
	Messages int     `json:"messages,omitempty"` // measured messages delivered
	Rate     float64 `json:"target_rate,omitempty"`
	Size     int     `json:"payload_bytes,omitempty"`
	Database string  `json:"database,omitempty"` // as the server reports it

	Seconds    float64 `json:"seconds,omitempty"`
	Throughput float64 `json:"throughput,omitempty"` // delivered messages per second

	// End to end: due to be sent → read by the recipient device.
	P50  Millis `json:"p50_ms,omitempty"`
	P99  Millis `json:"p99_ms,omitempty"`
	P999 Millis `json:"p999_ms,omitempty"`
	Max  Millis `json:"max_ms,omitempty"`
	// Sent answers: written → committed and answered.
	SentP50 Millis `json:"sent_p50_ms,omitempty"`
	SentP99 Millis `json:"sent_p99_ms,omitempty"`

	// Orders mode: orders measured (placed or refused, after the
	// warm-up); of all orders, warm-up included, how many were placed and
	// refused; the product's stock before and after, as the business's API
	// reads it. P50… are from when an order was due to its answer.
	Orders  int    `json:"orders,omitempty"`
	Placed  int    `json:"placed,omitempty"`
	Refused int    `json:"refused,omitempty"`
	Stock   int    `json:"stock,omitempty"`
	Left    *int   `json:"stock_left,omitempty"`
	P95     Millis `json:"p95_ms,omitempty"`

	Errors int `json:"errors"` // error frames and lost connections
	// Redelivered counts messages a device got again (delivery is at
	// least once; devices drop them by id).
	Redelivered int `json:"redelivered"`

	Encrypted bool `json:"encrypted"`

	// API mode: P50… are the API call's latency (accepted = persisted,
	// encrypted, queued); these are delivery to the person's device, and
	// the webhooks the business received.
	Delivered    int    `json:"delivered,omitempty"`
	DeliveredP50 Millis `json:"delivered_p50_ms,omitempty"`
	DeliveredP99 Millis `json:"delivered_p99_ms,omitempty"`
	Webhooks     int    `json:"webhooks,omitempty"`
	// DrainSeconds (API mode with Offline): from the people's return to
	// the last queued message read.
	DrainSeconds float64 `json:"drain_seconds,omitempty"`
	// Charged (API mode): the ledger's entries for the run's business
	// (warm-up included) — every delivered paid template, none of the
	// free messages.
	Charged     int     `json:"charged"`
	WebhookRate float64 `json:"webhooks_per_second,omitempty"`
	// CPU over the measured part of the run: the server's (from its
	// /metrics) and this load generator's own (its devices' protocol work
	// and, when encrypted, their crypto), in cores.
	ServerCores float64 `json:"server_cores,omitempty"`
	ClientCores float64 `json:"client_cores,omitempty"`
	// ServerCapacity is delivered messages (in orders mode: answered
	// orders) per second of server CPU: what the server would carry with
	// the machine to itself.
	ServerCapacity float64 `json:"server_msgs_per_cpu_second,omitempty"`

	Server Memory `json:"server"`
	// Idle mode: server memory growth per connection, in bytes.
	PerConnRSS  int64 `json:"per_conn_rss_bytes,omitempty"`
	PerConnHeap int64 `json:"per_conn_heap_bytes,omitempty"` // Go heap and stacks in use
}

// Millis is a duration written as fractional milliseconds.
type Millis time.Duration

// MarshalJSON writes m as milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(m)/1e6, 'f', 3, 64), nil
}

func (m Millis) String() string { return time.Duration(m).Round(10 * time.Microsecond).String() }

// Run runs the load or, with Idle set, the idle connections.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	if cfg.Server == "" || cfg.Token == "" {
		return Result{}, errors.New("bench: a server URL and the operator credential are needed")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	h := &harness{cfg: cfg, http: &http.Client{Timeout: 30 * time.Second}, run: rand.Uint32()}
	if cfg.Idle > 0 {
		return h.idle(ctx)
	}
	if cfg.API {
		return h.api(ctx)
	}
	if cfg.Orders > 0 {
		return h.orders(ctx)
	}
	return h.load(ctx)
}

type harness struct {
	cfg  Config
	http *http.Client
	run  uint32 // makes this run's phone numbers its own
}

// phone returns the number of simulated device i: +99 is not a country
// code in use, so these never collide with real people.
func (h *harness) phone(i int) kontor.Phone {
	return kontor.Phone(fmt.Sprintf("+99%05d%07d", h.run%100000, i))
}

// device is one simulated device's connection.
type device struct {
	phone  kontor.Phone
	cred   string
	ws     *websocket.Conn
	acks   chan kontor.ID // ids to ack, batched by the acker
	sealer *e2e.Sealer    // nil when not encrypted
}

// connect creates n accounts (in parallel) and connects a device for each.
func (h *harness) connect(ctx context.Context, n int, progress func(int)) ([]*device, error) {
	devs := make([]*device, n)
	var next, done atomic.Int64
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range min(n, 32) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				d, err := h.device(ctx, h.phone(i))
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
				devs[i] = d
				if progress != nil {
					progress(int(done.Add(1)))
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		for _, d := range devs {
			if d != nil {
				d.ws.CloseNow()
			}
		}
		return nil, err
	default:
	}
	return devs, ctx.Err()
}

func (h *harness) device(ctx context.Context, phone kontor.Phone) (*device, error) {
	var creds wire.DeviceCredentials
	if err := h.admin(ctx, http.MethodPost, "/admin/v1/accounts", map[string]any{"phone": phone, "device_name": "bench"}, &creds); err != nil {
		return nil, err
	}
	d := &device{phone: phone, cred: creds.Credential}
	return d, h.redial(ctx, d)
}

// redial connects d's WebSocket and says hello with its credential.
func (h *harness) redial(ctx context.Context, d *device) error {
	wsURL := "ws" + h.cfg.Server[len("http"):] + "/v1/ws"
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: h.http})
	if err != nil {
		return fmt.Errorf("bench: connecting %s: %w", d.phone, err)
	}
	ws.SetReadLimit(wire.MaxFrame)
	d.ws = ws
	if err := d.write(ctx, wire.Frame{Type: wire.THello, V: wire.Version, Credential: d.cred}); err != nil {
		ws.CloseNow()
		return err
	}
	f, err := d.read(ctx)
	if err != nil || f.Type != wire.TWelcome {
		ws.CloseNow()
		return fmt.Errorf("bench: %s was not welcomed: %+v %v", d.phone, f, err)
	}
	return nil
}

func (d *device) write(ctx context.Context, f wire.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return d.ws.Write(ctx, websocket.MessageText, b)
}

func (d *device) read(ctx context.Context) (wire.Frame, error) {
	_, b, err := d.ws.Read(ctx)
	if err != nil {
		return wire.Frame{}, err
	}
	var f wire.Frame
	err = json.Unmarshal(b, &f)
	return f, err
}

// acker writes the ids it gets as ack frames, as many in one frame as are
// waiting, the way a real client answers a burst.
func (d *device) acker(ctx context.Context) {
	batch := make([]kontor.ID, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-d.acks:
			batch = append(batch[:0], id)
		}
	more:
		for len(batch) < wire.MaxAckIDs {
			select {
			case id := <-d.acks:
				batch = append(batch, id)
			default:
				break more
			}
		}
		if d.write(ctx, wire.Frame{Type: wire.TAck, IDs: batch}) != nil {
			return
		}
	}
}

// load runs the ring.
func (h *harness) load(ctx context.Context) (Result, error) {
	cfg := h.cfg
	res := Result{Mode: "load", Devices: cfg.Devices, Rate: cfg.Rate, Size: cfg.Size, Encrypted: cfg.Encrypt}
	devs, err := h.connect(ctx, cfg.Devices, nil)
	if err != nil {
		return res, err
	}
	if cfg.Encrypt {
		if err := h.keys(ctx, devs); err != nil {
			return res, err
		}
	}
	defer func() {
		for _, d := range devs {
			d.ws.Close(websocket.StatusNormalClosure, "bench done")
		}
	}()
	n := len(devs)
	total := cfg.Messages + cfg.Warmup
	// Message k (0 ≤ k < total) is sent by device k mod n as its (k / n)th.
	per := func(i int) int { return total/n + btoi(i < total%n) }

	var (
		delivered atomic.Int64
		dups      atomic.Int64
		errs      atomic.Int64
		mu        sync.Mutex
		e2e       = make([]time.Duration, 0, cfg.Messages)
		sentLat   = make([]time.Duration, 0, cfg.Messages)
		firstAt   time.Time // when the first measured message was due
		lastAt    time.Time // when the last measured message arrived
	)
	start := time.Now().Add(50 * time.Millisecond)
	due := func(k int) time.Time {
		if cfg.Rate <= 0 {
			return time.Time{}
		}
		return start.Add(time.Duration(float64(k) / cfg.Rate * float64(time.Second)))
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg, ackers sync.WaitGroup
	defer ackers.Wait()
	defer stop()
	for i, d := range devs {
		d.acks = make(chan kontor.ID, 4096)
		slots := make(chan time.Time, cfg.Window) // write times of unanswered sends, in order
		expect := per((i + n - 1) % n)            // what the previous device sends me
		mine := per(i)
		ackers.Go(func() { d.acker(runCtx) })
		wg.Go(func() { // reader
			got, answered := 0, 0
			seen := make(map[int]bool, expect)
			for got < expect || answered < mine {
				f, err := d.read(runCtx)
				if err != nil {
					if runCtx.Err() == nil {
						errs.Add(1)
					}
					return
				}
				now := time.Now()
				switch f.Type {
				case wire.TSent:
					wrote := <-slots
					answered++
					if answered > cfg.Warmup/n {
						mu.Lock()
						sentLat = append(sentLat, now.Sub(wrote))
						mu.Unlock()
					}
				case wire.TMsg:
					got++
					d.acks <- f.ID
					body := f.Body
					if d.sealer != nil {
						if body, err = d.sealer.Open(runCtx, wire.DeviceAddress{Phone: f.From, DeviceID: f.FromDevice}, f.Body); err != nil {
							errs.Add(1)
							continue
						}
						now = time.Now() // delivered means readable
					}
					if len(body) < 16 {
						errs.Add(1)
						continue
					}
					k := int(binary.BigEndian.Uint64(body[8:]))
					if seen[k] {
						// Delivery is at least once; a device drops
						// what it has seen, and so does the bench.
						dups.Add(1)
						got--
						continue
					}
					seen[k] = true
					if k < cfg.Warmup {
						continue
					}
					from := time.Unix(0, int64(binary.BigEndian.Uint64(body)))
					mu.Lock()
					e2e = append(e2e, now.Sub(from))
					lastAt = now
					mu.Unlock()
					delivered.Add(1)
				case wire.TReceipt:
					d.acks <- f.ID
				case wire.TError:
					errs.Add(1)
					if f.Ref != "" { // a send that was refused frees its slot
						<-slots
						answered++
					}
				}
			}
		})
		wg.Go(func() { // writer
			peer := devs[(i+1)%n].phone
			body := make([]byte, max(cfg.Size, 16))
			for j := range mine {
				k := j*n + i
				at := due(k)
				if !at.IsZero() {
					if wait := time.Until(at); wait > 0 {
						select {
						case <-time.After(wait):
						case <-runCtx.Done():
							return
						}
					}
				}
				now := time.Now()
				select {
				case slots <- now:
				case <-runCtx.Done():
					return
				}
				if at.IsZero() {
					at = now
				}
				if k == cfg.Warmup {
					mu.Lock()
					firstAt = at
					mu.Unlock()
				}
				binary.BigEndian.PutUint64(body, uint64(at.UnixNano()))
				binary.BigEndian.PutUint64(body[8:], uint64(k))
				payload := body
				if d.sealer != nil {
					var err error
					if payload, err = d.sealer.Seal(runCtx, wire.DeviceAddress{Phone: peer, DeviceID: 1}, body); err != nil {
						if runCtx.Err() == nil {
							errs.Add(1)
						}
						return
					}
				}
				f := wire.Frame{Type: wire.TSend, Ref: strconv.Itoa(j), To: peer, Payloads: []wire.Payload{{DeviceID: 1, Body: payload}}}
				if err := d.write(runCtx, f); err != nil {
					if runCtx.Err() == nil {
						errs.Add(1)
					}
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	cpu0, err := h.cpu(ctx)
	if err != nil {
		return res, err
	}
	wall0 := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	measuredStart := time.Now()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			if h.cfg.Progress != nil {
				h.cfg.Progress(int(delivered.Load()), cfg.Messages)
			}
			// All messages are in and answered once every reader ends; a
			// lost connection ends its reader early, so stop on errors too.
			if delivered.Load() >= int64(cfg.Messages) && errs.Load() > 0 {
				break wait
			}
		case <-ctx.Done():
			stop()
			<-done
			return res, fmt.Errorf("bench: timed out after %v with %d of %d messages delivered", cfg.Timeout, delivered.Load(), cfg.Messages)
		}
	}
	cpu1, err := h.cpu(ctx)
	if err != nil {
		return res, err
	}
	wall := time.Since(wall0).Seconds()
	stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	res.ServerCores = (cpu1.server - cpu0.server) / wall
	res.ClientCores = (cpu1.client - cpu0.client) / wall
	if d := cpu1.server - cpu0.server; d > 0 {
		res.ServerCapacity = float64(cfg.Messages+cfg.Warmup) / d // the CPU window spans the warmup too
	}
	if firstAt.IsZero() {
		firstAt = measuredStart
	}
	res.Messages = len(e2e)
	res.Errors = int(errs.Load())
	res.Redelivered = int(dups.Load())
	res.Seconds = lastAt.Sub(firstAt).Seconds()
	if res.Seconds > 0 {
		res.Throughput = float64(res.Messages) / res.Seconds
	}
	res.P50, res.P99, res.P999, res.Max = quantiles(e2e)
	res.SentP50, res.SentP99, _, _ = quantiles(sentLat)
	if res.Server, err = h.memory(ctx); err != nil {
		return res, err
	}
	res.Database = res.Server.Database
	return res, nil
}

// quantiles returns p50, p99, p99.9 and the maximum of ds (sorting it).
func quantiles(ds []time.Duration) (p50, p99, p999, mx Millis) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	return quantile(ds, 0.50), quantile(ds, 0.99), quantile(ds, 0.999), Millis(ds[len(ds)-1])
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// keys gives every device an in-memory Signal key store and publishes its
// keys, as a real device does after registering.
func (h *harness) keys(ctx context.Context, devs []*device) error {
	for _, d := range devs {
		api := &client.API{Server: h.cfg.Server, Credential: d.cred, HTTP: h.http}
		s, err := e2e.Open("", api, wire.DeviceAddress{Phone: d.phone, DeviceID: 1}, e2e.Options{})
		if err != nil {
			return err
		}
		if _, err := s.Maintain(ctx); err != nil {
			return fmt.Errorf("bench: publishing the keys of %s: %w", d.phone, err)
		}
		d.sealer = s
	}
	return nil
}

// due waits until call k of a run paced at rate calls a second from start
// is due and returns when that was (now, at rate 0: as fast as possible);
// false when ctx ended first.
func due(ctx context.Context, start time.Time, k int, rate float64) (time.Time, bool) {
	if rate <= 0 {
		return time.Now(), ctx.Err() == nil
	}
	at := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
	if wait := time.Until(at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return at, false
		}
	}
	return at, true
}
