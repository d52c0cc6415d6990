package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
)

func init() {
	addMigration("allowances 1", migration{sql: `
CREATE TABLE allowance_counts (
	number_id BIGINT NOT NULL,
	month     TEXT NOT NULL,
	category  TEXT NOT NULL,
	used      BIGINT NOT NULL,
	PRIMARY KEY (number_id, month, category)
);
CREATE TABLE allowance_uses (
	msg_id    BIGINT PRIMARY KEY,
	number_id BIGINT NOT NULL,
	month     TEXT NOT NULL,
	category  TEXT NOT NULL,
	free      BOOLEAN NOT NULL
);
`})
}

// UseAllowance counts message id against its number's free monthly
// allowance of category (free messages in the calendar month, UTC, of at):
// it reports whether the message is one of the first free. A message id
// is counted once: asked again (a retry, a duplicate receipt) it gives
// the first answer and counts nothing, whatever the arguments. The
// counter row serialises concurrent counts of a number's month on both
// databases.
func (db *DB) UseAllowance(ctx context.Context, number kontor.ID, category string, at time.Time, id kontor.ID, free int) (bool, error) {
	if free < 0 {
		return false, kontor.Errorf(kontor.Invalid, "store.UseAllowance", "a negative allowance (%d)", free)
	}
	month := at.UTC().Format("2006-01")
	var got bool
	err := db.tx(ctx, "store.UseAllowance", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO allowance_uses (msg_id, number_id, month, category, free) VALUES ($1,$2,$3,$4,FALSE)
			ON CONFLICT (msg_id) DO NOTHING`, int64(id), int64(number), month, category)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT free FROM allowance_uses WHERE msg_id = $1`, int64(id)).Scan(&got)
		}
		var used int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO allowance_counts (number_id, month, category, used) VALUES ($1,$2,$3,1)
			ON CONFLICT (number_id, month, category) DO UPDATE SET used = allowance_counts.used + 1 RETURNING used`,
			int64(number), month, category).Scan(&used); err != nil {
			return err
		}
		if got = used <= int64(free); got {
			_, err = tx.ExecContext(ctx, `UPDATE allowance_uses SET free = TRUE WHERE msg_id = $1`, int64(id))
		}
		return err
	})
	return got, err
}

// AllowanceUsed is how many messages of category the number counted in
// the calendar month (UTC) of at, free or not.
func (db *DB) AllowanceUsed(ctx context.Context, number kontor.ID, category string, at time.Time) (int, error) {
	var used int64
	err := db.r.QueryRowContext(ctx, `SELECT used FROM allowance_counts WHERE number_id = $1 AND month = $2 AND category = $3`,
		int64(number), at.UTC().Format("2006-01"), category).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, internal("store.AllowanceUsed", err)
	}
	return int(used), nil
}
