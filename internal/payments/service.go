package payments

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// Orders reads the orders payments are for (commerce.OrderStore does).
type Orders interface {
	Order(ctx context.Context, id kontor.ID) (commerce.Order, error)
}

// Observer hears of a state a payment reached, at least once, after it
// was committed (see the package documentation). It must be idempotent by
// (p.ID, p.State); an error makes Sweep call it again later.
type Observer func(ctx context.Context, p Payment) error

// OnSucceeded makes an Observer that calls f for succeeded payments only
// (billing's commerce fee hangs here).
func OnSucceeded(f func(ctx context.Context, p Payment) error) Observer {
	return func(ctx context.Context, p Payment) error {
		if p.State != Succeeded {
			return nil
		}
		return f(ctx, p)
	}
}

// Config configures the Service.
type Config struct {
	// Providers are the providers payments may have been made with;
	// Default names the one new payments go to.
	Providers []Provider
	Default   string
	// Stale is how long a created or pending payment waits before Sweep
	// asks its provider again (default 1 minute).
	Stale time.Duration
}

// Service ties payments to orders.
type Service struct {
	store     Store
	orders    Orders
	providers map[string]Provider
	def       Provider
	stale     time.Duration
	observers []Observer
	ids       *kontor.IDs
	clock     kontor.Clock
	log       *slog.Logger
}

// New returns the Service. observers are told of every state payments
// reach.
func New(cfg Config, store Store, orders Orders, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger, observers ...Observer) (*Service, error) {
	s := &Service{store: store, orders: orders, providers: map[string]Provider{}, stale: cfg.Stale, observers: observers, ids: ids, clock: clock, log: log}
	if s.stale <= 0 {
		s.stale = time.Minute
	}
	for _, p := range cfg.Providers {
		s.providers[p.Name()] = p
	}
	s.def = s.providers[cfg.Default]
	if s.def == nil {
		return nil, errors.New("payments: the default provider " + strconv.Quote(cfg.Default) + " is not configured")
	}
	return s, nil
}

// Provider returns the provider of that name, or nil.
func (s *Service) Provider(name string) Provider { return s.providers[name] }

// PayRequest is a person paying their order.
type PayRequest struct {
	Order    kontor.ID
	Customer kontor.Phone // who asks: only the person who placed the order may pay it
	Card     string
	// Key is the caller's idempotency key ("" for one kontor derives:
	// the same request again finds the same payment).
	Key string
}

// MaxKeyLen is the longest idempotency key a caller may give.
const MaxKeyLen = 200

// Pay pays an order and returns the payment: succeeded (the order is
// paid), pending, or declined (the order stays as it was, its stock still
// reserved). Paying again is idempotent: an order with a live payment gets
// that payment back (a pending one looked up again), never a second
// charge. An order that expired or was canceled is refused
// (ErrNotPayable, kontor.Conflict).
func (s *Service) Pay(ctx context.Context, r PayRequest) (Payment, error) {
	const op = "payments.Pay"
	o, err := s.orders.Order(ctx, r.Order)
	if err != nil || o.Customer != r.Customer {
		return Payment{}, kontor.Errorf(kontor.NotFound, op, "you have no order %s", r.Order)
	}
	if len(r.Key) > MaxKeyLen || strings.ContainsFunc(r.Key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		return Payment{}, kontor.Errorf(kontor.Invalid, op, "an idempotency key is at most %d printable ASCII characters", MaxKeyLen)
	}
	ps, err := s.store.OrderPayments(ctx, o.ID)
	if err != nil {
		return Payment{}, err
	}
	if r.Key != "" {
		for _, p := range ps {
			if p.Key == r.Key {
				return s.drive(ctx, p)
			}
		}
	}
	for _, p := range ps {
		if p.State.Live() {
			return s.drive(ctx, p)
		}
	}
	switch o.State {
	case commerce.OrderPaid, commerce.OrderShipped, commerce.OrderCompleted, commerce.OrderRefunded:
		// Paid already: the payment that paid it.
		for i := len(ps) - 1; i >= 0; i-- {
			if ps[i].State == Refunded {
				return ps[i], nil
			}
		}
	}
	now := s.clock.Now()
	switch {
	case o.State == commerce.OrderPending && !now.Before(o.Expires), o.State == commerce.OrderExpired:
		return Payment{}, &kontor.Error{Kind: kontor.Conflict, Op: op, Err: ErrNotPayable,
			Msg: "order " + o.ID.String() + " expired unpaid at " + o.Expires.UTC().Format(time.RFC3339) + " and its stock went back; order again"}
	case o.State != commerce.OrderPending && o.State != commerce.OrderConfirmed:
		return Payment{}, &kontor.Error{Kind: kontor.Conflict, Op: op, Err: ErrNotPayable, Msg: "order " + o.ID.String() + " is " + o.State + " and cannot be paid"}
	}
	if o.Total <= 0 {
		return Payment{}, kontor.Errorf(kontor.Invalid, op, "order %s has nothing to pay", o.ID)
	}
	if strings.TrimSpace(r.Card) == "" {
		return Payment{}, kontor.Errorf(kontor.Invalid, op, "give a card to pay with")
	}
	method, card, err := s.def.Method(r.Card)
	if err != nil {
		return Payment{}, err
	}
	key := r.Key
	if key == "" {
		// One key per attempt: attempts after a decline are new ones.
		key = "order-" + o.ID.String() + "-attempt-" + strconv.Itoa(len(ps)+1)
	}
	p := Payment{ID: s.ids.Next(), Order: o.ID, Business: o.Business, Customer: o.Customer, Key: key, Provider: s.def.Name(),
		Method: method, Card: card, Amount: o.Total, Currency: o.Currency, State: Created, Created: now, Updated: now}
	got, existed, err := s.store.StartPayment(ctx, p)
	if err != nil {
		return Payment{}, err
	}
	if existed && got.Order != o.ID {
		return Payment{}, kontor.Errorf(kontor.Conflict, op, "idempotency key %q was used for another order", key)
	}
	return s.drive(ctx, got)
}

