package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// BenchmarkInvoice10M renders a month's draft invoice of a business with
// 10 million ledger entries (issue 6: at most 5 s), summed in SQL from the
// rollup the ledger keeps. The entries (and their rollup) are bulk-loaded
// by INSERT … SELECT before the clock starts;
// KONTOR_BENCH_ENTRIES sets another count, KONTOR_TEST_POSTGRES adds the
// PostgreSQL run.
func BenchmarkInvoice10M(b *testing.B) {
	n := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("KONTOR_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	b.Run("sqlite", func(b *testing.B) {
		db, err := Open(context.Background(), Config{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchInvoice(b, db, n)
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("KONTOR_TEST_POSTGRES")
		if url == "" {
			b.Skip("KONTOR_TEST_POSTGRES not set")
		}
		schema := "bench_invoice_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		db, err := Open(context.Background(), Config{URL: url + "&search_path=" + schema})
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			_, _ = db.w.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}()
		benchInvoice(b, db, n)
	})
}

func benchInvoice(b *testing.B, db *DB, n int) {
	ctx := context.Background()
	ids := kontor.NewIDs(nil, 1)
	biz := ids.Next()
	month := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	// 10 markets × 3 categories × 4 rates, spread over the month; a tenth
	// of them in the month before and after, which the invoice skips.
	gen := `SELECT CAST($1 AS BIGINT) + i, 'bench:' || CAST(i AS TEXT), CAST($2 AS BIGINT), 1, 'message',
		CASE i % 10 WHEN 0 THEN 'DE' WHEN 1 THEN 'BR' WHEN 2 THEN 'IN' WHEN 3 THEN 'US' WHEN 4 THEN 'GB' WHEN 5 THEN 'FR' WHEN 6 THEN 'IT' WHEN 7 THEN 'ES' WHEN 8 THEN 'NG' ELSE 'ID' END,
		CASE i % 3 WHEN 0 THEN 'marketing' WHEN 1 THEN 'utility' ELSE 'authentication' END,
		'EUR', 1400000 + (i % 4) * 41700000, 1, CAST($3 AS BIGINT) + (i % 2851200) * 1000, 0, ''`
	var q string
	if db.Dialect() == "postgres" {
		q = `INSERT INTO ledger (id, entry_key, business_id, number_id, kind, market, category, currency, nanos, sheet_id, at, invoice_id, note) ` +
			gen + ` FROM generate_series(0, CAST($4 AS BIGINT) - 1) AS s(i)`
	} else {
		q = `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $4 - 1)
			INSERT INTO ledger (id, entry_key, business_id, number_id, kind, market, category, currency, nanos, sheet_id, at, invoice_id, note) ` + gen + ` FROM s`
	}
	start := time.Now()
	// 33 days of seconds from a day before the month: about 3 % falls
	// outside it.
	if _, err := db.w.ExecContext(ctx, q, int64(ids.Next()), int64(biz), month.AddDate(0, 0, -1).UnixMilli(), n); err != nil {
		b.Fatal(err)
	}
	// The sums every added entry keeps, made in one go here.
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf(rollupFill, monthOf[db.Dialect()], "AND business_id = $1", monthOf[db.Dialect()]), int64(biz)); err != nil {
		b.Fatal(err)
	}
	if db.Dialect() == "postgres" {
		if _, err := db.w.ExecContext(ctx, "VACUUM ANALYZE ledger"); err != nil {
			b.Fatal(err)
		}
	} else if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d entries loaded in %s", db.Dialect(), n, time.Since(start).Round(time.Second))
	inv := billing.NewInvoices(db, commerce.Exponent, ids, nil)
	b.ResetTimer()
	for b.Loop() {
		got, err := inv.Invoice(ctx, biz, month)
		if err != nil {
			b.Fatal(err)
		}
		if got.Entries == 0 || got.Entries >= int64(n) || len(got.Lines) == 0 {
			b.Fatalf("invoice: %d entries, %d lines", got.Entries, len(got.Lines))
		}
	}
}
