package store

import (
	"context"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
)

// BenchmarkGranted is the grant check of every call made with a partner's
// token, on SQLite: read through the directory cache, and with the cache
// off (each check a query).
func BenchmarkGranted(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"uncached", -1}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, Config{DataDir: b.TempDir(), CacheTTL: c.ttl})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ids := kontor.NewIDs(nil, 1)
			p := business.Partner{ID: ids.Next(), Name: "Agentur"}
			biz := ids.Next()
			if err := db.CreatePartner(ctx, p); err != nil {
				b.Fatal(err)
			}
			if err := db.Grant(ctx, p.ID, biz); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := db.Granted(ctx, p.ID, biz); err != nil || !ok {
					b.Fatalf("granted: %v %v", ok, err)
				}
			}
		})
	}
}
