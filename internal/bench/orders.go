package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// orders runs the order load. It makes a business that sells one hot
// product from its catalog in the chat (Stock items, by default as many as
// orders are placed), registers Devices people, and places Orders+Warmup
// one-item orders for the product through the device API
// (POST /v1/shops/{phone}/orders, as `kontor client order` does), order k
// from person k mod Devices, at Rate or as fast as possible with Window
// calls in flight. An order's latency runs from when it was due to its
// answer. At the end it checks that exactly min(orders, stock) were placed,
// every other one was refused naming the product, and the stock the
// business reads back through its API is what is left — never below zero.
func (h *harness) orders(ctx context.Context) (Result, error) {
	cfg := h.cfg
	total := cfg.Orders + cfg.Warmup
	stock := cfg.Stock
	if stock <= 0 {
		stock = total
	}
	res := Result{Mode: "orders", Devices: cfg.Devices, Rate: cfg.Rate, Stock: stock}

	shop, err := h.shop(ctx, stock)
	if err != nil {
		return res, err
	}
	creds := make([]string, cfg.Devices)
	for i := range creds {
		var c wire.DeviceCredentials
		if err := h.admin(ctx, http.MethodPost, "/admin/v1/accounts", map[string]any{"phone": h.phone(i), "device_name": "bench"}, &c); err != nil {
			return res, err
		}
		creds[i] = c.Credential
	}

	// Keep-alive connections, one per caller: a new TCP connection per
	// order would measure the kernel, not the server.
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: cfg.Window * 2, MaxIdleConnsPerHost: cfg.Window * 2, IdleConnTimeout: time.Minute}}
	defer hc.CloseIdleConnections()

	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, cfg.Orders)
		placed   atomic.Int64 // all, warm-up included
		refused  atomic.Int64
		errs     atomic.Int64
		measured atomic.Int64
		firstAt  time.Time
		lastAt   time.Time
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errs.Add(1)
		errOnce.Do(func() { firstErr = err })
	}
	url := cfg.Server + "/v1/shops/" + string(shop.phone) + "/orders"
	body := []byte(`{"items":{"` + shop.retailerID + `":1}}`)
	start := time.Now().Add(50 * time.Millisecond)
	var next atomic.Int64
	var callers sync.WaitGroup
	cpu0, err := h.cpu(ctx)
	if err != nil {
		return res, err
	}
	wall0 := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for range min(cfg.Window, total) {
		callers.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= total || ctx.Err() != nil {
					return
				}
				at, ok := due(ctx, start, k, cfg.Rate)
				if !ok {
					return
				}
				if k == cfg.Warmup {
					mu.Lock()
					firstAt = at
					mu.Unlock()
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+creds[k%len(creds)])
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(fmt.Errorf("bench: order %d: %w", k, err))
					}
					continue
				}
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				now := time.Now()
				var out wire.OrderPlaced
				_ = json.Unmarshal(b, &out)
				switch {
				case resp.StatusCode == http.StatusOK && out.Status == "placed" && out.OrderID != "":
					placed.Add(1)
				case resp.StatusCode == http.StatusConflict && out.Status == "refused" && len(out.Short) == 1 &&
					out.Short[0].RetailerID == shop.retailerID && out.Short[0].Wanted == 1 && out.Short[0].Available == 0:
					refused.Add(1)
				default:
					fail(fmt.Errorf("bench: order %d: HTTP %d: %s", k, resp.StatusCode, bytes.TrimSpace(b)))
					continue
				}
				if k >= cfg.Warmup {
					measured.Add(1)
					mu.Lock()
					lat = append(lat, now.Sub(at))
					if now.After(lastAt) {
						lastAt = now
					}
					mu.Unlock()
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { callers.Wait(); close(done) }()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			if cfg.Progress != nil {
				cfg.Progress(int(measured.Load()), cfg.Orders)
			}
		case <-ctx.Done():
			<-done
			return res, fmt.Errorf("bench: timed out after %v with %d of %d orders answered", cfg.Timeout, placed.Load()+refused.Load(), total)
		}
	}
	cpu1, err := h.cpu(ctx)
	if err != nil {
		return res, err
	}
	wall := time.Since(wall0).Seconds()

	mu.Lock()
	defer mu.Unlock()
	if firstAt.IsZero() {
		firstAt = wall0
	}
	res.Orders = len(lat)
	res.Placed, res.Refused, res.Errors = int(placed.Load()), int(refused.Load()), int(errs.Load())
	res.Seconds = lastAt.Sub(firstAt).Seconds()
	if res.Seconds > 0 {
		res.Throughput = float64(res.Orders) / res.Seconds
	}
	res.P50, res.P99, res.P999, res.Max = quantiles(lat)
	res.P95 = quantile(lat, 0.95)
	res.ServerCores = (cpu1.server - cpu0.server) / wall
	res.ClientCores = (cpu1.client - cpu0.client) / wall
	if d := cpu1.server - cpu0.server; d > 0 {
		res.ServerCapacity = float64(total) / d
	}
	left, err := shop.inventory(ctx, h)
	if err != nil {
		return res, err
	}
	res.Left = &left
	if res.Server, err = h.memory(ctx); err != nil {
		return res, err
	}
	res.Database = res.Server.Database
	if firstErr != nil {
		return res, fmt.Errorf("%w (and %d more errors)", firstErr, res.Errors-1)
	}
	// No oversell, and nothing refused that the stock could cover.
	if want := min(total, stock); res.Placed != want || res.Refused != total-want || left != stock-want || left < 0 {
		return res, fmt.Errorf("bench: %d orders for %d in stock: %d placed, %d refused, %d left; want %d placed, %d refused, %d left",
			total, stock, res.Placed, res.Refused, left, want, total-want, stock-want)
	}
	return res, nil
}

