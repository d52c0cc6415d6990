package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// api runs the Business API load. It makes a hosted business whose
// webhooks go to a receiver in this process, and Devices people, each of
// whom writes to the business first (opening the 24-hour window). Then it
// sends Messages text messages through POST /v21.0/{phone-number-id}/messages,
// to the people in turn, at Rate or as fast as possible with Window calls
// in flight. A message is accepted when the call answers 200: persisted,
// encrypted by the hosted endpoint and queued for the person. It measures
// accepted messages per second and the call's latency, the people's
// devices measure delivery end to end, and the receiver counts webhooks.
func (h *harness) api(ctx context.Context) (Result, error) {
	cfg := h.cfg
	res := Result{Mode: "api", Devices: cfg.Devices, Rate: cfg.Rate, Encrypted: true}

	// The business's webhook receiver: it counts what arrives.
	var hooks, inbound atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	// It reads each body whole, into a buffer it uses again.
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := bufs.Get().(*bytes.Buffer)
		buf.Reset()
		_, _ = buf.ReadFrom(r.Body)
		hooks.Add(1)
		if bytes.Contains(buf.Bytes(), []byte(`"messages":[`)) {
			inbound.Add(1)
		}
		bufs.Put(buf)
	})}
	go func() { _ = recv.Serve(ln) }()
	defer recv.Close()

	var biz struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
		Token  string `json:"access_token"`
	}
	phone := kontor.Phone(fmt.Sprintf("+98%05d%07d", h.run%100000, 1))
	if err := h.admin(ctx, http.MethodPost, "/admin/v1/businesses", map[string]any{"name": "bench", "phone": phone,
		"webhook_url": "http://" + ln.Addr().String() + "/hook"}, &biz); err != nil {
		return res, err
	}
	// Throughput limits are lifted for the run.
	if err := h.admin(ctx, http.MethodPost, "/admin/v1/numbers/"+biz.Number, map[string]any{"mps": 1_000_000}, nil); err != nil {
		return res, err
	}
	if cfg.Template {
		if err := h.benchTemplate(ctx, biz.WABA, biz.Token); err != nil {
			return res, err
		}
	}
	devs, err := h.connect(ctx, cfg.Devices, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, d := range devs {
			d.ws.CloseNow()
		}
	}()
	if err := h.keys(ctx, devs); err != nil {
		return res, err
	}
	// Each person writes first (from an ad, with Referral).
	first := wire.Content{V: 1, Type: wire.ContentText, Text: "hallo"}
	if cfg.Referral {
		first.Referral = &wire.Referral{SourceType: wire.ReferralAd, SourceID: "bench", CTWAClid: "bench"}
	}
	for i, d := range devs {
		body, err := d.sealer.Seal(ctx, wire.DeviceAddress{Phone: phone, DeviceID: 1},
			mustContent(first))
		if err != nil {
			return res, err
		}
		if err := d.write(ctx, wire.Frame{Type: wire.TSend, Ref: "hi" + strconv.Itoa(i), To: phone, Payloads: []wire.Payload{{DeviceID: 1, Body: body}}}); err != nil {
			return res, err
		}
	}
	for inbound.Load() < int64(len(devs)) {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("bench: the business got %d of %d first messages", inbound.Load(), len(devs))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if cfg.Offline {
		// The people go away: what the business sends them is queued.
		for _, d := range devs {
			_ = d.ws.Close(websocket.StatusNormalClosure, "")
		}
	}

	// The load generator's garbage collection is taken from the server
	// too: during the load it collects a quarter as often (its heap is a
	// few MB of sessions and buffers).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	total := cfg.Messages + cfg.Warmup
	var (
		mu        sync.Mutex
		callLat   = make([]time.Duration, 0, cfg.Messages)
		e2eLat    = make([]time.Duration, 0, cfg.Messages)
		accepted  atomic.Int64
		all       atomic.Int64 // accepted, warm-up included
		delivered atomic.Int64
		errs      atomic.Int64
		firstAt   time.Time
		lastCall  time.Time
	)
	// People read, decrypt and ack: from the start, or with Offline once
	// every call has answered.
	var readers sync.WaitGroup
	read := func(d *device) {
		d.acks = make(chan kontor.ID, 4096)
		readers.Go(func() { d.acker(runCtx) })
		readers.Go(func() {
			for {
				f, err := d.read(runCtx)
				if err != nil {
					return
				}
				now := time.Now()
				if f.Type != wire.TMsg && f.Type != wire.TReceipt {
					continue
				}
				d.acks <- f.ID
				if f.Type != wire.TMsg {
					continue
				}
				plain, err := d.sealer.Open(runCtx, wire.DeviceAddress{Phone: f.From, DeviceID: f.FromDevice}, f.Body)
				if err != nil {
					errs.Add(1)
					continue
				}
				c, err := wire.DecodeContent(plain)
				text := c.Text
				if err == nil && c.Type == wire.ContentTemplate && c.Template != nil {
					text, c.Type = strings.NewReplacer(" run ", " ", " at ", " ", " ok", "").Replace(c.Template.Body), wire.ContentText
				}
				if err != nil || c.Type != wire.ContentText {
					continue // the hosted-service notice
				}
				k, at, ok := parseBenchText(text)
				if !ok || k < cfg.Warmup {
					continue
				}
				delivered.Add(1)
				if cfg.Offline {
					continue // the time in the queue is the run's, not the server's
				}
				mu.Lock()
				e2eLat = append(e2eLat, now.Sub(at))
				mu.Unlock()
			}
		})
	}
	if !cfg.Offline {
		for _, d := range devs {
			read(d)
		}
	}

	api := h.cfg.Server
	if h.cfg.APIServer != "" {
		api = h.cfg.APIServer
	}
	url := api + "/v21.0/" + biz.Number + "/messages"
	// The calls go out on a Transport of their own that keeps a connection
	// for each call in flight (the shared client keeps two idle ones, so
	// some calls of a window would dial anew), and they are bounded
	// by the Transport's wait for an answer rather than a Client timeout
	// (a context and a timer per call).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = max(100, cfg.Window), cfg.Window
	tr.ResponseHeaderTimeout = 30 * time.Second
	defer tr.CloseIdleConnections()
	calls := &http.Client{Transport: tr}
	// The headers of every call, shared: requests only read them.
	header := http.Header{"Authorization": {"Bearer " + biz.Token}, "Content-Type": {"application/json"}}
	digits := make([]string, len(devs))
	for i, d := range devs {
		digits[i] = strings.TrimPrefix(string(d.phone), "+")
	}
	start := time.Now().Add(50 * time.Millisecond)
	var next atomic.Int64
	var callers sync.WaitGroup
	for range cfg.Window {
		callers.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= total || runCtx.Err() != nil {
					return
				}
				at, ok := due(runCtx, start, k, cfg.Rate)
				if !ok {
					return
				}
				if k == cfg.Warmup {
					mu.Lock()
					firstAt = at
					mu.Unlock()
				}
				body := apiBody(digits[k%len(devs)], k, at, cfg.Template)
				req, _ := http.NewRequestWithContext(runCtx, http.MethodPost, url, bytes.NewReader(body))
				req.Header = header
				resp, err := calls.Do(req)
				if err != nil {
					if runCtx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				now := time.Now()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				all.Add(1)
				if k >= cfg.Warmup {
					accepted.Add(1)
					mu.Lock()
					callLat = append(callLat, now.Sub(at))
					if now.After(lastCall) {
						lastCall = now
					}
					mu.Unlock()
				}
			}
		})
	}
	cpu0, err := h.cpu(ctx)
	if err != nil {
		return res, err
	}
	wall0, hooks0 := time.Now(), hooks.Load()
	callers.Wait()
	if !cfg.Offline {
		// Give delivery (and webhooks) a moment to catch up, bounded.
		for deadline := time.Now().Add(30 * time.Second); delivered.Load() < accepted.Load() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	cpu1, err := h.cpu(ctx)
	if err != nil {
		return res, err
	}
	wall := time.Since(wall0).Seconds()
	hookRate := float64(hooks.Load()-hooks0) / wall
	if cfg.Offline {
		// The people come back and take what was queued for them; every
		// accepted message must arrive and decrypt.
		back := time.Now()
		for _, d := range devs {
			if err := h.redial(ctx, d); err != nil {
				return res, err
			}
			read(d)
		}
		for deadline := time.Now().Add(time.Minute + time.Duration(cfg.Messages)*time.Millisecond); delivered.Load() < accepted.Load() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		res.DrainSeconds = time.Since(back).Seconds()
	}
	stop()
	readers.Wait()

	mu.Lock()
	defer mu.Unlock()
	if firstAt.IsZero() {
		firstAt = wall0
	}
	res.Messages = int(accepted.Load())
	res.Errors = int(errs.Load())
	res.Seconds = lastCall.Sub(firstAt).Seconds()
	if res.Seconds > 0 {
		res.Throughput = float64(res.Messages) / res.Seconds
	}
	res.P50, res.P99, res.P999, res.Max = quantiles(callLat)
	res.DeliveredP50, res.DeliveredP99, _, _ = quantiles(e2eLat)
	res.Delivered = int(delivered.Load())
	res.Webhooks = int(hooks.Load())
	res.WebhookRate = hookRate
	res.ServerCores = (cpu1.server - cpu0.server) / wall
	if d := cpu1.server - cpu0.server; d > 0 {
		res.ServerCapacity = float64(all.Load()) / d // the CPU window spans the warm-up too
	}
	res.ClientCores = (cpu1.client - cpu0.client) / wall
	if res.Server, err = h.memory(ctx); err != nil {
		return res, err
	}
	res.Database = res.Server.Database
	var usage struct {
		Entries int `json:"entries"`
	}
	// Paid templates are charged as their receipts come back: wait for
	// them, bounded.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := h.admin(ctx, http.MethodGet, "/admin/v1/businesses/"+biz.WABA+"/usage?from=2000-01-01&to=2100-01-01", nil, &usage); err != nil {
			return res, err
		}
		if !cfg.Template || cfg.Referral || usage.Entries >= res.Delivered || time.Now().After(deadline) {
			break
		}
	}
	res.Charged = usage.Entries
	return res, nil
}

