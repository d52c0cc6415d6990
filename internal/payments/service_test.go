package payments_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// counting is a sandbox that counts the distinct charges and refunds it
// made, and fails while down is set.
type counting struct {
	*payments.Sandbox
	mu      sync.Mutex
	charges map[string]bool
	refunds map[string]bool
	down    atomic.Bool
}

var errDown = &kontor.Error{Kind: kontor.Unavailable, Op: "test", Msg: "the provider is down", Err: payments.ErrProvider}

func (c *counting) Charge(ctx context.Context, ch payments.Charge) (payments.Result, error) {
	if c.down.Load() {
		return payments.Result{}, errDown
	}
	r, err := c.Sandbox.Charge(ctx, ch)
	if err == nil {
		c.mu.Lock()
		c.charges[r.ID] = true
		c.mu.Unlock()
	}
	return r, err
}

func (c *counting) Refund(ctx context.Context, r payments.RefundRequest) (string, error) {
	if c.down.Load() {
		return "", errDown
	}
	id, err := c.Sandbox.Refund(ctx, r)
	if err == nil {
		c.mu.Lock()
		c.refunds[id] = true
		c.mu.Unlock()
	}
	return id, err
}

func (c *counting) count() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.charges), len(c.refunds)
}

// fixture is a Service on a real store (SQLite, or PostgreSQL) with a
// shop of 10 roses.
type fixture struct {
	t       testing.TB
	ctx     context.Context
	db      *store.DB
	clock   *clock
	prov    *counting
	svc     *payments.Service
	product commerce.Product
	ids     *kontor.IDs
	seen    chan payments.Payment
	fail    atomic.Bool
}

