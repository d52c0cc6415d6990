package commerce

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// Reasons of a stock move. A person (through the API or kontor admin)
// gives one of the first four; the store writes the last two itself when
// an order takes stock or gives it back.
const (
	ReasonReceived   = "received"   // goods came in: delta > 0
	ReasonDamaged    = "damaged"    // broken, spoiled, lost: delta < 0
	ReasonCorrection = "correction" // a count found a difference: either sign
	ReasonReturned   = "returned"   // a customer brought goods back to the shelf: delta > 0
	ReasonSold       = "sold"       // an order reserved the stock: delta < 0
	ReasonReleased   = "released"   // a canceled or expired order gave it back: delta > 0
)

// AdjustReasons are the reasons a person may give, with the sign each
// allows (+1, -1, or 0 for either).
var AdjustReasons = map[string]int{ReasonReceived: +1, ReasonDamaged: -1, ReasonCorrection: 0, ReasonReturned: +1}

// Sources of a stock move: who made it.
const (
	SourceAPI     = "api"     // the Business API, with the business's token
	SourceAdmin   = "admin"   // the operator (admin API, kontor admin)
	SourceOrder   = "order"   // an order placed, canceled or expired
	SourceConsole = "console" // a console user, named in By
)

// Limits of a stock adjustment.
const (
	MaxDelta = 1_000_000 // units one adjustment moves at most, either way
	MaxNote  = 500       // characters of a note
	MaxBy    = 100       // characters of the name of who made it
)

// NoThreshold is the threshold of a product without a low-stock alert.
const NoThreshold = -1

// StockMove is one change of a product's available stock, as the stock
// history keeps it: append-only, numbered from 1 per product (Seq), with
// the level the move left (Level). Delta is never 0.
type StockMove struct {
	Product kontor.ID
	Seq     int64
	Delta   int
	Reason  string
	Note    string
	Source  string    // SourceAPI, SourceAdmin, SourceOrder
	By      string    // who, as the caller named them (may be empty)
	Order   kontor.ID // the order of a sold or released move
	Level   int       // available stock after the move
	At      time.Time
	Key     string // the caller's idempotency key, or ""
}

// StockLevel is where a product's stock stands. Available is what orders
// can still take (the product's inventory); Reserved is what pending and
// confirmed orders hold, which comes back if they are canceled or expire.
type StockLevel struct {
	Product    kontor.ID
	Catalog    kontor.ID
	RetailerID string
	Name       string
	Available  int
	Reserved   int
	Threshold  int // NoThreshold: no alert
}

// MarshalJSON writes the level as the APIs show it: the threshold is
// null when there is none.
func (l StockLevel) MarshalJSON() ([]byte, error) {
	var th *int
	if l.Threshold >= 0 {
		th = &l.Threshold
	}
	return json.Marshal(struct {
		ID         kontor.ID `json:"id"`
		RetailerID string    `json:"retailer_id"`
		Name       string    `json:"name"`
		Inventory  int       `json:"inventory"`
		Reserved   int       `json:"reserved"`
		Threshold  *int      `json:"low_stock_threshold"`
		Low        bool      `json:"low_stock"`
	}{l.Product, l.RetailerID, l.Name, l.Available, l.Reserved, th, l.Low()})
}

// MarshalJSON writes a move as the APIs show it: the level after it as
// inventory, the time in Unix seconds (a string, as the Cloud API writes
// timestamps).
func (m StockMove) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ProductID kontor.ID `json:"product_id"`
		Seq       int64     `json:"seq"`
		Delta     int       `json:"delta"`
		Reason    string    `json:"reason"`
		Note      string    `json:"note,omitempty"`
		Source    string    `json:"source"`
		By        string    `json:"by,omitempty"`
		Order     kontor.ID `json:"order_id,omitempty"`
		Inventory int       `json:"inventory"`
		Timestamp string    `json:"timestamp"`
		Key       string    `json:"idempotency_key,omitempty"`
	}{m.Product, m.Seq, m.Delta, m.Reason, m.Note, m.Source, m.By, m.Order, m.Level, strconv.FormatInt(m.At.Unix(), 10), m.Key})
}

// Low says whether the level is at or below its threshold.
func (l StockLevel) Low() bool { return l.Threshold >= 0 && l.Available <= l.Threshold }

// StockAlert says that a move took a product's available stock from above
// its low-stock threshold to it or below: once per crossing. The store
// enqueues its webhook in the transaction of the move.
type StockAlert struct {
	Business   kontor.ID
	Catalog    kontor.ID
	Product    kontor.ID
	RetailerID string
	Name       string
	Available  int
	Threshold  int
	Move       StockMove
}

// Crossed says whether a move of delta that left level took the stock
// across threshold downwards: above it before, at or below it after.
func Crossed(level, delta, threshold int) bool {
	return threshold >= 0 && delta < 0 && level <= threshold && level-delta > threshold
}