// OrderPayment returns the payment of customer's order as it stands: the
// live one (a pending one looked up at its provider first, as Pay does),
// else the latest attempt. An order of someone else's is NotFound, as is
// an order nobody tried to pay yet.
func (s *Service) OrderPayment(ctx context.Context, customer kontor.Phone, order kontor.ID) (Payment, error) {
	const op = "payments.OrderPayment"
	o, err := s.orders.Order(ctx, order)
	if err != nil || o.Customer != customer {
		return Payment{}, kontor.Errorf(kontor.NotFound, op, "you have no order %s", order)
	}
	ps, err := s.store.OrderPayments(ctx, o.ID)
	if err != nil {
		return Payment{}, err
	}
	for _, p := range ps {
		if p.State == Pending {
			return s.drive(ctx, p)
		}
	}
	for _, p := range ps {
		if p.State.Live() {
			return p, nil
		}
	}
	if len(ps) == 0 {
		return Payment{}, kontor.Errorf(kontor.NotFound, op, "order %s has not been paid yet", order)
	}
	return ps[len(ps)-1], nil
}

// drive moves a payment on as far as its provider can say now: a created
// one is charged (again with its key: the provider answers the first
// charge), a pending one looked up, a refunding one refunded.
func (s *Service) drive(ctx context.Context, p Payment) (Payment, error) {
	pr := s.providers[p.Provider]
	if pr == nil {
		return p, &kontor.Error{Kind: kontor.Unavailable, Op: "payments.drive", Msg: "the payment provider " + p.Provider + " is not configured on this node"}
	}
	var res Result
	var err error
	switch p.State {
	case Created:
		res, err = pr.Charge(ctx, Charge{Key: p.Key, Amount: p.Amount, Currency: p.Currency, Method: p.Method, Order: p.Order, Payment: p.ID,
			Description: "kontor order " + p.Order.String()})
		if kontor.KindOf(err) == kontor.Invalid {
			// The provider will never take this request: the attempt
			// ends, the order may be paid otherwise.
			res, err = Result{State: Declined, Reason: kontor.MessageOf(err)}, nil
		}
	case Pending:
		res, err = pr.Lookup(ctx, p.ProviderID)
	case Refunding:
		return s.refund(ctx, p, pr, p.Reason)
	default:
		return p, nil
	}
	if err != nil {
		return p, err
	}
	return s.apply(ctx, p, res)
}

