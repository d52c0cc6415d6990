package payments_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
)

// stripeMock returns the address of Stripe's stripe-mock
// (KONTOR_TEST_STRIPE_MOCK, e.g. http://127.0.0.1:12111; .ci/run starts
// one). Without it the test is skipped, or fails when CI is set.
func stripeMock(t *testing.T) string {
	t.Helper()
	u := os.Getenv("KONTOR_TEST_STRIPE_MOCK")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KONTOR_TEST_STRIPE_MOCK is not set, but CI is: the Stripe provider must be tested against stripe-mock in CI")
		}
		t.Skip("KONTOR_TEST_STRIPE_MOCK not set: skipping the tests against stripe-mock (go install github.com/stripe/stripe-mock@v0.203.0; stripe-mock -http-addr 127.0.0.1:12111 -https-addr 127.0.0.1:12112)")
	}
	return u
}

// recorded is a request as it went to Stripe.
type recorded struct {
	method, path, auth, key, contentType string
	form                                 url.Values
}

// recorder is a proxy in front of stripe-mock that keeps what kontor sent.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	srv  *httptest.Server
}

func newRecorder(t *testing.T, target string) *recorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Header.Get("Authorization"), req.Header.Get("Idempotency-Key"), req.Header.Get("Content-Type"), form})
		r.mu.Unlock()
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) last() recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

// TestStripeMock: kontor's requests are the ones Stripe's API takes
// (stripe-mock checks every parameter against Stripe's OpenAPI
// description and answers with its fixtures), and the answers map as
// they should.
func TestStripeMock(t *testing.T) {
	rec := newRecorder(t, stripeMock(t))
	ctx := context.Background()
	st := payments.NewStripe(payments.StripeConfig{Key: "sk_test_123", URL: rec.srv.URL})

	method, display, err := st.Method("4242 4242 4242 4242")
	if err != nil || method != "pm_card_visa" || display != "visa 4242" {
		t.Fatalf("method: %q %q %v", method, display, err)
	}
	r, err := st.Charge(ctx, payments.Charge{Key: "pay-1", Amount: 1999, Currency: "EUR", Method: method, Order: 42, Payment: 43, Description: "kontor order 42"})
	if err != nil {
		t.Fatalf("charge: %v", err)
	}
	// stripe-mock answers a fixture in requires_payment_method (after a
	// confirm: the card failed), reflecting amount and currency.
	if !strings.HasPrefix(r.ID, "pi_") || r.Amount != 1999 || r.Currency != "EUR" || r.State != payments.Declined {
		t.Fatalf("charge result: %+v", r)
	}
	got := rec.last()
	want := url.Values{"amount": {"1999"}, "currency": {"eur"}, "payment_method": {"pm_card_visa"}, "confirm": {"true"}, "payment_method_types[]": {"card"},
		"description": {"kontor order 42"}, "metadata[kontor_order]": {"42"}, "metadata[kontor_payment]": {"43"}}
	if got.method != http.MethodPost || got.path != "/v1/payment_intents" || got.key != "pay-1" || got.auth != "Bearer sk_test_123" ||
		got.contentType != "application/x-www-form-urlencoded" || got.form.Encode() != want.Encode() {
		t.Fatalf("request: %+v", got)
	}

	r, err = st.Lookup(ctx, "pi_123")
	if err != nil || r.ID != "pi_123" || r.State != payments.Declined {
		t.Fatalf("lookup: %+v %v", r, err)
	}
	if got := rec.last(); got.method != http.MethodGet || got.path != "/v1/payment_intents/pi_123" || got.key != "" {
		t.Fatalf("lookup request: %+v", got)
	}
	if _, err = st.Cancel(ctx, "pi_123", "cancel-1"); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if got := rec.last(); got.path != "/v1/payment_intents/pi_123/cancel" || got.key != "cancel-1" || got.contentType != "application/x-www-form-urlencoded" {
		t.Fatalf("cancel request: %+v", got)
	}
	id, err := st.Refund(ctx, payments.RefundRequest{Key: "refund-1", ID: "pi_123", Amount: 500, Currency: "EUR", Reason: "refunded by the business"})
	if err != nil || !strings.HasPrefix(id, "re_") {
		t.Fatalf("refund: %q %v", id, err)
	}
	if got := rec.last(); got.path != "/v1/refunds" || got.key != "refund-1" || got.form.Get("payment_intent") != "pi_123" || got.form.Get("amount") != "500" {
		t.Fatalf("refund request: %+v", got)
	}

	// What Stripe refuses comes back as a clear kontor error.
	wrongURL := payments.NewStripe(payments.StripeConfig{Key: "sk_test_123", URL: rec.srv.URL + "/nope"})
	_, err = wrongURL.Charge(ctx, payments.Charge{Key: "pay-2", Amount: 1999, Currency: "EUR", Method: "pm_card_visa"})
	var se *payments.StripeError
	if kontor.KindOf(err) != kontor.NotFound || !errors.As(err, &se) || se.Type != "invalid_request_error" || se.Status != 404 ||
		!errors.Is(err, payments.ErrProvider) || !strings.Contains(se.Message, "Unrecognized request URL") {
		t.Fatalf("a wrong --stripe-url: %v", err)
	}
	noKey := payments.NewStripe(payments.StripeConfig{URL: rec.srv.URL})
	if _, err := noKey.Lookup(ctx, "pi_123"); kontor.KindOf(err) != kontor.Unavailable || !errors.As(err, &se) || se.Status != 401 {
		t.Fatalf("without a key: %v", err)
	}
}

