package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/commerce"
)

var (
	_ billing.InvoiceStore = (*DB)(nil)
	_ billing.CreditStore  = (*DB)(nil)
	_ billing.LedgerStore  = (*DB)(nil)
	_ billing.UsageStore   = (*DB)(nil)
)

// monthOf is, in SQL, the first millisecond of the UTC month of at (a
// Unix time in milliseconds).
var monthOf = map[string]string{
	"sqlite":   `CAST(strftime('%s', datetime(at / 1000, 'unixepoch', 'start of month')) AS BIGINT) * 1000`,
	"postgres": `CAST(EXTRACT(EPOCH FROM date_trunc('month', to_timestamp(at / 1000) AT TIME ZONE 'UTC')) AS BIGINT) * 1000`,
}

// rollupFill sums open charges into ledger_rollup; %s is monthOf, and the
// caller may add a condition after "WHERE".
const rollupFill = `INSERT INTO ledger_rollup (business_id, month_start, kind, market, category, currency, unit_nanos, qty, sum_nanos)
SELECT business_id, %s, kind, market, category, currency, CASE WHEN kind = 'message' THEN nanos ELSE 0 END, COUNT(*), SUM(nanos)
FROM ledger WHERE invoice_id = 0 AND kind <> 'topup' %s
GROUP BY business_id, %s, kind, market, category, currency, CASE WHEN kind = 'message' THEN nanos ELSE 0 END`

func init() {
	// Invoices, credit, commerce fees and partner markups. An entry on a
	// final invoice carries its id; entries with invoice_id 0 are open.
	// ledger_rollup holds the sums of the open charges by business, month,
	// kind, market, category, currency and unit price, kept in the
	// transaction of each entry: a draft invoice reads a few rows, not
	// every entry of the month.
	schema := `
ALTER TABLE ledger ADD COLUMN invoice_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX ledger_open ON ledger (business_id, invoice_id, at);
CREATE TABLE ledger_rollup (
	business_id BIGINT NOT NULL,
	month_start BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	market      TEXT NOT NULL,
	category    TEXT NOT NULL,
	currency    TEXT NOT NULL,
	unit_nanos  BIGINT NOT NULL,
	qty         BIGINT NOT NULL,
	sum_nanos   BIGINT NOT NULL,
	PRIMARY KEY (business_id, month_start, kind, market, category, currency, unit_nanos)
);
CREATE TABLE invoices (
	id          BIGINT PRIMARY KEY,
	business_id BIGINT NOT NULL,
	partner_id  BIGINT NOT NULL,
	month       TEXT NOT NULL,
	month_start BIGINT NOT NULL,
	month_end   BIGINT NOT NULL,
	currency    TEXT NOT NULL,
	total       BIGINT NOT NULL,
	entries     BIGINT NOT NULL,
	markup_bps  BIGINT NOT NULL,
	finalized   BIGINT NOT NULL,
	UNIQUE (business_id, partner_id, month)
);
CREATE TABLE invoice_lines (
	invoice_id  BIGINT NOT NULL,
	n           INTEGER NOT NULL,
	business_id BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	market      TEXT NOT NULL,
	category    TEXT NOT NULL,
	currency    TEXT NOT NULL,
	qty         BIGINT NOT NULL,
	unit_nanos  BIGINT NOT NULL,
	exact_nanos BIGINT NOT NULL,
	amount      BIGINT NOT NULL,
	markup      BIGINT NOT NULL,
	PRIMARY KEY (invoice_id, n)
);
CREATE TABLE billing_credit (
	business_id   BIGINT PRIMARY KEY,
	mode          TEXT NOT NULL,
	currency      TEXT NOT NULL,
	limit_nanos   BIGINT NOT NULL,
	balance_nanos BIGINT NOT NULL DEFAULT 0,
	updated       BIGINT NOT NULL
);
CREATE TABLE billing_fees (
	business_id BIGINT PRIMARY KEY,
	bps         BIGINT NOT NULL,
	fixed       BIGINT NOT NULL,
	currency    TEXT NOT NULL
);
CREATE TABLE billing_markups (
	partner_id BIGINT PRIMARY KEY,
	bps        BIGINT NOT NULL
);
`
	fill := func(d string) string { return fmt.Sprintf(rollupFill, monthOf[d], "", monthOf[d]) + ";\n" }
	addMigration("ledger 2", migration{sqlite: schema + fill("sqlite"), postgres: schema + fill("postgres")})
}

