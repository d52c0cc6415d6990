package commerce_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

const goodFeed = "\ufeffid,title,description,availability,condition,price,link,image_link,brand,item_group_id,quantity_to_sell_on_facebook,sale_price,google_product_category,color\n" +
	"rose-red,Red rose,\"One red rose,\nlong stem\",in stock,new,2.99 EUR,https://anna.example/rose,https://anna.example/rose.jpg,Anna,rose,40,,Flowers,red\n" +
	"rose-white,White rose,One white rose,out of stock,new,3.49 EUR,https://anna.example/white,https://anna.example/white.jpg,Anna,rose,0,2.99 EUR,Flowers,white\n" +
	"vase,Vase,A glass vase,preorder,refurbished,19.99 EUR,https://anna.example/vase,,Glas & Co,,7,,Home,\n"

// products returns a catalog's products by retailer id.
func products(t *testing.T, e *env, catalog kontor.ID) map[string]commerce.Product {
	t.Helper()
	out := map[string]commerce.Product{}
	page := commerce.Page{Limit: 1000}
	for {
		ps, more, err := e.svc.Products(context.Background(), catalog, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			out[p.RetailerID] = p
		}
		if !more {
			return out
		}
		page.After = ps[len(ps)-1].ID
	}
}

func TestImportCSV(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep, err := e.svc.Import(ctx, e.catalog, strings.NewReader(goodFeed), commerce.FormatCSV, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 3 || rep.Created != 3 || rep.Failed != 0 || len(rep.Errors) != 0 || rep.Mode != "update" ||
			!reflect.DeepEqual(rep.IgnoredColumns, []string{"color"}) {
			t.Fatalf("report: %+v", rep)
		}
		ps := products(t, e, e.catalog)
		r := ps["rose-red"]
		if r.Name != "Red rose" || r.Description != "One red rose,\nlong stem" || r.Price != 299 || r.Currency != "EUR" || r.Inventory != 40 ||
			r.ItemGroupID != "rose" || r.Category != "Flowers" || r.URL != "https://anna.example/rose" || r.ImageURL != "https://anna.example/rose.jpg" {
			t.Fatalf("rose-red: %+v", r)
		}
		if w := ps["rose-white"]; w.SalePrice != 299 || w.Availability != "out of stock" {
			t.Fatalf("rose-white: %+v", w)
		}
		if v := ps["vase"]; v.Price != 1999 || v.Condition != "refurbished" || v.Brand != "Glas & Co" {
			t.Fatalf("vase: %+v", v)
		}
	})
}

func TestImportBadRows(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		feed := "id;title;price;availability;quantity_to_sell_on_facebook;link;sale_price\n" + // semicolons, as some shops export
			"a;Good A;1.00 EUR;in stock;1;;\n" + // row 2
			"b;Bad price;1.299,00 EUR;in stock;1;;\n" + // row 3
			"c;No currency;9.99;in stock;1;;\n" + // row 4
			"d;Bad availability;1.00 EUR;soon;1;;\n" + // row 5
			"e;Bad quantity;1.00 EUR;in stock;-4;;\n" + // row 6
			";No id;1.00 EUR;in stock;1;;\n" + // row 7
			"f;Bad link;1.00 EUR;in stock;1;not a url;\n" + // row 8
			"g;Too many;1.00 EUR;in stock;1;;;extra\n" + // row 9
			"a;Duplicate;2.00 EUR;in stock;1;;\n" + // row 10
			"h;Sale in USD;5.00 EUR;in stock;1;;4.00 USD\n" + // row 11
			"i;Yen for EUR;1000 JPY;in stock;1;;\n" + // row 12: fine
			"j;;1.00 EUR;in stock;1;;\n" + // row 13
			"k;Good K;3 BHD;in stock;2;;\n" // row 14
		rep, err := e.svc.Import(ctx, e.catalog, strings.NewReader(feed), commerce.FormatCSV, commerce.ModeUpdate, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []commerce.RowError{
			{Row: 3, Column: "price"}, {Row: 4, Column: "price"}, {Row: 5, Column: "availability"},
			{Row: 6, Column: "quantity_to_sell_on_facebook"}, {Row: 7, Column: "id"}, {Row: 8, Column: "link"}, {Row: 9},
			{Row: 10, Column: "id"}, {Row: 11, Column: "sale_price"}, {Row: 13, Column: "title"},
		}
		if len(rep.Errors) != len(want) {
			t.Fatalf("errors: %+v", rep.Errors)
		}
		for i, w := range want {
			g := rep.Errors[i]
			if g.Row != w.Row || g.Column != w.Column || g.Reason == "" {
				t.Errorf("error %d: got %+v, want row %d column %q", i, g, w.Row, w.Column)
			}
		}
		if rep.Rows != 13 || rep.Created != 3 || rep.Failed != 10 {
			t.Fatalf("report: %+v", rep)
		}
		ps := products(t, e, e.catalog)
		if len(ps) != 3 || ps["a"].Name != "Good A" || ps["i"].Price != 1000 || ps["i"].Currency != "JPY" || ps["k"].Price != 3000 {
			t.Fatalf("good rows: %+v", ps)
		}
	})
}

