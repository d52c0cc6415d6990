package bizapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/internal/payments"
	"github.com/kontor-chat/kontor/wire"
)

const sandboxSecret = "sandbox-test-secret"

// shopForPay starts a business with a webhook receiver, a catalog with
// roses (5 in stock) and the cart turned on.
func shopForPay(t *testing.T, s *kontortest.Server) (hook *receiver, token, productID string) {
	t.Helper()
	hook = newReceiver(t)
	shop := s.Shop(t, kontortest.ShopOptions{WebhookURL: hook.srv.URL, Products: []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "currency": "EUR", "inventory": 5}}})
	hook.useSecret(shop.Secret)
	return hook, shop.Token, shop.Products["rose"]
}

// paymentStatus waits for the business's payment status webhook of order
// in status.
func paymentStatus(t *testing.T, hook *receiver, order, status string) cloudapi.Status {
	t.Helper()
	v := hook.wait("payment "+status+" of order "+order, func(v cloudapi.MessagesValue) bool {
		for _, st := range v.Statuses {
			if st.Type == "payment" && st.Status == status && st.Payment != nil && st.Payment.ReferenceID == order {
				return true
			}
		}
		return false
	})
	for _, st := range v.Statuses {
		if st.Type == "payment" && st.Status == status && st.Payment.ReferenceID == order {
			return st
		}
	}
	panic("unreachable")
}

// countStatuses counts the payment status webhooks of order in status
// received so far.
func countStatuses(hook *receiver, order, status string) int {
	hook.mu.Lock()
	defer hook.mu.Unlock()
	n := 0
	for _, v := range hook.got {
		for _, st := range v.Statuses {
			if st.Type == "payment" && st.Status == status && st.Payment != nil && st.Payment.ReferenceID == order {
				n++
			}
		}
	}
	return n
}

