package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// StripeName is the Stripe provider's name.
const StripeName = "stripe"

// StripeHeader carries Stripe's webhook signature.
const StripeHeader = "Stripe-Signature"

// StripeConfig configures the Stripe provider.
type StripeConfig struct {
	// Key is the secret API key (sk_live_… or sk_test_…).
	Key string
	// URL is the API's base URL (default https://api.stripe.com);
	// tests point it at stripe-mock.
	URL string
	// WebhookSecret is the webhook endpoint's signing secret (whsec_…).
	WebhookSecret string
	// HTTP is the client to use (default: one with a 30 s timeout).
	HTTP *http.Client
}

// Stripe speaks Stripe's REST API: PaymentIntents and refunds, form
// encoded, every POST with an Idempotency-Key.
type Stripe struct {
	cfg StripeConfig
}

// NewStripe returns the Stripe provider.
func NewStripe(cfg StripeConfig) *Stripe {
	if cfg.URL == "" {
		cfg.URL = "https://api.stripe.com"
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	return &Stripe{cfg: cfg}
}

// Name is "stripe".
func (*Stripe) Name() string { return StripeName }

// Method takes a Stripe PaymentMethod id (pm_…, made by Stripe's client
// libraries so that no card number passes kontor), or, for test mode, one
// of the test card numbers that Stripe has a test PaymentMethod for.
func (s *Stripe) Method(card string) (string, string, error) {
	const op = "stripe.Method"
	card = strings.TrimSpace(card)
	if strings.HasPrefix(card, "pm_") && len(card) <= 255 && !strings.ContainsAny(card, " \t\r\n&=") {
		return card, "card " + card, nil
	}
	if n, ok := cardNumber(card); ok {
		if c, ok := testCard(n); ok && c.Stripe != "" {
			if strings.HasPrefix(s.cfg.Key, "sk_live_") {
				return "", "", kontor.Errorf(kontor.Invalid, op, "test cards do not pay in live mode; give a Stripe PaymentMethod id (pm_…)")
			}
			return c.Stripe, c.Brand + " " + n[len(n)-4:], nil
		}
	}
	return "", "", kontor.Errorf(kontor.Invalid, op, "with Stripe, pay with a PaymentMethod id (pm_…) from Stripe's client libraries, or in test mode with one of Stripe's test cards (docs/commerce.md)")
}

// stripeIntent is the part of a PaymentIntent kontor reads.
type stripeIntent struct {
	ID               string `json:"id"`
	Object           string `json:"object"`
	Status           string `json:"status"`
	Amount           int64  `json:"amount"`
	Currency         string `json:"currency"`
	LastPaymentError *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
		Message     string `json:"message"`
	} `json:"last_payment_error"`
	CancellationReason string            `json:"cancellation_reason"`
	Metadata           map[string]string `json:"metadata"`
}

// stripeError is Stripe's error body.
type stripeError struct {
	Error struct {
		Type          string        `json:"type"` // api_error, card_error, idempotency_error, invalid_request_error
		Code          string        `json:"code"`
		DeclineCode   string        `json:"decline_code"`
		Message       string        `json:"message"`
		Param         string        `json:"param"`
		PaymentIntent *stripeIntent `json:"payment_intent"`
	} `json:"error"`
}

// StripeError is an error answer of Stripe's API.
type StripeError struct {
	Status  int // HTTP status
	Type    string
	Code    string
	Decline string
	Message string
	Param   string
}

func (e *StripeError) Error() string {
	s := fmt.Sprintf("stripe: HTTP %d %s", e.Status, e.Type)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Param != "" {
		s += " param " + e.Param
	}
	return s + ": " + e.Message
}

// Unwrap makes a StripeError an ErrProvider.
func (e *StripeError) Unwrap() error { return ErrProvider }

// kind maps a Stripe error to a kontor kind: what Stripe refuses about a
// request is ours to fix (Invalid, shown); a bad key or Stripe's own
// failure is Unavailable; too many requests RateLimited; a request racing
// one with the same key Conflict.
func (e *StripeError) kind() kontor.Kind {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Code == "rate_limit":
		return kontor.RateLimited
	case e.Type == "idempotency_error" || e.Status == http.StatusConflict:
		return kontor.Conflict
	case e.Status == http.StatusNotFound || e.Code == "resource_missing":
		return kontor.NotFound
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status >= 500 || e.Type == "api_error":
		return kontor.Unavailable
	case e.Type == "invalid_request_error" || e.Type == "card_error" || e.Status == http.StatusBadRequest || e.Status == http.StatusPaymentRequired:
		return kontor.Invalid
	}
	return kontor.Unavailable
}

