package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
	"github.com/kontor-chat/kontor/internal/web/console"
)

// BenchmarkCatalogPages measures the catalog and inventory pages as an
// owner sees them, through the console's real handlers and store, with
// 100,000 products in the business's catalog (in item groups of 10; 1,000
// of them at or below their low-stock threshold; one product with 300
// stock moves). Besides ns/op it reports the 99th percentile of one page.
//
//	go test -run '^$' -bench CatalogPages -benchtime 500x ./internal/web/console
func BenchmarkCatalogPages(b *testing.B) { benchCatalogPages(b, "") }

// BenchmarkCatalogPagesPostgres is the same on PostgreSQL
// (KONTOR_TEST_POSTGRES).
func BenchmarkCatalogPagesPostgres(b *testing.B) { benchCatalogPages(b, storetest.PostgresURL(b)) }

func benchCatalogPages(b *testing.B, dsn string) {
	const products = 100_000
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir(), URL: dsn})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ids := kontor.NewIDs(nil, 1)
	biz := business.New(db, &benchAccounts{}, ids, nil, nil)
	auth := consoleauth.New(consoleauth.Config{}, db, ids, nil, nil)
	shop := commerce.New(db, db, ids, nil)
	stock := commerce.NewStock(db, nil)
	made, err := biz.Create(ctx, business.CreateRequest{Name: "Blumen Berta", Phone: "+4930123456"})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := shop.CreateCatalog(ctx, made.WABAID, "")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	ps := make([]commerce.Product, 0, 1000)
	var all []kontor.ID
	for i := range products {
		ps = append(ps, commerce.Product{ID: ids.Next(), Catalog: cat.ID, RetailerID: fmt.Sprintf("sku-%06d", i), Name: fmt.Sprintf("Product %d", i),
			Description: "A fine product.", Price: 100 + int64(i%5000), Currency: "EUR", Availability: "in stock", Condition: "new",
			ItemGroupID: fmt.Sprintf("group-%d", i/10), Inventory: i % 50, Created: now, Updated: now})
		all = append(all, ps[len(ps)-1].ID)
		if len(ps) == cap(ps) {
			if _, err := db.UpsertProducts(ctx, ps, nil); err != nil {
				b.Fatal(err)
			}
			ps = ps[:0]
		}
	}
	for i := 0; i < products; i += products / 1000 { // 1,000 low: threshold at or above the stock
		if err := stock.SetThreshold(ctx, all[i], 60); err != nil {
			b.Fatal(err)
		}
	}
	busy := all[products/2]
	for i := range 300 {
		if _, _, err := stock.Adjust(ctx, commerce.Adjustment{Product: busy, Delta: 1 + i%3, Reason: commerce.ReasonReceived, Source: commerce.SourceConsole, By: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	owner, _, err := auth.Create(ctx, consoleauth.CreateUser{Business: made.WABAID, Email: "berta@blumen.example", Role: "owner", Password: "a long enough password"})
	if err != nil {
		b.Fatal(err)
	}
	con, err := console.New(console.Config{Auth: auth, Business: biz, Commerce: shop, Stock: stock})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Mount(mux)
	tok, _, err := auth.SignIn(ctx, owner.Email, "a long enough password", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	for _, pg := range []struct{ name, path string }{
		{"catalog", "/console/catalog"},
		{"catalog-page-3000", "/console/catalog?after=" + all[75_000].String()},
		{"catalog-back", "/console/catalog?before=" + all[50_000].String()},
		{"search-first-page", "/console/catalog?q=product+1"},
		{"search-one-hit", "/console/catalog?q=sku-099999"},
		{"search-two-common", "/console/catalog?q=product+sku-09"}, // the matches begin at product 90,000
		{"search-one-letter", "/console/catalog?q=p"},
		{"search-no-hit", "/console/catalog?q=no+such+thing"},
		{"product", "/console/catalog/products/" + busy.String()},
		{"inventory", "/console/inventory"},
		{"inventory-low", "/console/inventory?low=1"},
		{"inventory-low-last-page", "/console/inventory?low=1&after=" + all[products-products/1000*50].String()},
		{"stock", "/console/inventory/" + busy.String()},
	} {
		b.Run(pg.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, pg.path, nil)
				req.AddCookie(&http.Cookie{Name: "kontor_console", Value: tok})
				w := httptest.NewRecorder()
				start := time.Now()
				mux.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", pg.path, w.Code, w.Body)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