// benchTemplate creates the marketing template --template sends (the
// platform reviews it at once) and, where the platform keeps credit, gives
// the business a prepaid account with enough in it, so that every send
// takes the credit check.
func (h *harness) benchTemplate(ctx context.Context, waba, token string) error {
	body := `{"name":"bench_offer","language":"en","category":"MARKETING","components":[{"type":"BODY","text":"bench run {{1}} at {{2}} ok",` +
		`"example":{"body_text":[["1","2"]]}}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.Server+"/v21.0/"+waba+"/message_templates", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.http.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"APPROVED"`)) {
		return fmt.Errorf("bench: creating the template: HTTP %d: %s", resp.StatusCode, b)
	}
	// A server without credit accounts answers 404 here: then no check.
	if err := h.admin(ctx, http.MethodPut, "/admin/v1/businesses/"+waba+"/credit", map[string]any{"mode": "prepaid", "currency": "USD"}, nil); err == nil {
		return h.admin(ctx, http.MethodPost, "/admin/v1/businesses/"+waba+"/topups", map[string]any{"amount": "1000000"}, nil)
	}
	return nil
}

func mustContent(c wire.Content) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

// apiBody is the body of the k-th send, due at, to the phone number
// digits: a text "bench K UNIXNANO", or with template the bench_offer
// template with K and UNIXNANO as its parameters.
func apiBody(digits string, k int, at time.Time, template bool) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"messaging_product":"whatsapp","to":"`...)
	b = append(b, digits...)
	if !template {
		b = append(b, `","type":"text","text":{"body":"bench `...)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, at.UnixNano(), 10)
		return append(b, `"}}`...)
	}
	b = append(b, `","type":"template","template":{"name":"bench_offer","language":{"code":"en"},`+
		`"components":[{"type":"body","parameters":[{"type":"text","text":"`...)
	b = strconv.AppendInt(b, int64(k), 10)
	b = append(b, `"},{"type":"text","text":"`...)
	b = strconv.AppendInt(b, at.UnixNano(), 10)
	return append(b, `"}]}]}}`...)
}

// parseBenchText reads "bench K UNIXNANO".
func parseBenchText(s string) (int, time.Time, bool) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != "bench" {
		return 0, time.Time{}, false
	}
	k, err1 := strconv.Atoi(f[1])
	ns, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, time.Time{}, false
	}
	return k, time.Unix(0, ns), true
}
