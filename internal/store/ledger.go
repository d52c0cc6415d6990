package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

func init() {
	addMigration("ledger 1", migration{sql: `
CREATE TABLE ledger (
	id          BIGINT PRIMARY KEY,
	entry_key   TEXT NOT NULL UNIQUE,
	business_id BIGINT NOT NULL,
	number_id   BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	market      TEXT NOT NULL,
	category    TEXT NOT NULL,
	currency    TEXT NOT NULL,
	nanos       BIGINT NOT NULL,
	sheet_id    BIGINT NOT NULL,
	at          BIGINT NOT NULL
);
CREATE INDEX ledger_business_at ON ledger (business_id, at);
`})
}

// appendSQL adds an entry unless its key is there.
const appendSQL = `INSERT INTO ledger (id, entry_key, business_id, number_id, kind, market, category, currency, nanos, sheet_id, at, note)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (entry_key) DO NOTHING`

func init() { addHotWrite(appendSQL, rollupSQL, balanceSQL) }

// Append adds a ledger entry once per key, with its rollups (by month;
// messages also by day) and the credit balance, in one transaction (billing.LedgerStore).
func (db *DB) Append(ctx context.Context, e billing.Entry) (bool, error) {
	added := false
	err := db.tx(ctx, "store.Append", func(tx *sql.Tx) error {
		if err := db.lockBusiness(ctx, tx, e.Business, false); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, appendSQL,
			int64(e.ID), e.Key, int64(e.Business), int64(e.Number), e.Kind, e.Market, e.Category, e.Currency, int64(e.Amount), int64(e.Sheet), e.At.UnixMilli(), e.Note)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if added = n == 1; !added || err != nil {
			return err
		}
		if err := db.rollup(ctx, tx, e); err != nil {
			return err
		}
		if err := db.daily(ctx, tx, e); err != nil {
			return err
		}
		return db.balanceDelta(ctx, tx, e)
	})
	return added, err
}

// Entries lists a business's ledger entries in [from, to) (billing.LedgerStore).
func (db *DB) Entries(ctx context.Context, business kontor.ID, from, to time.Time) ([]billing.Entry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, entry_key, business_id, number_id, kind, market, category, currency, nanos, sheet_id, at, note
		FROM ledger WHERE business_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id`, int64(business), from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, internal("store.Entries", err)
	}
	defer rows.Close()
	var out []billing.Entry
	for rows.Next() {
		var e billing.Entry
		var id, biz, num, nanos, sheet, at int64
		if err := rows.Scan(&id, &e.Key, &biz, &num, &e.Kind, &e.Market, &e.Category, &e.Currency, &nanos, &sheet, &at, &e.Note); err != nil {
			return nil, internal("store.Entries", err)
		}
		e.ID, e.Business, e.Number, e.Amount, e.Sheet, e.At = kontor.ID(id), kontor.ID(biz), kontor.ID(num), billing.Nanos(nanos), kontor.ID(sheet), time.UnixMilli(at).UTC()
		e.AmountText = e.Amount.String()
		out = append(out, e)
	}
	return out, rows.Err()
}
