package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// waitFor returns the first message the person gets that ok accepts.
func (p *person) waitFor(t *testing.T, what string, ok func(client.Message) bool) client.Message {
	t.Helper()
	return p.Next(t, what, func(ev client.Event) bool {
		m, is := ev.(client.Message)
		return is && !m.Outgoing && ok(m)
	}).(client.Message)
}

// retry posts a form until it is no longer refused with status busy (the
// business endpoint has not yet seen what opens the chat), and returns
// the final status.
func (b *browser) retry(path string, form url.Values, busy int) int {
	b.t.Helper()
	page := b.url
	for i := 0; ; i++ {
		code := b.post(path, form)
		if code != busy || i == 100 {
			return code
		}
		time.Sleep(50 * time.Millisecond)
		b.want("back to the page", b.get(strings.TrimPrefix(page, b.base)), 200)
	}
}

// TestOrdersAndBilling drives the orders and billing pages through the
// real server: a person's order shows up, is confirmed, gets a payment
// request with shipping and tax that reaches the person's device and sets
// the order's total, is paid with a sandbox card and refunded; invalid
// moves and forms are refused in words; an agent handles orders but sees
// neither refunds nor billing; the billing page shows the ledger's counts
// in SVG charts and its invoices download as the CLI prints them.
func TestOrdersAndBilling(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		shop := s.Shop(t, kontortest.ShopOptions{Products: []map[string]any{
			{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "currency": "EUR", "inventory": 10},
			{"retailer_id": "tulip", "name": "Gelbe Tulpe", "price": 150, "currency": "EUR", "inventory": 10}}})
		runCLI(t, s, "owner password long enough\n", "admin", "--server", s.URL, "console", "user", "create", "--business", shop.WABA,
			"--email", "anna@blumen.example", "--role", "owner", "--password-stdin")
		runCLI(t, s, "agent password long enough\n", "admin", "--server", s.URL, "console", "user", "create", "--business", shop.WABA,
			"--email", "paul@blumen.example", "--role", "agent", "--password-stdin")
		owner := newBrowser(t, s.URL)
		owner.signIn("anna@blumen.example", "owner password long enough")
		owner.see(`href="/console/orders"`, `href="/console/billing"`)
		owner.want("no orders", owner.get("/console/orders"), 200)
		owner.see("No orders yet.")

		// A person orders from the catalog in the chat and sends the order
		// (which opens the chat for the business's answers).
		ann := newPerson(ctx, t, s, "+4915100000001")
		cat, err := ann.C.API().WholeCatalog(ctx, "+4930111111")
		if err != nil {
			t.Fatal(err)
		}
		cart := map[string]int{"rose": 3, "tulip": 2}
		placed, err := ann.C.API().PlaceOrder(ctx, "+4930111111", cart, "Bitte mit Schleife")
		if err != nil || placed.Status != "placed" || placed.Total != 1197 {
			t.Fatalf("place: %+v %v", placed, err)
		}
		id := placed.OrderID
		msg, err := client.Order(cat, cart, "Meine Bestellung")
		if err != nil {
			t.Fatal(err)
		}
		msg.Order.OrderID = id
		if _, err := ann.C.Send(ctx, "+4930111111", msg); err != nil {
			t.Fatal(err)
		}

		owner.want("orders", owner.get("/console/orders"), 200)
		owner.see("/console/orders/"+id, "+4915100000001", "11.97 EUR", "pending", " and 1 more")
		owner.want("pending orders", owner.get("/console/orders?state=pending"), 200)
		owner.see("/console/orders/" + id)
		owner.want("paid orders", owner.get("/console/orders?state=paid"), 200)
		owner.see("No orders are paid.")
		owner.notSee("/console/orders/" + id)
		owner.want("a made-up state", owner.get("/console/orders?state=lost"), 400)
		owner.see("Choose a state from the list")
		owner.want("a damaged page link", owner.get("/console/orders?after=yesterday"), 400)

		owner.want("the order", owner.get("/console/orders/"+id), 200)
		owner.see("Rote Rose", "Gelbe Tulpe", "8.97 EUR", "3.00 EUR", "Subtotal", "11.97 EUR", "Bitte mit Schleife", "No payment yet.",
			"Placed by +4915100000001", "Send a payment request", `<label for="shipping">Shipping</label>`)
		owner.want("an order that is not there", owner.get("/console/orders/12345"), 404)
		owner.see("There is no such order.")
		owner.want("not an id", owner.get("/console/orders/abc"), 404)

		// Invalid moves and forms are refused in words and change nothing.
		owner.want("the order", owner.get("/console/orders/"+id), 200)
		owner.want("ship before paying", owner.post("/console/orders/"+id+"/move", url.Values{"to": {"shipped"}}), 409)
		owner.see("An order that is pending cannot become shipped; it can become confirmed, paid or canceled.")
		owner.want("a made-up move", owner.post("/console/orders/"+id+"/move", url.Values{"to": {"paid"}}), 400)
		owner.see("Choose one of the buttons")
		owner.want("refund before paying", owner.post("/console/orders/"+id+"/refund", nil), 409)
		owner.see("Only a paid order can be refunded; this one is pending.")
		owner.want("bad amounts", owner.post("/console/orders/"+id+"/payment-request", url.Values{"tax": {"1,50"}, "shipping": {"-2"},
			"discount": {"0.001"}, "text": {""}}), 400)
		owner.see("The payment request was not sent.", "Tax: write the amount with a dot for decimals", "Shipping: an amount cannot be negative",
			"Discount: the currency has 2 decimals", "Write a short text for the customer", `aria-invalid="true"`, `href="#tax"`)
		owner.want("too big a discount", owner.post("/console/orders/"+id+"/payment-request", url.Values{"discount": {"20"}, "text": {"Hier"}}), 400)
		owner.see("The discount (20.00 EUR) is more than subtotal, tax and shipping together (11.97 EUR)")
		owner.want("a made-up status", owner.post("/console/orders/"+id+"/status", url.Values{"status": {"lost"}, "status_text": {"x"}}), 400)
		owner.see("Choose the order's status from the list.")
		owner.want("completed while pending", owner.post("/console/orders/"+id+"/status", url.Values{"status": {"completed"}, "status_text": {"Fertig"}}), 409)
		owner.see("The order is pending, so it cannot be reported as completed; nothing was sent.")
		owner.want("forged move", owner.post("/console/orders/"+id+"/move", url.Values{"to": {"canceled"}, "csrf": {"forged"}}), 403)
		owner.want("the order", owner.get("/console/orders/"+id), 200)
		owner.see("pending")

		// Confirm; then the payment request goes to the person's chat.
		owner.want("confirm", owner.post("/console/orders/"+id+"/move", url.Values{"to": {"confirmed"}}), 200)
		owner.see("The order is confirmed.", "You took the order")
		code := owner.retry("/console/orders/"+id+"/payment-request", url.Values{"tax": {"0.80"}, "shipping": {"4.50"}, "discount": {"1"},
			"text": {"Ihre Bestellung mit Versand"}}, http.StatusConflict)
		owner.want("payment request", code, 200)
		owner.see("The payment request is sent", "0.80 EUR", "4.50 EUR", "1.00 EUR", "16.27 EUR")
		got := ann.waitFor(t, "the payment request", func(m client.Message) bool {
			return m.Content.Interactive != nil && m.Content.Interactive.Payment != nil
		})
		if pr := got.Content.Interactive.Payment; pr.OrderID != id || pr.Total != 1627 || pr.Subtotal != 1197 || pr.Currency != "EUR" ||
			pr.Shipping == nil || pr.Shipping.Amount != 450 || got.Content.Interactive.Body != "Ihre Bestellung mit Versand" {
			t.Fatalf("the person got %+v", got.Content.Interactive)
		}

		// The person pays with the sandbox's test card.
		out, err := ann.C.API().PayOrder(ctx, id, "4242424242424242", "")
		if err != nil || out.Status != wire.PaymentSucceeded || out.Amount != 1627 {
			t.Fatalf("pay: %+v %v", out, err)
		}
		owner.want("the paid order", owner.get("/console/orders/"+id), 200)
		owner.see("visa 4242", "succeeded", "A payment of 16.27 EUR with visa 4242 started.", "Refund 16.27 EUR", "Mark as shipped")
		owner.notSee("Send a payment request")
		owner.want("a second payment request", owner.post("/console/orders/"+id+"/payment-request", url.Values{"text": {"Nochmal"}}), 409)
		owner.see("only while the order is pending or confirmed; this one is paid")

		// Order news: shipped, through the chat; the order follows.
		owner.want("shipped news", owner.post("/console/orders/"+id+"/status", url.Values{"status": {"shipped"}, "status_text": {"Unterwegs!"}}), 200)
		owner.see("The order update is sent", "Shipped.")
		ann.waitFor(t, "the order news", func(m client.Message) bool {
			it := m.Content.Interactive
			return it != nil && it.OrderStatus != nil && it.OrderStatus.Status == "shipped" && it.OrderStatus.OrderID == id
		})

		// An agent handles orders, but neither refunds nor sees billing.
		agent := newBrowser(t, s.URL)
		agent.signIn("paul@blumen.example", "agent password long enough")
		agent.see(`href="/console/orders"`)
		agent.notSee(`href="/console/billing"`)
		agent.want("the order as agent", agent.get("/console/orders/"+id), 200)
		agent.notSee("Refund")
		agent.want("refund as agent", agent.post("/console/orders/"+id+"/refund", nil), 403)
		agent.see("Your role (agent) does not allow this.")
		agent.want("billing as agent", agent.get("/console/billing"), 403)
		agent.want("invoice as agent", agent.get("/console/billing/invoices/2026-01.csv"), 403)

		// The owner refunds through the provider.
		owner.want("the order", owner.get("/console/orders/"+id), 200)
		owner.want("refund", owner.post("/console/orders/"+id+"/refund", nil), 200)
		owner.see("The payment went back to the customer", "refunded", "Now: refunded.")
		// The history, in order.
		hist := html.UnescapeString(owner.last[strings.Index(owner.last, "<h2 id=\"history-h\">"):])
		last := 0
		for _, line := range []string{"Placed by +4915100000001: 5 items, 11.97 EUR.", "pending → confirmed.",
			"Payment request: tax 0.80 EUR, shipping 4.50 EUR, discount 1.00 EUR; total 16.27 EUR.", "A payment of 16.27 EUR with visa 4242 started.",
			"paid → shipped.", "The payment of 16.27 EUR is refunded"} {
			i := strings.Index(hist, line)
			if i < last {
				t.Fatalf("the history does not have %q after the lines before it:\n%s", line, hist)
			}
			last = i
		}
		var api map[string]any
		if code := s.Call(t, http.MethodGet, "/v21.0/"+id, shop.Token, nil, &api); code != 200 || api["status"] != "refunded" {
			t.Fatalf("the order through the Business API: %d %v", code, api)
		}
		owner.want("refund again", owner.post("/console/orders/"+id+"/refund", nil), 409)
		owner.see("Only a paid order can be refunded; this one is refunded.")

		// Another business's owner sees none of it.
		var biz2 struct {
			WABA string `json:"waba_id"`
		}
		if code := s.Call(t, "POST", "/admin/v1/businesses", s.Token, map[string]any{"name": "Konkurrenz", "phone": "+4930654321"}, &biz2); code != 200 {
			t.Fatalf("second business: %d", code)
		}
		runCLI(t, s, "another owner password\n", "admin", "--server", s.URL, "console", "user", "create", "--business", biz2.WABA,
			"--email", "k@konkurrenz.example", "--role", "owner", "--password-stdin")
		rival := newBrowser(t, s.URL)
		rival.signIn("k@konkurrenz.example", "another owner password")
		rival.want("rival's orders", rival.get("/console/orders"), 200)
		rival.notSee(id)
		rival.want("anna's order", rival.get("/console/orders/"+id), 404)
		rival.want("orders", rival.get("/console/orders"), 200)
		rival.want("cancel anna's order", rival.post("/console/orders/"+id+"/move", url.Values{"to": {"canceled"}}), 404)

		// A charged message: a marketing template, delivered (utility ones are free in an open chat).
		tpl := map[string]any{"name": "order_news", "language": "de", "category": "MARKETING",
			"components": []any{map[string]any{"type": "BODY", "text": "Ihre Bestellung ist unterwegs."}}}
		if code := s.Call(t, http.MethodPost, "/v21.0/"+shop.WABA+"/message_templates", shop.Token, tpl, &api); code != 200 {
			t.Fatalf("template: %d %v", code, api)
		}
		if code := s.Call(t, http.MethodPost, "/v21.0/"+shop.Number+"/messages", shop.Token, map[string]any{"messaging_product": "whatsapp",
			"to": "4915100000001", "type": "template", "template": map[string]any{"name": "order_news", "language": map[string]any{"code": "de"}}}, &api); code != 200 {
			t.Fatalf("send the template: %d %v", code, api)
		}
		ann.waitFor(t, "the template", func(m client.Message) bool { return m.Content.Type == wire.ContentTemplate })
		month := time.Now().UTC().Format("2006-01")
		var inv struct {
			Total   int64 `json:"total"`
			Entries int64 `json:"entries"`
			Lines   []struct {
				Kind, Market, Category string
				Count                  int64
			} `json:"lines"`
		}
		var raw string
		for i := 0; ; i++ {
			raw = runCLI(t, s, "", "admin", "--server", s.URL, "billing", "invoice", "--business", shop.WABA, "--month", month)
			if err := json.Unmarshal([]byte(raw), &inv); err != nil {
				t.Fatalf("invoice %q: %v", raw, err)
			}
			messages := int64(0)
			for _, l := range inv.Lines {
				if l.Kind == "message" {
					messages += l.Count
				}
			}
			if messages == 1 {
				break
			}
			if i == 200 {
				t.Fatalf("the ledger has no charged message: %s", raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
		owner.want("billing", owner.get("/console/billing"), 200)
		owner.see("<svg", `role="img"`, "<title id=\"by-day-t\">Charged messages by day", "Charged messages by category", "Charged messages by market",
			"marketing: 1", "DE: 1", "The figures as a table", "This business is billed afterwards", "invoices/"+month+".csv", "invoices/"+month+".json")
		if !regexp.MustCompile(`<dt>Charged messages</dt><dd>1</dd>`).MatchString(owner.last) {
			t.Fatalf("the billing page does not count 1 charged message:\n%s", owner.last)
		}
		owner.want("the invoice as JSON", owner.get("/console/billing/invoices/"+month+".json"), 200)
		if owner.last != raw {
			t.Fatalf("the console's invoice differs from the CLI's:\n%s\n%s", owner.last, raw)
		}
		csv := runCLI(t, s, "", "admin", "--server", s.URL, "billing", "invoice", "--business", shop.WABA, "--month", month, "--csv")
		owner.want("the invoice as CSV", owner.get("/console/billing/invoices/"+month+".csv"), 200)
		if owner.last != csv || !strings.Contains(csv, "message") {
			t.Fatalf("the console's CSV differs from the CLI's:\n%s\n%s", owner.last, csv)
		}
		owner.want("a bad month", owner.get("/console/billing?month=2026-13"), 400)
		owner.see("Choose a month up to this one")
		owner.want("a future month", owner.get("/console/billing?month=2999-01"), 400)
		owner.want("a bad invoice name", owner.get("/console/billing/invoices/"+month+".pdf"), 404)
		owner.want("an earlier month", owner.get("/console/billing?month=2025-01"), 200)
		owner.see("No charged messages this month.")
	})
}