// TestPayments: through the real server, a person pays an order in the
// chat with the sandbox's test cards: a decline leaves the order pending
// with its stock; the success card pays it and the business gets the
// signed payment status webhook; paying again charges nothing more; a
// pending card succeeds later (the sandbox's signed webhook); nobody pays
// another's order; a refund by the business goes through the provider;
// provider webhooks with bad or stale signatures are refused.
func TestPayments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := kontortest.Start(t, kontortest.WithConfig(func(c *config.Config) {
		c.SandboxDelay = 300 * time.Millisecond
		c.SandboxSecret = sandboxSecret
	}))
	hook, token, product := shopForPay(t, s)
	stock := func() float64 {
		t.Helper()
		code, out := api(t, s, http.MethodGet, "/v21.0/"+product+"?fields=inventory", token, nil)
		if code != 200 {
			t.Fatalf("product: %d %v", code, out)
		}
		return out["inventory"].(float64)
	}
	orderStatus := func(id string) string {
		t.Helper()
		code, out := api(t, s, http.MethodGet, "/v21.0/"+id, token, nil)
		if code != 200 {
			t.Fatalf("order: %d %v", code, out)
		}
		return out["status"].(string)
	}
	ann := newPerson(ctx, t, s, "+4915100000001")
	bob := newPerson(ctx, t, s, "+4915100000002")
	placed, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 2}, "")
	if err != nil || placed.Status != "placed" {
		t.Fatalf("place: %+v %v", placed, err)
	}
	id := placed.OrderID
	if _, err := ann.c.API().OrderPayment(ctx, id); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("an order nobody paid yet: %v", err)
	}

	// Declined: nothing taken, the order stays pending, its stock reserved.
	out, err := ann.c.API().PayOrder(ctx, id, "4000 0000 0000 0002", "")
	if err != nil || out.Status != wire.PaymentDeclined || out.Reason != "card_declined" || out.OrderStatus != "pending" || out.Amount != 598 || out.Currency != "EUR" {
		t.Fatalf("declined: %+v %v", out, err)
	}
	declined := out.PaymentID
	if st := paymentStatus(t, hook, id, "failed"); st.Payment.Transaction.Status != "failed" || st.Payment.Transaction.Error == nil || st.Payment.Transaction.Error.Reason != "card_declined" {
		t.Fatalf("failed webhook: %+v", st.Payment)
	}
	if orderStatus(id) != "pending" || stock() != 3 {
		t.Fatalf("after the decline: %s, stock %v", orderStatus(id), stock())
	}
	// Not a card, not a test card, someone else's order: refused.
	if _, err := ann.c.API().PayOrder(ctx, id, "4242", ""); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("not a card: %v", err)
	}
	if _, err := ann.c.API().PayOrder(ctx, id, "4111111111111111", ""); kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), "test cards") {
		t.Fatalf("a real card number: %v", err)
	}
	if _, err := bob.c.API().PayOrder(ctx, id, "4242424242424242", ""); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("bob pays ann's order: %v", err)
	}
	if _, err := ann.c.API().PayOrder(ctx, "12345", "4242424242424242", ""); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("no such order: %v", err)
	}

	// Success: the order is paid, the business told (signed: the receiver
	// checks every signature).
	out, err = ann.c.API().PayOrder(ctx, id, "4242424242424242", "retry-me")
	if err != nil || out.Status != wire.PaymentSucceeded || out.OrderStatus != "paid" || out.Card != "visa 4242" || out.PaymentID == declined {
		t.Fatalf("success: %+v %v", out, err)
	}
	paid := out.PaymentID
	st := paymentStatus(t, hook, id, "captured")
	p := st.Payment
	if st.ID != paid || st.RecipientID != "4915100000001" || p.Amount != (cloudapi.PaymentAmount{Value: 598, Offset: 100}) || p.Currency != "EUR" ||
		p.Transaction.ID != paid || p.Transaction.Type != "sandbox" || p.Transaction.Status != "success" || p.Transaction.PGTransactionID == "" {
		t.Fatalf("captured webhook: %+v %+v", st, p)
	}
	if orderStatus(id) != "paid" || stock() != 3 {
		t.Fatalf("after paying: %s, stock %v", orderStatus(id), stock())
	}
	// Paying again — the same key, no key, another card — returns the
	// one payment: charged once.
	for _, again := range []struct{ card, key string }{{"4242424242424242", "retry-me"}, {"4242424242424242", ""}, {"5555555555554444", "other"}} {
		out, err := ann.c.API().PayOrder(ctx, id, again.card, again.key)
		if err != nil || out.PaymentID != paid || out.Status != wire.PaymentSucceeded {
			t.Fatalf("pay again %+v: %+v %v", again, out, err)
		}
	}

	// Pending, then the sandbox's signed webhook completes it.
	second, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 1}, "")
	if err != nil || second.Status != "placed" {
		t.Fatalf("place: %+v %v", second, err)
	}
	out, err = ann.c.API().PayOrder(ctx, second.OrderID, "4000000000001000", "")
	if err != nil || out.Status != wire.PaymentPending || out.OrderStatus != "pending" {
		t.Fatalf("pending: %+v %v", out, err)
	}
	// The device asks after it (GET /v1/orders/{id}/payment) until it
	// settles; nobody else may.
	if _, err := bob.c.API().OrderPayment(ctx, second.OrderID); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("bob asks after ann's payment: %v", err)
	}
	if _, err := ann.c.API().OrderPayment(ctx, "not-an-id"); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("a bad order id: %v", err)
	}
	for polled := 0; ; polled++ {
		now, err := ann.c.API().OrderPayment(ctx, second.OrderID)
		if err != nil || now.PaymentID != out.PaymentID {
			t.Fatalf("poll: %+v %v", now, err)
		}
		if now.Status == wire.PaymentSucceeded && now.OrderStatus == "paid" {
			break
		}
		if now.Status != wire.PaymentPending || polled > 100 {
			t.Fatalf("poll %d: %+v", polled, now)
		}
		time.Sleep(50 * time.Millisecond)
	}
	paymentStatus(t, hook, second.OrderID, "pending")
	paymentStatus(t, hook, second.OrderID, "captured")
	if orderStatus(second.OrderID) != "paid" {
		t.Fatalf("after the pending card: %s", orderStatus(second.OrderID))
	}
	if again, err := ann.c.API().PayOrder(ctx, second.OrderID, "4000000000001000", ""); err != nil || again.PaymentID != out.PaymentID || again.Status != wire.PaymentSucceeded {
		t.Fatalf("the pending payment afterwards: %+v %v", again, err)
	}

	// Provider webhooks: a bad signature, a stale one, an unknown
	// provider are refused; a replayed event changes nothing.
	charge := st.Payment.Transaction.PGTransactionID
	ev := payments.SandboxEvent("evt_test_1", payments.Result{ID: charge, State: payments.Succeeded, Amount: 598, Currency: "EUR"}, time.Now())
	post := func(provider, sig string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/payments/webhook/"+provider, bytes.NewReader(body))
		req.Header.Set(payments.SandboxHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("sandbox", payments.Sign("wrong secret", time.Now(), ev), ev); code != 400 {
		t.Fatalf("bad signature: %d", code)
	}
	if code := post("sandbox", payments.Sign(sandboxSecret, time.Now().Add(-10*time.Minute), ev), ev); code != 400 {
		t.Fatalf("stale signature: %d", code)
	}
	if code := post("sandbox", "", ev); code != 400 {
		t.Fatalf("no signature: %d", code)
	}
	if code := post("paypal", payments.Sign(sandboxSecret, time.Now(), ev), ev); code != 404 {
		t.Fatalf("unknown provider: %d", code)
	}
	before := countStatuses(hook, id, "captured")
	for range 2 {
		if code := post("sandbox", payments.Sign(sandboxSecret, time.Now(), ev), ev); code != 200 {
			t.Fatalf("replayed event: %d", code)
		}
	}

	// The business refunds: through the provider, the order refunded.
	code, got := api(t, s, http.MethodPost, "/v21.0/"+id, token, map[string]any{"status": "refunded"})
	if code != 200 || got["status"] != "refunded" {
		t.Fatalf("refund: %d %v", code, got)
	}
	rs := paymentStatus(t, hook, id, "refunded")
	if rs.Payment.Transaction.RefundID == "" || rs.Payment.Transaction.Status != "refunded" || rs.ID != paid {
		t.Fatalf("refunded webhook: %+v", rs.Payment)
	}
	if n := countStatuses(hook, id, "captured"); n != before || n != 1 {
		t.Fatalf("%d captured webhooks for one payment (%d before the replay)", n, before)
	}
	if code, got := api(t, s, http.MethodPost, "/v21.0/"+id, token, map[string]any{"status": "refunded"}); code != 400 || errCode(got) != 131009 {
		t.Fatalf("refund twice: %d %v", code, got)
	}
	if out, err := ann.c.API().PayOrder(ctx, id, "4242424242424242", ""); err != nil || out.Status != wire.PaymentRefunded || out.OrderStatus != "refunded" {
		t.Fatalf("paying a refunded order: %+v %v", out, err)
	}
	hook.mu.Lock()
	bad := hook.bad
	hook.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d webhooks were not signed right", bad)
	}
}

// TestPayExpired: an order whose reservation ran out cannot be paid (the
// reservation sweep gives its stock back).
func TestPayExpired(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := kontortest.Start(t, kontortest.WithConfig(func(c *config.Config) { c.OrderHold = time.Second }))
	_, _, _ = shopForPay(t, s)
	ann := newPerson(ctx, t, s, "+4915100000001")
	placed, err := ann.c.API().PlaceOrder(ctx, "+4930111111", map[string]int{"rose": 5}, "")
	if err != nil || placed.Status != "placed" {
		t.Fatalf("place: %+v %v", placed, err)
	}
	time.Sleep(time.Until(time.UnixMilli(placed.Expires)) + 10*time.Millisecond) // let the reservation run out
	_, err = ann.c.API().PayOrder(ctx, placed.OrderID, "4242424242424242", "")
	if kontor.KindOf(err) != kontor.Conflict || !strings.Contains(kontor.MessageOf(err), "expired") {
		t.Fatalf("paying an expired order: %v", err)
	}
}
