package bizapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestShopOrder: a person sees the catalog a business shows in the chat,
// fills a cart and sends it; the business gets the public order webhook
// with the items, quantities and prices.
func TestShopOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := kontortest.Start(t)
	hook := newReceiver(t)
	biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930111111", "webhook_url": hook.srv.URL}, hook)
	var cat struct {
		ID string `json:"catalog_id"`
	}
	if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", s.Token, map[string]any{"business_id": biz.WABA}, &cat); code != 200 {
		t.Fatalf("catalog: %d", code)
	}
	for _, p := range []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "sale_price": 249, "currency": "EUR", "availability": "in stock", "inventory": 5},
		{"retailer_id": "tulip", "name": "Tulpe", "price": 150, "currency": "EUR", "availability": "in stock", "inventory": 10},
	} {
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/products", biz.Token, p); code != 200 {
			t.Fatalf("product: %d %v", code, out)
		}
	}
	ann := newPerson(ctx, t, s, "+4915100000001")
	// Hidden until the business shows it.
	if _, err := ann.c.API().WholeCatalog(ctx, "+4930111111"); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("catalog before it is visible: %v", err)
	}
	if code, out := api(t, s, http.MethodPost, "/v21.0/"+biz.Number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", biz.Token, nil); code != 200 {
		t.Fatalf("settings: %d %v", code, out)
	}
	shop, err := ann.c.API().WholeCatalog(ctx, "+4930111111")
	if err != nil || len(shop.Products) != 2 || !shop.CartEnabled || shop.CatalogID != cat.ID {
		t.Fatalf("catalog: %+v %v", shop, err)
	}
	if shop.Products[0].RetailerID != "rose" || shop.Products[0].PriceText != "2.49 EUR" {
		t.Fatalf("the rose on sale: %+v", shop.Products[0])
	}
	if _, err := client.Order(shop, map[string]int{"lily": 1}, ""); err == nil {
		t.Fatal("an order for a product not in the catalog")
	}
	cart := map[string]int{"rose": 3, "tulip": 2}
	order, err := client.Order(shop, cart, "Bitte bis Freitag")
	if err != nil {
		t.Fatal(err)
	}
	// The platform reserves the stock first.
	placed, err := ann.c.API().PlaceOrder(ctx, "+4930111111", cart, "Bitte bis Freitag")
	if err != nil || placed.Status != "placed" || placed.OrderID == "" || placed.Total != 3*249+2*150 || placed.Currency != "EUR" {
		t.Fatalf("place: %+v %v", placed, err)
	}
	order.Order.OrderID = placed.OrderID
	// Only 2 roses are left: a second such order is refused, naming them.
	again, err := ann.c.API().PlaceOrder(ctx, "+4930111111", cart, "")
	if err != nil || again.Status != "refused" || len(again.Short) != 1 || again.Short[0].RetailerID != "rose" || again.Short[0].Available != 2 {
		t.Fatalf("second order: %+v %v", again, err)
	}
	if _, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": -1}, ""); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("negative quantity: %v", err)
	}
	if _, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"lily": 1}, ""); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("unknown product: %v", err)
	}
	if _, err := ann.c.Send(ctx, "+4930111111", order); err != nil {
		t.Fatal(err)
	}
	v := hook.wait("the order", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 && v.Messages[0].Type == "order" })
	o := v.Messages[0].Order
	if o == nil || o.CatalogID != cat.ID || o.Text != "Bitte bis Freitag" || len(o.ProductItems) != 2 {
		t.Fatalf("order webhook: %+v", v.Messages[0])
	}
	it := o.ProductItems[0]
	if it.ProductRetailerID != "rose" || it.Quantity != 3 || it.ItemPrice.String() != "2.49" || it.Currency != "EUR" {
		t.Fatalf("first item: %+v", it)
	}

	// The business sees the order and moves it; a move the states do not
	// allow is refused; cancelling before payment gives the stock back.
	code, got := api(t, s, http.MethodGet, "/v21.0/"+placed.OrderID, biz.Token, nil)
	if code != 200 || got["status"] != "pending" || got["total"] != 10.47 || got["customer"] != "4915100000001" {
		t.Fatalf("order: %d %v", code, got)
	}
	if code, got := api(t, s, http.MethodPost, "/v21.0/"+placed.OrderID, biz.Token, map[string]any{"status": "confirmed"}); code != 200 || got["status"] != "confirmed" {
		t.Fatalf("confirm: %d %v", code, got)
	}
	if code, got := api(t, s, http.MethodPost, "/v21.0/"+placed.OrderID, biz.Token, map[string]any{"status": "shipped"}); code != 400 || errCode(got) != 131009 {
		t.Fatalf("ship before paid: %d %v", code, got)
	}
	if code, got := api(t, s, http.MethodPost, "/v21.0/"+placed.OrderID, biz.Token, map[string]any{"status": "canceled"}); code != 200 || got["status"] != "canceled" {
		t.Fatalf("cancel: %d %v", code, got)
	}
	shop, _ = ann.c.API().WholeCatalog(ctx, "+4930111111")
	if again, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 5}, ""); err != nil || again.Status != "placed" {
		t.Fatalf("all 5 roses are back after the cancel: %+v %v", again, err)
	}
	// Another business's token sees nothing of it.
	var other struct {
		Token string `json:"access_token"`
	}
	s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Bert", "phone": "+4930222222"}, &other)
	if code, _ := api(t, s, http.MethodGet, "/v21.0/"+placed.OrderID, other.Token, nil); code != 403 {
		t.Fatalf("another business: %d", code)
	}
}
