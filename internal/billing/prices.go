// Package billing charges businesses for what costs money: price sheets by
// market and category, and (to come) the metering ledger, invoices and
// limits. Money is exact: a price is a whole number of nanos (10⁻⁹ of the
// currency's unit), so the public rates' sub-cent precision (0.0417) is
// kept without floats; rounding happens only where an invoice line is
// settled.
//
// A price sheet is a version: imported once with the date it takes effect
// and never edited; a new import is a new version. The sheet in effect at a
// time is the newest whose effective date is not after it.
package billing

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// Nanos is an amount in 10⁻⁹ of a currency's unit.
type Nanos int64

// ParseNanos reads a decimal such as "0.0417" exactly; at most 9 digits
// after the point, no sign, no exponent.
func ParseNanos(s string) (Nanos, error) {
	whole, frac, dot := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || (dot && frac == "") || len(frac) > 9 {
		return 0, fmt.Errorf("%q is not a decimal with at most 9 digits after the point", s)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q is not a decimal with at most 9 digits after the point", s)
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 9_000_000_000 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return Nanos(w*1_000_000_000 + f), nil
}

// String writes n as a decimal with no trailing zeros ("0.0417", "1").
func (n Nanos) String() string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := fmt.Sprintf("%d.%09d", n/1_000_000_000, n%1_000_000_000)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return sign + s
}

// Categories of messages, as the public pricing names them.
var Categories = []string{"marketing", "utility", "authentication", "authentication-international", "service"}

// OtherMarket is the market of every country a sheet has no row for.
const OtherMarket = "other"

// Rate is the price of one message of a category to a market.
type Rate struct {
	Market   string `json:"market"` // ISO 3166 alpha-2, or "other"
	Category string `json:"category"`
	Currency string `json:"currency"`
	Price    Nanos  `json:"-"`
	// PriceText is Price as a decimal string, for JSON.
	PriceText string `json:"price"`
}

// Sheet is one version of the prices.
type Sheet struct {
	ID        kontor.ID `json:"id"`
	Effective time.Time `json:"effective"`
	Imported  time.Time `json:"imported"`
	Label     string    `json:"label,omitempty"`
	Rates     []Rate    `json:"rates"`
}

// RowError says what is wrong with one row of an import.
type RowError struct {
	Row    int    `json:"row"` // 1 is the header
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// ParseSheet reads a price sheet in CSV with the header
// market,category,currency,price. Any bad row refuses the whole sheet (a
// price sheet is all or nothing), with every problem listed.
func ParseSheet(r io.Reader) ([]Rate, []RowError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, []RowError{{Row: 1, Reason: "the file has no header: market,category,currency,price"}}
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != "market,category,currency,price" {
		return nil, []RowError{{Row: 1, Reason: fmt.Sprintf("the header must be market,category,currency,price, not %s", strings.Join(header, ","))}}
	}
	var rates []Rate
	var errs []RowError
	seen := map[[2]string]int{}
	currency := ""
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, RowError{Row: row, Reason: err.Error()})
			continue
		}
		if len(rec) != 4 {
			errs = append(errs, RowError{Row: row, Reason: fmt.Sprintf("%d fields; a row has market,category,currency,price", len(rec))})
			continue
		}
		market, cat, cur := strings.TrimSpace(rec[0]), strings.ToLower(strings.TrimSpace(rec[1])), strings.ToUpper(strings.TrimSpace(rec[2]))
		if m := strings.ToUpper(market); m != "OTHER" && (len(m) != 2 || !isUpperAlpha(m)) {
			errs = append(errs, RowError{Row: row, Column: "market", Reason: fmt.Sprintf("%q is not an ISO 3166 country code or \"other\"", market)})
			continue
		} else if m == "OTHER" {
			market = OtherMarket
		} else {
			market = m
		}
		if !contains(Categories, cat) {
			errs = append(errs, RowError{Row: row, Column: "category", Reason: fmt.Sprintf("%q is not one of %s", cat, strings.Join(Categories, ", "))})
			continue
		}
		if len(cur) != 3 || !isUpperAlpha(cur) {
			errs = append(errs, RowError{Row: row, Column: "currency", Reason: fmt.Sprintf("%q is not an ISO 4217 code", rec[2])})
			continue
		}
		if currency == "" {
			currency = cur
		} else if cur != currency {
			errs = append(errs, RowError{Row: row, Column: "currency", Reason: fmt.Sprintf("one sheet has one currency: %s, not %s", currency, cur)})
			continue
		}
		price, err := ParseNanos(rec[3])
		if err != nil {
			errs = append(errs, RowError{Row: row, Column: "price", Reason: err.Error()})
			continue
		}
		key := [2]string{market, cat}
		if first, dup := seen[key]; dup {
			errs = append(errs, RowError{Row: row, Reason: fmt.Sprintf("%s/%s is already priced in row %d", market, cat, first)})
			continue
		}
		seen[key] = row
		rates = append(rates, Rate{Market: market, Category: cat, Currency: cur, Price: price, PriceText: price.String()})
	}
	if len(rates) == 0 && len(errs) == 0 {
		errs = append(errs, RowError{Row: 2, Reason: "the sheet has no rates"})
	}
	return rates, errs
}

