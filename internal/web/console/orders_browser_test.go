package console_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestBrowserOrders drives the orders and billing pages in Debian's
// Chromium with playwright-core (test/console-browser/orders.mjs) at
// 1280 × 900 and 390 × 844: a person's order listed and filtered with the
// keyboard, a payment request with a problem named at its field, the
// order confirmed with the keyboard, the billing charts with their titles
// and table, every control labelled and no page wider than the screen, no
// script or CSP errors. Skipped like TestBrowser without node, npm or
// chromium (unless CI is set); KONTOR_SHOTS=dir keeps screenshots.
func TestBrowserOrders(t *testing.T) {
	node, chrome := needBrowser(t)
	dir, err := filepath.Abs("../../../test/console-browser")
	if err != nil {
		t.Fatal(err)
	}
	npmInstall(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	s := kontortest.Start(t)
	shop := s.Shop(t, kontortest.ShopOptions{Products: []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "currency": "EUR", "inventory": 10}}})
	const pw = "tulips and roses in spring"
	runCLI(t, s, pw+"\n", "admin", "--server", s.URL, "console", "user", "create", "--business", shop.WABA,
		"--email", "anna@blumen.example", "--role", "owner", "--password-stdin")
	ann := newPerson(ctx, t, s, "+4915100000001")
	placed, err := ann.C.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 2}, "")
	if err != nil || placed.Status != "placed" {
		t.Fatalf("place: %+v %v", placed, err)
	}
	// A charged message, so the charts have a bar.
	tpl := map[string]any{"name": "news", "language": "de", "category": "MARKETING",
		"components": []any{map[string]any{"type": "BODY", "text": "Neue Tulpen sind da."}}}
	if code := s.Call(t, http.MethodPost, "/v21.0/"+shop.WABA+"/message_templates", shop.Token, tpl, nil); code != 200 {
		t.Fatalf("template: %d", code)
	}
	if code := s.Call(t, http.MethodPost, "/v21.0/"+shop.Number+"/messages", shop.Token, map[string]any{"messaging_product": "whatsapp",
		"to": "4915100000001", "type": "template", "template": map[string]any{"name": "news", "language": map[string]any{"code": "de"}}}, nil); code != 200 {
		t.Fatalf("send the template: %d", code)
	}
	ann.waitFor(t, "the template", func(m client.Message) bool { return m.Content.Type == wire.ContentTemplate })

	runScript(t, ctx, node, dir, "orders.mjs", 30, "BASE="+s.URL, "EMAIL=anna@blumen.example", "PASSWORD="+pw, "ORDER="+placed.OrderID, "CHROMIUM="+chrome)
}