func newFixture(t testing.TB, url string) *fixture {
	f := &fixture{t: t, ctx: t.Context(), clock: newClock(), ids: kontor.NewIDs(nil, 3), seen: make(chan payments.Payment, 100)}
	db, err := store.Open(f.ctx, store.Config{URL: url, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.prov = &counting{Sandbox: payments.NewSandbox(payments.SandboxConfig{Delay: time.Minute, Clock: f.clock, Secret: "s"}),
		charges: map[string]bool{}, refunds: map[string]bool{}}
	observer := func(_ context.Context, p payments.Payment) error {
		if f.fail.Load() {
			return errors.New("observer down")
		}
		select {
		case f.seen <- p:
		default: // a benchmark does not read them
		}
		return nil
	}
	if _, err := payments.New(payments.Config{Providers: []payments.Provider{f.prov}, Default: "stripe"}, db, db, f.ids, f.clock, discard(), observer); err == nil {
		t.Fatal("a Service whose default provider is missing")
	}
	f.svc, err = payments.New(payments.Config{Providers: []payments.Provider{f.prov}, Default: "sandbox", Stale: time.Second}, db, db, f.ids, f.clock, discard(), observer)
	if err != nil {
		t.Fatal(err)
	}
	cat := commerce.Catalog{ID: f.ids.Next(), Business: f.ids.Next(), Name: "c", Created: f.clock.Now()}
	if err := db.CreateCatalog(f.ctx, cat); err != nil {
		t.Fatal(err)
	}
	f.product = commerce.Product{ID: f.ids.Next(), Catalog: cat.ID, RetailerID: "rose", Name: "Rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Inventory: 10, Created: f.clock.Now(), Updated: f.clock.Now()}
	if err := db.CreateProduct(f.ctx, f.product); err != nil {
		t.Fatal(err)
	}
	return f
}

const ann, bob kontor.Phone = "+4915100000001", "+4915100000002"

// order places an order of n roses for ann, held for hold.
func (f *fixture) order(n int, hold time.Duration) commerce.Order {
	f.t.Helper()
	now := f.clock.Now()
	o := commerce.Order{ID: f.ids.Next(), Business: 77, Catalog: f.product.Catalog, Customer: ann, Currency: "EUR",
		Items: []commerce.OrderItem{{Product: f.product.ID, RetailerID: "rose", Quantity: n, Price: 299}}, Subtotal: 299 * int64(n), Total: 299 * int64(n),
		State: commerce.OrderPending, Created: now, Expires: now.Add(hold)}
	if short, err := f.db.PlaceOrder(f.ctx, o); err != nil || len(short) > 0 {
		f.t.Fatalf("place: %v %v", short, err)
	}
	return o
}

func (f *fixture) state(o commerce.Order) string {
	f.t.Helper()
	got, err := f.db.Order(f.ctx, o.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got.State
}

func (f *fixture) stock() int {
	f.t.Helper()
	p, err := f.db.Product(f.ctx, f.product.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Inventory
}

// announced drains what the observer heard.
func (f *fixture) announced() []payments.State {
	var out []payments.State
	for {
		select {
		case p := <-f.seen:
			out = append(out, p.State)
		default:
			return out
		}
	}
}

func (f *fixture) pay(o commerce.Order, card, key string) payments.Payment {
	f.t.Helper()
	p, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o.ID, Customer: ann, Card: card, Key: key})
	if err != nil {
		f.t.Fatalf("pay %s: %v", card, err)
	}
	return p
}

func backends(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newFixture(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, newFixture(t, storetest.PostgresURL(t))) })
}

func TestPay(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		o := f.order(2, 30*time.Minute)
		// Declined: no money, the order keeps its stock.
		d := f.pay(o, "4000000000009995", "")
		if d.State != payments.Declined || d.Reason != "insufficient_funds" || f.state(o) != commerce.OrderPending || f.stock() != 8 {
			t.Fatalf("declined: %+v, order %s, stock %d", d, f.state(o), f.stock())
		}
		// The next attempt succeeds; retries of it charge nothing more.
		p := f.pay(o, "4242424242424242", "")
		if p.State != payments.Succeeded || p.ID == d.ID || f.state(o) != commerce.OrderPaid || p.Amount != 598 {
			t.Fatalf("success: %+v, order %s", p, f.state(o))
		}
		for _, card := range []string{"4242424242424242", "4000000000000002"} {
			if again := f.pay(o, card, ""); again.ID != p.ID || again.State != payments.Succeeded {
				t.Fatalf("again with %s: %+v", card, again)
			}
		}
		if charges, _ := f.prov.count(); charges != 2 { // the decline and the success
			t.Fatalf("%d charges", charges)
		}
		if got := f.announced(); len(got) != 2 || got[0] != payments.Declined || got[1] != payments.Succeeded {
			t.Fatalf("announced %v", got)
		}
		// Someone else's order, an unknown order, a key of another order.
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o.ID, Customer: bob, Card: "4242424242424242"}); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("bob pays: %v", err)
		}
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: f.ids.Next(), Customer: ann, Card: "4242424242424242"}); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("no order: %v", err)
		}
		o2 := f.order(1, 30*time.Minute)
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o2.ID, Customer: ann, Card: "4242424242424242", Key: p.Key}); kontor.KindOf(err) != kontor.Conflict {
			t.Fatalf("another order's key: %v", err)
		}
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o2.ID, Customer: ann, Card: "4242424242424242", Key: "bad key"}); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("a key with a space: %v", err)
		}
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o2.ID, Customer: ann, Card: ""}); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("no card: %v", err)
		}
		// Refund by the business: once, through the provider.
		if _, err := f.svc.RefundOrder(f.ctx, 78, o.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("another business refunds: %v", err)
		}
		r, err := f.svc.RefundOrder(f.ctx, 77, o.ID)
		if err != nil || r.State != payments.Refunded || r.Refund == "" || f.state(o) != commerce.OrderRefunded {
			t.Fatalf("refund: %+v %v, order %s", r, err, f.state(o))
		}
		if _, err := f.svc.RefundOrder(f.ctx, 77, o.ID); kontor.KindOf(err) != kontor.Conflict {
			t.Fatalf("refund twice: %v", err)
		}
		if _, refunds := f.prov.count(); refunds != 1 {
			t.Fatalf("%d refunds", refunds)
		}
		if _, err := f.svc.RefundOrder(f.ctx, 77, o2.ID); kontor.KindOf(err) != kontor.Conflict {
			t.Fatalf("refund of an unpaid order: %v", err)
		}
		// Marked paid by the business, not through kontor: nothing to
		// give back here.
		if err := f.db.MoveOrder(f.ctx, o2.ID, commerce.OrderPending, commerce.OrderPaid, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RefundOrder(f.ctx, 77, o2.ID); !errors.Is(err, payments.ErrNoPayment) {
			t.Fatalf("refund of an unpaid order: %v", err)
		}
	})
}

