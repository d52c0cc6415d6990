package store

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// BenchmarkChargeMessage charges delivered messages one at a time through
// the ledger: marketing (the entry, its rollup and balance) against
// utility with volume tiers (the same, and the month's volume counted in
// the transaction). KONTOR_TEST_POSTGRES adds the PostgreSQL run.
func BenchmarkChargeMessage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := Open(context.Background(), Config{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchCharge(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("KONTOR_TEST_POSTGRES")
		if url == "" {
			b.Skip("KONTOR_TEST_POSTGRES not set")
		}
		schema := "bench_charge_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		db, err := Open(context.Background(), Config{URL: url + "&search_path=" + schema})
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			_, _ = db.w.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}()
		benchCharge(b, db)
	})
}

func benchCharge(b *testing.B, db *DB) {
	ctx := context.Background()
	ids := kontor.NewIDs(nil, 1)
	month := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	prices := billing.New(db, ids, nil)
	if _, err := prices.Import(ctx, strings.NewReader("market,category,currency,price\nother,marketing,EUR,0.06\nother,utility,EUR,0.02\n"), month, "bench"); err != nil {
		b.Fatal(err)
	}
	sets, err := billing.ParseRuleSets([]byte(`[{"effective":"2026-01-01","categories":{"marketing":{},
		"utility":{"tiers":[{"from":1000,"discount_bps":1000}]},"authentication":{},"authentication-international":{},"service":{}}}]`))
	if err != nil {
		b.Fatal(err)
	}
	book, err := billing.NewRuleBook(sets)
	if err != nil {
		b.Fatal(err)
	}
	l := billing.NewLedger(prices, db, ids, commerce.Exponent)
	l.UseRules(book)
	for _, cat := range []string{"marketing", "utility"} {
		b.Run(cat, func(b *testing.B) {
			biz := ids.Next()
			for i := range b.N {
				if _, added, err := l.ChargeMessage(ctx, billing.Message{ID: ids.Next(), Business: biz, Number: biz, To: "+33612345678",
					Category: cat, At: month.Add(time.Duration(i) * time.Millisecond)}); err != nil || !added {
					b.Fatalf("ChargeMessage: %v %v", added, err)
				}
			}
		})
	}
}
