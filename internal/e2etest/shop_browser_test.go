package e2etest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestShopEndToEnd is the whole sale in two browsers at once (Debian's
// chromium through playwright-core, test/web/shop-e2e.mjs): a person in
// the web chat and an agent of a hosted business in the console. The
// person registers and orders two products from the catalog; the agent
// finds the order in /console/orders, confirms it and sends the payment
// request with shipping and tax from the order's page; the person pays
// with the sandbox's card 4242 4242 4242 4242; the agent sees the order
// paid and /console/inventory the stock lowered by the ordered
// quantities, and the operator's sales report has the sale; the agent
// answers in /console/inbox, the answer arrives in the web chat, which
// reads it, and the inbox shows the read tick. Neither page has a script
// error or fetches from another site. It runs on SQLite and on
// PostgreSQL (KONTOR_TEST_POSTGRES).
//
// With SCREENSHOTS=dir (docs/screenshots is where the docs show them) it
// keeps the console's inbox, conversation, catalog, product, inventory,
// orders, order and billing pages and the web chat's chat-shop, each also
// as -phone (390 px wide).
//
// It needs node, npm and chromium; without them it is skipped, unless CI
// is set.
func TestShopEndToEnd(t *testing.T) {
	node := needNode(t)
	browser := needChromium(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "web"))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir)
	t.Run("sqlite", func(t *testing.T) { shopEndToEnd(t, node, browser, dir, false) })
	t.Run("postgres", func(t *testing.T) { shopEndToEnd(t, node, browser, dir, true) })
}