// TestPayConcurrently: 20 requests pay one order at once (retries with
// the same key, and fresh ones): one charge, one payment for all.
func TestPayConcurrently(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		o := f.order(1, 30*time.Minute)
		var wg sync.WaitGroup
		ids := make([]kontor.ID, 20)
		for i := range ids {
			wg.Go(func() {
				key := ""
				if i%2 == 0 {
					key = "same"
				}
				p, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o.ID, Customer: ann, Card: "4242424242424242", Key: key})
				if err != nil {
					t.Errorf("pay: %v", err)
					return
				}
				ids[i] = p.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("two payments: %v", ids)
			}
		}
		if charges, _ := f.prov.count(); charges != 1 || f.state(o) != commerce.OrderPaid {
			t.Fatalf("%d charges, order %s", charges, f.state(o))
		}
	})
}

// TestPendingRacesExpiry: a pending payment that completes in time pays
// its order; one whose order expires first is canceled while it is still
// pending (nothing taken), or refunded when the money came after all; the
// stock comes back once either way.
func TestPendingRacesExpiry(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		inTime := f.order(1, 30*time.Minute)
		a := f.pay(inTime, "4000000000001000", "")
		if a.State != payments.Pending || f.state(inTime) != commerce.OrderPending {
			t.Fatalf("pending card: %+v", a)
		}
		if again := f.pay(inTime, "4242424242424242", ""); again.ID != a.ID || again.State != payments.Pending {
			t.Fatalf("again while pending: %+v", again)
		}
		f.clock.Add(time.Minute) // the card's delay
		if again := f.pay(inTime, "4242424242424242", ""); again.ID != a.ID || again.State != payments.Succeeded || f.state(inTime) != commerce.OrderPaid {
			t.Fatalf("after the delay: %+v, order %s", again, f.state(inTime))
		}

		// Expires while the charge is still pending: canceled.
		early := f.order(1, 30*time.Second)
		b := f.pay(early, "4000000000001000", "")
		f.clock.Add(31 * time.Second)
		if n, _ := f.db.ExpireOrders(f.ctx, f.clock.Now(), 100); n != 1 || f.stock() != 9 {
			t.Fatalf("expired %d, stock %d", n, f.stock())
		}
		if _, err := f.svc.Sweep(f.ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.db.Payment(f.ctx, b.ID); got.State != payments.Canceled {
			t.Fatalf("pending payment of an expired order: %+v", got)
		}

		// Expires, then the money comes anyway: refunded, the order stays
		// expired, its stock back once.
		late := f.order(1, 30*time.Second)
		c := f.pay(late, "4000000000001000", "")
		f.clock.Add(61 * time.Second)
		if n, _ := f.db.ExpireOrders(f.ctx, f.clock.Now(), 100); n != 1 || f.stock() != 9 {
			t.Fatalf("expired %d, stock %d", n, f.stock())
		}
		if _, err := f.svc.Sweep(f.ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := f.db.Payment(f.ctx, c.ID)
		if got.State != payments.Refunded || got.Refund == "" || f.state(late) != commerce.OrderExpired || f.stock() != 9 {
			t.Fatalf("late money: %+v, order %s, stock %d", got, f.state(late), f.stock())
		}
		if charges, refunds := f.prov.count(); charges != 3 || refunds != 1 {
			t.Fatalf("%d charges, %d refunds", charges, refunds)
		}
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: late.ID, Customer: ann, Card: "4242424242424242"}); !errors.Is(err, payments.ErrNotPayable) {
			t.Fatalf("paying the expired order whose money went back: %v", err)
		}
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: early.ID, Customer: ann, Card: "4242424242424242"}); !errors.Is(err, payments.ErrNotPayable) {
			t.Fatalf("paying an expired order: %v", err)
		}
	})
}