// monthStart is the first instant of t's UTC month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// lockBusiness takes the business's billing lock for the transaction, on
// PostgreSQL: shared by every entry added, exclusive while an invoice is
// finalized, so that a month is summed, marked and closed with nothing
// added meanwhile. SQLite's one writer needs nothing.
func (db *DB) lockBusiness(ctx context.Context, tx *sql.Tx, business kontor.ID, exclusive bool) error {
	if db.d.name != "postgres" {
		return nil
	}
	q := `SELECT pg_advisory_xact_lock_shared($1)`
	if exclusive {
		q = `SELECT pg_advisory_xact_lock($1)`
	}
	_, err := tx.ExecContext(ctx, q, int64(business))
	return err
}

// rollup adds a charge to the sums of its business's open month.
func (db *DB) rollup(ctx context.Context, tx *sql.Tx, e billing.Entry) error {
	if e.Kind == billing.KindTopUp {
		return nil
	}
	unit := int64(0)
	if e.Kind == billing.KindMessage {
		unit = int64(e.Amount)
	}
	_, err := db.exec(ctx, tx, rollupSQL, int64(e.Business), monthStart(e.At).UnixMilli(), e.Kind, e.Market, e.Category, e.Currency, unit, int64(e.Amount))
	return err
}

// balanceDelta keeps a credit account's balance in the transaction that
// adds entry e: charges lower it, top-ups raise it (no account: no-op).
func (db *DB) balanceDelta(ctx context.Context, tx *sql.Tx, e billing.Entry) error {
	delta := -int64(e.Amount)
	if e.Kind == billing.KindTopUp {
		delta = int64(e.Amount)
	}
	_, err := db.exec(ctx, tx, balanceSQL, delta, int64(e.Business), e.Currency)
	return err
}

const balanceSQL = `UPDATE billing_credit SET balance_nanos = balance_nanos + $1 WHERE business_id = $2 AND currency = $3`

const rollupSQL = `INSERT INTO ledger_rollup (business_id, month_start, kind, market, category, currency, unit_nanos, qty, sum_nanos)
	VALUES ($1,$2,$3,$4,$5,$6,$7,1,$8) ON CONFLICT (business_id, month_start, kind, market, category, currency, unit_nanos)
	DO UPDATE SET qty = ledger_rollup.qty + 1, sum_nanos = ledger_rollup.sum_nanos + excluded.sum_nanos`

