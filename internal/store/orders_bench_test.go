package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// BenchmarkPlaceOrder places one-item orders for one hot product from many
// goroutines at once: orders per second with no oversell. On SQLite and,
// with KONTOR_TEST_POSTGRES, on PostgreSQL.
func BenchmarkPlaceOrder(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchPlaceOrder(b, store.Config{DataDir: b.TempDir()}) })
	b.Run("postgres", func(b *testing.B) { benchPlaceOrder(b, store.Config{URL: storetest.PostgresURL(b)}) })
}

func benchPlaceOrder(b *testing.B, cfg store.Config) {
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	cat := commerce.Catalog{ID: ids.Next(), Business: ids.Next(), Name: "c", Created: time.Now()}
	if err := db.CreateCatalog(ctx, cat); err != nil {
		b.Fatal(err)
	}
	p := commerce.Product{ID: ids.Next(), Catalog: cat.ID, RetailerID: "hot", Name: "Hot", Price: 100, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: b.N, Created: time.Now(), Updated: time.Now()}
	if err := db.CreateProduct(ctx, p); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := commerce.Order{ID: ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: "+4915100000001", Currency: "EUR",
				Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "hot", Quantity: 1, Price: 100}}, Subtotal: 100, Total: 100,
				State: commerce.OrderPending, Created: time.Now(), Expires: time.Now().Add(time.Hour)}
			if short, err := db.PlaceOrder(ctx, o); err != nil || len(short) > 0 {
				b.Errorf("place: %v %v", short, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	if got, _ := db.Product(ctx, p.ID); got.Inventory != 0 {
		b.Fatalf("stock %d after %d orders of %d", got.Inventory, b.N, b.N)
	}
}