// TestTotalChanges: a payment request cannot change the order's total
// while a payment is pending or after it succeeded; the payment pays the
// total it started with.
func TestTotalChanges(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		o := f.order(1, 30*time.Minute)
		p := f.pay(o, "4000000000001000", "") // pending
		if err := f.db.SetOrderCharges(f.ctx, o.ID, 0, 490, 0, o.Total+490); kontor.KindOf(err) != kontor.Conflict {
			t.Fatalf("charges changed under a pending payment: %v", err)
		}
		f.clock.Add(time.Minute)
		got := f.pay(o, "4242424242424242", "")
		if got.ID != p.ID || got.State != payments.Succeeded || got.Amount != o.Total || f.state(o) != commerce.OrderPaid {
			t.Fatalf("the pending payment: %+v, order %s", got, f.state(o))
		}
		if charges, refunds := f.prov.count(); charges != 1 || refunds != 0 {
			t.Fatalf("%d charges, %d refunds", charges, refunds)
		}
		// Paid: the charges stay, paying again returns the payment that paid it.
		if err := f.db.SetOrderCharges(f.ctx, o.ID, 0, 490, 0, o.Total+490); kontor.KindOf(err) != kontor.Conflict {
			t.Fatalf("charges changed after the payment: %v", err)
		}
		if last := f.pay(o, "4242424242424242", ""); last.ID != p.ID {
			t.Fatalf("after paying: %+v", last)
		}
		if _, err := f.svc.RefundOrder(f.ctx, 77, o.ID); err != nil {
			t.Fatal(err)
		}
		if last := f.pay(o, "4242424242424242", ""); last.ID != p.ID || last.State != payments.Refunded {
			t.Fatalf("after the refund: %+v", last)
		}
	})
}

// TestSweep: a provider that was down and an observer that failed are
// tried again by the sweep, with the same key: one charge.
func TestSweep(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		o := f.order(1, 30*time.Minute)
		f.prov.down.Store(true)
		if _, err := f.svc.Pay(f.ctx, payments.PayRequest{Order: o.ID, Customer: ann, Card: "4242424242424242"}); kontor.KindOf(err) != kontor.Unavailable {
			t.Fatalf("provider down: %v", err)
		}
		ps, _ := f.db.OrderPayments(f.ctx, o.ID)
		if len(ps) != 1 || ps[0].State != payments.Created {
			t.Fatalf("after the failure: %+v", ps)
		}
		f.prov.down.Store(false)
		f.fail.Store(true)
		f.clock.Add(2 * time.Second)
		if _, err := f.svc.Sweep(f.ctx); err != nil {
			t.Fatal(err)
		}
		p, _ := f.db.Payment(f.ctx, ps[0].ID)
		if p.State != payments.Succeeded || p.Announced == payments.Succeeded || f.state(o) != commerce.OrderPaid {
			t.Fatalf("after the sweep: %+v", p)
		}
		f.fail.Store(false)
		if _, err := f.svc.Sweep(f.ctx); err != nil {
			t.Fatal(err)
		}
		p, _ = f.db.Payment(f.ctx, ps[0].ID)
		if got := f.announced(); p.Announced != payments.Succeeded || len(got) != 1 || got[0] != payments.Succeeded {
			t.Fatalf("announced %v, %+v", got, p)
		}
		if charges, _ := f.prov.count(); charges != 1 {
			t.Fatalf("%d charges", charges)
		}
		if n, _ := f.svc.Sweep(f.ctx); n != 0 {
			t.Fatalf("swept %d with nothing left to do", n)
		}
		// A refund while the provider is down stays refunding, the order
		// paid; the sweep finishes it, once.
		f.prov.down.Store(true)
		if _, err := f.svc.RefundOrder(f.ctx, 77, o.ID); kontor.KindOf(err) != kontor.Unavailable {
			t.Fatalf("refund while down: %v", err)
		}
		if p, _ = f.db.Payment(f.ctx, p.ID); p.State != payments.Refunding || f.state(o) != commerce.OrderPaid {
			t.Fatalf("after the failed refund: %+v, order %s", p, f.state(o))
		}
		f.prov.down.Store(false)
		for range 2 {
			if _, err := f.svc.Sweep(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if p, _ = f.db.Payment(f.ctx, p.ID); p.State != payments.Refunded || p.Announced != payments.Refunded || f.state(o) != commerce.OrderRefunded {
			t.Fatalf("after the sweep: %+v, order %s", p, f.state(o))
		}
		if _, refunds := f.prov.count(); refunds != 1 {
			t.Fatalf("%d refunds", refunds)
		}
	})
}