// fromMilli reads a stored time; 0 is the zero time.
func fromMilli(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// sumLines is the SELECT that sums charges into invoice lines; the caller
// adds the WHERE clause and the GROUP BY.
const sumLines = `SELECT kind, market, category, currency, CASE WHEN kind = 'message' THEN nanos ELSE 0 END, COUNT(*), SUM(nanos) FROM ledger `

const groupLines = ` GROUP BY kind, market, category, currency, CASE WHEN kind = 'message' THEN nanos ELSE 0 END`

func scanLines(rows *sql.Rows) ([]billing.Line, error) {
	defer rows.Close()
	var out []billing.Line
	for rows.Next() {
		var l billing.Line
		var unit, sum int64
		if err := rows.Scan(&l.Kind, &l.Market, &l.Category, &l.Currency, &unit, &l.Count, &sum); err != nil {
			return nil, err
		}
		l.Unit, l.Sum = billing.Nanos(unit), billing.Nanos(sum)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Aggregate sums open charges into lines, from the rollup of the months
// in [from, to) (billing.InvoiceStore; from and to are month starts).
func (db *DB) Aggregate(ctx context.Context, business kontor.ID, from, to time.Time) ([]billing.Line, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT kind, market, category, currency, unit_nanos, SUM(qty), SUM(sum_nanos) FROM ledger_rollup
		WHERE business_id = $1 AND month_start >= $2 AND month_start < $3 GROUP BY kind, market, category, currency, unit_nanos`,
		int64(business), from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, internal("store.Aggregate", err)
	}
	ls, err := scanLines(rows)
	if err != nil {
		return nil, internal("store.Aggregate", err)
	}
	return ls, nil
}

func firstUninvoiced(ctx context.Context, q querier, business kontor.ID, from, to time.Time) (time.Time, bool, error) {
	var at sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MIN(at) FROM ledger WHERE business_id = $1 AND invoice_id = 0 AND at >= $2 AND at < $3 AND kind <> 'topup'`,
		int64(business), from.UnixMilli(), to.UnixMilli()).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, false, err
	}
	return time.UnixMilli(at.Int64).UTC(), true, nil
}

// FirstUninvoiced finds the earliest open charge in [from, to) (billing.InvoiceStore).
func (db *DB) FirstUninvoiced(ctx context.Context, business kontor.ID, from, to time.Time) (time.Time, bool, error) {
	t, ok, err := firstUninvoiced(ctx, db.r, business, from, to)
	if err != nil {
		return t, ok, internal("store.FirstUninvoiced", err)
	}
	return t, ok, nil
}

func closedUntil(ctx context.Context, q querier, business kontor.ID) (time.Time, error) {
	var end int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(month_end), 0) FROM invoices WHERE business_id = $1 AND partner_id = 0`, int64(business)).Scan(&end)
	return fromMilli(end), err
}

// ClosedUntil returns the end of the latest final month (billing.InvoiceStore).
func (db *DB) ClosedUntil(ctx context.Context, business kontor.ID) (time.Time, error) {
	t, err := closedUntil(ctx, db.r, business)
	if err != nil {
		return t, internal("store.ClosedUntil", err)
	}
	return t, nil
}

// FinalInvoice reads a stored invoice with its lines (billing.InvoiceStore).
func (db *DB) FinalInvoice(ctx context.Context, business, partner kontor.ID, month string) (billing.Invoice, error) {
	const op = "store.FinalInvoice"
	var inv billing.Invoice
	var id, biz, part, fin int64
	err := db.r.QueryRowContext(ctx, `SELECT id, business_id, partner_id, month, currency, total, entries, markup_bps, finalized FROM invoices
		WHERE business_id = $1 AND partner_id = $2 AND month = $3`, int64(business), int64(partner), month).
		Scan(&id, &biz, &part, &inv.Month, &inv.Currency, &inv.Total, &inv.Entries, &inv.MarkupBPS, &fin)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, notFound(op, "no final invoice for %s", month)
	}
	if err != nil {
		return inv, internal(op, err)
	}
	finalized := time.UnixMilli(fin).UTC()
	inv.ID, inv.Business, inv.Partner, inv.Status, inv.Finalized = kontor.ID(id), kontor.ID(biz), kontor.ID(part), billing.StatusFinal, &finalized
	rows, err := db.r.QueryContext(ctx, `SELECT business_id, kind, market, category, currency, qty, unit_nanos, exact_nanos, amount, markup
		FROM invoice_lines WHERE invoice_id = $1 ORDER BY n`, id)
	if err != nil {
		return inv, internal(op, err)
	}
	defer rows.Close()
	inv.Lines = []billing.Line{}
	for rows.Next() {
		var l billing.Line
		var lb, unit, exact int64
		if err := rows.Scan(&lb, &l.Kind, &l.Market, &l.Category, &l.Currency, &l.Count, &unit, &exact, &l.Amount, &l.Markup); err != nil {
			return inv, internal(op, err)
		}
		l.Business, l.Unit, l.Sum, l.Exact = kontor.ID(lb), billing.Nanos(unit), billing.Nanos(exact), billing.Nanos(exact).String()
		if l.Kind == billing.KindMessage {
			l.UnitPrice = l.Unit.String()
		}
		switch {
		case partner == 0:
			l.Business = 0
			inv.Lines = append(inv.Lines, l)
		case l.Kind == "section":
			inv.Sections = append(inv.Sections, billing.Section{Business: l.Business, Status: billing.StatusFinal, Lines: []billing.Line{}})
		case len(inv.Sections) > 0:
			sec := &inv.Sections[len(inv.Sections)-1]
			sec.Subtotal += l.Amount
			sec.Markup += l.Markup
			sec.Lines = append(sec.Lines, l)
		}
	}
	if err := rows.Err(); err != nil {
		return inv, internal(op, err)
	}
	exp := 2
	if e, ok := currencyExp(inv.Currency); ok {
		exp = e
	}
	inv.TotalText = billing.FormatMinor(inv.Total, exp)
	return inv, nil
}

// currencyExp is the exponent of a currency written on an invoice: the
// total's decimal places are derived from its stored lines.
func currencyExp(currency string) (int, bool) {
	if currency == "" {
		return 2, true
	}
	return commerce.Exponent(currency)
}

func insertLines(ctx context.Context, tx *sql.Tx, invoice kontor.ID, lines []billing.Line) error {
	for i, l := range lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO invoice_lines (invoice_id, n, business_id, kind, market, category, currency, qty, unit_nanos, exact_nanos, amount, markup)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`, int64(invoice), i, int64(l.Business), l.Kind, l.Market, l.Category, l.Currency,
			l.Count, int64(l.Unit), int64(l.Sum), l.Amount, l.Markup); err != nil {
			return err
		}
	}
	return nil
}

