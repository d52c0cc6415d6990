package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

func init() {
	addMigration("tiers 1", migration{sql: `
CREATE TABLE volume_counts (
	business_id BIGINT NOT NULL,
	month       TEXT NOT NULL,
	market      TEXT NOT NULL,
	category    TEXT NOT NULL,
	charged     BIGINT NOT NULL,
	PRIMARY KEY (business_id, month, market, category)
);
CREATE TABLE billing_rule_sets (
	seq       BIGINT PRIMARY KEY,
	effective TEXT NOT NULL UNIQUE,
	body      TEXT NOT NULL,
	imported  BIGINT NOT NULL
);
`})
	addHotWrite(volumeSQL)
}

// volumeSQL counts one more charged message of a business's month, market
// and category, and returns the count.
const volumeSQL = `INSERT INTO volume_counts (business_id, month, market, category, charged) VALUES ($1,$2,$3,$4,1)
	ON CONFLICT (business_id, month, market, category) DO UPDATE SET charged = volume_counts.charged + 1 RETURNING charged`

// errDuplicate undoes a counted append whose key was there already.
var errDuplicate = &kontor.Error{Kind: kontor.Conflict, Op: "store.AppendCounted", Msg: "the entry is in the ledger already"}

// AppendCounted adds a message's ledger entry once per key, counted in its
// business's month, market and category and priced by that count, with
// its rollups (by month and by day) and the credit balance, in one transaction
// (billing.LedgerStore). The counter row serialises concurrent charges of
// the same month, market and category on both databases, so the n-th
// message is priced as the n-th whatever the race; a key already there
// (a repeated delivery report, rare) rolls the count back with the rest.
func (db *DB) AppendCounted(ctx context.Context, e billing.Entry, price func(n int64) (billing.Nanos, string)) (billing.Entry, bool, error) {
	err := db.tx(ctx, "store.AppendCounted", func(tx *sql.Tx) error {
		if err := db.lockBusiness(ctx, tx, e.Business, false); err != nil {
			return err
		}
		var n int64
		args := []any{int64(e.Business), e.At.UTC().Format("2006-01"), e.Market, e.Category}
		var row *sql.Row
		if st, ok := db.wstmts[volumeSQL]; ok {
			row = tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		} else {
			row = tx.QueryRowContext(ctx, volumeSQL, args...)
		}
		if err := row.Scan(&n); err != nil {
			return err
		}
		e.Amount, e.Note = price(n)
		e.AmountText = e.Amount.String()
		res, err := db.exec(ctx, tx, appendSQL,
			int64(e.ID), e.Key, int64(e.Business), int64(e.Number), e.Kind, e.Market, e.Category, e.Currency, int64(e.Amount), int64(e.Sheet), e.At.UnixMilli(), e.Note)
		if err != nil {
			return err
		}
		if added, err := res.RowsAffected(); err != nil || added != 1 {
			if err != nil {
				return err
			}
			return errDuplicate // a repeated delivery: its count is rolled back
		}
		if err := db.rollup(ctx, tx, e); err != nil {
			return err
		}
		if err := db.daily(ctx, tx, e); err != nil {
			return err
		}
		return db.balanceDelta(ctx, tx, e)
	})
	if err == errDuplicate {
		return billing.Entry{}, false, nil
	}
	if err != nil {
		return billing.Entry{}, false, err
	}
	return e, true, nil
}

// VolumeCount is how many charged messages of category to market the
// business had in the calendar month (UTC) of at.
func (db *DB) VolumeCount(ctx context.Context, business kontor.ID, market, category string, at time.Time) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT charged FROM volume_counts WHERE business_id = $1 AND month = $2 AND market = $3 AND category = $4`,
		int64(business), at.UTC().Format("2006-01"), market, category).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, internal("store.VolumeCount", err)
	}
	return n, nil
}

// AddRuleSets stores rule sets imported at run time, all or none, after
// every stored one (billing.RuleStore). Each takes the next sequence
// number, so two imports racing on PostgreSQL cannot both pass the check
// of the newest date: one of them fails on the sequence's key and is a
// conflict.
func (db *DB) AddRuleSets(ctx context.Context, sets []billing.StoredRules) error {
	const op = "store.AddRuleSets"
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		var seq int64
		var newest sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0), MAX(effective) FROM billing_rule_sets`).Scan(&seq, &newest); err != nil {
			return err
		}
		for _, s := range sets {
			if newest.Valid && s.Effective <= newest.String {
				return kontor.Errorf(kontor.Conflict, op, "a rule set effective %s is stored: a new set must start after it", newest.String)
			}
			seq++
			if _, err := tx.ExecContext(ctx, `INSERT INTO billing_rule_sets (seq, effective, body, imported) VALUES ($1,$2,$3,$4)`,
				seq, s.Effective, string(s.Body), s.Imported.UnixMilli()); err != nil {
				if isUnique(err) {
					return kontor.Errorf(kontor.Conflict, op, "another rule set was imported at the same time; look at the rules and try again")
				}
				return err
			}
			newest = sql.NullString{String: s.Effective, Valid: true}
		}
		return nil
	})
	return err
}

// RuleSets lists the rule sets imported at run time, oldest first
// (billing.RuleStore).
func (db *DB) RuleSets(ctx context.Context) ([]billing.StoredRules, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT effective, body, imported FROM billing_rule_sets ORDER BY effective`)
	if err != nil {
		return nil, internal("store.RuleSets", err)
	}
	defer rows.Close()
	var out []billing.StoredRules
	for rows.Next() {
		var s billing.StoredRules
		var body string
		var imported int64
		if err := rows.Scan(&s.Effective, &body, &imported); err != nil {
			return nil, internal("store.RuleSets", err)
		}
		s.Body, s.Imported = []byte(body), time.UnixMilli(imported).UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.RuleSets", err)
	}
	return out, nil
}