func isUpperAlpha(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Store keeps price sheets. Implemented by internal/store.
type Store interface {
	// PutSheet stores a new version.
	PutSheet(ctx context.Context, s Sheet) error
	// SheetAt returns the newest sheet effective at t; kontor.NotFound when
	// none is.
	SheetAt(ctx context.Context, t time.Time) (Sheet, error)
	// Sheets lists every version, newest first, without their rates.
	Sheets(ctx context.Context) ([]Sheet, error)
}

// Service manages prices.
type Service struct {
	store Store
	ids   *kontor.IDs
	clock kontor.Clock
}

// New returns the service.
func New(store Store, ids *kontor.IDs, clock kontor.Clock) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Service{store: store, ids: ids, clock: clock}
}

// ImportError is a refused sheet with what is wrong in it.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	if len(e.Rows) == 0 {
		return "the price sheet was refused"
	}
	return fmt.Sprintf("the price sheet has %d problem(s); the first: row %d: %s", len(e.Rows), e.Rows[0].Row, e.Rows[0].Reason)
}

// Import stores a new sheet effective from effective (zero: now).
func (s *Service) Import(ctx context.Context, r io.Reader, effective time.Time, label string) (Sheet, error) {
	rates, errs := ParseSheet(r)
	if len(errs) > 0 {
		return Sheet{}, &kontor.Error{Kind: kontor.Invalid, Op: "billing.Import", Msg: (&ImportError{Rows: errs}).Error(), Err: &ImportError{Rows: errs}}
	}
	now := s.clock.Now()
	if effective.IsZero() {
		effective = now
	}
	sh := Sheet{ID: s.ids.Next(), Effective: effective.UTC(), Imported: now.UTC(), Label: label, Rates: rates}
	if err := s.store.PutSheet(ctx, sh); err != nil {
		return Sheet{}, err
	}
	return sh, nil
}

// At returns the sheet in effect at t.
func (s *Service) At(ctx context.Context, t time.Time) (Sheet, error) { return s.store.SheetAt(ctx, t) }

// Versions lists the sheets, newest first.
func (s *Service) Versions(ctx context.Context) ([]Sheet, error) { return s.store.Sheets(ctx) }

// Price returns the rate of a category to a market at t: the market's own
// row, else the "other" row.
func (s *Service) Price(ctx context.Context, t time.Time, market, category string) (Rate, error) {
	sh, err := s.store.SheetAt(ctx, t)
	if err != nil {
		return Rate{}, err
	}
	return sh.Price(market, category)
}

// Price looks a rate up in the sheet.
func (sh Sheet) Price(market, category string) (Rate, error) {
	market = strings.ToUpper(market)
	var other *Rate
	for i, r := range sh.Rates {
		if r.Category != category {
			continue
		}
		if r.Market == market {
			return r, nil
		}
		if r.Market == OtherMarket {
			other = &sh.Rates[i]
		}
	}
	if other != nil {
		return *other, nil
	}
	return Rate{}, kontor.Errorf(kontor.NotFound, "billing.Price", "the price sheet has no %s rate for %s or other markets", category, market)
}

// ExampleRates is the sample rate card that ships with kontor: USD rates
// for a few markets taken from third-party copies of the public card
// (2024–2025), and made-up "other" rates. An example only — import your own.
//
//go:embed example_rates.csv
var ExampleRates string

// ExampleLabel labels the sample sheet wherever it shows.
const ExampleLabel = "EXAMPLE rates (illustrative, not for billing): import your own with kontor admin prices import"

// EnsureExample imports the sample sheet, effective from the epoch, when no
// sheet exists yet, so that a fresh install can price messages at all.
func (s *Service) EnsureExample(ctx context.Context) error {
	vs, err := s.store.Sheets(ctx)
	if err != nil || len(vs) > 0 {
		return err
	}
	_, err = s.Import(ctx, strings.NewReader(ExampleRates), time.Unix(0, 0), ExampleLabel)
	return err
}
