package billing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/store"
)

func TestMarketOf(t *testing.T) {
	for p, want := range map[kontor.Phone]string{
		"+4915112345678": "DE", "+12025550123": "US", "+5511987654321": "BR", "+919876543210": "IN",
		"+97150123456": "AE", "+35312345678": "IE", "+2341234567890": "NG", "+88812345678": "other",
	} {
		if got := billing.MarketOf(p); got != want {
			t.Errorf("MarketOf(%s) = %s, want %s", p, got, want)
		}
	}
}

// TestLedger: a delivered template is charged once, at the rate in effect
// when it was delivered, in the person's market; usage sums exactly.
func TestLedger(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	prices := billing.New(db, ids, nil)
	jan := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := prices.Import(ctx, strings.NewReader("market,category,currency,price\nDE,marketing,EUR,0.1365\nother,marketing,EUR,0.0600\nother,utility,EUR,0.0200\n"), jan, "ours"); err != nil {
		t.Fatal(err)
	}
	if _, err := prices.Import(ctx, strings.NewReader("market,category,currency,price\nDE,marketing,EUR,0.1500\nother,marketing,EUR,0.0600\n"), jan.AddDate(0, 1, 0), "feb"); err != nil {
		t.Fatal(err)
	}
	l := billing.NewLedger(prices, db, ids, commerce.Exponent)
	biz := kontor.ID(77)
	charge := func(id int64, to kontor.Phone, cat string, at time.Time) bool {
		t.Helper()
		_, added, err := l.ChargeMessage(ctx, billing.Message{ID: kontor.ID(id), Business: biz, Number: 5, To: to, Category: cat, At: at})
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !charge(1, "+4915100000001", "marketing", jan.Add(time.Hour)) || charge(1, "+4915100000001", "marketing", jan.Add(2*time.Hour)) {
		t.Fatal("a message must be charged exactly once")
	}
	charge(2, "+4915100000002", "marketing", jan.AddDate(0, 1, 1)) // February's rate
	charge(3, "+33612345678", "marketing", jan.Add(time.Hour))     // other market
	charge(4, "+33612345679", "utility", jan.Add(time.Hour))
	u, err := l.Usage(ctx, biz, jan, jan.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	// 0.1365 + 0.1500 + 0.0600 + 0.0200, exactly.
	if u.Total != "0.3665" || u.Entries != 4 || u.Currency != "EUR" || len(u.Lines) != 3 {
		t.Fatalf("usage: %+v", u)
	}
	if u.Lines[0].Category != "marketing" || u.Lines[0].Market != "DE" || u.Lines[0].Count != 2 || u.Lines[0].Amount != "0.2865" {
		t.Fatalf("first line: %+v", u.Lines[0])
	}
	if other, _ := l.Usage(ctx, 78, jan, jan.AddDate(0, 2, 0)); other.Entries != 0 {
		t.Fatalf("another business sees charges: %+v", other)
	}
	if _, _, err := l.ChargeMessage(ctx, billing.Message{ID: 9, Business: biz, To: "+4915100000001", Category: "marketing", At: jan.AddDate(-1, 0, 0)}); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("no sheet in effect: %v", err)
	}
}
