package bizapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestCatalogAPI runs the catalog calls through the HTTP API on SQLite and
// PostgreSQL: operator creates the catalog, the business manages products
// with its token, another business's token is refused.
func TestCatalogAPI(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		anna := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930111111"})
		bert := newBusiness(t, s, map[string]any{"name": "Bert", "phone": "+4930222222"})
		var cat struct {
			ID   string `json:"catalog_id"`
			Name string `json:"name"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", s.Token, map[string]any{"business_id": anna.WABA}, &cat); code != 200 || cat.ID == "" || cat.Name != "Blumen Anna catalog" {
			t.Fatalf("catalog: %d %+v", code, cat)
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", s.Token, map[string]any{"business_id": "12345"}, nil); code != 404 {
			t.Fatalf("catalog of an unknown business: %d", code)
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/catalogs", anna.Token, map[string]any{"business_id": anna.WABA}, nil); code != 401 {
			t.Fatalf("catalog with a business token: %d", code)
		}

		rose := map[string]any{"retailer_id": "rose-red", "name": "Red rose", "description": "One red rose", "price": 299, "currency": "EUR",
			"availability": "in stock", "condition": "new", "image_url": "https://anna.example/rose.jpg", "url": "https://anna.example/rose",
			"brand": "Anna", "category": "Flowers", "inventory": 40, "sale_price": 249, "retailer_product_group_id": "rose"}
		code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/products", anna.Token, rose)
		rid, _ := out["id"].(string)
		if code != 200 || rid == "" {
			t.Fatalf("create: %d %v", code, out)
		}
		// Bad input: the public error shape, naming the parameter.
		for _, tc := range []struct {
			name string
			edit map[string]any
			code int
			in   string
		}{
			{"duplicate", map[string]any{}, 100, "rose-red"},
			{"currency", map[string]any{"retailer_id": "x", "currency": "EURO"}, 131009, "currency"},
			{"float price", map[string]any{"retailer_id": "x", "price": 2.99}, 100, "minor units"},
			{"negative inventory", map[string]any{"retailer_id": "x", "inventory": -1}, 131009, "inventory"},
			{"availability", map[string]any{"retailer_id": "x", "availability": "soon"}, 131009, "availability"},
			{"no name", map[string]any{"retailer_id": "x", "name": ""}, 131008, "name"},
			{"unknown field", map[string]any{"retailer_id": "x", "colour": "red"}, 100, "colour"},
			{"sale above price", map[string]any{"retailer_id": "x", "sale_price": 500}, 131009, "sale_price"},
		} {
			body := map[string]any{}
			for k, v := range rose {
				body[k] = v
			}
			for k, v := range tc.edit {
				body[k] = v
			}
			code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/products", anna.Token, body)
			e, _ := out["error"].(map[string]any)
			if code != 400 || errCode(out) != tc.code || !strings.Contains(e["error_data"].(map[string]any)["details"].(string)+e["message"].(string), tc.in) {
				t.Errorf("%s: %d %v", tc.name, code, out)
			}
		}
		// A form post works as the Graph API's does.
		form := url.Values{"retailer_id": {"tulip"}, "name": {"Tulip"}, "price": {"150"}, "currency": {"EUR"}, "inventory": {"100"}}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/"+cat.ID+"/products", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+anna.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("form post: %d %s", resp.StatusCode, b)
		}

		code, p := api(t, s, http.MethodGet, "/v21.0/"+rid, anna.Token, nil)
		if code != 200 || p["retailer_id"] != "rose-red" || p["price"] != 299.0 || p["sale_price"] != 249.0 || p["inventory"] != 40.0 ||
			p["retailer_product_group_id"] != "rose" || p["currency"] != "EUR" {
			t.Fatalf("get: %d %v", code, p)
		}
		code, p = api(t, s, http.MethodGet, "/"+rid+"?fields=name,price", anna.Token, nil)
		if code != 200 || len(p) != 3 || p["name"] != "Red rose" || p["id"] != rid {
			t.Fatalf("get with fields: %d %v", code, p)
		}
		if code, out := api(t, s, http.MethodGet, "/"+rid+"?fields=colour", anna.Token, nil); code != 400 || errCode(out) != 100 {
			t.Fatalf("unknown field: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+rid, anna.Token, map[string]any{"inventory": 12, "price": 310}); code != 200 || out["success"] != true {
			t.Fatalf("update: %d %v", code, out)
		}
		if _, p = api(t, s, http.MethodGet, "/v21.0/"+rid, anna.Token, nil); p["inventory"] != 12.0 || p["price"] != 310.0 || p["name"] != "Red rose" {
			t.Fatalf("after update: %v", p)
		}

		// Listing with paging.
		for _, r := range []string{"a", "b", "c"} {
			if code, out := api(t, s, http.MethodPost, "/v21.0/"+cat.ID+"/products", anna.Token, map[string]any{"retailer_id": r, "name": r, "price": 100, "currency": "JPY"}); code != 200 {
				t.Fatalf("create %s: %v", r, out)
			}
		}
		var seen []string
		path := "/v21.0/" + cat.ID + "/products?limit=2&fields=retailer_id"
		for i := 0; path != "" && i < 10; i++ {
			code, out := api(t, s, http.MethodGet, path, anna.Token, nil)
			if code != 200 {
				t.Fatalf("list: %d %v", code, out)
			}
			for _, d := range out["data"].([]any) {
				seen = append(seen, d.(map[string]any)["retailer_id"].(string))
			}
			paging := out["paging"].(map[string]any)
			if paging["cursors"].(map[string]any)["after"] == "" {
				t.Fatalf("no cursors: %v", out)
			}
			path = ""
			if next, ok := paging["next"].(string); ok {
				u, _ := url.Parse(next)
				path = u.RequestURI()
			}
		}
		if strings.Join(seen, ",") != "rose-red,tulip,a,b,c" {
			t.Fatalf("pages: %v", seen)
		}
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+cat.ID+"/products?after=zz!", anna.Token, nil); code != 400 || errCode(out) != 100 {
			t.Fatalf("bad cursor: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+cat.ID, anna.Token, nil); code != 200 || out["name"] != "Blumen Anna catalog" {
			t.Fatalf("catalog: %d %v", code, out)
		}

		// The business's catalogs, and a new one, through the Business API.
		code, out = api(t, s, http.MethodPost, "/v21.0/"+anna.WABA+"/product_catalogs", anna.Token, map[string]any{"name": "Sommer"})
		second, _ := out["id"].(string)
		if code != 200 || second == "" {
			t.Fatalf("create catalog: %d %v", code, out)
		}
		code, out = api(t, s, http.MethodGet, "/v21.0/"+anna.WABA+"/product_catalogs", anna.Token, nil)
		if data, _ := out["data"].([]any); code != 200 || len(data) != 2 || data[0].(map[string]any)["id"] != cat.ID || data[1].(map[string]any)["name"] != "Sommer" {
			t.Fatalf("catalogs: %d %v", code, out)
		}

		// Another business's token, a token-less call and unknown ids are refused.
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/v21.0/" + cat.ID + "/products"}, {http.MethodPost, "/v21.0/" + cat.ID + "/products"},
			{http.MethodGet, "/v21.0/" + rid}, {http.MethodPost, "/v21.0/" + rid}, {http.MethodDelete, "/v21.0/" + rid},
			{http.MethodGet, "/v21.0/" + anna.Number + "/whatsapp_commerce_settings"},
			{http.MethodGet, "/v21.0/" + anna.WABA + "/product_catalogs"}, {http.MethodPost, "/v21.0/" + anna.WABA + "/product_catalogs"},
			{http.MethodGet, "/v21.0/" + cat.ID},
		} {
			if code, out := api(t, s, c.method, c.path, bert.Token, map[string]any{"inventory": 0}); code != 403 || errCode(out) != 10 {
				t.Errorf("%s %s with another business's token: %d %v", c.method, c.path, code, out)
			}
			if code, out := api(t, s, c.method, c.path, "", map[string]any{"inventory": 0}); code != 401 || errCode(out) != 190 {
				t.Errorf("%s %s without a token: %d %v", c.method, c.path, code, out)
			}
		}
		if code, out := api(t, s, http.MethodGet, "/v21.0/999999/products", anna.Token, nil); code != 400 || errCode(out) != 100 || out["error"].(map[string]any)["error_subcode"] != 33.0 {
			t.Fatalf("unknown catalog: %d %v", code, out)
		}

		// Commerce settings of the number.
		code, out = api(t, s, http.MethodGet, "/v21.0/"+anna.Number+"/whatsapp_commerce_settings", anna.Token, nil)
		d := out["data"].([]any)[0].(map[string]any)
		if code != 200 || d["is_cart_enabled"] != false || d["is_catalog_visible"] != false || d["id"] != anna.Number {
			t.Fatalf("settings: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+anna.Number+"/whatsapp_commerce_settings?is_cart_enabled=true&is_catalog_visible=true", anna.Token, nil); code != 200 || out["success"] != true {
			t.Fatalf("set settings: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+anna.Number+"/whatsapp_commerce_settings?is_cart_enabled=maybe", anna.Token, nil); code != 400 || errCode(out) != 131009 {
			t.Fatalf("bad settings: %d %v", code, out)
		}
		_, out = api(t, s, http.MethodGet, "/"+anna.Number+"/whatsapp_commerce_settings", anna.Token, nil)
		if d := out["data"].([]any)[0].(map[string]any); d["is_cart_enabled"] != true || d["is_catalog_visible"] != true {
			t.Fatalf("settings after: %v", out)
		}

		// Feed import and export through the admin API: a replace sets
		// every field of a product from its row.
		feed := "id,title,price,quantity_to_sell_on_facebook\nrose-red,Red rose,3.20 EUR,9\nvase,Vase,19.99 EUR,2\nbad,Bad,9.999 EUR,1\n"
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/admin/v1/catalogs/"+cat.ID+"/import?format=csv&mode=replace", strings.NewReader(feed))
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"created":1,"updated":1,"deleted":4,"failed":1`) || !strings.Contains(string(b), `{"row":4,"column":"price"`) {
			t.Fatalf("import: %d %s", resp.StatusCode, b)
		}
		req, _ = http.NewRequest(http.MethodGet, s.URL+"/admin/v1/catalogs/"+cat.ID+"/export?format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "id,title,description,") || !strings.Contains(string(b), "rose-red,Red rose,,in stock,new,3.20 EUR,,") ||
			!strings.Contains(string(b), "vase,Vase,,in stock,new,19.99 EUR,") || strings.Count(string(b), "\n") != 3 {
			t.Fatalf("export: %d %s", resp.StatusCode, b)
		}
		if code, _ := api(t, s, http.MethodGet, "/v21.0/"+rid, anna.Token, nil); code != 200 {
			t.Fatalf("the product kept its id through the import: %d", code)
		}

		if code, out := api(t, s, http.MethodDelete, "/v21.0/"+rid, anna.Token, nil); code != 200 || out["success"] != true {
			t.Fatalf("delete: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+rid, anna.Token, nil); code != 400 || errCode(out) != 100 {
			t.Fatalf("deleted product: %d %v", code, out)
		}
	})
}
