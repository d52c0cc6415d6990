package billing

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
)

// Credit modes.
const (
	// ModePrepaid: the business spends what it topped up.
	ModePrepaid = "prepaid"
	// ModeCreditLine: the business may owe up to its limit beyond what it
	// topped up.
	ModeCreditLine = "credit_line"
)

// CreditAccount is a business's credit: its balance is what it topped up
// (and was credited by adjustments) less what it was charged since the
// account was set up. Paid messages go out while Limit + Balance > 0.
type CreditAccount struct {
	Business kontor.ID `json:"business_id"`
	Mode     string    `json:"mode"`
	Currency string    `json:"currency"`
	Limit    Nanos     `json:"-"`
	Balance  Nanos     `json:"-"`
	// The amounts as decimals, for JSON.
	LimitText     string    `json:"limit"`
	BalanceText   string    `json:"balance"`
	AvailableText string    `json:"available"`
	Updated       time.Time `json:"updated"`
}

// Available is what the business may still spend.
func (a CreditAccount) Available() Nanos { return a.Limit + a.Balance }

func (a CreditAccount) withText() CreditAccount {
	a.LimitText, a.BalanceText, a.AvailableText = a.Limit.String(), a.Balance.String(), a.Available().String()
	return a
}

// CreditStore keeps credit accounts. The ledger's Append keeps their
// balances: in the transaction that adds an entry, a charge lowers the
// balance of the business's account in that currency, a top-up raises it.
type CreditStore interface {
	// CreditAccount returns a business's account; kontor.NotFound when it
	// has none (it is billed afterwards, without a limit).
	CreditAccount(ctx context.Context, business kontor.ID) (CreditAccount, error)
	// PutCreditAccount creates the account with a zero balance, or
	// changes its mode and limit and keeps its balance.
	PutCreditAccount(ctx context.Context, a CreditAccount) error
}

// ErrNoCredit is the error of a paid message when the business's credit
// is spent. The Business API answers it with 131042.
var ErrNoCredit = errors.New("the business's credit is spent")

// Credit checks and keeps businesses' credit. Its check is cheap enough for
// every paid send: it keeps each business's state for TTL, so at most one
// read of the store per business per TTL and node.
type Credit struct {
	store  CreditStore
	ledger *Ledger
	exps   Exponents
	ids    *kontor.IDs
	clock  kontor.Clock
	ttl    time.Duration

	mu    sync.Mutex
	cache map[kontor.ID]creditState
}

type creditState struct {
	err error // nil: may send paid messages
	at  time.Time
}

// DefaultCreditTTL is how long a node trusts what it read of a business's
// credit: a top-up or an exhausted balance shows within it.
const DefaultCreditTTL = time.Second

// NewCredit returns the credit service; ttl ≤ 0 means DefaultCreditTTL.
func NewCredit(store CreditStore, ledger *Ledger, exps Exponents, ids *kontor.IDs, clock kontor.Clock, ttl time.Duration) *Credit {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if ttl <= 0 {
		ttl = DefaultCreditTTL
	}
	return &Credit{store: store, ledger: ledger, exps: exps, ids: ids, clock: clock, ttl: ttl, cache: map[kontor.ID]creditState{}}
}

// Allow says whether business may send a paid message now: nil, or an
// error wrapping ErrNoCredit when its credit is spent. A business without a
// credit account is billed afterwards and always may.
func (c *Credit) Allow(ctx context.Context, business kontor.ID) error {
	now := c.clock.Now()
	c.mu.Lock()
	st, ok := c.cache[business]
	c.mu.Unlock()
	if ok && now.Sub(st.at) < c.ttl {
		return st.err
	}
	a, err := c.store.CreditAccount(ctx, business)
	switch {
	case kontor.KindOf(err) == kontor.NotFound:
		st = creditState{at: now}
	case err != nil:
		return err // not cached: the next send reads again
	case a.Available() <= 0:
		st = creditState{at: now, err: &kontor.Error{Kind: kontor.Forbidden, Op: "billing.Allow", Err: ErrNoCredit,
			Msg: "the business's credit is spent (available " + a.Available().String() + " " + a.Currency + "): top it up to send paid messages; free ones still go out"}}
	default:
		st = creditState{at: now}
	}
	c.mu.Lock()
	c.cache[business] = st
	c.mu.Unlock()
	return st.err
}

