package store

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// TestRollupFill: the migration's SQL that sums an existing ledger into
// ledger_rollup puts every entry in the month Append puts it in, at the
// edges of months too, on both databases.
func TestRollupFill(t *testing.T) {
	urls := map[string]string{"sqlite": "sqlite:" + t.TempDir() + "/k.db"}
	schema := "rollup_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if pg := os.Getenv("KONTOR_TEST_POSTGRES"); pg != "" {
		urls["postgres"] = pg + "&search_path=" + schema
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(ctx, Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ids := kontor.NewIDs(nil, 1)
			biz := ids.Next()
			for i, at := range []time.Time{
				time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2027, 1, 31, 23, 59, 59, 999e6, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(2028, 2, 29, 23, 0, 0, 0, time.UTC),
			} {
				kind := billing.KindMessage
				if i == 4 {
					kind = billing.KindAdjustment
				}
				if _, err := db.Append(ctx, billing.Entry{ID: ids.Next(), Key: fmt.Sprint("k", i), Business: biz, Kind: kind, Market: "DE",
					Category: "marketing", Currency: "EUR", Amount: billing.Nanos(1000 + i), At: at}); err != nil {
					t.Fatal(err)
				}
			}
			months := func() map[string][]billing.Line {
				out := map[string][]billing.Line{}
				for m := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC); m.Year() < 2029; m = m.AddDate(0, 1, 0) {
					ls, err := db.Aggregate(ctx, biz, m, m.AddDate(0, 1, 0))
					if err != nil {
						t.Fatal(err)
					}
					if len(ls) > 0 {
						out[m.Format("2006-01")] = ls
					}
				}
				return out
			}
			want := months()
			if len(want) != 4 || len(want["2027-01"]) != 2 || len(want["2027-02"]) != 2 {
				t.Fatalf("by Append: %+v", want)
			}
			if _, err := db.w.ExecContext(ctx, `DELETE FROM ledger_rollup`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.w.ExecContext(ctx, fmt.Sprintf(rollupFill, monthOf[db.Dialect()], "", monthOf[db.Dialect()])); err != nil {
				t.Fatal(err)
			}
			if got := months(); !reflect.DeepEqual(got, want) {
				t.Fatalf("filled %+v, appended %+v", got, want)
			}
			if db.Dialect() == "postgres" {
				_, _ = db.w.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
			}
		})
	}
}
