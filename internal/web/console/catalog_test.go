package console_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// postFile sends a multipart form with one file, as the import page's
// form does, with the CSRF token of the last page.
func (b *browser) postFile(path string, fields url.Values, field, name, content string) int {
	b.t.Helper()
	return b.postTyped(path, fields, field, name, "application/octet-stream", content)
}

// postTyped is postFile with the file's Content-Type as the browser says
// it.
func (b *browser) postTyped(path string, fields url.Values, field, name, typ, content string) int {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := fields["csrf"]; !ok {
		_ = mw.WriteField("csrf", b.csrf())
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if name != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": field, "filename": name}))
		h.Set("Content-Type", typ)
		fw, _ := mw.CreatePart(h)
		_, _ = fw.Write([]byte(content))
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// download fetches a file and returns its body.
func (b *browser) download(path string) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String(), resp.Header
}

// waitImport reloads an import's page until it is done.
func (b *browser) waitImport() {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.last, "Rows read") {
		if time.Now().After(deadline) {
			b.t.Fatalf("the import did not end:\n%s", b.last)
		}
		time.Sleep(50 * time.Millisecond)
		b.want("import page", b.get(strings.TrimPrefix(b.url, b.base)), 200)
	}
}

// consoleUser makes a console user with a password through the admin API.
func consoleUser(t *testing.T, s *kontortest.Server, waba, email, role, pw string) {
	t.Helper()
	if code := s.Call(t, "POST", "/admin/v1/console/users", s.Token, map[string]any{"business_id": waba, "email": email, "role": role, "password": pw}, nil); code != 200 {
		t.Fatalf("console user %s: HTTP %d", email, code)
	}
}

var productIDRE = regexp.MustCompile(`/console/catalog/products/(\d+)$`)

