package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// What business.Quality reads and writes of a number: business_numbers'
// quality, tier, tier_changed and quality_seq ("business 2"), the people
// its endpoint wrote to (endpoint_messages) and who blocked or reported it
// (blocks, reports).

const qualityCols = numberCols + `, tier_changed, quality_seq`

func scanQualityState(row interface{ Scan(...any) error }) (business.QualityState, error) {
	var q business.QualityState
	var id, biz, acct, created, changed int64
	var phone string
	err := row.Scan(&id, &biz, &phone, &acct, &q.VerifiedName, &q.Quality, &q.Tier, &q.MPS, &created, &changed, &q.Seq)
	q.ID, q.Business, q.Phone, q.Account, q.Created = kontor.ID(id), kontor.ID(biz), kontor.Phone(phone), kontor.ID(acct), time.UnixMilli(created)
	q.TierChanged = q.Created
	if changed != 0 {
		q.TierChanged = time.UnixMilli(changed)
	}
	return q, err
}

// QualityStates lists numbers after an id (business.QualityStore).
func (db *DB) QualityStates(ctx context.Context, after kontor.ID, limit int) ([]business.QualityState, error) {
	const op = "store.QualityStates"
	rows, err := db.r.QueryContext(ctx, `SELECT `+qualityCols+` FROM business_numbers WHERE id > $1 ORDER BY id LIMIT $2`, int64(after), limit)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []business.QualityState
	for rows.Next() {
		q, err := scanQualityState(rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// QualityState returns a number's state (business.QualityStore).
func (db *DB) QualityState(ctx context.Context, number kontor.ID) (business.QualityState, error) {
	q, err := scanQualityState(db.readRow(ctx, `SELECT `+qualityCols+` FROM business_numbers WHERE id = $1`, int64(number)))
	if errors.Is(err, sql.ErrNoRows) {
		return q, notFound("store.QualityState", "no business phone number %s", number)
	}
	if err != nil {
		return q, internal("store.QualityState", err)
	}
	return q, nil
}

// QualitySignals counts, since since, the people a number sent messages
// to and how many of them block or reported it (blocked or reported since
// then; a person who did both counts once), and, since
// reachSince, the people its business's initiated messages reached — over
// all the business's numbers, as Reach counts (business.QualityStore).
func (db *DB) QualitySignals(ctx context.Context, number kontor.ID, since, reachSince time.Time) (business.Signals, error) {
	const op = "store.QualitySignals"
	var s business.Signals
	err := db.r.QueryRowContext(ctx, `WITH reached AS (
			SELECT DISTINCT peer FROM endpoint_messages WHERE number_id = $1 AND outgoing AND created >= $2)
		SELECT
		(SELECT COUNT(*) FROM reached),
		(SELECT COUNT(DISTINCT c.account_id) FROM
			(SELECT account_id, created FROM blocks WHERE phone = (SELECT phone FROM business_numbers WHERE id = $1)
			 UNION ALL
			 SELECT account_id, created FROM reports WHERE phone = (SELECT phone FROM business_numbers WHERE id = $1)) c
			JOIN accounts a ON a.id = c.account_id
			WHERE c.created >= $2 AND a.phone IN (SELECT peer FROM reached)),
		(SELECT COUNT(DISTINCT peer) FROM endpoint_messages
			WHERE number_id IN (SELECT id FROM business_numbers WHERE business_id =
				(SELECT business_id FROM business_numbers WHERE id = $1))
			AND initiated AND created >= $3)`,
		int64(number), ms(since), ms(reachSince)).Scan(&s.Reached, &s.Complaints, &s.Reach)
	if err != nil {
		return s, internal(op, err)
	}
	return s, nil
}

// ChangeQuality applies a change of rating or tier while the number is
// still at c.Seq, and enqueues its webhooks in the same transaction, to
// the business's webhook URL under its first app (business.QualityStore).
// A business without a webhook URL gets the change without webhooks.
func (db *DB) ChangeQuality(ctx context.Context, c business.QualityChange) (bool, error) {
	applied := false
	err := db.tx(ctx, "store.ChangeQuality", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE business_numbers SET quality = $3, tier = $4,
			tier_changed = CASE WHEN tier <> $4 THEN $5 ELSE tier_changed END, quality_seq = quality_seq + 1
			WHERE id = $1 AND quality_seq = $2`, int64(c.Number), c.Seq, c.Quality, c.Tier, ms(c.At))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM business_numbers WHERE id = $1`, int64(c.Number)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("store.ChangeQuality", "no business phone number %s", c.Number)
			}
			return err // changed meanwhile: not applied
		}
		applied = true
		if len(c.Events) == 0 {
			return nil
		}
		var url string
		var app sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT b.webhook_url, (SELECT MIN(id) FROM business_apps WHERE business_id = b.id)
			FROM businesses b WHERE b.id = $1`, int64(c.Business)).Scan(&url, &app); err != nil {
			return err
		}
		if url == "" || !app.Valid {
			return nil
		}
		evs := make([]webhook.Event, len(c.Events))
		for i, e := range c.Events {
			evs[i] = webhook.Event{ID: e.ID, App: kontor.ID(app.Int64), URL: url, Body: e.Body, Created: c.At}
		}
		_, err = db.enqueueWebhooks(ctx, tx, evs, c.At, webhook.Lease{})
		return err
	})
	db.changed(DirNumber, c.Number) // its quality and tier (dircache.go)
	if err != nil {
		return false, err
	}
	return applied, nil
}
