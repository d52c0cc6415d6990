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
	addMigration("prices 1", migration{sql: `
CREATE TABLE price_sheets (
	id        BIGINT PRIMARY KEY,
	effective BIGINT NOT NULL,
	imported  BIGINT NOT NULL,
	label     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX price_sheets_effective ON price_sheets (effective);
CREATE TABLE price_rates (
	sheet_id BIGINT NOT NULL,
	market   TEXT NOT NULL,
	category TEXT NOT NULL,
	currency TEXT NOT NULL,
	nanos    BIGINT NOT NULL,
	PRIMARY KEY (sheet_id, market, category)
);
`})
}

// PutSheet stores a price sheet version (billing.Store).
func (db *DB) PutSheet(ctx context.Context, s billing.Sheet) error {
	const op = "store.PutSheet"
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		// Versions follow each other: a new one starts after the newest, so
		// no two are in effect at once and none rewrites the past of
		// another. On PostgreSQL concurrent imports queue on a lock; SQLite
		// has one writer.
		if db.d.name == "postgres" {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7236374)`); err != nil {
				return err
			}
		}
		var newest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(effective) FROM price_sheets`).Scan(&newest); err != nil {
			return err
		}
		if newest.Valid && s.Effective.UnixMilli() <= newest.Int64 {
			return kontor.Errorf(kontor.Conflict, op, "a price sheet effective from %s is stored already: a new version must take effect after it (it would overlap)",
				time.UnixMilli(newest.Int64).UTC().Format(time.RFC3339))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO price_sheets (id, effective, imported, label) VALUES ($1,$2,$3,$4)`,
			int64(s.ID), s.Effective.UnixMilli(), ms(s.Imported), s.Label); err != nil {
			return err
		}
		for _, r := range s.Rates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO price_rates (sheet_id, market, category, currency, nanos) VALUES ($1,$2,$3,$4,$5)`,
				int64(s.ID), r.Market, r.Category, r.Currency, int64(r.Price)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SheetAt returns the sheet in effect at t (billing.Store).
func (db *DB) SheetAt(ctx context.Context, t time.Time) (billing.Sheet, error) {
	var s billing.Sheet
	var id, eff, imp int64
	err := db.r.QueryRowContext(ctx, `SELECT id, effective, imported, label FROM price_sheets WHERE effective <= $1
		ORDER BY effective DESC, id DESC LIMIT 1`, t.UnixMilli()).Scan(&id, &eff, &imp, &s.Label)
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("store.SheetAt", "no price sheet is in effect at %s", t.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return s, internal("store.SheetAt", err)
	}
	s.ID, s.Effective, s.Imported = kontor.ID(id), time.UnixMilli(eff).UTC(), time.UnixMilli(imp).UTC()
	rows, err := db.r.QueryContext(ctx, `SELECT market, category, currency, nanos FROM price_rates WHERE sheet_id = $1 ORDER BY market, category`, id)
	if err != nil {
		return s, internal("store.SheetAt", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r billing.Rate
		var n int64
		if err := rows.Scan(&r.Market, &r.Category, &r.Currency, &n); err != nil {
			return s, internal("store.SheetAt", err)
		}
		r.Price = billing.Nanos(n)
		r.PriceText = r.Price.String()
		s.Rates = append(s.Rates, r)
	}
	if err := rows.Err(); err != nil {
		return s, internal("store.SheetAt", err)
	}
	return s, nil
}

// Sheets lists the versions, newest first (billing.Store).
func (db *DB) Sheets(ctx context.Context) ([]billing.Sheet, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, effective, imported, label FROM price_sheets ORDER BY effective DESC, id DESC`)
	if err != nil {
		return nil, internal("store.Sheets", err)
	}
	defer rows.Close()
	out := []billing.Sheet{}
	for rows.Next() {
		var s billing.Sheet
		var id, eff, imp int64
		if err := rows.Scan(&id, &eff, &imp, &s.Label); err != nil {
			return nil, internal("store.Sheets", err)
		}
		s.ID, s.Effective, s.Imported = kontor.ID(id), time.UnixMilli(eff).UTC(), time.UnixMilli(imp).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}
