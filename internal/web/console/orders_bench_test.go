package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/web/console"
)

// benchOrders are the orders and ledger entries of BenchmarkOrderPages,
// unless KONTOR_BENCH_ORDERS and KONTOR_BENCH_CHARGES say otherwise.
const (
	benchOrders  = 100_000
	benchCharges = 30_000
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchDesk reads orders from the store; the benchmark only reads.
type benchDesk struct{ db *store.DB }

func (d benchDesk) Order(ctx context.Context, id kontor.ID) (commerce.Order, error) {
	return d.db.Order(ctx, id)
}
func (d benchDesk) Move(context.Context, kontor.ID, kontor.ID, string) (commerce.Order, error) {
	return commerce.Order{}, kontor.Errorf(kontor.Unavailable, "bench", "read only")
}

// BenchmarkOrderPages measures the orders list (first page, a page deep
// in the list, one state), an order and the billing page as an owner sees
// them, on SQLite, through the console's real handlers and store. The
// business has 100,000 orders (a tenth confirmed) from 10,000 customers
// and 30,000 charged messages this month in 3 markets and 3 categories.
// Besides ns/op it reports the 99th percentile of one page's time.
//
//	go test -run '^$' -bench OrderPages -benchtime 1000x ./internal/web/console
func BenchmarkOrderPages(b *testing.B) {
	mux, tok, mid, now := orderConsole(b, envInt("KONTOR_BENCH_ORDERS", benchOrders), envInt("KONTOR_BENCH_CHARGES", benchCharges))
	n := envInt("KONTOR_BENCH_ORDERS", benchOrders)
	deep := fmt.Sprintf("%d-%s", now.Add(-time.Duration(n/2)*time.Second).UnixMilli(), kontor.ID(1<<62))
	for _, page := range []struct{ name, path string }{
		{"orders", "/console/orders"},
		{"orders-deep", "/console/orders?after=" + deep},
		{"orders-confirmed", "/console/orders?state=confirmed"},
		{"orders-paid-none", "/console/orders?state=paid"},
		{"order", "/console/orders/" + mid.String()},
		{"billing", "/console/billing"},
	} {
		b.Run(page.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.AddCookie(&http.Cookie{Name: "kontor_console", Value: tok})
				w := httptest.NewRecorder()
				start := time.Now()
				mux.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", page.path, w.Code, w.Body)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

var nextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
var rowRE = regexp.MustCompile(`href="/console/orders/(\d+)"`)

// TestOrdersPager follows the list's "Older orders" links through 120
// orders, all and confirmed only: every order once, newest first.
func TestOrdersPager(t *testing.T) {
	mux, tok, _, _ := orderConsole(t, 120, 0)
	for _, c := range []struct {
		path  string
		count int
	}{{"/console/orders", 120}, {"/console/orders?state=confirmed", 12}} {
		seen := map[string]bool{}
		path, pages := c.path, 0
		for path != "" {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.AddCookie(&http.Cookie{Name: "kontor_console", Value: tok})
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
			}
			for _, m := range rowRE.FindAllStringSubmatch(w.Body.String(), -1) {
				if seen[m[1]] {
					t.Fatalf("order %s on two pages", m[1])
				}
				seen[m[1]] = true
			}
			path = ""
			if m := nextRE.FindStringSubmatch(w.Body.String()); m != nil {
				path = html.UnescapeString(m[1])
			}
			if pages++; pages > 10 {
				t.Fatal("more pages than orders")
			}
		}
		if len(seen) != c.count {
			t.Errorf("%s: %d orders on the pages, want %d", c.path, len(seen), c.count)
		}
	}
}

// orderConsole makes a business with n orders (a tenth confirmed) and
// charges charged messages this month, and returns the console's mux,
// the owner's session, the order in the middle and the time of the newest.
func orderConsole(tb testing.TB, n, charges int) (*http.ServeMux, string, kontor.ID, time.Time) {
	b := tb
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ids := kontor.NewIDs(nil, 1)
	biz := business.New(db, &benchAccounts{}, ids, nil, nil)
	auth := consoleauth.New(consoleauth.Config{}, db, ids, nil, nil)
	c, err := biz.Create(ctx, business.CreateRequest{Name: "Blumen Berta", Phone: "+4930123456"})
	if err != nil {
		b.Fatal(err)
	}
	shop := commerce.New(db, db, ids, nil)
	cat, err := shop.CreateCatalog(ctx, c.WABAID, "Blumen")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	p := commerce.Product{ID: ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rote Rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 5 * max(n, 1), Created: now, Updated: now}
	if err := db.CreateProduct(ctx, p); err != nil {
		b.Fatal(err)
	}
	var mid kontor.ID
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 { // many at once, so the store commits them in groups
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				at := now.Add(-time.Duration(n-i) * time.Second)
				o := commerce.Order{ID: ids.Next(), Business: c.WABAID, Catalog: cat.ID, Customer: kontor.Phone(fmt.Sprintf("+49151%07d", i%10_000)),
					Currency: "EUR", Items: []commerce.OrderItem{{Product: p.ID, RetailerID: "rose", Name: "Rote Rose", Quantity: 1 + i%5, Price: 299}},
					Subtotal: int64(299 * (1 + i%5)), State: commerce.OrderPending, Created: at, Expires: at.Add(365 * 24 * time.Hour)}
				o.Total = o.Subtotal
				if _, err := db.PlaceOrder(ctx, o); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if err := db.MoveOrder(ctx, o.ID, commerce.OrderPending, commerce.OrderConfirmed, false); err != nil {
						errs <- err
						return
					}
				}
				if i == n/2 {
					mid = o.ID
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	span := now.Sub(month)
	markets, cats := []string{"DE", "AT", "CH"}, []string{"marketing", "utility", "authentication"}
	for i := range charges {
		if _, err := db.Append(ctx, billing.Entry{ID: ids.Next(), Key: fmt.Sprintf("bench:%d", i), Business: c.WABAID, Number: c.PhoneNumberID, Kind: billing.KindMessage,
			Market: markets[i%3], Category: cats[(i/3)%3], Currency: "USD", Amount: 55_000_000, At: month.Add(span * time.Duration(i) / time.Duration(charges))}); err != nil {
			b.Fatal(err)
		}
	}
	owner, _, err := auth.Create(ctx, consoleauth.CreateUser{Business: c.WABAID, Email: "berta@blumen.example", Role: "owner", Password: "a long enough password"})
	if err != nil {
		b.Fatal(err)
	}
	con, err := console.New(console.Config{Auth: auth, Business: biz})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Mount(mux)
	con.MountOrders(mux, console.Orders{Desk: benchDesk{db}, Data: db})
	con.MountBilling(mux, console.Billing{Usage: db, Credit: billing.NewCredit(db, nil, commerce.Exponent, ids, nil, 0),
		Invoices: billing.NewInvoices(db, commerce.Exponent, ids, nil), Exponents: commerce.Exponent})
	tok, _, err := auth.SignIn(ctx, owner.Email, "a long enough password", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	return mux, tok, mid, now
}
