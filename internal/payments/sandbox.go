package payments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
)

// SandboxName is the sandbox provider's name.
const SandboxName = "sandbox"

// SandboxHeader carries the sandbox's webhook signature, in Stripe's
// format (t=…,v1=…).
const SandboxHeader = "Kontor-Sandbox-Signature"

// SandboxConfig configures the sandbox.
type SandboxConfig struct {
	// Delay is how long a pending test card stays pending (default 5 s).
	Delay time.Duration
	// Secret signs the sandbox's webhook calls.
	Secret string
	// WebhookURL returns where the sandbox POSTs its events when a
	// pending charge completes; "" sends none (the Service's sweep and
	// the person's next look complete it then).
	WebhookURL func() string
	Clock      kontor.Clock
	Log        *slog.Logger
}

// Sandbox is a payment provider that moves no money: it answers its test
// cards (TestCards) as a real provider would, and refuses every other
// number, so no real card number is ever stored. It keeps no state a
// restart loses: a charge's id says what the charge is (its test card's
// outcome and when a pending one completes), so any node can look it up.
// Its webhook calls are signed like Stripe's.
type Sandbox struct {
	cfg    SandboxConfig
	hc     *http.Client
	mu     sync.Mutex
	seen   map[string]seen // idempotency key → first answer
	timers map[*time.Timer]struct{}
	closed bool
}

// seen is a charge's first answer and when it was given.
type seen struct {
	r  Result
	at time.Time
}

// maxSeen is how many keys the sandbox keeps before it forgets those
// older than a day.
const maxSeen = 10_000

// NewSandbox returns a sandbox provider.
func NewSandbox(cfg SandboxConfig) *Sandbox {
	if cfg.Delay <= 0 {
		cfg.Delay = 5 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = kontor.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Sandbox{cfg: cfg, hc: &http.Client{Timeout: 10 * time.Second}, seen: map[string]seen{}, timers: map[*time.Timer]struct{}{}}
}

// Name is "sandbox".
func (*Sandbox) Name() string { return SandboxName }

// Method accepts the sandbox's test cards only.
func (*Sandbox) Method(card string) (string, string, error) {
	const op = "sandbox.Method"
	n, ok := cardNumber(card)
	if !ok {
		return "", "", kontor.Errorf(kontor.Invalid, op, "card %q is not a card number (12 to 19 digits with a valid check digit)", card)
	}
	c, ok := testCard(n)
	if !ok {
		return "", "", kontor.Errorf(kontor.Invalid, op, "the sandbox takes only its test cards (docs/commerce.md), such as 4242424242424242; never give it a real card")
	}
	return c.Number, c.Brand + " " + c.Number[len(c.Number)-4:], nil
}

// Charge answers as the test card says.
func (s *Sandbox) Charge(ctx context.Context, c Charge) (Result, error) {
	const op = "sandbox.Charge"
	if c.Key == "" || c.Amount <= 0 || c.Currency == "" {
		return Result{}, kontor.Errorf(kontor.Invalid, op, "a charge needs a key, an amount above 0 and a currency")
	}
	card, ok := testCard(c.Method)
	if !ok {
		return Result{}, kontor.Errorf(kontor.Invalid, op, "the sandbox takes only its test cards")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock.Now()
	if r, ok := s.seen[c.Key]; ok {
		return r.r, nil
	}
	ready := now
	if card.Outcome == Pending {
		ready = now.Add(s.cfg.Delay)
	}
	h := sha256.Sum256([]byte(c.Key))
	id := "sbx_" + card.Number[len(card.Number)-4:] + "_" + strconv.FormatInt(ready.UnixMilli(), 36) + "_" +
		strconv.FormatInt(c.Amount, 36) + "_" + strings.ToLower(c.Currency) + "_" + hex.EncodeToString(h[:8])
	r, err := sandboxResult(id, now)
	if err != nil {
		return Result{}, err
	}
	if len(s.seen) >= maxSeen { // keys are kept 24 hours, as Stripe keeps them
		for k, v := range s.seen {
			if now.Sub(v.at) > 24*time.Hour {
				delete(s.seen, k)
			}
		}
	}
	s.seen[c.Key] = seen{r: r, at: now}
	if card.Outcome == Pending {
		s.later(ready.Sub(now), id)
	}
	return r, nil
}

// sandboxResult reads what a charge is at now from its id.
func sandboxResult(id string, now time.Time) (Result, error) {
	const op = "sandbox.Lookup"
	parts := strings.Split(id, "_")
	if len(parts) != 6 || parts[0] != "sbx" {
		return Result{}, kontor.Errorf(kontor.NotFound, op, "no sandbox charge %q", id)
	}
	var card TestCard
	for _, c := range TestCards {
		if strings.HasSuffix(c.Number, parts[1]) {
			card = c
		}
	}
	ready, err1 := strconv.ParseInt(parts[2], 36, 64)
	amount, err2 := strconv.ParseInt(parts[3], 36, 64)
	if card.Number == "" || err1 != nil || err2 != nil {
		return Result{}, kontor.Errorf(kontor.NotFound, op, "no sandbox charge %q", id)
	}
	r := Result{ID: id, State: card.Outcome, Amount: amount, Currency: strings.ToUpper(parts[4])}
	if card.Outcome == Pending && !now.Before(time.UnixMilli(ready)) {
		r.State = card.Then
	}
	if r.State == Declined {
		r.Reason = card.Reason
	}
	return r, nil
}

// Lookup reads the charge's state.
func (s *Sandbox) Lookup(_ context.Context, id string) (Result, error) {
	return sandboxResult(id, s.cfg.Clock.Now())
}

// Cancel cancels a charge that is still pending.
func (s *Sandbox) Cancel(_ context.Context, id, _ string) (Result, error) {
	r, err := sandboxResult(id, s.cfg.Clock.Now())
	if err != nil || r.State != Pending {
		return r, err
	}
	r.State, r.Reason = Canceled, "canceled before it completed"
	return r, nil
}

// Refund refunds a succeeded charge; the refund's id follows from its key.
func (s *Sandbox) Refund(_ context.Context, r RefundRequest) (string, error) {
	const op = "sandbox.Refund"
	c, err := sandboxResult(r.ID, s.cfg.Clock.Now())
	if err != nil {
		return "", err
	}
	if c.State != Succeeded {
		return "", kontor.Errorf(kontor.Conflict, op, "sandbox charge %s is %s, not succeeded: nothing to refund", r.ID, c.State)
	}
	if r.Amount <= 0 || r.Amount > c.Amount {
		return "", kontor.Errorf(kontor.Invalid, op, "refund %d of a charge of %d", r.Amount, c.Amount)
	}
	h := sha256.Sum256([]byte(r.Key))
	return "sbx_re_" + hex.EncodeToString(h[:8]), nil
}

// sandboxEvent is the body of a sandbox webhook call.
type sandboxEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"` // payment.succeeded, payment.declined, payment.canceled, payment.pending
	Created int64  `json:"created"`
	Data    struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
		Reason   string `json:"reason,omitempty"`
	} `json:"data"`
}