// do sends one request. A POST carries key as its Idempotency-Key.
// out is filled from a 2xx answer; an error answer is a *StripeError
// inside a kontor.Error, except for card errors carrying their
// PaymentIntent, which come back in declined.
func (s *Stripe) do(ctx context.Context, op, method, path, key string, form url.Values, out any) (declined *stripeIntent, err error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, s.cfg.URL+path, body)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Key)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		if key == "" {
			return nil, &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "a POST to Stripe without an idempotency key"}
		}
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "Stripe could not be reached; try again", Err: fmt.Errorf("%w: %v", ErrProvider, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "reading Stripe's answer failed; try again", Err: fmt.Errorf("%w: %v", ErrProvider, err)}
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "Stripe's answer could not be read", Err: fmt.Errorf("%w: %v", ErrProvider, err)}
		}
		return nil, nil
	}
	var se stripeError
	if json.Unmarshal(b, &se) != nil || se.Error.Type == "" && se.Error.Message == "" {
		se.Error.Type, se.Error.Message = "api_error", fmt.Sprintf("an answer that is not Stripe's error JSON: %.200q", b)
	}
	if se.Error.Type == "card_error" && se.Error.PaymentIntent != nil && se.Error.PaymentIntent.ID != "" {
		pi := se.Error.PaymentIntent
		if pi.LastPaymentError == nil {
			pi.LastPaymentError = &struct {
				Code        string `json:"code"`
				DeclineCode string `json:"decline_code"`
				Message     string `json:"message"`
			}{se.Error.Code, se.Error.DeclineCode, se.Error.Message}
		}
		return pi, nil
	}
	e := &StripeError{Status: resp.StatusCode, Type: se.Error.Type, Code: se.Error.Code, Decline: se.Error.DeclineCode, Message: se.Error.Message, Param: se.Error.Param}
	msg := "the payment provider (Stripe) refused the request: " + e.Message
	if k := e.kind(); k == kontor.Unavailable || k == kontor.RateLimited {
		msg = "the payment provider (Stripe) is not available; try again"
	}
	return nil, &kontor.Error{Kind: e.kind(), Op: op, Msg: msg, Err: e}
}

// result maps a PaymentIntent to a Result.
func (pi *stripeIntent) result() Result {
	r := Result{ID: pi.ID, Amount: pi.Amount, Currency: strings.ToUpper(pi.Currency)}
	reason := func(def string) string {
		if e := pi.LastPaymentError; e != nil {
			for _, s := range []string{e.DeclineCode, e.Code, e.Message} {
				if s != "" {
					return s
				}
			}
		}
		return def
	}
	switch pi.Status {
	case "succeeded":
		r.State = Succeeded
	case "processing", "requires_capture":
		r.State = Pending
	case "canceled":
		r.State, r.Reason = Canceled, pi.CancellationReason
		if r.Reason == "" {
			r.Reason = "canceled"
		}
	case "requires_action":
		r.State, r.Reason = Declined, "the card needs authentication (3-D Secure), which payments in the chat do not support yet"
	default: // requires_payment_method after a confirm: the card failed; requires_confirmation
		r.State, r.Reason = Declined, reason("the card was not accepted")
	}
	return r
}

// Charge creates and confirms a PaymentIntent.
func (s *Stripe) Charge(ctx context.Context, c Charge) (Result, error) {
	const op = "stripe.Charge"
	f := url.Values{}
	f.Set("amount", strconv.FormatInt(c.Amount, 10))
	f.Set("currency", strings.ToLower(c.Currency))
	f.Set("payment_method", c.Method)
	f.Set("confirm", "true")
	f.Add("payment_method_types[]", "card")
	if c.Description != "" {
		f.Set("description", c.Description)
	}
	f.Set("metadata[kontor_order]", c.Order.String())
	f.Set("metadata[kontor_payment]", c.Payment.String())
	var pi stripeIntent
	declined, err := s.do(ctx, op, http.MethodPost, "/v1/payment_intents", c.Key, f, &pi)
	if err != nil {
		return Result{}, err
	}
	if declined != nil {
		r := declined.result()
		if r.State != Succeeded && r.State != Pending {
			r.State = Declined
		}
		return r, nil
	}
	r := pi.result()
	if pi.Status == "requires_action" {
		// Nothing was taken; let the intent go at once.
		if _, err := s.Cancel(ctx, pi.ID, c.Key+":cancel"); err != nil {
			return Result{}, err
		}
	}
	return r, nil
}