// FinalizeInvoice makes a business's month final in one transaction
// (billing.InvoiceStore).
func (db *DB) FinalizeInvoice(ctx context.Context, inv billing.Invoice, from, to time.Time, settle func([]billing.Line) (billing.Invoice, error)) (billing.Invoice, error) {
	const op = "store.FinalizeInvoice"
	var out billing.Invoice
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		if err := db.lockBusiness(ctx, tx, inv.Business, true); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO invoices (id, business_id, partner_id, month, month_start, month_end, currency, total, entries, markup_bps, finalized)
			VALUES ($1,$2,0,$3,$4,$5,'',0,0,0,$6) ON CONFLICT (business_id, partner_id, month) DO NOTHING`,
			int64(inv.ID), int64(inv.Business), inv.Month, from.UnixMilli(), to.UnixMilli(), time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return &kontor.Error{Kind: kontor.Conflict, Op: op, Err: billing.ErrFinal,
				Msg: fmt.Sprintf("the invoice of business %s for %s is final already; it does not change (corrections go on the next open invoice)", inv.Business, inv.Month)}
		}
		var later int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invoices WHERE business_id = $1 AND partner_id = 0 AND month_start > $2`,
			int64(inv.Business), from.UnixMilli()).Scan(&later); err != nil {
			return err
		}
		if later > 0 {
			return kontor.Errorf(kontor.Conflict, op, "a month after %s is final already: %s is closed, its late charges go on the next open invoice", inv.Month, inv.Month)
		}
		var closed int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(month_end), 0) FROM invoices WHERE business_id = $1 AND partner_id = 0 AND id <> $2`,
			int64(inv.Business), int64(inv.ID)).Scan(&closed); err != nil {
			return err
		}
		if first, ok, err := firstUninvoiced(ctx, tx, inv.Business, fromMilli(closed), from); err != nil {
			return err
		} else if ok {
			return kontor.Errorf(kontor.Conflict, op, "%s has charges not on a final invoice: finalize %s first", first.Format("2006-01"), first.Format("2006-01"))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ledger SET invoice_id = $1 WHERE business_id = $2 AND invoice_id = 0 AND at < $3 AND kind <> 'topup'`,
			int64(inv.ID), int64(inv.Business), to.UnixMilli()); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, sumLines+`WHERE business_id = $1 AND invoice_id = $2`+groupLines, int64(inv.Business), int64(inv.ID))
		if err != nil {
			return err
		}
		lines, err := scanLines(rows)
		if err != nil {
			return err
		}
		if out, err = settle(lines); err != nil {
			return err
		}
		// Every open charge before to is on the invoice now.
		if _, err := tx.ExecContext(ctx, `DELETE FROM ledger_rollup WHERE business_id = $1 AND month_start < $2`, int64(inv.Business), to.UnixMilli()); err != nil {
			return err
		}
		if err := insertLines(ctx, tx, inv.ID, out.Lines); err != nil {
			return err
		}
		fin := time.Now()
		if out.Finalized != nil {
			fin = *out.Finalized
		}
		_, err = tx.ExecContext(ctx, `UPDATE invoices SET currency = $1, total = $2, entries = $3, finalized = $4 WHERE id = $5`,
			out.Currency, out.Total, out.Entries, fin.UnixMilli(), int64(inv.ID))
		return err
	})
	return out, err
}

// PutPartnerInvoice stores a partner's final invoice (billing.InvoiceStore).
func (db *DB) PutPartnerInvoice(ctx context.Context, inv billing.Invoice) error {
	const op = "store.PutPartnerInvoice"
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		month, err := billing.ParseMonth(inv.Month)
		if err != nil {
			return err
		}
		fin := time.Now()
		if inv.Finalized != nil {
			fin = *inv.Finalized
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO invoices (id, business_id, partner_id, month, month_start, month_end, currency, total, entries, markup_bps, finalized)
			VALUES ($1,0,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (business_id, partner_id, month) DO NOTHING`,
			int64(inv.ID), int64(inv.Partner), inv.Month, month.UnixMilli(), month.AddDate(0, 1, 0).UnixMilli(), inv.Currency, inv.Total, inv.Entries, inv.MarkupBPS, fin.UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return &kontor.Error{Kind: kontor.Conflict, Op: op, Err: billing.ErrFinal, Msg: fmt.Sprintf("the partner's invoice for %s is final already; it does not change", inv.Month)}
		}
		var lines []billing.Line
		for _, sec := range inv.Sections {
			lines = append(lines, billing.Line{Business: sec.Business, Kind: "section"})
			for _, l := range sec.Lines {
				l.Business = sec.Business
				lines = append(lines, l)
			}
		}
		return insertLines(ctx, tx, inv.ID, lines)
	})
}

// PartnerClients lists the businesses a partner manages (billing.InvoiceStore).
func (db *DB) PartnerClients(ctx context.Context, partner kontor.ID) ([]kontor.ID, error) {
	if _, err := db.Partner(ctx, partner); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT business_id FROM partner_grants WHERE partner_id = $1 ORDER BY business_id`, int64(partner))
	if err != nil {
		return nil, internal("store.PartnerClients", err)
	}
	defer rows.Close()
	var out []kontor.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, internal("store.PartnerClients", err)
		}
		out = append(out, kontor.ID(id))
	}
	return out, rows.Err()
}