// apply records what the provider said about p's charge.
func (s *Service) apply(ctx context.Context, p Payment, res Result) (Payment, error) {
	const op = "payments.apply"
	if res.Amount != 0 && (res.Amount != p.Amount || !strings.EqualFold(res.Currency, p.Currency)) {
		return p, &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "the provider's charge does not match the payment",
			Err: errors.New(p.Provider + " charge " + res.ID + " is " + strconv.FormatInt(res.Amount, 10) + " " + res.Currency + ", payment " + p.ID.String() + " " + strconv.FormatInt(p.Amount, 10) + " " + p.Currency)}
	}
	if p.ProviderID != "" && res.ID != "" && res.ID != p.ProviderID {
		return p, &kontor.Error{Kind: kontor.Internal, Op: op, Err: errors.New("the provider answered with charge " + res.ID + " for payment " + p.ID.String() + " of charge " + p.ProviderID)}
	}
	m := Move{ID: p.ID, ProviderID: res.ID, At: s.clock.Now()}
	switch res.State {
	case Pending:
		m.From, m.To = []State{Created}, Pending
	case Succeeded:
		m.From, m.To, m.PayOrder = []State{Created, Pending}, Succeeded, true
	case Declined, Canceled:
		m.From, m.To, m.Reason = []State{Created, Pending}, res.State, res.Reason
		if m.Reason == "" {
			m.Reason = string(res.State)
		}
	case Refunded:
		m.From, m.To, m.RefundOrder, m.Reason = []State{Succeeded, Refunding}, Refunded, true, res.Reason
	default:
		return p, nil
	}
	got, applied, err := s.store.MovePayment(ctx, m)
	if err != nil {
		return p, err
	}
	if !applied {
		return got, nil // another request or event got there first
	}
	if got.State == Refunding {
		// The order expired or was canceled before the money came: it
		// goes back.
		s.log.Warn("a payment completed after its order could no longer be paid; refunding it", "payment", got.ID, "order", got.Order)
		s.announce(ctx, got)
		return s.refund(ctx, got, s.providers[got.Provider], got.Reason)
	}
	s.announce(ctx, got)
	return got, nil
}

// refund gives a payment's money back through its provider, then records
// it (moving the order to refunded if it was paid).
func (s *Service) refund(ctx context.Context, p Payment, pr Provider, reason string) (Payment, error) {
	if p.State == Succeeded {
		got, applied, err := s.store.MovePayment(ctx, Move{ID: p.ID, From: []State{Succeeded}, To: Refunding, Reason: reason, At: s.clock.Now()})
		if err != nil {
			return p, err
		}
		if !applied && got.State != Refunding {
			return got, nil
		}
		p = got
	}
	id, err := pr.Refund(ctx, RefundRequest{Key: "refund-" + p.ID.String(), ID: p.ProviderID, Amount: p.Amount, Currency: p.Currency, Reason: reason})
	if err != nil {
		return p, err // still refunding: Sweep tries again with the same key
	}
	got, applied, err := s.store.MovePayment(ctx, Move{ID: p.ID, From: []State{Refunding}, To: Refunded, Refund: id, RefundOrder: true, At: s.clock.Now()})
	if err != nil {
		return p, err
	}
	if applied {
		s.announce(ctx, got)
	}
	return got, nil
}

// ErrNoPayment: the order has no succeeded payment to refund.
var ErrNoPayment = errors.New("payments: the order has no payment to refund")

// RefundOrder refunds the payment of an order of business through its
// provider and moves the order to refunded. An order that was marked paid
// without a payment in kontor returns ErrNoPayment.
func (s *Service) RefundOrder(ctx context.Context, business, order kontor.ID) (Payment, error) {
	const op = "payments.RefundOrder"
	o, err := s.orders.Order(ctx, order)
	if err != nil || o.Business != business {
		return Payment{}, kontor.Errorf(kontor.NotFound, op, "no order %s", order)
	}
	if !commerce.CanMove(o.State, commerce.OrderRefunded) {
		return Payment{}, kontor.Errorf(kontor.Conflict, op, "an order that is %s cannot become %s", o.State, commerce.OrderRefunded)
	}
	ps, err := s.store.OrderPayments(ctx, order)
	if err != nil {
		return Payment{}, err
	}
	for _, p := range ps {
		if p.State != Succeeded && p.State != Refunding {
			continue
		}
		pr := s.providers[p.Provider]
		if pr == nil {
			return p, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the payment provider " + p.Provider + " is not configured on this node"}
		}
		return s.refund(ctx, p, pr, "refunded by the business")
	}
	return Payment{}, ErrNoPayment
}