func TestImportReplaceAndUpdate(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Import(ctx, e.catalog, strings.NewReader(goodFeed), commerce.FormatCSV, "update", nil); err != nil {
			t.Fatal(err)
		}
		before := products(t, e, e.catalog)
		// An update touches only the rows of the feed, and in them only the
		// fields the feed has columns for.
		upd := "id,title,price,quantity_to_sell_on_facebook\nrose-red,Red rose,3.10 EUR,12\ntulip,Tulip,1.50 EUR,100\n"
		rep, err := e.svc.Import(ctx, e.catalog, strings.NewReader(upd), commerce.FormatCSV, "update", nil)
		if err != nil || rep.Created != 1 || rep.Updated != 1 || rep.Deleted != 0 {
			t.Fatalf("update: %+v %v", rep, err)
		}
		ps := products(t, e, e.catalog)
		if len(ps) != 4 || ps["rose-red"].Price != 310 || ps["rose-red"].Inventory != 12 || ps["rose-red"].ID != before["rose-red"].ID ||
			ps["rose-red"].Description != before["rose-red"].Description || ps["rose-red"].Brand != "Anna" || ps["tulip"].Availability != "in stock" ||
			ps["vase"] != before["vase"] {
			t.Fatalf("after update: %+v", ps)
		}
		// A sale price the new price makes wrong is dropped.
		if _, err := e.svc.Import(ctx, e.catalog, strings.NewReader("id,title,price\nrose-white,White rose,2.50 EUR\n"), "csv", "update", nil); err != nil {
			t.Fatal(err)
		}
		if w := products(t, e, e.catalog)["rose-white"]; w.SalePrice != 0 || w.Price != 250 || w.Description != "One white rose" {
			t.Fatalf("rose-white: %+v", w)
		}
		// A replace deletes what the feed does not name, but keeps a product
		// whose row was bad; the rows it imports set every field.
		repl := "id,title,price\ntulip,Tulip,1.60 EUR\nvase,Vase,bad\n"
		rep, err = e.svc.Import(ctx, e.catalog, strings.NewReader(repl), commerce.FormatCSV, "replace", nil)
		if err != nil || rep.Updated != 1 || rep.Failed != 1 || rep.Deleted != 2 {
			t.Fatalf("replace: %+v %v", rep, err)
		}
		ps = products(t, e, e.catalog)
		if len(ps) != 2 || ps["tulip"].Price != 160 || ps["vase"] != before["vase"] || ps["tulip"].Inventory != 0 {
			t.Fatalf("after replace: %+v", ps)
		}
		// A replace with no rows would empty the catalog: refused.
		if _, err := e.svc.Import(ctx, e.catalog, strings.NewReader("id,title,price\n"), commerce.FormatCSV, "replace", nil); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("empty replace: %v", err)
		}
		// A feed that breaks off deletes nothing.
		broken := `<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>tulip</g:id><g:title>Tulip</g:title><g:price>1.70 EUR</g:price></item><item><g:id>x`
		if _, err := e.svc.Import(ctx, e.catalog, strings.NewReader(broken), commerce.FormatXML, "replace", nil); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("broken feed: %v", err)
		}
		if ps := products(t, e, e.catalog); len(ps) != 2 || ps["tulip"].Price != 170 {
			t.Fatalf("after a broken replace: %+v", ps)
		}
	})
}

func TestImportRefusesBadFeeds(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, tc := range []struct{ feed, format, mode, want string }{
			{"", "csv", "update", "empty"},
			{"title,price\nx,1.00 EUR\n", "csv", "update", `no "id" column`},
			{"id,title,price,id\n", "csv", "update", "twice"},
			{"id,title,price\n", "json", "update", "format"},
			{"id,title,price\n", "csv", "merge", "mode"},
		} {
			_, err := e.svc.Import(ctx, e.catalog, strings.NewReader(tc.feed), tc.format, tc.mode, nil)
			if kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), tc.want) {
				t.Errorf("%q: %v, want an Invalid error with %q", tc.feed, err, tc.want)
			}
		}
		if _, err := e.svc.Import(ctx, 4242, strings.NewReader(goodFeed), "csv", "update", nil); kontor.KindOf(err) != kontor.NotFound {
			t.Errorf("unknown catalog: %v", err)
		}
	})
}