// SandboxEvent makes the body of a sandbox webhook call about a charge in
// state r (exported for tests that play the sandbox's part).
func SandboxEvent(eventID string, r Result, at time.Time) []byte {
	var ev sandboxEvent
	ev.ID, ev.Type, ev.Created = eventID, "payment."+string(r.State), at.Unix()
	ev.Data.ID, ev.Data.Status, ev.Data.Amount, ev.Data.Currency, ev.Data.Reason = r.ID, string(r.State), r.Amount, r.Currency, r.Reason
	b, _ := json.Marshal(ev)
	return b
}

// Webhook verifies a sandbox event.
func (s *Sandbox) Webhook(h Header, body []byte, now time.Time) (Event, error) {
	const op = "sandbox.Webhook"
	if err := Verify(h.Get(SandboxHeader), body, s.cfg.Secret, now, Tolerance); err != nil {
		return Event{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error(), Err: err}
	}
	var ev sandboxEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Data.ID == "" {
		return Event{}, kontor.Errorf(kontor.Invalid, op, "the event is not a sandbox event")
	}
	out := Event{ID: ev.ID, Type: ev.Type, Charge: ev.Data.ID, Amount: ev.Data.Amount, Currency: strings.ToUpper(ev.Data.Currency), Reason: ev.Data.Reason}
	switch st := State(ev.Data.Status); st {
	case Pending, Succeeded, Declined, Canceled, Refunded:
		out.State = st
	}
	return out, nil
}

// later sends the webhook of a pending charge when it completes. Called
// with s.mu held.
func (s *Sandbox) later(d time.Duration, id string) {
	if s.cfg.WebhookURL == nil || s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, t)
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			s.send(id)
		}
	})
	s.timers[t] = struct{}{}
}

// send POSTs the signed event of a charge's current state.
func (s *Sandbox) send(id string) {
	url := s.cfg.WebhookURL()
	now := s.cfg.Clock.Now()
	r, err := sandboxResult(id, now)
	if err != nil || url == "" {
		return
	}
	body := SandboxEvent("evt_"+id+"_"+string(r.State), r, now)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SandboxHeader, Sign(s.cfg.Secret, now, body))
	resp, err := s.hc.Do(req)
	if err != nil {
		s.cfg.Log.Warn("the sandbox could not deliver its webhook; the sweep completes the payment", "charge", id, "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		s.cfg.Log.Warn("the sandbox's webhook was refused", "charge", id, "status", resp.StatusCode)
	}
}

// Close stops the webhook calls still waiting.
func (s *Sandbox) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
}

// String describes the sandbox for logs.
func (s *Sandbox) String() string {
	return fmt.Sprintf("sandbox (pending cards complete after %s)", s.cfg.Delay)
}
