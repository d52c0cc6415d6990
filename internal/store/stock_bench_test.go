package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/store"
)

// BenchmarkSalesReport adds up a month of 20,000 paid orders of three items
// each (50 products) by day and by product (SQLite).
func BenchmarkSalesReport(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	cat := commerce.Catalog{ID: ids.Next(), Business: ids.Next(), Name: "c", Created: time.Now()}
	if err := db.CreateCatalog(ctx, cat); err != nil {
		b.Fatal(err)
	}
	var ps []commerce.Product
	for i := range 50 {
		p := commerce.Product{ID: ids.Next(), Catalog: cat.ID, RetailerID: fmt.Sprintf("p%02d", i), Name: "P", Price: 100 + int64(i), Currency: "EUR",
			Availability: "in stock", Condition: "new", Inventory: 1_000_000, Created: time.Now(), Updated: time.Now()}
		if err := db.CreateProduct(ctx, p); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	const orders = 20_000
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < orders; i += 8 {
				o := commerce.Order{ID: ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: "+4915100000001", Currency: "EUR",
					State: commerce.OrderPaid, Created: start.Add(time.Duration(i) * (31 * 24 * time.Hour / orders))}
				for k := range 3 {
					p := ps[(i+k*7)%len(ps)]
					o.Items = append(o.Items, commerce.OrderItem{Product: p.ID, RetailerID: p.RetailerID, Quantity: 1 + k, Price: p.Price})
					o.Subtotal += p.Price * int64(1+k)
				}
				o.Total = o.Subtotal
				o.Expires = o.Created.Add(time.Hour)
				if short, err := db.PlaceOrder(ctx, o); err != nil || len(short) > 0 {
					b.Errorf("place: %v %v", short, err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := commerce.NewStock(db, nil)
	for _, by := range []string{commerce.GroupByDay, commerce.GroupByProduct} {
		b.Run(by, func(b *testing.B) {
			for b.Loop() {
				rep, err := st.SalesReport(ctx, commerce.SalesQuery{Business: cat.Business, Since: "2026-12-01", Until: "2026-12-31", GroupBy: by})
				if err != nil || len(rep.Totals) != 1 || rep.Totals[0].Orders != orders {
					b.Fatalf("%+v %v", rep.Totals, err)
				}
			}
		})
	}
}
