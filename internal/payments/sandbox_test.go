package payments_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/payments"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(time.Now().UnixMilli())} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSandboxMethod(t *testing.T) {
	sb := payments.NewSandbox(payments.SandboxConfig{})
	tests := []struct {
		card, method, display string
		kind                  kontor.Kind
	}{
		{"4242424242424242", "4242424242424242", "visa 4242", 0},
		{"4242 4242 4242 4242", "4242424242424242", "visa 4242", 0},
		{"5555-5555-5555-4444", "5555555555554444", "mastercard 4444", 0},
		{"4000000000001000", "4000000000001000", "visa 1000", 0},
		{"4111111111111111", "", "", kontor.Invalid},     // a valid number, not a test card: never taken
		{"4242424242424241", "", "", kontor.Invalid},     // bad check digit
		{"4242", "", "", kontor.Invalid},                 // too short
		{"42424242424242424242", "", "", kontor.Invalid}, // too long
		{"4242abcd42424242", "", "", kontor.Invalid},
		{"", "", "", kontor.Invalid},
	}
	for _, tt := range tests {
		m, d, err := sb.Method(tt.card)
		if tt.kind != 0 {
			if kontor.KindOf(err) != tt.kind {
				t.Errorf("Method(%q) = %q, %v; want a %v error", tt.card, m, err, tt.kind)
			}
			continue
		}
		if err != nil || m != tt.method || d != tt.display {
			t.Errorf("Method(%q) = %q %q %v; want %q %q", tt.card, m, d, err, tt.method, tt.display)
		}
	}
}

func TestSandboxCharges(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	sb := payments.NewSandbox(payments.SandboxConfig{Delay: time.Minute, Clock: c, Secret: "s"})
	for _, card := range payments.TestCards {
		t.Run(card.Number, func(t *testing.T) {
			r, err := sb.Charge(ctx, payments.Charge{Key: "k-" + card.Number, Amount: 1999, Currency: "EUR", Method: card.Number})
			if err != nil || r.State != card.Outcome || r.Amount != 1999 || r.Currency != "EUR" || r.ID == "" {
				t.Fatalf("charge: %+v %v", r, err)
			}
			if card.Outcome == payments.Declined && r.Reason != card.Reason {
				t.Fatalf("reason %q, want %q", r.Reason, card.Reason)
			}
			// The same key: the same charge, even after the card's
			// outcome would be different.
			again, _ := sb.Charge(ctx, payments.Charge{Key: "k-" + card.Number, Amount: 1999, Currency: "EUR", Method: card.Number})
			if again != r {
				t.Fatalf("same key, another answer: %+v, first %+v", again, r)
			}
			other, _ := sb.Charge(ctx, payments.Charge{Key: "other-" + card.Number, Amount: 1999, Currency: "EUR", Method: card.Number})
			if other.ID == r.ID {
				t.Fatal("another key, the same charge")
			}
			look, err := sb.Lookup(ctx, r.ID)
			if err != nil || look.State != r.State {
				t.Fatalf("lookup: %+v %v", look, err)
			}
		})
	}
	// A pending card completes after the delay, as the card says; a
	// pending one can be canceled before.
	p, _ := sb.Charge(ctx, payments.Charge{Key: "p1", Amount: 500, Currency: "JPY", Method: "4000000000001000"})
	q, _ := sb.Charge(ctx, payments.Charge{Key: "p2", Amount: 500, Currency: "JPY", Method: "4000000000001018"})
	x, _ := sb.Charge(ctx, payments.Charge{Key: "p3", Amount: 500, Currency: "JPY", Method: "4000000000001000"})
	if r, _ := sb.Cancel(ctx, x.ID, "c"); r.State != payments.Canceled {
		t.Fatalf("cancel pending: %+v", r)
	}
	if _, err := sb.Refund(ctx, payments.RefundRequest{Key: "r0", ID: p.ID, Amount: 500}); kontor.KindOf(err) != kontor.Conflict {
		t.Fatalf("refund of a pending charge: %v", err)
	}
	c.Add(time.Minute)
	if r, _ := sb.Lookup(ctx, p.ID); r.State != payments.Succeeded {
		t.Fatalf("pending card after the delay: %+v", r)
	}
	if r, _ := sb.Lookup(ctx, q.ID); r.State != payments.Declined || r.Reason != "card_declined" {
		t.Fatalf("pending-then-declined card after the delay: %+v", r)
	}
	if r, _ := sb.Cancel(ctx, p.ID, "c2"); r.State != payments.Succeeded {
		t.Fatalf("cancel after success: %+v", r)
	}
	r1, err := sb.Refund(ctx, payments.RefundRequest{Key: "r1", ID: p.ID, Amount: 500})
	r2, _ := sb.Refund(ctx, payments.RefundRequest{Key: "r1", ID: p.ID, Amount: 500})
	if err != nil || r1 == "" || r1 != r2 {
		t.Fatalf("refund: %q %q %v", r1, r2, err)
	}
	if _, err := sb.Refund(ctx, payments.RefundRequest{Key: "r2", ID: p.ID, Amount: 501}); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("refund more than was paid: %v", err)
	}
	if _, err := sb.Lookup(ctx, "pi_123"); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("lookup of another provider's id: %v", err)
	}
	if _, err := sb.Charge(ctx, payments.Charge{Key: "z", Amount: 0, Currency: "EUR", Method: "4242424242424242"}); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("charge of 0: %v", err)
	}
}

func TestSandboxWebhook(t *testing.T) {
	c := newClock()
	sb := payments.NewSandbox(payments.SandboxConfig{Clock: c, Secret: "s"})
	body := payments.SandboxEvent("evt_1", payments.Result{ID: "sbx_x", State: payments.Succeeded, Amount: 100, Currency: "EUR"}, c.Now())
	h := http.Header{}
	h.Set(payments.SandboxHeader, payments.Sign("s", c.Now(), body))
	ev, err := sb.Webhook(h, body, c.Now())
	if err != nil || ev.ID != "evt_1" || ev.Charge != "sbx_x" || ev.State != payments.Succeeded || ev.Amount != 100 || ev.Currency != "EUR" {
		t.Fatalf("event: %+v %v", ev, err)
	}
	h.Set(payments.SandboxHeader, payments.Sign("t", c.Now(), body))
	if _, err := sb.Webhook(h, body, c.Now()); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("bad signature: %v", err)
	}
	h.Set(payments.SandboxHeader, payments.Sign("s", c.Now(), []byte("{}")))
	if _, err := sb.Webhook(h, []byte("{}"), c.Now()); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("not an event: %v", err)
	}
}