// TestCatalog drives the catalog and inventory pages through the real
// server as browsers do: products made, refused with reasons and changed,
// searched; a feed imported with a row error and its report; the export
// imported into a second catalog gives the same export; stock adjusted with
// reasons, refused past what is available, a threshold set and the product
// shown as low; an agent sees and adjusts stock but is refused the rest.
func TestCatalog(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		shop := s.Shop(t, kontortest.ShopOptions{Name: "Blumen Berta", Phone: "+4930123456"})
		const pw = "tulips and roses in spring"
		consoleUser(t, s, shop.WABA, "berta@blumen.example", "owner", pw)
		consoleUser(t, s, shop.WABA, "ana@blumen.example", "agent", pw)

		owner := newBrowser(t, s.URL)
		owner.signIn("berta@blumen.example", pw)
		owner.see(`href="/console/catalog"`, `href="/console/inventory"`)
		owner.want("catalog", owner.get("/console/catalog"), 200)
		owner.see("No products yet.", "Add a product", "Import a feed", "Export as CSV")

		// Bad input: every problem named at its field, what was typed kept.
		owner.want("new product", owner.get("/console/catalog/products/new"), 200)
		owner.want("bad product", owner.post("/console/catalog/products", url.Values{"catalog": {shop.Catalog}, "name": {""},
			"retailer_id": {"tulip-red"}, "currency": {"eur"}, "price": {"12,50"}, "sale_price": {"20"}, "availability": {"in stock"},
			"condition": {"new"}, "url": {"ftp://files.example/x"}, "inventory": {"ten"}}), 400)
		owner.see("The product is not saved.", "Enter the name.", "with a dot for decimals", "is not a web address",
			"Enter the units in stock as a whole number", `value="tulip-red"`, `aria-invalid="true"`)
		owner.want("bad currency", owner.post("/console/catalog/products", url.Values{"catalog": {shop.Catalog}, "name": {"Red tulip"},
			"retailer_id": {"tulip-red"}, "currency": {"EURO"}, "price": {"2.50"}, "availability": {"sold out"}, "condition": {"new"}}), 400)
		owner.see(`"EURO" is not a currency code`, "Choose the availability from the list.")
		owner.want("sale price too high", owner.post("/console/catalog/products", url.Values{"catalog": {shop.Catalog}, "name": {"Red tulip"},
			"retailer_id": {"tulip-red"}, "currency": {"EUR"}, "price": {"2.50"}, "sale_price": {"2.50"}, "availability": {"in stock"}, "condition": {"new"}}), 400)
		owner.see("The sale price must be lower than the price.")

		add := func(name, rid, price, group, stock string) string {
			t.Helper()
			owner.want("new product", owner.get("/console/catalog/products/new"), 200)
			owner.want("add "+name, owner.post("/console/catalog/products", url.Values{"catalog": {shop.Catalog}, "name": {name},
				"retailer_id": {rid}, "currency": {"EUR"}, "price": {price}, "availability": {"in stock"}, "condition": {"new"},
				"retailer_product_group_id": {group}, "inventory": {stock}, "description": {"Fresh from the field.\nEvery day."}}), 200)
			owner.see("The product is added to the catalog.")
			m := productIDRE.FindStringSubmatch(strings.SplitN(owner.url, "?", 2)[0])
			if m == nil {
				t.Fatalf("after adding, the browser is at %s", owner.url)
			}
			return m[1]
		}
		red := add("Red tulip", "tulip-red", "2.50", "tulip", "10")
		add("Yellow tulip", "tulip-yellow", "2.5", "tulip", "4")
		add("Daisy", "daisy", "1", "", "0")
		owner.want("red tulip", owner.get("/console/catalog/products/"+red), 200)
		owner.see("Other variants in group “tulip”", "Yellow tulip", `value="2.50"`)
		owner.want("same retailer id", owner.post("/console/catalog/products", url.Values{"catalog": {shop.Catalog}, "name": {"Another"},
			"retailer_id": {"daisy"}, "currency": {"EUR"}, "price": {"1"}, "availability": {"in stock"}, "condition": {"new"}}), 409)
		owner.see("Another product of the catalog has this retailer id")

		// Edit: price and sale price; the Business API sees the change.
		owner.want("red tulip", owner.get("/console/catalog/products/"+red), 200)
		owner.want("edit", owner.post("/console/catalog/products/"+red, url.Values{"name": {"Red tulip"}, "retailer_id": {"tulip-red"},
			"currency": {"EUR"}, "price": {"3.00"}, "sale_price": {"2.20"}, "availability": {"in stock"}, "condition": {"new"},
			"retailer_product_group_id": {"tulip"}, "image_url": {"https://img.blumen.example/red.jpg"}}), 200)
		owner.see("The product is saved.", `value="3.00"`, `value="2.20"`, "10 in stock")
		var api struct {
			Data []struct {
				RetailerID string `json:"retailer_id"`
				Price      int64  `json:"price"`
				SalePrice  int64  `json:"sale_price"`
			} `json:"data"`
		}
		s.Call(t, "GET", "/v21.0/"+shop.Catalog+"/products?fields=retailer_id,price,sale_price", shop.Token, nil, &api)
		if len(api.Data) != 3 || api.Data[0].RetailerID != "tulip-red" || api.Data[0].Price != 300 || api.Data[0].SalePrice != 220 {
			t.Fatalf("the API's products after the edit: %+v", api.Data)
		}

		// List and search.
		owner.want("catalog", owner.get("/console/catalog"), 200)
		owner.see("Red tulip", "Yellow tulip", "Daisy", "3.00 EUR", "2.20 EUR")
		owner.want("search", owner.get("/console/catalog?q=TULIP"), 200)
		owner.see("Red tulip", "Yellow tulip", `matching “TULIP”`)
		owner.notSee(">Daisy<")
		owner.want("search nothing", owner.get("/console/catalog?q=rose"), 200)
		owner.see("No product matches “rose”.")
		owner.want("bad cursor", owner.get("/console/catalog?after=x"), 400)
		owner.want("other catalog", owner.get("/console/catalog?catalog=123"), 404)

		// Delete needs the box ticked.
		daisy := rowID(t, owner.get2("/console/catalog"), "Daisy", `href="/console/catalog/products/(\d+)"`)
		owner.want("daisy", owner.get("/console/catalog/products/"+daisy), 200)
		owner.want("delete unconfirmed", owner.post("/console/catalog/products/"+daisy+"/delete", nil), 400)
		owner.see("Tick the box to confirm")
		owner.want("delete", owner.post("/console/catalog/products/"+daisy+"/delete", url.Values{"confirm": {"yes"}}), 200)
		owner.see("The product is deleted.")
		owner.notSee(">Daisy<")
		owner.want("deleted product", owner.get("/console/catalog/products/"+daisy), 404)

		// Import with a bad row: the good rows are in, the report names the bad one.
		owner.want("import page", owner.get("/console/catalog/import"), 200)
		owner.want("import without a file", owner.postFile("/console/catalog/import", url.Values{"catalog": {shop.Catalog}, "mode": {"update"}}, "feed", "", ""), 400)
		owner.see("Choose the feed file to import")
		feed := "id,title,price,availability,quantity_to_sell_on_facebook,color\n" +
			"rose-red,Red rose,4.90 EUR,in stock,20,red\n" +
			"rose-white,White rose,abc,in stock,5,white\n" +
			"tulip-red,Red tulip,3.10 EUR,in stock,10,red\n"
		owner.want("import", owner.postFile("/console/catalog/import", url.Values{"catalog": {shop.Catalog}, "mode": {"update"}}, "feed", "roses.csv", feed), 200)
		owner.see("<progress")
		owner.waitImport()
		owner.see("Rows read</dt><dd>3", "New products</dt><dd>1", "Changed products</dt><dd>1", "Rows not imported</dt><dd>1",
			"<code>color</code>", `<td data-label="Row">3</td>`, `<code>price</code>`, "100 %")
		owner.notSee(`http-equiv="refresh"`)
		owner.want("catalog", owner.get("/console/catalog"), 200)
		owner.see("Red rose", "3.10 EUR")
		owner.notSee("White rose")

		// Export, import it into a second catalog, export that: the same file.
		code, exp, h := owner.download("/console/catalog/export?catalog=" + shop.Catalog)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %v\n%s", code, h, exp)
		}
		recs, err := csv.NewReader(strings.NewReader(exp)).ReadAll()
		if err != nil || len(recs) != 4 || recs[0][0] != "id" || recs[1][0] != "tulip-red" {
			t.Fatalf("export: %v %q", err, recs)
		}
		var second struct {
			ID string `json:"catalog_id"`
		}
		if code := s.Call(t, "POST", "/admin/v1/catalogs", s.Token, map[string]any{"business_id": shop.WABA, "name": "Second shop"}, &second); code != 200 {
			t.Fatalf("second catalog: HTTP %d", code)
		}
		owner.want("import page", owner.get("/console/catalog/import?catalog="+second.ID), 200)
		owner.see("Second shop")
		owner.want("import the export", owner.postFile("/console/catalog/import", url.Values{"catalog": {second.ID}, "mode": {"replace"}}, "feed", "catalog.csv", exp), 200)
		owner.waitImport()
		owner.see("New products</dt><dd>3", "Rows not imported</dt><dd>0")
		if _, again, _ := owner.download("/console/catalog/export?catalog=" + second.ID); again != exp {
			t.Fatalf("the export of the imported export differs:\n%s\nwant\n%s", again, exp)
		}
		owner.want("two catalogs", owner.get("/console/catalog?catalog="+second.ID), 200)
		owner.see(`aria-label="Catalogs"`, "Second shop")

		// A larger feed, then a search for its last row.
		var big strings.Builder
		big.WriteString("id,title,price\n")
		for i := range 6000 {
			fmt.Fprintf(&big, "bulk-%d,Bulk item %d,1.00 EUR\n", i, i)
		}
		big.WriteString("needle,The golden needle,9.00 EUR\n")
		owner.want("import page", owner.get("/console/catalog/import?catalog="+second.ID), 200)
		owner.want("big import", owner.postFile("/console/catalog/import", url.Values{"catalog": {second.ID}, "mode": {"update"}}, "feed", "big.csv", big.String()), 200)
		owner.waitImport()
		owner.see("New products</dt><dd>6001", "Rows not imported</dt><dd>0")
		// The pages' links: next and back again, in the catalog and the inventory.
		follow := func(rel string) {
			t.Helper()
			m := regexp.MustCompile(`href="([^"]+)" rel="` + rel + `"`).FindStringSubmatch(owner.last)
			if m == nil {
				t.Fatalf("no %s link on %s:\n%s", rel, owner.url, owner.last)
			}
			owner.want(rel+" page", owner.get(html.UnescapeString(m[1])), 200)
		}
		owner.want("second catalog", owner.get("/console/catalog?catalog="+second.ID), 200)
		owner.see("Red tulip", "Bulk item 21<", "Next page")
		owner.notSee("Previous page", "Bulk item 22<")
		follow("next")
		owner.see("Bulk item 22<", "Bulk item 46<", "Previous page")
		owner.notSee("Bulk item 21<", "Bulk item 47<")
		follow("prev")
		owner.see("Red tulip", "Bulk item 21<")
		owner.notSee("Bulk item 22<")
		owner.want("second inventory", owner.get("/console/inventory?catalog="+second.ID), 200)
		owner.see("Bulk item 46<")
		follow("next")
		owner.see("Bulk item 47<", "Bulk item 96<")
		owner.notSee("Bulk item 46<")
		// A search finds the last row of 6,001 on its first page, from
		// the beginnings of its words, whatever their case and accents.
		owner.want("search", owner.get("/console/catalog?catalog="+second.ID+"&q=GÔLD+nee"), 200)
		owner.see("The golden needle")
		owner.notSee("Bulk item", "Next page")
		owner.want("search many", owner.get("/console/catalog?catalog="+second.ID+"&q=bulk+item+59"), 200)
		owner.see("Bulk item 59<", "Bulk item 590<", "Bulk item 5913<", "Next page")
		owner.notSee("Bulk item 5<", "Previous page")
		follow("next")
		owner.see("Bulk item 5914<", "Bulk item 5938<", "Previous page")
		owner.notSee("Bulk item 5913<", "Bulk item 5939<")
		owner.want("search wildcard", owner.get("/console/catalog?catalog="+second.ID+"&q=%25"), 200)
		owner.see("No product matches")

		// Stock: adjustments with reasons, refused past what is there.
		owner.want("stock", owner.get("/console/inventory/"+red), 200)
		owner.see("Stock of Red tulip", "Available</dt><dd>10", "No changes yet.")
		owner.want("wrong sign", owner.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"-3"}, "reason": {"received"}}), 400)
		owner.see("Stock that is received is added")
		owner.want("no reason", owner.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"3"}}), 400)
		owner.see("Choose the reason of the change from the list.")
		owner.want("not a number", owner.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"three"}, "reason": {"received"}}), 400)
		owner.see(`"three" is not a whole number`)
		owner.want("received", owner.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"+5"}, "reason": {"received"}, "note": {"delivery 42"}}), 200)
		owner.see("The stock is adjusted.", "Available</dt><dd>15", "+5", "delivery 42", "console: berta@blumen.example")
		owner.want("too many", owner.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"-100"}, "reason": {"damaged"}}), 400)
		owner.see("This change is not possible: only 15 available")
		// The same form sent twice adjusts once.
		owner.want("stock", owner.get("/console/inventory/"+red), 200)
		twice := url.Values{"delta": {"-1"}, "reason": {"damaged"}, "key": {regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(owner.last)[1]}}
		csrf := owner.csrf()
		twice.Set("csrf", csrf)
		owner.want("damaged", owner.post("/console/inventory/"+red+"/adjust", twice), 200)
		owner.want("damaged again", owner.post("/console/inventory/"+red+"/adjust", twice), 200)
		owner.see("Available</dt><dd>14")
		owner.want("bad threshold", owner.post("/console/inventory/"+red+"/threshold", url.Values{"threshold": {"-2"}}), 400)
		owner.see("Enter the threshold as a whole number")
		owner.want("threshold", owner.post("/console/inventory/"+red+"/threshold", url.Values{"threshold": {"12"}}), 200)
		owner.see("The low-stock threshold is saved.", "12 or fewer")
		owner.notSee(`badge q-RED">low`)
		owner.want("damaged", owner.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"-2"}, "reason": {"damaged"}}), 200)
		owner.see("Available</dt><dd>12", `badge q-RED">low`)
		owner.want("inventory", owner.get("/console/inventory"), 200)
		owner.see("Low stock</h2>", "Red tulip</a>: 12 left (alert at 12)", "Red rose")
		owner.want("low only", owner.get("/console/inventory?low=1"), 200)
		owner.see("Red tulip")
		owner.notSee("Red rose")

		// An agent sees the catalog and adjusts stock, and nothing else.
		agent := newBrowser(t, s.URL)
		agent.signIn("ana@blumen.example", pw)
		agent.want("catalog", agent.get("/console/catalog"), 200)
		agent.see("Red tulip", "Export as CSV")
		agent.notSee("Add a product", "Import a feed")
		agent.want("product", agent.get("/console/catalog/products/"+red), 200)
		agent.see("Only owners and admins can change products.")
		agent.notSee("Save the product", "Delete")
		for path, form := range map[string]url.Values{
			"/console/catalog/products/" + red:             {"name": {"Hacked"}},
			"/console/catalog/products/" + red + "/delete": {"confirm": {"yes"}},
			"/console/catalog/products":                    {"name": {"Hacked"}},
			"/console/inventory/" + red + "/threshold":     {"threshold": {"1"}},
			"/console/catalog/catalogs":                    {"name": {"Hacked"}},
		} {
			agent.want("agent "+path, agent.post(path, form), 403)
			agent.see("Your role (agent) does not allow this.")
			agent.want("product", agent.get("/console/catalog/products/"+red), 200)
		}
		agent.want("agent import form", agent.get("/console/catalog/import"), 403)
		agent.want("agent new product form", agent.get("/console/catalog/products/new"), 403)
		agent.want("product", agent.get("/console/catalog/products/"+red), 200)
		agent.want("agent import", agent.postFile("/console/catalog/import", url.Values{"mode": {"update"}}, "feed", "x.csv", feed), 403)
		agent.want("stock", agent.get("/console/inventory/"+red), 200)
		agent.notSee("Save the threshold")
		agent.want("agent adjusts", agent.post("/console/inventory/"+red+"/adjust", url.Values{"delta": {"3"}, "reason": {"returned"}}), 200)
		agent.see("Available</dt><dd>15", "console: ana@blumen.example")
		agent.want("product", agent.get("/console/catalog/products/"+red), 200)
		agent.see("Red tulip")
		agent.notSee("Hacked")

		// Another business's products are not found.
		other := s.Shop(t, kontortest.ShopOptions{Name: "Other", Phone: "+4930999999", Products: []map[string]any{{"retailer_id": "x", "name": "X", "price": 100, "currency": "EUR"}}})
		owner.want("other business's product", owner.get("/console/catalog/products/"+other.Products["x"]), 404)
		owner.want("other business's stock", owner.get("/console/inventory/"+other.Products["x"]), 404)
		owner.want("other business's export", owner.get("/console/catalog/export?catalog="+other.Catalog), 404)
		x := other.Products["x"]
		for path, form := range map[string]url.Values{
			"/console/catalog/products/" + x:                   {"name": {"Hacked"}},
			"/console/catalog/products/" + x + "/delete":       {"confirm": {"yes"}},
			"/console/catalog/products/" + x + "/image/remove": {},
			"/console/inventory/" + x + "/adjust":              {"delta": {"3"}, "reason": {"returned"}},
			"/console/inventory/" + x + "/threshold":           {"threshold": {"1"}},
			"/console/catalog/products":                        {"catalog": {other.Catalog}, "name": {"Hacked"}},
		} {
			owner.want("catalog", owner.get("/console/catalog"), 200) // a page with the form's CSRF token
			owner.want("other business's "+path, owner.post(path, form), 404)
		}
		owner.want("catalog", owner.get("/console/catalog"), 200)
		owner.want("other business's import", owner.postFile("/console/catalog/import", url.Values{"catalog": {other.Catalog}, "mode": {"update"}}, "feed", "x.csv", feed), 404)
		owner.want("other business's new product form", owner.get("/console/catalog/products/new?catalog="+other.Catalog), 404)
		owner.want("other business's inventory", owner.get("/console/inventory?catalog="+other.Catalog), 404)
	})
}

// get2 gets a page and returns its HTML.
func (b *browser) get2(path string) string {
	b.t.Helper()
	b.want("GET "+path, b.get(path), 200)
	return b.last
}
