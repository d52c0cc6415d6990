package commerce_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// BenchmarkImport100k imports a 100,000-row CSV feed into an empty
// catalog on SQLite (issue 5 asks for at most 10 s).
func BenchmarkImport100k(b *testing.B) { benchImport(b, func() string { return "" }) }

// BenchmarkImport100kPostgres is the same on PostgreSQL
// (KONTOR_TEST_POSTGRES).
func BenchmarkImport100kPostgres(b *testing.B) {
	benchImport(b, func() string { return storetest.PostgresURL(b) })
}

func benchImport(b *testing.B, db func() string) {
	var sb strings.Builder
	sb.WriteString("id,title,description,availability,condition,price,link,image_link,brand,item_group_id,quantity_to_sell_on_facebook\n")
	for i := range 100_000 {
		fmt.Fprintf(&sb, "sku-%d,Product %d,\"A fine product, number %d\",in stock,new,%d.%02d EUR,https://shop.example/p/%d,https://shop.example/p/%d.jpg,Brand,group-%d,%d\n",
			i, i, i, i/100, i%100, i, i, i/10, i%50)
	}
	feed := sb.String()
	b.SetBytes(int64(len(feed)))
	for b.Loop() {
		b.StopTimer()
		e := newEnvDB(b, db())
		b.StartTimer()
		rep, err := e.svc.Import(context.Background(), e.catalog, strings.NewReader(feed), "csv", "update", nil)
		if err != nil || rep.Created != 100_000 {
			b.Fatalf("%+v %v", rep.Created, err)
		}
	}
}