// Lookup retrieves a PaymentIntent.
func (s *Stripe) Lookup(ctx context.Context, id string) (Result, error) {
	var pi stripeIntent
	if _, err := s.do(ctx, "stripe.Lookup", http.MethodGet, "/v1/payment_intents/"+url.PathEscape(id), "", nil, &pi); err != nil {
		return Result{}, err
	}
	return pi.result(), nil
}

// Cancel cancels a PaymentIntent; one that succeeded meanwhile is
// reported as it is.
func (s *Stripe) Cancel(ctx context.Context, id, key string) (Result, error) {
	var pi stripeIntent
	_, err := s.do(ctx, "stripe.Cancel", http.MethodPost, "/v1/payment_intents/"+url.PathEscape(id)+"/cancel", key, url.Values{}, &pi)
	var se *StripeError
	if errors.As(err, &se) && se.Code == "payment_intent_unexpected_state" {
		return s.Lookup(ctx, id)
	}
	if err != nil {
		return Result{}, err
	}
	return pi.result(), nil
}

// Refund creates a refund of a PaymentIntent.
func (s *Stripe) Refund(ctx context.Context, r RefundRequest) (string, error) {
	f := url.Values{}
	f.Set("payment_intent", r.ID)
	f.Set("amount", strconv.FormatInt(r.Amount, 10))
	if r.Reason != "" {
		f.Set("metadata[kontor_reason]", r.Reason)
	}
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if _, err := s.do(ctx, "stripe.Refund", http.MethodPost, "/v1/refunds", r.Key, f, &out); err != nil {
		return "", err
	}
	if out.Status == "failed" || out.Status == "canceled" {
		return "", &kontor.Error{Kind: kontor.Unavailable, Op: "stripe.Refund", Msg: "Stripe could not refund the payment (refund " + out.ID + " " + out.Status + ")", Err: ErrProvider}
	}
	return out.ID, nil
}

// stripeEvent is the part of a Stripe event kontor reads.
type stripeEvent struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Type   string `json:"type"`
	Data   struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// Webhook verifies a Stripe event (Stripe-Signature) and reads the
// PaymentIntent or Charge it is about.
func (s *Stripe) Webhook(h Header, body []byte, now time.Time) (Event, error) {
	const op = "stripe.Webhook"
	if err := Verify(h.Get(StripeHeader), body, s.cfg.WebhookSecret, now, Tolerance); err != nil {
		return Event{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error(), Err: err}
	}
	return ParseStripeEvent(body)
}

// ParseStripeEvent reads a Stripe event body (already verified).
func ParseStripeEvent(body []byte) (Event, error) {
	const op = "stripe.Webhook"
	var ev stripeEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" || ev.Object != "event" {
		return Event{}, kontor.Errorf(kontor.Invalid, op, "the body is not a Stripe event")
	}
	out := Event{ID: ev.ID, Type: ev.Type}
	switch {
	case strings.HasPrefix(ev.Type, "payment_intent."):
		var pi stripeIntent
		if err := json.Unmarshal(ev.Data.Object, &pi); err != nil || pi.ID == "" {
			return Event{}, kontor.Errorf(kontor.Invalid, op, "event %s carries no PaymentIntent", ev.ID)
		}
		r := pi.result()
		out.Charge, out.Amount, out.Currency, out.Reason = pi.ID, r.Amount, r.Currency, r.Reason
		if id, err := kontor.ParseID(pi.Metadata["kontor_payment"]); err == nil {
			out.Payment = id
		}
		switch ev.Type {
		case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.processing":
			out.State = r.State
			if ev.Type == "payment_intent.payment_failed" {
				out.State = Declined
			}
		}
	case ev.Type == "charge.refunded":
		var ch struct {
			ID            string `json:"id"`
			PaymentIntent string `json:"payment_intent"`
			Amount        int64  `json:"amount"`
			Currency      string `json:"currency"`
			Refunded      bool   `json:"refunded"`
		}
		if err := json.Unmarshal(ev.Data.Object, &ch); err != nil || ch.ID == "" {
			return Event{}, kontor.Errorf(kontor.Invalid, op, "event %s carries no Charge", ev.ID)
		}
		out.Charge, out.Amount, out.Currency = ch.PaymentIntent, ch.Amount, strings.ToUpper(ch.Currency)
		if ch.Refunded && ch.PaymentIntent != "" { // fully refunded
			out.State, out.Reason = Refunded, "refunded at Stripe"
		}
	}
	return out, nil
}