func shopEndToEnd(t *testing.T, node, browser, dir string, pg bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var args []string
	if pg {
		args = append(args, "--db", kontortest.PostgresURL(t))
	}
	p := kontortest.StartProcess(t, "", args...)
	shots := os.Getenv("SCREENSHOTS") // the pages are the same on both stores: taken once
	if pg {
		shots = ""
	} else if shots != "" {
		abs, err := filepath.Abs(shots)
		if err != nil {
			t.Fatal(err)
		}
		shots = abs
	}
	const bizPhone, web = "+4930123456", "+4915100000099"
	shop := kontortest.MakeShop(t, p.URL, p.Token(), kontortest.ShopOptions{Name: "Blumen Berta", Phone: bizPhone, Products: []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "description": "Langstielig, aus Holland", "price": 299, "currency": "EUR", "inventory": 10},
		{"retailer_id": "tulpe", "name": "Tulpe", "price": 180, "sale_price": 150, "currency": "EUR", "inventory": 10},
		{"retailer_id": "vase", "name": "Glasvase", "price": 1299, "currency": "EUR", "inventory": 2},
	}})
	const agentEmail, ownerEmail, pw = "ana@blumen.example", "berta@blumen.example", "tulips and roses in spring"
	consoleUser(t, p, shop.WABA, agentEmail, "agent", pw)
	consoleUser(t, p, shop.WABA, ownerEmail, "owner", pw)
	const answer = "Vielen Dank! Wir liefern heute bis 18 Uhr."

	br := startBrowser(ctx, t, node, dir, "shop-e2e.mjs", map[string]string{
		"KONTOR_URL": p.URL, "WEB_PHONE": web, "BIZ_PHONE": bizPhone, "PRODUCT_A": "Rote Rose", "PRODUCT_B": "Tulpe",
		"AGENT_EMAIL": agentEmail, "AGENT_PASSWORD": pw, "OWNER_EMAIL": ownerEmail, "OWNER_PASSWORD": pw, "REPLY": answer,
		"SCREENSHOTS": shots, "CHROMIUM": browser,
	})
	order := func(id string) map[string]any {
		t.Helper()
		var o map[string]any
		if code := kontortest.Call(t, p.URL, http.MethodGet, "/v21.0/"+id, shop.Token, nil, &o); code != http.StatusOK {
			t.Fatalf("the order %s: HTTP %d %v", id, code, o)
		}
		return o
	}
	wantStock := func(step string, got any, want map[string][2]int) {
		t.Helper()
		s, _ := got.(map[string]any)
		for name, w := range want {
			l, _ := s[name].(map[string]any)
			if l == nil || l["available"] != float64(w[0]) || l["reserved"] != float64(w[1]) {
				t.Errorf("%s: /console/inventory shows %s as %v, want %d available and %d reserved", step, name, l, w[0], w[1])
			}
		}
	}

	in := br.await(t, "agent-signed-in")
	if in["heading"] != "Inventory" {
		t.Errorf("after signing in the agent is on the page %q, not the inventory", in["heading"])
	}
	wantStock("before the order", in["stock"], map[string][2]int{"Rote Rose": {10, 0}, "Tulpe": {10, 0}, "Glasvase": {2, 0}})

	// 1. The person orders 2 roses and 3 tulips (2 × 2.99 + 3 × 1.50).
	br.await(t, "loaded")
	o := br.await(t, "ordered")
	id := fmt.Sprint(o["order_id"])
	if o["badge"] != "✔ Business · Blumen Berta" || fmt.Sprint(o["catalog"]) != "[Rote Rose Tulpe Glasvase]" || !strings.Contains(fmt.Sprint(o["total"]), "10.48") {
		t.Errorf("the person saw the badge %q, the catalog %v and the cart's total %q", o["badge"], o["catalog"], o["total"])
	}
	if got := order(id); got["status"] != "pending" || got["total"] != 10.48 {
		t.Fatalf("the order placed in the web chat: %v", got)
	}

	// 2. The agent finds it, confirms it, asks for 10.48 + 4.90 + 0.80.
	rq := br.await(t, "requested")
	if row := fmt.Sprint(rq["row"]); !strings.Contains(row, web) || !strings.Contains(row, "pending") || !strings.Contains(row, "10.48") {
		t.Errorf("the orders list shows the order as %q", row)
	}
	// Placed, the order holds its units: they are no longer available.
	wantStock("once ordered", rq["held"], map[string][2]int{"Rote Rose": {8, 2}, "Tulpe": {7, 3}, "Glasvase": {2, 0}})
	before, _ := rq["before"].(map[string]any)
	if before["state"] != "pending" || before["customer"] != web || !strings.Contains(fmt.Sprint(before["total"]), "10.48") ||
		fmt.Sprint(before["items"]) != "[map[name:Rote Rose quantity:2 sum:5.98 EUR] map[name:Tulpe quantity:3 sum:4.50 EUR]]" {
		t.Errorf("the order's page shows %v", before)
	}
	if rq["confirmed"] != "The order is confirmed." || !strings.Contains(fmt.Sprint(rq["flash"]), "The payment request is sent") {
		t.Errorf("confirming said %q, the payment request %q", rq["confirmed"], rq["flash"])
	}
	if after, _ := rq["order"].(map[string]any); after["state"] != "confirmed" || !strings.Contains(fmt.Sprint(after["total"]), "16.18") {
		t.Errorf("after the payment request the order's page shows %v (want confirmed, 16.18)", after)
	}

	// 3. The person pays.
	paid := br.await(t, "paid")
	if !strings.Contains(fmt.Sprint(paid["bill"]), "16.18") || !strings.Contains(fmt.Sprint(paid["request"]), "Danke für Ihre Bestellung!") {
		t.Errorf("the payment request in the chat reads %q (total %q)", paid["request"], paid["bill"])
	}
	if out, _ := paid["paid"].(map[string]any); out["status"] != "succeeded" || !strings.Contains(fmt.Sprint(out["text"]), "16.18") {
		t.Errorf("paying with 4242 4242 4242 4242 shows %v", paid["paid"])
	}

	// 4. Paid; the stock is lowered by what was sold, and the sale is in
	// the report.
	ap := br.await(t, "agent-paid")
	if a, _ := ap["order"].(map[string]any); a["state"] != "paid" || !strings.Contains(fmt.Sprint(a["payment"]), "succeeded") ||
		!strings.Contains(fmt.Sprint(a["payment"]), "16.18") {
		t.Errorf("the paid order's page shows %v", ap["order"])
	}
	wantStock("after paying", ap["stock"], map[string][2]int{"Rote Rose": {8, 0}, "Tulpe": {7, 0}, "Glasvase": {2, 0}})
	if got := order(id); got["status"] != "paid" || got["total"] != 16.18 {
		t.Errorf("the Business API says the order is %v", got)
	}
	salesReport(t, p, shop, map[string][2]float64{"rose": {2, 598}, "tulpe": {3, 450}})

	// 5. The agent answers; the person reads it; the inbox shows it read.
	rc := br.await(t, "received")
	if !strings.Contains(fmt.Sprint(rc["text"]), answer) || strings.Contains(fmt.Sprint(rc["list"]), "unread") {
		t.Errorf("the web chat shows the answer as %q and its chat as %q", rc["text"], rc["list"])
	}
	if l, _ := rc["unlabelled"].([]any); len(l) > 0 {
		t.Errorf("controls without a label in the web chat: %v", l)
	}
	rd := br.await(t, "read")
	if tick, _ := rd["tick"].(map[string]any); tick["label"] != "Read" || tick["shown"] != "✓✓ read" {
		t.Errorf("the reply's tick in the inbox: %v", rd["tick"])
	}
	if inbox, _ := rd["inbox"].(map[string]any); !strings.Contains(fmt.Sprint(inbox["row"]), web) ||
		!strings.Contains(fmt.Sprint(inbox["messages"]), "Hallo, ich möchte Blumen bestellen.") {
		t.Errorf("the inbox shows the conversation as %v", rd["inbox"])
	}
	if rd["sent"] != "The message is sent." {
		t.Errorf("replying said %q", rd["sent"])
	}
	done := br.await(t, "done")
	for _, k := range []string{"offsite", "errors", "console"} {
		if l, _ := done[k].([]any); len(l) > 0 {
			t.Errorf("%s: %v", map[string]string{"offsite": "the pages fetched from other sites", "errors": "the web chat's script failed",
				"console": "the console's pages had errors"}[k], l)
		}
	}
	br.wait(t)
}