func TestImportXML(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		feed := `<?xml version="1.0"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Anna</title>
<item><g:id>rose-red</g:id><title>Red rose</title><g:description>Rot &amp; schön</g:description><g:price>2.99 EUR</g:price>
  <g:availability>in stock</g:availability><g:condition>new</g:condition><link>https://anna.example/rose</link>
  <g:image_link>https://anna.example/rose.jpg</g:image_link><g:quantity_to_sell_on_facebook>5</g:quantity_to_sell_on_facebook>
  <g:shipping><g:country>DE</g:country></g:shipping></item>
<item><g:id>bad</g:id><g:title>Bad</g:title><g:price>free</g:price></item>
</channel></rss>`
		rep, err := e.svc.Import(ctx, e.catalog, strings.NewReader(feed), commerce.FormatXML, "update", nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 2 || rep.Created != 1 || len(rep.Errors) != 1 || rep.Errors[0].Row != 2 || rep.Errors[0].Column != "price" ||
			!reflect.DeepEqual(rep.IgnoredColumns, []string{"shipping"}) {
			t.Fatalf("report: %+v", rep)
		}
		if p := products(t, e, e.catalog)["rose-red"]; p.Description != "Rot & schön" || p.Inventory != 5 || p.URL != "https://anna.example/rose" {
			t.Fatalf("product: %+v", p)
		}
	})
}

// TestRoundTrip: exporting a catalog and importing the feed into an empty
// catalog gives the same products, in every format.
func TestRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Import(ctx, e.catalog, strings.NewReader(goodFeed), commerce.FormatCSV, "update", nil); err != nil {
			t.Fatal(err)
		}
		odd := []commerce.Product{
			{RetailerID: "yen", Name: "Tea \"Sencha\"", Description: "tab\there, <b>&amp;</b>", Price: 1000, Currency: "JPY", Inventory: 3},
			{RetailerID: "dinar", Name: "Dates; 1 kg", Price: 1234, SalePrice: 1000, Currency: "BHD", Availability: "discontinued", Condition: "used"},
		}
		for _, p := range odd {
			if _, err := e.svc.CreateProduct(ctx, e.catalog, p); err != nil {
				t.Fatal(err)
			}
		}
		want := products(t, e, e.catalog)
		for _, format := range []string{"csv", "tsv", "xml"} {
			var buf bytes.Buffer
			if err := e.svc.Export(ctx, e.catalog, &buf, format); err != nil {
				t.Fatal(err)
			}
			cat, err := e.svc.CreateCatalog(ctx, e.waba, "copy "+format)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.svc.Import(ctx, cat.ID, bytes.NewReader(buf.Bytes()), format, "replace", nil)
			if err != nil || rep.Created != len(want) || rep.Failed != 0 {
				t.Fatalf("%s: %+v %v\n%s", format, rep, err, buf.String())
			}
			got := products(t, e, cat.ID)
			for rid, w := range want {
				g := got[rid]
				g.ID, g.Catalog, g.Created, g.Updated = w.ID, w.Catalog, w.Created, w.Updated
				if g != w {
					t.Errorf("%s: %s\n got %+v\nwant %+v", format, rid, g, w)
				}
			}
		}
	})
}

func TestImportProgress(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var sb strings.Builder
	sb.WriteString("id,title,price\n")
	for i := range 2500 {
		fmt.Fprintf(&sb, "p%d,Product %d,%d.%02d EUR\n", i, i, i/100, i%100)
	}
	var calls []int
	rep, err := e.svc.Import(ctx, e.catalog, strings.NewReader(sb.String()), "csv", "update", func(n int) { calls = append(calls, n) })
	if err != nil || rep.Created != 2500 {
		t.Fatalf("%+v %v", rep, err)
	}
	if !reflect.DeepEqual(calls, []int{1000, 2000, 2500}) {
		t.Fatalf("progress: %v", calls)
	}
	if p := products(t, e, e.catalog)["p1234"]; p.Price != 1234 {
		t.Fatalf("p1234: %+v", p)
	}
}