// Webhook handles a provider's webhook call: it verifies the signature,
// finds the payment and applies the event. Events about charges kontor
// did not make, and events it does not act on, are accepted and ignored
// (a provider retries what is refused). A replayed event changes nothing.
func (s *Service) Webhook(ctx context.Context, provider string, h Header, body []byte) (Event, error) {
	const op = "payments.Webhook"
	pr := s.providers[provider]
	if pr == nil {
		return Event{}, kontor.Errorf(kontor.NotFound, op, "no payment provider %q", provider)
	}
	ev, err := pr.Webhook(h, body, s.clock.Now())
	if err != nil {
		return Event{}, err
	}
	if ev.State == "" || ev.Charge == "" {
		return ev, nil
	}
	p, err := s.store.PaymentByCharge(ctx, provider, ev.Charge)
	if kontor.KindOf(err) == kontor.NotFound && ev.Payment != 0 {
		// The event overtook the provider's answer to the charge.
		if q, qerr := s.store.Payment(ctx, ev.Payment); qerr == nil && q.Provider == provider && q.ProviderID == "" {
			p, err = q, nil
		}
	}
	if kontor.KindOf(err) == kontor.NotFound {
		s.log.Info("a payment webhook about a charge kontor does not know", "provider", provider, "event", ev.ID, "charge", ev.Charge)
		return ev, nil
	}
	if err != nil {
		return ev, err
	}
	_, err = s.apply(ctx, p, Result{ID: ev.Charge, State: ev.State, Amount: ev.Amount, Currency: ev.Currency, Reason: ev.Reason})
	return ev, err
}

// Sweep completes what requests left: created payments are charged again
// with their key, pending ones looked up (and canceled when their order
// can no longer be paid), refunding ones refunded, and observers told of
// states they have not accepted. It returns how many payments it looked
// at.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.clock.Now()
	ps, err := s.store.PaymentsToSweep(ctx, now.Add(-s.stale), 100)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if p.State == Created && now.Sub(p.Created) > 23*time.Hour {
			// A provider keeps idempotency keys for a day: charging
			// again now could charge twice. Someone must look.
			s.log.Error("a payment has not been answered by its provider for a day; check it at the provider", "payment", p.ID, "key", p.Key)
			continue
		}
		if p.State == Created || p.State == Pending || p.State == Refunding {
			stale := !p.Updated.After(now.Add(-s.stale))
			if p.State == Refunding || stale {
				if p.State == Pending && s.orderGone(ctx, p, now) {
					p, err = s.cancel(ctx, p)
				} else {
					p, err = s.drive(ctx, p)
				}
				if err != nil {
					s.log.Warn("sweeping a payment", "payment", p.ID, "state", p.State, "err", err)
					continue
				}
			}
		}
		if p.Announced != p.State {
			s.announce(ctx, p)
		}
	}
	return len(ps), nil
}

// orderGone says whether p's order can no longer be paid.
func (s *Service) orderGone(ctx context.Context, p Payment, now time.Time) bool {
	o, err := s.orders.Order(ctx, p.Order)
	if err != nil {
		return false
	}
	return o.State == commerce.OrderExpired || o.State == commerce.OrderCanceled || (o.State == commerce.OrderPending && !now.Before(o.Expires))
}

// cancel stops a pending charge whose order went away; if it succeeded
// meanwhile, apply refunds it.
func (s *Service) cancel(ctx context.Context, p Payment) (Payment, error) {
	pr := s.providers[p.Provider]
	if pr == nil {
		return p, errors.New("provider " + p.Provider + " is not configured")
	}
	res, err := pr.Cancel(ctx, p.ProviderID, "cancel-"+p.ID.String())
	if err != nil {
		return p, err
	}
	if res.State == Canceled && res.Reason == "" {
		res.Reason = "the order expired before the payment completed"
	}
	return s.apply(ctx, p, res)
}

// announce tells the observers of p's state and records it when all of
// them accepted it; Sweep tries again otherwise.
func (s *Service) announce(ctx context.Context, p Payment) {
	if p.State == Created {
		return
	}
	ctx = context.WithoutCancel(ctx) // the state is committed: tell it even if the caller left
	for _, o := range s.observers {
		if err := o(ctx, p); err != nil {
			s.log.Warn("a payment observer failed; the sweep tries again", "payment", p.ID, "state", p.State, "err", err)
			return
		}
	}
	if err := s.store.AnnouncePayment(ctx, p.ID, p.State); err != nil {
		s.log.Warn("recording a payment's announcement", "payment", p.ID, "err", err)
	}
}
