package kontortest

import (
	"fmt"
	"net/http"
	"testing"
)

// ShopOptions describes a business selling in the chat, for Server.Shop.
type ShopOptions struct {
	Name       string // default "Blumen Anna"
	Phone      string // default +4930111111
	WebhookURL string // optional
	// Products are the bodies of POST /{catalog-id}/products.
	Products []map[string]any
}

// Shop is a business with a catalog of products, its catalog visible and
// its cart enabled, made through the admin and Business APIs as an
// operator and a business would.
type Shop struct {
	WABA    string
	Number  string // phone-number id
	Token   string // the business's access token
	Secret  string // the app secret, which signs webhooks
	Catalog string
	// Products maps each product's retailer id to its id.
	Products map[string]string
}

// Shop makes a business that sells in the chat; the test fails when any
// step is refused.
func (s *Server) Shop(t testing.TB, o ShopOptions) Shop {
	t.Helper()
	return MakeShop(t, s.URL, s.Token, o)
}

// MakeShop makes a business that sells in the chat on the server at base
// (a Server's or a Process's URL) with the operator's admin token.
func MakeShop(t testing.TB, base, adminToken string, o ShopOptions) Shop {
	t.Helper()
	if o.Name == "" {
		o.Name = "Blumen Anna"
	}
	if o.Phone == "" {
		o.Phone = "+4930111111"
	}
	var biz struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
		Token  string `json:"access_token"`
		Secret string `json:"app_secret"`
	}
	in := map[string]any{"name": o.Name, "phone": o.Phone}
	if o.WebhookURL != "" {
		in["webhook_url"] = o.WebhookURL
	}
	if code := Call(t, base, http.MethodPost, "/admin/v1/businesses", adminToken, in, &biz); code != http.StatusOK {
		t.Fatalf("kontortest: creating the business: HTTP %d", code)
	}
	var cat struct {
		ID string `json:"catalog_id"`
	}
	if code := Call(t, base, http.MethodPost, "/admin/v1/catalogs", adminToken, map[string]any{"business_id": biz.WABA}, &cat); code != http.StatusOK {
		t.Fatalf("kontortest: creating the catalog: HTTP %d", code)
	}
	shop := Shop{WABA: biz.WABA, Number: biz.Number, Token: biz.Token, Secret: biz.Secret, Catalog: cat.ID, Products: map[string]string{}}
	for _, p := range o.Products {
		var out map[string]any
		if code := Call(t, base, http.MethodPost, "/v21.0/"+cat.ID+"/products", biz.Token, p, &out); code != http.StatusOK {
			t.Fatalf("kontortest: creating product %v: HTTP %d %v", p["retailer_id"], code, out)
		}
		shop.Products[fmt.Sprint(p["retailer_id"])] = fmt.Sprint(out["id"])
	}
	settings := "/v21.0/" + biz.Number + "/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true"
	if code := Call(t, base, http.MethodPost, settings, biz.Token, nil, nil); code != http.StatusOK {
		t.Fatalf("kontortest: commerce settings: HTTP %d", code)
	}
	return shop
}