// TestWebhookEvents: a signed event completes a pending payment once;
// its replay, events about unknown charges and events of no interest
// change nothing; a bad signature is refused.
func TestWebhookEvents(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		o := f.order(1, 30*time.Minute)
		p := f.pay(o, "4000000000001000", "")
		f.announced()
		send := func(ev []byte, secret string) error {
			h := http.Header{}
			h.Set(payments.SandboxHeader, payments.Sign(secret, f.clock.Now(), ev))
			_, err := f.svc.Webhook(f.ctx, "sandbox", h, ev)
			return err
		}
		ev := payments.SandboxEvent("evt_1", payments.Result{ID: p.ProviderID, State: payments.Succeeded, Amount: 299, Currency: "EUR"}, f.clock.Now())
		if err := send(ev, "wrong"); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("bad signature: %v", err)
		}
		if got, _ := f.db.Payment(f.ctx, p.ID); got.State != payments.Pending {
			t.Fatalf("a bad signature changed the payment: %+v", got)
		}
		for range 3 {
			if err := send(ev, "s"); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.announced(); len(got) != 1 || got[0] != payments.Succeeded || f.state(o) != commerce.OrderPaid {
			t.Fatalf("announced %v, order %s", got, f.state(o))
		}
		o2 := f.order(1, 30*time.Minute)
		p2 := f.pay(o2, "4000000000001000", "")
		wrong := payments.SandboxEvent("evt_3", payments.Result{ID: p2.ProviderID, State: payments.Succeeded, Amount: 1, Currency: "EUR"}, f.clock.Now())
		if err := send(wrong, "s"); kontor.KindOf(err) != kontor.Internal || f.state(o2) != commerce.OrderPending {
			t.Fatalf("an event with another amount: %v, order %s", err, f.state(o2))
		}
		unknown := payments.SandboxEvent("evt_4", payments.Result{ID: "sbx_none", State: payments.Succeeded}, f.clock.Now())
		if err := send(unknown, "s"); err != nil {
			t.Fatalf("unknown charge: %v", err)
		}
		if _, err := f.svc.Webhook(f.ctx, "paypal", http.Header{}, ev); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("unknown provider: %v", err)
		}
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestOrderPayment: the state of an order's payment as its customer asks
// for it: none yet, pending, settled once the provider decided, the
// declined attempt when no other came after it.
func TestOrderPayment(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		o := f.order(1, 30*time.Minute)
		if _, err := f.svc.OrderPayment(f.ctx, ann, o.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("before paying: %v", err)
		}
		a := f.pay(o, "4000000000001000", "")
		cases := []struct {
			name    string
			who     kontor.Phone
			order   kontor.ID
			advance time.Duration
			want    payments.State // "": not found
		}{
			{"pending", ann, o.ID, 0, payments.Pending},
			{"someone else's order", bob, o.ID, 0, ""},
			{"no such order", ann, f.ids.Next(), 0, ""},
			{"settled after the card's delay", ann, o.ID, time.Minute, payments.Succeeded},
			{"settled stays settled", ann, o.ID, 0, payments.Succeeded},
		}
		for _, c := range cases {
			f.clock.Add(c.advance)
			p, err := f.svc.OrderPayment(f.ctx, c.who, c.order)
			if c.want == "" {
				if kontor.KindOf(err) != kontor.NotFound {
					t.Fatalf("%s: %+v %v", c.name, p, err)
				}
				continue
			}
			if err != nil || p.ID != a.ID || p.State != c.want {
				t.Fatalf("%s: %+v %v", c.name, p, err)
			}
		}
		if f.state(o) != commerce.OrderPaid {
			t.Fatalf("order %s after the pending payment settled", f.state(o))
		}
		d := f.order(1, 30*time.Minute)
		declined := f.pay(d, "4000000000000002", "")
		if p, err := f.svc.OrderPayment(f.ctx, ann, d.ID); err != nil || p.ID != declined.ID || p.State != payments.Declined {
			t.Fatalf("declined: %+v %v", p, err)
		}
	})
}
