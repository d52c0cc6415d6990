package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/kontor-chat/kontor"
)

func init() {
	// People's reports of business numbers: with blocks, the signals of a
	// number's quality rating (store/quality.go).
	addMigration("reports 1", migration{sql: `
CREATE TABLE reports (
	account_id BIGINT NOT NULL,
	phone      TEXT NOT NULL,
	created    BIGINT NOT NULL,
	PRIMARY KEY (account_id, phone)
);
CREATE INDEX reports_phone ON reports (phone, created);
`})
}

// Report records that account reported phone at at; a second report
// renews the first.
func (db *DB) Report(ctx context.Context, account kontor.ID, phone kontor.Phone, at time.Time) error {
	return db.tx(ctx, "store.Report", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO reports (account_id, phone, created) VALUES ($1,$2,$3)
			ON CONFLICT (account_id, phone) DO UPDATE SET created = excluded.created`, int64(account), string(phone), ms(at))
		return err
	})
}
