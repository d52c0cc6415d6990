package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/kontor-chat/kontor"
)

func init() {
	// 2: who blocked a phone lately, for a business number's quality
	// rating (store/quality.go).
	addMigration("blocks 2", migration{sql: `CREATE INDEX blocks_phone ON blocks (phone, created);`})
	addMigration("blocks 1", migration{sql: `
CREATE TABLE blocks (
	account_id BIGINT NOT NULL,
	phone      TEXT NOT NULL,
	created    BIGINT NOT NULL,
	PRIMARY KEY (account_id, phone)
);
`})
}

// Block records that account blocked phone (identity.Store).
func (db *DB) Block(ctx context.Context, account kontor.ID, phone kontor.Phone, at time.Time) error {
	return db.tx(ctx, "store.Block", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO blocks (account_id, phone, created) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
			int64(account), string(phone), ms(at))
		return err
	})
}

// Unblock lifts a block (identity.Store).
func (db *DB) Unblock(ctx context.Context, account kontor.ID, phone kontor.Phone) error {
	return db.tx(ctx, "store.Unblock", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM blocks WHERE account_id = $1 AND phone = $2`, int64(account), string(phone))
		return err
	})
}

// Blocked lists whom account blocked (identity.Store).
func (db *DB) Blocked(ctx context.Context, account kontor.ID) ([]kontor.Phone, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT phone FROM blocks WHERE account_id = $1 ORDER BY phone`, int64(account))
	if err != nil {
		return nil, internal("store.Blocked", err)
	}
	defer rows.Close()
	out := []kontor.Phone{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, internal("store.Blocked", err)
		}
		out = append(out, kontor.Phone(p))
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.Blocked", err)
	}
	return out, nil
}