// consoleUser makes a console user of the business with the CLI, as an
// operator would.
func consoleUser(t *testing.T, p *kontortest.Process, waba, email, role, password string) {
	t.Helper()
	cmd := exec.Command(kontortest.Binary(t), "admin", "--server", p.URL, "console", "user", "create", "--business", waba,
		"--email", email, "--role", role, "--password-stdin")
	cmd.Env = append(os.Environ(), "KONTOR_OPERATOR_TOKEN="+p.Token())
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kontor admin console user create %s: %v\n%s", email, err, out)
	}
}

// salesReport checks the operator's sales report of today by product:
// units and gross (minor units) by retailer id.
func salesReport(t *testing.T, p *kontortest.Process, shop kontortest.Shop, want map[string][2]float64) {
	t.Helper()
	now := time.Now().UTC()
	q := "?group_by=product&since=" + now.AddDate(0, 0, -1).Format(time.DateOnly) + "&until=" + now.AddDate(0, 0, 1).Format(time.DateOnly)
	var rep struct {
		Data []map[string]any `json:"data"`
	}
	if code := kontortest.Call(t, p.URL, http.MethodGet, "/admin/v1/businesses/"+shop.WABA+"/sales_report"+q, p.Token(), nil, &rep); code != http.StatusOK {
		t.Fatalf("the sales report: HTTP %d", code)
	}
	got := map[string][2]float64{}
	for _, r := range rep.Data {
		for rid, pid := range shop.Products {
			if r["product_id"] == pid {
				u, _ := r["units"].(float64)
				g, _ := r["gross"].(float64)
				got[rid] = [2]float64{u, g}
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the sales report has (units, gross) %v, want %v: %v", got, want, rep.Data)
	}
}