// TestStripeAnswers: Stripe's answers that stripe-mock does not make —
// declines, 3-D Secure, idempotency conflicts, rate limits, outages —
// from a server that answers as Stripe documents.
func TestStripeAnswers(t *testing.T) {
	intent := func(status string) string {
		return `{"id":"pi_1","object":"payment_intent","amount":1999,"currency":"eur","status":"` + status + `"}`
	}
	tests := []struct {
		name   string
		status int
		body   string
		state  payments.State
		reason string
		kind   kontor.Kind
	}{
		{"succeeded", 200, intent("succeeded"), payments.Succeeded, "", 0},
		{"processing", 200, intent("processing"), payments.Pending, "", 0},
		{"requires_action", 200, intent("requires_action"), payments.Declined, "the card needs authentication (3-D Secure), which payments in the chat do not support yet", 0},
		{"canceled", 200, `{"id":"pi_1","object":"payment_intent","amount":1999,"currency":"eur","status":"canceled","cancellation_reason":"abandoned"}`, payments.Canceled, "abandoned", 0},
		{"card declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.",
			"payment_intent":{"id":"pi_1","object":"payment_intent","amount":1999,"currency":"eur","status":"requires_payment_method",
			"last_payment_error":{"code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}}}`, payments.Declined, "insufficient_funds", 0},
		{"card error without intent", 402, `{"error":{"type":"card_error","code":"card_declined","message":"declined"}}`, "", "", kontor.Invalid},
		{"idempotency conflict", 409, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`, "", "", kontor.Conflict},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`, "", "", kontor.RateLimited},
		{"outage", 500, `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`, "", "", kontor.Unavailable},
		{"not Stripe's JSON", 502, `<html>bad gateway</html>`, "", "", kontor.Unavailable},
		{"bad key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****"}}`, "", "", kontor.Unavailable},
		{"garbled success", 200, `{"id":`, "", "", kontor.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cancels int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/cancel") {
					cancels++
					w.Write([]byte(intent("canceled")))
					return
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			st := payments.NewStripe(payments.StripeConfig{Key: "sk_test_1", URL: srv.URL})
			r, err := st.Charge(context.Background(), payments.Charge{Key: "k", Amount: 1999, Currency: "EUR", Method: "pm_card_visa"})
			if tt.kind != 0 {
				if kontor.KindOf(err) != tt.kind {
					t.Fatalf("Charge = %+v, %v; want a %v error", r, err, tt.kind)
				}
				if tt.kind == kontor.Unavailable && strings.Contains(kontor.MessageOf(err), "sk_test") {
					t.Fatalf("the key leaks into the message: %q", kontor.MessageOf(err))
				}
				return
			}
			if err != nil || r.State != tt.state || r.Reason != tt.reason || r.ID != "pi_1" || r.Amount != 1999 || r.Currency != "EUR" {
				t.Fatalf("Charge = %+v, %v; want %s %q", r, err, tt.state, tt.reason)
			}
			if (tt.name == "requires_action") != (cancels == 1) {
				t.Fatalf("%d cancels", cancels)
			}
		})
	}
}

func TestStripeMethod(t *testing.T) {
	test := payments.NewStripe(payments.StripeConfig{Key: "sk_test_1"})
	live := payments.NewStripe(payments.StripeConfig{Key: "sk_live_1"})
	for _, tt := range []struct {
		p          *payments.Stripe
		card, want string
	}{
		{test, "pm_1PgafyB7WZ01zgkW", "pm_1PgafyB7WZ01zgkW"},
		{live, "pm_1PgafyB7WZ01zgkW", "pm_1PgafyB7WZ01zgkW"},
		{test, "4000000000000002", "pm_card_chargeDeclined"},
		{live, "4242424242424242", ""},
		{test, "4111111111111111", ""},
		{test, "pm_x&amount=1", ""},
		{test, "tok_visa", ""},
	} {
		m, _, err := tt.p.Method(tt.card)
		if (tt.want == "") != (err != nil) || m != tt.want {
			t.Errorf("Method(%q) = %q %v, want %q", tt.card, m, err, tt.want)
		}
	}
}

// TestStripeWebhook: signed test events as Stripe sends them.
func TestStripeWebhook(t *testing.T) {
	const secret = "whsec_test"
	st := payments.NewStripe(payments.StripeConfig{Key: "sk_test_1", WebhookSecret: secret})
	now := time.Now()
	ev := func(typ, object string) []byte {
		return []byte(`{"id":"evt_1","object":"event","type":"` + typ + `","created":1,"livemode":false,"data":{"object":` + object + `}}`)
	}
	succeeded := ev("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":1999,"currency":"eur","status":"succeeded"}`)
	tests := []struct {
		name   string
		body   []byte
		header string
		state  payments.State
		charge string
		ok     bool
	}{
		{"succeeded", succeeded, payments.Sign(secret, now, succeeded), payments.Succeeded, "pi_1", true},
		{"with kontor's metadata", ev("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":1,"currency":"eur","status":"succeeded","metadata":{"kontor_payment":"43"}}`), "", payments.Succeeded, "pi_1", true},
		{"old and new secret", succeeded, payments.Sign("whsec_old", now, succeeded) + "," + strings.Split(payments.Sign(secret, now, succeeded), ",")[1], payments.Succeeded, "pi_1", true},
		{"payment failed", ev("payment_intent.payment_failed", `{"id":"pi_2","object":"payment_intent","amount":1999,"currency":"eur","status":"requires_payment_method","last_payment_error":{"decline_code":"expired_card"}}`), "", payments.Declined, "pi_2", true},
		{"processing", ev("payment_intent.processing", `{"id":"pi_3","object":"payment_intent","amount":5,"currency":"jpy","status":"processing"}`), "", payments.Pending, "pi_3", true},
		{"refunded", ev("charge.refunded", `{"id":"ch_1","object":"charge","payment_intent":"pi_1","amount":1999,"currency":"eur","refunded":true}`), "", payments.Refunded, "pi_1", true},
		{"partly refunded", ev("charge.refunded", `{"id":"ch_1","object":"charge","payment_intent":"pi_1","amount":1999,"currency":"eur","refunded":false}`), "", "", "pi_1", true},
		{"created: not acted on", ev("payment_intent.created", `{"id":"pi_4","object":"payment_intent","amount":1,"currency":"eur","status":"requires_payment_method"}`), "", "", "pi_4", true},
		{"another event", ev("customer.created", `{"id":"cus_1","object":"customer"}`), "", "", "", true},
		{"bad signature", succeeded, payments.Sign("whsec_other", now, succeeded), "", "", false},
		{"stale", succeeded, payments.Sign(secret, now.Add(-6*time.Minute), succeeded), "", "", false},
		{"no signature", succeeded, "-", "", "", false},
		{"not an event", []byte(`{"id":"pi_1","object":"payment_intent"}`), "", "", "", false},
		{"no intent", ev("payment_intent.succeeded", `"pi_1"`), "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			switch tt.header {
			case "":
				h.Set(payments.StripeHeader, payments.Sign(secret, now, tt.body))
			case "-":
			default:
				h.Set(payments.StripeHeader, tt.header)
			}
			got, err := st.Webhook(h, tt.body, now)
			if !tt.ok {
				if kontor.KindOf(err) != kontor.Invalid {
					t.Fatalf("Webhook = %+v, %v; want refused", got, err)
				}
				return
			}
			if err != nil || got.State != tt.state || got.Charge != tt.charge || got.ID != "evt_1" {
				t.Fatalf("Webhook = %+v, %v; want %s of %s", got, err, tt.state, tt.charge)
			}
		})
	}
}

// FuzzParseStripeEvent: no body makes the event parser panic.
func FuzzParseStripeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","status":"succeeded"}}}`))
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","refunded":true,"payment_intent":"pi_1"}}}`))
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := payments.ParseStripeEvent(body)
		if err == nil && ev.ID == "" {
			t.Fatalf("an event without an id: %+v", ev)
		}
	})
}

// TestStripeEventOvertakes: Stripe's webhook for a charge arrives before
// Stripe's answer to the charge itself; the event finds its payment by
// metadata[kontor_payment], pays the order, and the late answer changes
// nothing more.
func TestStripeEventOvertakes(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		const secret = "whsec_test"
		var svc *payments.Service
		var events int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			pi := `{"id":"pi_fast","object":"payment_intent","amount":` + r.Form.Get("amount") + `,"currency":"` + r.Form.Get("currency") +
				`","status":"succeeded","metadata":{"kontor_order":"` + r.Form.Get("metadata[kontor_order]") + `","kontor_payment":"` + r.Form.Get("metadata[kontor_payment]") + `"}}`
			body := []byte(`{"id":"evt_fast","object":"event","type":"payment_intent.succeeded","data":{"object":` + pi + `}}`)
			h := http.Header{}
			h.Set(payments.StripeHeader, payments.Sign(secret, f.clock.Now(), body))
			if _, err := svc.Webhook(r.Context(), "stripe", h, body); err != nil {
				t.Errorf("webhook: %v", err)
			}
			// The event alone paid it, before the answer.
			id, _ := kontor.ParseID(r.Form.Get("metadata[kontor_payment]"))
			if p, err := f.db.Payment(r.Context(), id); err != nil || p.State != payments.Succeeded || p.ProviderID != "pi_fast" {
				t.Errorf("after the event: %+v %v", p, err)
			}
			events++
			w.Write([]byte(pi))
		}))
		defer srv.Close()
		st := payments.NewStripe(payments.StripeConfig{Key: "sk_test_1", URL: srv.URL, WebhookSecret: secret})
		var err error
		svc, err = payments.New(payments.Config{Providers: []payments.Provider{st}, Default: "stripe"}, f.db, f.db, f.ids, f.clock, discard(),
			func(_ context.Context, p payments.Payment) error { f.seen <- p; return nil })
		if err != nil {
			t.Fatal(err)
		}
		o := f.order(1, 30*time.Minute)
		p, err := svc.Pay(f.ctx, payments.PayRequest{Order: o.ID, Customer: ann, Card: "4242424242424242"})
		if err != nil || p.State != payments.Succeeded || p.ProviderID != "pi_fast" || f.state(o) != commerce.OrderPaid || events != 1 {
			t.Fatalf("pay: %+v %v, order %s, %d events", p, err, f.state(o), events)
		}
		if got := f.announced(); len(got) != 1 || got[0] != payments.Succeeded {
			t.Fatalf("announced %v", got)
		}
	})
}