// Markup returns a partner's markup (billing.InvoiceStore).
func (db *DB) Markup(ctx context.Context, partner kontor.ID) (int64, error) {
	var bps int64
	err := db.r.QueryRowContext(ctx, `SELECT bps FROM billing_markups WHERE partner_id = $1`, int64(partner)).Scan(&bps)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, internal("store.Markup", err)
	}
	return bps, nil
}

// SetMarkup sets a partner's markup (billing.InvoiceStore).
func (db *DB) SetMarkup(ctx context.Context, partner kontor.ID, bps int64) error {
	if _, err := db.Partner(ctx, partner); err != nil {
		return err
	}
	return db.tx(ctx, "store.SetMarkup", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO billing_markups (partner_id, bps) VALUES ($1,$2) ON CONFLICT (partner_id) DO UPDATE SET bps = excluded.bps`,
			int64(partner), bps)
		return err
	})
}

// CreditAccount returns a business's credit account (billing.CreditStore).
func (db *DB) CreditAccount(ctx context.Context, business kontor.ID) (billing.CreditAccount, error) {
	st, err := db.read(ctx, `SELECT mode, currency, limit_nanos, balance_nanos, updated FROM billing_credit WHERE business_id = $1`)
	if err != nil {
		return billing.CreditAccount{}, internal("store.CreditAccount", err)
	}
	a := billing.CreditAccount{Business: business}
	var limit, balance, updated int64
	err = st.QueryRowContext(ctx, int64(business)).Scan(&a.Mode, &a.Currency, &limit, &balance, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("store.CreditAccount", "business %s has no credit account", business)
	}
	if err != nil {
		return a, internal("store.CreditAccount", err)
	}
	a.Limit, a.Balance, a.Updated = billing.Nanos(limit), billing.Nanos(balance), time.UnixMilli(updated).UTC()
	return a, nil
}

// PutCreditAccount creates or changes a credit account, keeping its
// balance (billing.CreditStore).
func (db *DB) PutCreditAccount(ctx context.Context, a billing.CreditAccount) error {
	return db.tx(ctx, "store.PutCreditAccount", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO billing_credit (business_id, mode, currency, limit_nanos, balance_nanos, updated) VALUES ($1,$2,$3,$4,0,$5)
			ON CONFLICT (business_id) DO UPDATE SET mode = excluded.mode, limit_nanos = excluded.limit_nanos, updated = excluded.updated`,
			int64(a.Business), a.Mode, a.Currency, int64(a.Limit), a.Updated.UnixMilli())
		return err
	})
}

// CommerceFee returns a business's commerce fee (billing.LedgerStore).
func (db *DB) CommerceFee(ctx context.Context, business kontor.ID) (billing.CommerceFee, error) {
	f := billing.CommerceFee{Business: business}
	err := db.r.QueryRowContext(ctx, `SELECT bps, fixed, currency FROM billing_fees WHERE business_id = $1`, int64(business)).Scan(&f.BPS, &f.Fixed, &f.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("store.CommerceFee", "business %s has no commerce fee", business)
	}
	if err != nil {
		return f, internal("store.CommerceFee", err)
	}
	return f, nil
}

// SetCommerceFee sets a business's commerce fee (billing.LedgerStore).
func (db *DB) SetCommerceFee(ctx context.Context, f billing.CommerceFee) error {
	return db.tx(ctx, "store.SetCommerceFee", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO billing_fees (business_id, bps, fixed, currency) VALUES ($1,$2,$3,$4)
			ON CONFLICT (business_id) DO UPDATE SET bps = excluded.bps, fixed = excluded.fixed, currency = excluded.currency`,
			int64(f.Business), f.BPS, f.Fixed, f.Currency)
		return err
	})
}