// FieldInventoryAlerts is the webhook field of low-stock alerts (a kontor
// extension: the public API has none).
const FieldInventoryAlerts = "inventory_alerts"

// inventoryAlert is the value of an inventory_alerts change.
type inventoryAlert struct {
	Event      string `json:"event"`
	CatalogID  string `json:"catalog_id"`
	ProductID  string `json:"product_id"`
	RetailerID string `json:"retailer_id"`
	Name       string `json:"name"`
	Inventory  int    `json:"inventory"`
	Threshold  int    `json:"low_stock_threshold"`
	Reason     string `json:"reason"`
	Delta      int    `json:"delta"`
	Seq        int64  `json:"seq"`
	OrderID    string `json:"order_id,omitempty"`
	Timestamp  string `json:"timestamp"`
}

// Webhook returns the alert's webhook: a stable id (one per crossing: the
// product and the number of the move) and the body in the Cloud API's
// envelope, ASCII only.
func (a StockAlert) Webhook() (id string, body []byte, err error) {
	v := inventoryAlert{Event: "LOW_STOCK", CatalogID: a.Catalog.String(), ProductID: a.Product.String(), RetailerID: a.RetailerID,
		Name: a.Name, Inventory: a.Available, Threshold: a.Threshold, Reason: a.Move.Reason, Delta: a.Move.Delta, Seq: a.Move.Seq,
		Timestamp: strconv.FormatInt(a.Move.At.Unix(), 10)}
	if a.Move.Order != 0 {
		v.OrderID = a.Move.Order.String()
	}
	n := cloudapi.Notification{Object: cloudapi.ObjectWhatsAppBusinessAcct, Entry: []cloudapi.Entry{{ID: a.Business.String(),
		Time: a.Move.At.Unix(), Changes: []cloudapi.Change{{Field: FieldInventoryAlerts, Value: v}}}}}
	body, err = cloudapi.EncodeWebhook(n)
	if err != nil {
		return "", nil, err
	}
	return "stock." + a.Product.String() + "." + strconv.FormatInt(a.Move.Seq, 10), body, nil
}

// StockStore keeps stock levels and their history. Implemented by
// internal/store.
type StockStore interface {
	// AdjustStock applies m.Delta to m.Product's available stock and
	// appends m to its history, in one transaction, only when the level
	// stays from 0 to MaxInventory; it fills Seq and Level. When the level
	// would leave that range nothing changes and the error is Invalid,
	// wrapping a FieldError on delta that says what is available. A move that
	// crosses the low-stock threshold enqueues the alert's webhook in the
	// same transaction; alerted says so. A move with a Key the product's
	// history holds already is not applied: that move comes back (not
	// alerted), or a Conflict when its delta or reason differ.
	AdjustStock(ctx context.Context, m StockMove) (done StockMove, alerted bool, err error)
	// StockLevel returns a product's level; kontor.NotFound when none.
	StockLevel(ctx context.Context, product kontor.ID) (StockLevel, error)
	// StockLevels lists a catalog's products after a product id, in id
	// order; low keeps those at or below their threshold.
	StockLevels(ctx context.Context, catalog kontor.ID, low bool, after kontor.ID, limit int) ([]StockLevel, error)
	// StockMoves lists a product's history, newest first, from the move
	// before seq before (0: the newest).
	StockMoves(ctx context.Context, product kontor.ID, before int64, limit int) ([]StockMove, error)
	// SetLowStock sets a product's threshold (NoThreshold: none).
	SetLowStock(ctx context.Context, product kontor.ID, threshold int) error
	// SalesOrders calls fn with each order of business placed in [from,
	// to) whose state is one of states, in the order they were placed.
	SalesOrders(ctx context.Context, business kontor.ID, from, to time.Time, states []string, fn func(Order) error) error
}

// Stock keeps stock levels, adjustments, low-stock thresholds and sales
// reports.
type Stock struct {
	store StockStore
	clock kontor.Clock
	// OnAlert, when set before use, is called after an adjustment
	// enqueued a low-stock webhook (to wake the webhook deliverer; it
	// would find the webhook at its next poll anyway). It must not block.
	OnAlert func()
}

// NewStock returns the stock service.
func NewStock(store StockStore, clock kontor.Clock) *Stock {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Stock{store: store, clock: clock}
}

// Adjustment is a person's change of a product's stock.
type Adjustment struct {
	Product kontor.ID
	Delta   int
	Reason  string
	Note    string
	Source  string
	By      string
	// Key, when set, makes the adjustment idempotent: a second one with
	// the same key for the product is not applied; the first comes back.
	Key string
}

// MaxKey is the longest idempotency key.
const MaxKey = 100

