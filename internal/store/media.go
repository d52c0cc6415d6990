package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/media"
)

var (
	_ media.Store = (*DB)(nil)
	_ media.Known = (*DB)(nil)
)

func init() {
	// The node whose media directory keeps the bytes ('': not known, the
	// blobs of before).
	addMigration("media 1", migration{sql: `ALTER TABLE media ADD COLUMN node TEXT NOT NULL DEFAULT '';`})
}

// PutMedia records a blob (media.Store).
func (db *DB) PutMedia(ctx context.Context, b media.Blob) error {
	return db.tx(ctx, "store.PutMedia", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media (id, kind, size, owner_device, owner_account, to_account, created, expires, node)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, b.ID, string(b.Kind), b.Size, int64(b.OwnerDevice), int64(b.OwnerAccount), int64(b.ToAccount),
			b.Created.UnixMilli(), b.Expires.UnixMilli(), b.Node)
		return err
	})
}

// Media returns a blob's record (media.Store).
func (db *DB) Media(ctx context.Context, id string) (media.Blob, error) {
	var b media.Blob
	var kind string
	var dev, owner, to, created, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT id, kind, size, owner_device, owner_account, to_account, created, expires, node FROM media WHERE id = $1`, id).
		Scan(&b.ID, &kind, &b.Size, &dev, &owner, &to, &created, &expires, &b.Node)
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("store.Media", "no media %s", id)
	}
	if err != nil {
		return b, internal("store.Media", err)
	}
	b.Kind, b.OwnerDevice, b.OwnerAccount, b.ToAccount = media.Kind(kind), kontor.ID(dev), kontor.ID(owner), kontor.ID(to)
	b.Created, b.Expires = time.UnixMilli(created), time.UnixMilli(expires)
	return b, nil
}

// MarkFetched records a download and returns every device that has fetched
// the blob (media.Store).
func (db *DB) MarkFetched(ctx context.Context, id string, device kontor.ID) ([]kontor.ID, error) {
	var out []kontor.ID
	err := db.tx(ctx, "store.MarkFetched", func(tx *sql.Tx) error {
		out = out[:0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO media_fetches (media_id, device_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, id, int64(device)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT device_id FROM media_fetches WHERE media_id = $1`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d int64
			if err := rows.Scan(&d); err != nil {
				return err
			}
			out = append(out, kontor.ID(d))
		}
		return rows.Err()
	})
	return out, err
}

// DeleteMedia removes a blob's record (media.Store).
func (db *DB) DeleteMedia(ctx context.Context, id string) error {
	return db.tx(ctx, "store.DeleteMedia", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM media_fetches WHERE media_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM media WHERE id = $1`, id)
		return err
	})
}

// ExpiredMedia lists blobs that expired before t (media.Store).
func (db *DB) ExpiredMedia(ctx context.Context, t time.Time, limit int) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM media WHERE expires < $1 ORDER BY expires LIMIT $2`, t.UnixMilli(), limit)
	if err != nil {
		return nil, internal("store.ExpiredMedia", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal("store.ExpiredMedia", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.ExpiredMedia", err)
	}
	return out, nil
}

// KnownMedia returns those of ids that have a record (media.Known).
func (db *DB) KnownMedia(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := db.readStrings(ctx, `SELECT id FROM media WHERE `+db.d.inList("id", "$1"), db.d.list(ids))
	if err != nil {
		return nil, internal("store.KnownMedia", err)
	}
	return out, nil
}

// AccountDevices returns the ids of an account's devices (media.Store).
func (db *DB) AccountDevices(ctx context.Context, account kontor.ID) ([]kontor.ID, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM devices WHERE account_id = $1`, int64(account))
	if err != nil {
		return nil, internal("store.AccountDevices", err)
	}
	defer rows.Close()
	var out []kontor.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, internal("store.AccountDevices", err)
		}
		out = append(out, kontor.ID(id))
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.AccountDevices", err)
	}
	return out, nil
}

// AccountID returns the account of phone (media.Store).
func (db *DB) AccountID(ctx context.Context, phone kontor.Phone) (kontor.ID, error) {
	var id int64
	err := db.r.QueryRowContext(ctx, `SELECT id FROM accounts WHERE phone = $1`, string(phone)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("store.AccountID", "no account %s", phone)
	}
	if err != nil {
		return 0, internal("store.AccountID", err)
	}
	return kontor.ID(id), nil
}