// benchShop is the business the order load buys from.
type benchShop struct {
	phone      kontor.Phone
	token      string // the business's access token
	product    string // product id
	retailerID string
}

// shop makes a business whose number shows its catalog and takes orders in
// the chat, with one product of stock items.
func (h *harness) shop(ctx context.Context, stock int) (benchShop, error) {
	s := benchShop{phone: kontor.Phone(fmt.Sprintf("+97%05d%07d", h.run%100000, 1)), retailerID: "hot"}
	var biz struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
		Token  string `json:"access_token"`
	}
	if err := h.admin(ctx, http.MethodPost, "/admin/v1/businesses", map[string]any{"name": "bench shop", "phone": s.phone}, &biz); err != nil {
		return s, err
	}
	s.token = biz.Token
	var cat struct {
		ID string `json:"catalog_id"`
	}
	if err := h.admin(ctx, http.MethodPost, "/admin/v1/catalogs", map[string]any{"business_id": biz.WABA}, &cat); err != nil {
		return s, err
	}
	var prod struct {
		ID string `json:"id"`
	}
	if err := h.call(ctx, http.MethodPost, "/v21.0/"+cat.ID+"/products", s.token, map[string]any{"retailer_id": s.retailerID,
		"name": "Hot product", "price": 999, "currency": "EUR", "inventory": stock}, &prod); err != nil {
		return s, err
	}
	s.product = prod.ID
	if err := h.call(ctx, http.MethodPost, "/v21.0/"+biz.Number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", s.token, nil, nil); err != nil {
		return s, err
	}
	return s, nil
}

// inventory reads the product's stock back through the Business API.
func (s benchShop) inventory(ctx context.Context, h *harness) (int, error) {
	var p struct {
		Inventory json.Number `json:"inventory"`
	}
	if err := h.call(ctx, http.MethodGet, "/v21.0/"+s.product+"?fields=inventory", s.token, nil, &p); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(p.Inventory.String())
	if err != nil {
		return 0, fmt.Errorf("bench: the product's inventory reads %q", p.Inventory)
	}
	return n, nil
}

// quantile returns the p quantile of sorted ds.
func quantile(ds []time.Duration, p float64) Millis {
	if len(ds) == 0 {
		return 0
	}
	i := int(p*float64(len(ds))+0.5) - 1
	return Millis(ds[min(max(i, 0), len(ds)-1)])
}