// Check says what is wrong with an adjustment, naming the field.
func (a *Adjustment) Check() *FieldError {
	a.Reason = strings.ToLower(strings.TrimSpace(a.Reason))
	a.Note = strings.TrimSpace(a.Note)
	a.By = strings.TrimSpace(a.By)
	sign, ok := AdjustReasons[a.Reason]
	switch {
	case a.Reason == "":
		return &FieldError{"reason", "required"}
	case a.Reason == ReasonSold || a.Reason == ReasonReleased:
		return &FieldError{"reason", fmt.Sprintf("%q is written by orders; give received, damaged, correction or returned", a.Reason)}
	case !ok:
		return &FieldError{"reason", fmt.Sprintf("%q is not one of \"received\", \"damaged\", \"correction\", \"returned\"", a.Reason)}
	case a.Delta == 0:
		return &FieldError{"delta", "must not be 0"}
	case a.Delta > MaxDelta || a.Delta < -MaxDelta:
		return &FieldError{"delta", fmt.Sprintf("at most %d units either way in one adjustment", MaxDelta)}
	case sign > 0 && a.Delta < 0:
		return &FieldError{"delta", fmt.Sprintf("%s stock is added: give a positive delta", a.Reason)}
	case sign < 0 && a.Delta > 0:
		return &FieldError{"delta", fmt.Sprintf("%s stock is taken away: give a negative delta", a.Reason)}
	}
	if len(a.Key) > MaxKey || strings.ContainsFunc(a.Key, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return &FieldError{"idempotency_key", fmt.Sprintf("at most %d printable ASCII characters, no spaces", MaxKey)}
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"note", a.Note, MaxNote}, {"by", a.By, MaxBy}} {
		if !utf8.ValidString(f.v) {
			return &FieldError{f.name, "not valid UTF-8"}
		}
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return &FieldError{f.name, fmt.Sprintf("at most %d characters, got %d", f.max, n)}
		}
		if strings.ContainsFunc(f.v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return &FieldError{f.name, "control characters are not allowed"}
		}
	}
	return nil
}

// Adjust changes a product's stock with a reason and records it. A
// negative delta may take at most what is available (stock that orders
// reserved is not available); otherwise nothing changes and the error is
// Invalid, naming delta.
func (s *Stock) Adjust(ctx context.Context, a Adjustment) (StockMove, bool, error) {
	const op = "commerce.Adjust"
	if fe := a.Check(); fe != nil {
		return StockMove{}, false, invalid(op, fe)
	}
	if a.Source == "" {
		a.Source = SourceAPI
	}
	m, alerted, err := s.store.AdjustStock(ctx, StockMove{Product: a.Product, Delta: a.Delta, Reason: a.Reason, Note: a.Note,
		Source: a.Source, By: a.By, Key: a.Key, At: s.clock.Now()})
	if err != nil {
		return StockMove{}, false, err
	}
	if alerted && s.OnAlert != nil {
		s.OnAlert()
	}
	return m, alerted, nil
}

// Level returns where a product's stock stands.
func (s *Stock) Level(ctx context.Context, product kontor.ID) (StockLevel, error) {
	return s.store.StockLevel(ctx, product)
}

// MaxList is the most rows a stock list or history page holds.
const MaxList = 1000

// Levels lists a page of a catalog's stock levels (low: only those at or
// below their threshold); more says whether there are more.
func (s *Stock) Levels(ctx context.Context, catalog kontor.ID, low bool, after kontor.ID, limit int) ([]StockLevel, bool, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, false, err
	}
	ls, err := s.store.StockLevels(ctx, catalog, low, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(ls) > limit {
		return ls[:limit], true, nil
	}
	return ls, false, nil
}

// History lists a page of a product's stock moves, newest first, before
// the move numbered before (0: from the newest).
func (s *Stock) History(ctx context.Context, product kontor.ID, before int64, limit int) ([]StockMove, bool, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, false, err
	}
	ms, err := s.store.StockMoves(ctx, product, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(ms) > limit {
		return ms[:limit], true, nil
	}
	return ms, false, nil
}

func pageLimit(limit int) (int, error) {
	if limit == 0 {
		return 25, nil
	}
	if limit < 1 || limit > MaxList {
		return 0, invalid("commerce.List", &FieldError{"limit", fmt.Sprintf("from 1 to %d", MaxList)})
	}
	return limit, nil
}

// SetThreshold sets the low-stock threshold of a product: 0 to
// MaxInventory, or NoThreshold to have none. Setting it alerts nothing by
// itself; the next move that crosses it does.
func (s *Stock) SetThreshold(ctx context.Context, product kontor.ID, threshold int) error {
	if threshold != NoThreshold && (threshold < 0 || threshold > MaxInventory) {
		return invalid("commerce.SetThreshold", &FieldError{"low_stock_threshold", fmt.Sprintf("a quantity from 0 to %d, or null for none", MaxInventory)})
	}
	return s.store.SetLowStock(ctx, product, threshold)
}