// forget drops what this node knows of business's credit.
func (c *Credit) forget(business kontor.ID) {
	c.mu.Lock()
	delete(c.cache, business)
	c.mu.Unlock()
}

// Account returns a business's credit account.
func (c *Credit) Account(ctx context.Context, business kontor.ID) (CreditAccount, error) {
	a, err := c.store.CreditAccount(ctx, business)
	return a.withText(), err
}

// Set sets up or changes a business's credit: mode prepaid (limit 0) or
// credit_line with a limit in minor units of currency. The balance is kept;
// the currency of an account cannot change.
func (c *Credit) Set(ctx context.Context, business kontor.ID, mode string, limit int64, currency string) (CreditAccount, error) {
	const op = "billing.SetCredit"
	currency = strings.ToUpper(strings.TrimSpace(currency))
	exp, err := exponent(c.exps, op, currency)
	if err != nil {
		return CreditAccount{}, err
	}
	switch {
	case mode == ModePrepaid && limit != 0:
		return CreditAccount{}, kontor.Errorf(kontor.Invalid, op, "a prepaid account has no limit; use mode credit_line for one")
	case mode == ModeCreditLine && (limit <= 0 || limit > maxMinor*pow10(exp)):
		return CreditAccount{}, kontor.Errorf(kontor.Invalid, op, "a credit line needs a positive limit")
	case mode != ModePrepaid && mode != ModeCreditLine:
		return CreditAccount{}, kontor.Errorf(kontor.Invalid, op, "mode is %s or %s, not %q", ModePrepaid, ModeCreditLine, mode)
	}
	old, err := c.store.CreditAccount(ctx, business)
	if err == nil && old.Currency != currency {
		return CreditAccount{}, kontor.Errorf(kontor.Conflict, op, "the business's credit account is in %s; it cannot change currency", old.Currency)
	}
	if err != nil && kontor.KindOf(err) != kontor.NotFound {
		return CreditAccount{}, err
	}
	a := CreditAccount{Business: business, Mode: mode, Currency: currency, Limit: MinorToNanos(limit, exp), Updated: c.clock.Now().UTC()}
	if err := c.store.PutCreditAccount(ctx, a); err != nil {
		return CreditAccount{}, err
	}
	c.forget(business)
	return c.Account(ctx, business)
}

// TopUp adds money paid in to a business's credit: a ledger entry of kind
// topup (on no invoice). amount must be positive, in the account's
// currency; reference, when given, makes the call idempotent (a repeat
// adds nothing). A business without a credit account cannot be topped up.
func (c *Credit) TopUp(ctx context.Context, business kontor.ID, amount int64, reference, note string) (Entry, CreditAccount, error) {
	const op = "billing.TopUp"
	if amount <= 0 {
		return Entry{}, CreditAccount{}, kontor.Errorf(kontor.Invalid, op, "a top-up is a positive amount, not %d minor units; to take credit away use an adjustment", amount)
	}
	if len(reference) > maxPaymentID || len(note) > 500 {
		return Entry{}, CreditAccount{}, kontor.Errorf(kontor.Invalid, op, "a reference is at most %d bytes, a note at most 500", maxPaymentID)
	}
	a, err := c.store.CreditAccount(ctx, business)
	if kontor.KindOf(err) == kontor.NotFound {
		return Entry{}, CreditAccount{}, kontor.Errorf(kontor.NotFound, op, "business %s has no credit account: set one up first (mode prepaid or credit_line)", business)
	}
	if err != nil {
		return Entry{}, CreditAccount{}, err
	}
	exp, err := exponent(c.exps, op, a.Currency)
	if err != nil {
		return Entry{}, CreditAccount{}, err
	}
	if amount > maxMinor*pow10(exp) {
		return Entry{}, CreditAccount{}, kontor.Errorf(kontor.Invalid, op, "the top-up is too large")
	}
	id := c.ids.Next()
	key := "topup:" + id.String()
	if reference != "" {
		key = "topup:ref:" + reference
	}
	n := MinorToNanos(amount, exp)
	e := Entry{ID: id, Key: key, Business: business, Kind: KindTopUp, Category: "topup", Currency: a.Currency, Amount: n, AmountText: n.String(),
		Note: note, At: c.clock.Now().UTC()}
	if _, err := c.ledger.store.Append(ctx, e); err != nil {
		return Entry{}, CreditAccount{}, err
	}
	c.forget(business)
	a, err = c.Account(ctx, business)
	return e, a, err
}
