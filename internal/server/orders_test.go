package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// node is one running kontor the order race talks to: its base URL and
// its operator credential (each data directory has its own).
type node struct{ url, token string }

// TestOrdersNoOversell races 500 orders for a product with 10 in stock on
// one node, through the device API: exactly 10 are placed, 490 refused
// naming the product, the stock never reads below zero. On SQLite and,
// with KONTOR_TEST_POSTGRES, on PostgreSQL.
func TestOrdersNoOversell(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		raceOrders(t, []node{{s.URL, s.Token}})
	})
}

// TestOrdersTwoNodes is the same race split across two kontor processes
// on one PostgreSQL schema and one NATS: half the orders go to each node,
// from people registered on either.
func TestOrdersTwoNodes(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	n1 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "1")
	n2 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "2")
	raceOrders(t, []node{{n1.URL, n1.Token()}, {n2.URL, n2.Token()}})
}

// raceOrders makes a shop on the first node with 10 roses and fires 500
// one-rose orders at once through POST /v1/shops/{phone}/orders, order i to
// node i mod len(nodes), from 50 people registered round the nodes. While
// they run, the business reads the stock through its API on every node.
func raceOrders(t *testing.T, nodes []node) {
	const (
		orders = 500
		stock  = 10
		people = 50
		shop   = "+4930555000"
	)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: orders}}
	defer hc.CloseIdleConnections()
	call := func(n node, method, path, token string, in, out any) (int, []byte) {
		t.Helper()
		var body io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, n.url+path, body)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil && json.Unmarshal(b, out) != nil {
			t.Errorf("%s %s: HTTP %d, not JSON: %s", method, path, resp.StatusCode, b)
		}
		return resp.StatusCode, b
	}
	must := func(n node, method, path, token string, in, out any) {
		t.Helper()
		if code, b := call(n, method, path, token, in, out); code != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d: %s", method, path, code, b)
		}
	}

	first := nodes[0]
	var biz struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
		Token  string `json:"access_token"`
	}
	must(first, http.MethodPost, "/admin/v1/businesses", first.token, map[string]any{"name": "Blumen Anna", "phone": shop}, &biz)
	var cat struct {
		ID string `json:"catalog_id"`
	}
	must(first, http.MethodPost, "/admin/v1/catalogs", first.token, map[string]any{"business_id": biz.WABA}, &cat)
	var rose struct {
		ID string `json:"id"`
	}
	must(first, http.MethodPost, "/v21.0/"+cat.ID+"/products", biz.Token, map[string]any{"retailer_id": "rose", "name": "Rote Rose",
		"price": 299, "currency": "EUR", "inventory": stock}, &rose)
	must(first, http.MethodPost, "/v21.0/"+biz.Number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", biz.Token, nil, nil)

	creds := make([]string, people)
	for i := range creds {
		n := nodes[i%len(nodes)]
		var c wire.DeviceCredentials
		must(n, http.MethodPost, "/admin/v1/accounts", n.token, map[string]string{"phone": fmt.Sprintf("+49151%08d", i)}, &c)
		creds[i] = c.Credential
	}
	// inventory reads the stock as the business sees it (any goroutine).
	inventory := func(n node) (int, bool) {
		t.Helper()
		var p struct {
			Inventory *int `json:"inventory"`
		}
		if code, b := call(n, http.MethodGet, "/v21.0/"+rose.ID+"?fields=inventory", biz.Token, nil, &p); code != http.StatusOK || p.Inventory == nil {
			t.Errorf("reading the stock on %s: HTTP %d: %s", n.url, code, b)
			return 0, false
		}
		return *p.Inventory, true
	}
	for _, n := range nodes {
		if got, ok := inventory(n); !ok || got != stock {
			t.Fatalf("stock before the race on %s: %d", n.url, got)
		}
	}

	// The stock, read through the business's API on every node while the
	// orders run, never goes below zero.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	lows := make(chan int, len(nodes))
	for _, n := range nodes {
		readers.Go(func() {
			low := stock
			for {
				select {
				case <-stop:
					lows <- low
					return
				default:
				}
				got, ok := inventory(n)
				if !ok {
					lows <- low
					return
				}
				low = min(low, got)
			}
		})
	}

	type answer struct {
		code int
		out  wire.OrderPlaced
		body string
	}
	answers := make([]answer, orders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range orders {
		wg.Go(func() {
			n := nodes[i%len(nodes)]
			<-start
			var out wire.OrderPlaced
			code, b := call(n, http.MethodPost, "/v1/shops/"+shop+"/orders", creds[i%people], wire.PlaceOrder{Items: map[string]int{"rose": 1}}, &out)
			answers[i] = answer{code, out, string(b)}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	readers.Wait()
	close(lows)
	for low := range lows {
		if low < 0 {
			t.Errorf("the stock read %d during the race", low)
		}
	}

	placed := map[string]bool{}
	refused := 0
	for i, a := range answers {
		switch {
		case a.code == http.StatusOK && a.out.Status == "placed" && a.out.OrderID != "" && a.out.Total == 299 && a.out.Currency == "EUR":
			if placed[a.out.OrderID] {
				t.Errorf("order %d: id %s given twice", i, a.out.OrderID)
			}
			placed[a.out.OrderID] = true
		case a.code == http.StatusConflict && a.out.Status == "refused" && len(a.out.Short) == 1 &&
			a.out.Short[0] == wire.ShortItem{RetailerID: "rose", Wanted: 1, Available: 0} && a.out.OrderID == "":
			refused++
		default:
			t.Errorf("order %d on node %d: HTTP %d %s", i, i%len(nodes)+1, a.code, a.body)
		}
	}
	if len(placed) != stock || refused != orders-stock {
		t.Fatalf("%d orders for %d in stock: %d placed, %d refused; want %d and %d", orders, stock, len(placed), refused, stock, orders-stock)
	}
	for _, n := range nodes {
		if got, ok := inventory(n); ok && got != 0 {
			t.Errorf("stock after the race on %s: %d, want 0", n.url, got)
		}
	}
	// Every placed order is recorded once, pending, and the business sees
	// it on every node.
	for id := range placed {
		for _, n := range nodes {
			var o struct {
				Status string  `json:"status"`
				Total  float64 `json:"total"`
			}
			must(n, http.MethodGet, "/v21.0/"+id, biz.Token, nil, &o)
			if o.Status != "pending" || o.Total != 2.99 {
				t.Errorf("order %s on %s: %+v", id, n.url, o)
			}
		}
	}
	// A customer's order after the race is refused too: nothing came back.
	var out wire.OrderPlaced
	if code, b := call(nodes[len(nodes)-1], http.MethodPost, "/v1/shops/"+shop+"/orders", creds[0], wire.PlaceOrder{Items: map[string]int{"rose": 1}}, &out); code != http.StatusConflict || out.Status != "refused" {
		t.Fatalf("an order after the race: HTTP %d %s", code, b)
	}
}
