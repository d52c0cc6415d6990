package billing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kontor-chat/kontor"
)

// Entry is one line of the metering ledger: a charge for one billable
// event. The ledger is append-only; a correction is a new entry with a
// negative amount. Key makes an event count once however often it is
// reported (a delivered receipt can arrive twice).
type Entry struct {
	ID       kontor.ID `json:"id"`
	Key      string    `json:"key"` // e.g. "msg:386…:delivered"
	Business kontor.ID `json:"business_id"`
	Number   kontor.ID `json:"phone_number_id,omitempty"`
	Kind     string    `json:"kind"` // message, commerce, adjustment, topup
	Market   string    `json:"market,omitempty"`
	Category string    `json:"category,omitempty"`
	Currency string    `json:"currency"`
	Amount   Nanos     `json:"-"`
	// AmountText is Amount as a decimal, for JSON.
	AmountText string    `json:"amount"`
	Sheet      kontor.ID `json:"price_sheet_id,omitempty"`
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at"`
}

// LedgerStore keeps the ledger. Implemented by internal/store.
type LedgerStore interface {
	// Append adds e unless an entry with its Key exists; it reports
	// whether it added.
	Append(ctx context.Context, e Entry) (bool, error)
	// AppendCounted adds e unless an entry with its Key exists, and in the
	// same transaction counts it: one more charged message of e's
	// business, market and category in e's calendar month (UTC); price
	// gets that count (1-based) and returns e's amount and note. A
	// message not added counts nothing. It returns the entry as stored
	// when added.
	AppendCounted(ctx context.Context, e Entry, price func(n int64) (Nanos, string)) (Entry, bool, error)
	// Entries lists a business's entries in [from, to), oldest first.
	Entries(ctx context.Context, business kontor.ID, from, to time.Time) ([]Entry, error)
	// CommerceFee returns a business's commerce fee; kontor.NotFound when
	// none is set.
	CommerceFee(ctx context.Context, business kontor.ID) (CommerceFee, error)
	SetCommerceFee(ctx context.Context, f CommerceFee) error
}

// Ledger meters billable events.
type Ledger struct {
	prices *Service
	store  LedgerStore
	ids    *kontor.IDs
	exps   Exponents
	rules  *RuleBook // volume tiers; nil: none
}

// UseRules prices messages of TieredCategories by the volume tiers of the
// rules in force when they are delivered (nil: no tiers).
func (l *Ledger) UseRules(b *RuleBook) { l.rules = b }

// NewLedger returns the ledger over store, pricing with prices; exps
// knows the currencies' minor units (commerce.Exponent).
func NewLedger(prices *Service, store LedgerStore, ids *kontor.IDs, exps Exponents) *Ledger {
	return &Ledger{prices: prices, store: store, ids: ids, exps: exps}
}

// Message is a billable message: a template delivered to a person.
type Message struct {
	ID       kontor.ID // the message id: the key of its charge
	Business kontor.ID
	Number   kontor.ID
	To       kontor.Phone
	Category string // marketing, utility, authentication, …
	At       time.Time
}

// ChargeMessage writes the charge of a delivered message once, priced by
// the sheet in effect when it was delivered and the person's market. A
// message of TieredCategories is counted in its business's month, market
// and category with its charge, and priced by the volume tier of the
// rules in force at delivery that its number in that count falls in.
func (l *Ledger) ChargeMessage(ctx context.Context, m Message) (Entry, bool, error) {
	market := MarketOf(m.To)
	sh, err := l.prices.At(ctx, m.At)
	if err != nil {
		return Entry{}, false, err
	}
	rate, err := sh.Price(market, m.Category)
	if err != nil {
		return Entry{}, false, err
	}
	e := Entry{ID: l.ids.Next(), Key: "msg:" + m.ID.String(), Business: m.Business, Number: m.Number, Kind: KindMessage,
		Market: market, Category: m.Category, Currency: rate.Currency, Amount: rate.Price, AmountText: rate.Price.String(),
		Sheet: sh.ID, At: m.At.UTC()}
	if slices.Contains(TieredCategories, m.Category) {
		var tiers []Tier
		if l.rules != nil {
			tiers = l.rules.At(m.At).Categories[m.Category].Tiers
		}
		return l.store.AppendCounted(ctx, e, func(n int64) (Nanos, string) {
			p, band := TierPrice(tiers, n, market, rate.Price)
			if band == 0 {
				return p, ""
			}
			return p, fmt.Sprintf("volume tier %d (from message %d of the month): message %d", band, tiers[band-1].From, n)
		})
	}
	added, err := l.store.Append(ctx, e)
	return e, added, err
}

// Usage sums a business's charges in [from, to) by category and market.
type Usage struct {
	Currency string      `json:"currency"`
	Total    string      `json:"total"`
	Lines    []UsageLine `json:"lines"`
	Entries  int         `json:"entries"`
}

// UsageLine is the sum of one category in one market.
type UsageLine struct {
	Category string `json:"category"`
	Market   string `json:"market"`
	Count    int    `json:"count"`
	Amount   string `json:"amount"`
}

// Usage returns what a business was charged in [from, to).
func (l *Ledger) Usage(ctx context.Context, business kontor.ID, from, to time.Time) (Usage, error) {
	es, err := l.store.Entries(ctx, business, from, to)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Lines: []UsageLine{}}
	index := map[[2]string]int{}
	var sums []Nanos
	var total Nanos
	for _, e := range es {
		if e.Kind == KindTopUp {
			continue // money paid in, not a charge
		}
		u.Entries++
		u.Currency = e.Currency
		k := [2]string{e.Category, e.Market}
		i, ok := index[k]
		if !ok {
			i = len(u.Lines)
			index[k] = i
			u.Lines = append(u.Lines, UsageLine{Category: e.Category, Market: e.Market})
			sums = append(sums, 0)
		}
		u.Lines[i].Count++
		sums[i] += e.Amount
		total += e.Amount
	}
	for i := range u.Lines {
		u.Lines[i].Amount = sums[i].String()
	}
	u.Total = total.String()
	return u, nil
}
