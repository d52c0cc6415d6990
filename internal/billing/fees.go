package billing

import (
	"context"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// CommerceFee is what the operator charges a business per successful
// payment: BPS basis points of the amount (150 = 1.5 %), rounded half to
// even to the payment currency's minor units, plus Fixed minor units of
// Currency.
type CommerceFee struct {
	Business kontor.ID `json:"business_id"`
	BPS      int64     `json:"bps"`
	Fixed    int64     `json:"fixed"` // minor units of Currency
	Currency string    `json:"currency"`
}

// FeeOf returns the fee on a payment of amount minor units: the
// percentage half to even, plus the fixed part.
func (f CommerceFee) FeeOf(amount int64) int64 { return Percent(amount, f.BPS) + f.Fixed }

// SetCommerceFee sets a business's commerce fee. The fee applies to
// payments charged after it is set; their entries keep what they were
// charged.
func (l *Ledger) SetCommerceFee(ctx context.Context, f CommerceFee) (CommerceFee, error) {
	const op = "billing.SetCommerceFee"
	f.Currency = strings.ToUpper(strings.TrimSpace(f.Currency))
	if f.BPS < 0 || f.BPS > 10_000 {
		return CommerceFee{}, kontor.Errorf(kontor.Invalid, op, "a commerce fee's percentage is 0 to 10000 basis points (0–100 %%), not %d", f.BPS)
	}
	if f.Fixed < 0 || f.Fixed > maxMinor {
		return CommerceFee{}, kontor.Errorf(kontor.Invalid, op, "a commerce fee's fixed part is 0 or more, not %d", f.Fixed)
	}
	if _, err := exponent(l.exps, op, f.Currency); err != nil {
		return CommerceFee{}, err
	}
	return f, l.store.SetCommerceFee(ctx, f)
}

// CommerceFee returns a business's commerce fee; kontor.NotFound when none
// is set (its payments cost no fee).
func (l *Ledger) CommerceFee(ctx context.Context, business kontor.ID) (CommerceFee, error) {
	return l.store.CommerceFee(ctx, business)
}

// maxPaymentID bounds a payment id (the key of its fee).
const maxPaymentID = 200

// ChargeCommerceFee writes the commerce fee of a successful payment of
// amount minor units of currency to business, once per payment id however
// often it is called (added is false on a repeat, and the entry is the one
// computed now). A business without a fee set is charged nothing (no
// entry, no error). The fee is in the payment's currency; a fee whose
// fixed part is in another currency is refused.
//
// Payments call it when a payment has succeeded: from the transaction's
// outbox consumer or right after committing the paid state, with the
// payment's own id, and retry on error until it returns nil.
func (l *Ledger) ChargeCommerceFee(ctx context.Context, business kontor.ID, paymentID string, amount int64, currency string, at time.Time) (Entry, bool, error) {
	const op = "billing.ChargeCommerceFee"
	switch {
	case business == 0:
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "a commerce fee needs the business")
	case paymentID == "" || len(paymentID) > maxPaymentID:
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "a commerce fee needs the payment's id (1 to %d bytes)", maxPaymentID)
	case amount <= 0:
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "a successful payment has a positive amount, not %d", amount)
	}
	exp, err := exponent(l.exps, op, currency)
	if err != nil {
		return Entry{}, false, err
	}
	if amount > maxMinor*pow10(exp) {
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "the payment's amount %d is too large", amount)
	}
	f, err := l.store.CommerceFee(ctx, business)
	if kontor.KindOf(err) == kontor.NotFound {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	if f.Fixed != 0 && f.Currency != currency {
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "the business's commerce fee has a fixed part in %s; the payment is in %s", f.Currency, currency)
	}
	fee := f.FeeOf(amount)
	if fee == 0 {
		return Entry{}, false, nil
	}
	n := MinorToNanos(fee, exp)
	e := Entry{ID: l.ids.Next(), Key: "pay:" + paymentID, Business: business, Kind: KindCommerce, Category: "payment",
		Currency: currency, Amount: n, AmountText: n.String(), Note: "fee on " + FormatMinor(amount, exp) + " " + currency, At: at.UTC()}
	added, err := l.store.Append(ctx, e)
	return e, added, err
}

// Adjust writes a correction of a business's charges: a positive amount is
// charged, a negative one credited; it goes on the invoice open at at (a
// month already final takes no entries: they go on the next open invoice).
// reference, when given, makes the call idempotent.
func (l *Ledger) Adjust(ctx context.Context, business kontor.ID, amount int64, currency, note, reference string, at time.Time) (Entry, bool, error) {
	const op = "billing.Adjust"
	exp, err := exponent(l.exps, op, currency)
	if err != nil {
		return Entry{}, false, err
	}
	if amount == 0 {
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "an adjustment of 0 changes nothing")
	}
	if len(note) > 500 || len(reference) > maxPaymentID {
		return Entry{}, false, kontor.Errorf(kontor.Invalid, op, "a note is at most 500 bytes, a reference at most %d", maxPaymentID)
	}
	id := l.ids.Next()
	key := "adj:" + id.String()
	if reference != "" {
		key = "adj:ref:" + reference
	}
	n := MinorToNanos(amount, exp)
	e := Entry{ID: id, Key: key, Business: business, Kind: KindAdjustment, Category: "adjustment", Currency: currency,
		Amount: n, AmountText: n.String(), Note: note, At: at.UTC()}
	added, err := l.store.Append(ctx, e)
	return e, added, err
}
