package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// PutKeys applies a device's key upload (keys.Store).
func (db *DB) PutKeys(ctx context.Context, device kontor.ID, up wire.KeysUpload, max int) (wire.KeysStatus, error) {
	const op = "store.PutKeys"
	var st wire.KeysStatus
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		var have []byte
		var reg int64
		err := tx.QueryRowContext(ctx, `SELECT identity_key, registration_id FROM device_keys WHERE device_id = $1`, int64(device)).Scan(&have, &reg)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if up.IdentityKey == nil {
				return kontor.Errorf(kontor.Invalid, op, "the first upload of a device needs identity_key and registration_id")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO device_keys (device_id, identity_key, registration_id, updated) VALUES ($1,$2,$3,$4)`,
				int64(device), up.IdentityKey, int64(up.RegistrationID), time.Now().UnixMilli()); err != nil {
				return err
			}
		case err != nil:
			return err
		case up.IdentityKey != nil && (!bytes.Equal(have, up.IdentityKey) || uint32(reg) != up.RegistrationID):
			return &kontor.Error{Kind: kontor.Conflict, Op: op, Msg: "this device already has another identity key or registration id; a new identity needs a new device (register or link again)"}
		}
		if spk := up.SignedPreKey; spk != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE device_keys SET spk_id = $2, spk_public = $3, spk_signature = $4, updated = $5 WHERE device_id = $1`,
				int64(device), int64(spk.ID), spk.PublicKey, spk.Signature, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		for _, pk := range up.PreKeys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO prekeys (device_id, key_id, public_key) VALUES ($1,$2,$3)
				ON CONFLICT (device_id, key_id) DO UPDATE SET public_key = excluded.public_key`, int64(device), int64(pk.ID), pk.PublicKey); err != nil {
				return err
			}
		}
		if st, err = keyStatus(ctx, tx, device); err != nil {
			return err
		}
		if st.PreKeys > max {
			return kontor.Errorf(kontor.Invalid, op, "the directory keeps at most %d one-time prekeys per device; this upload would make %d", max, st.PreKeys)
		}
		return nil
	})
	return st, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func keyStatus(ctx context.Context, q queryer, device kontor.ID) (wire.KeysStatus, error) {
	var st wire.KeysStatus
	var spk sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM prekeys WHERE device_id = $1),
		(SELECT spk_id FROM device_keys WHERE device_id = $1)`, int64(device)).Scan(&st.PreKeys, &spk)
	st.SignedPreKeyID = uint32(spk.Int64)
	return st, err
}

// KeyStatus returns a device's key status (keys.Store).
func (db *DB) KeyStatus(ctx context.Context, device kontor.ID) (wire.KeysStatus, error) {
	st, err := keyStatus(ctx, db.r, device)
	if err != nil {
		return st, internal("store.KeyStatus", err)
	}
	return st, nil
}

// TakeBundles returns the bundles of phone's devices, taking one one-time
// prekey of each (keys.Store). On PostgreSQL concurrent takers skip a prekey
// another transaction holds, so two fetches never get the same one and
// neither comes back empty while others are left.
func (db *DB) TakeBundles(ctx context.Context, phone kontor.Phone, num int) ([]wire.DeviceBundle, error) {
	const op = "store.TakeBundles"
	var out []wire.DeviceBundle
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		out = out[:0]
		var account int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE phone = $1`, string(phone)).Scan(&account); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return kontor.Errorf(kontor.NotFound, op, "no account %s", phone)
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.num, k.registration_id, k.identity_key, k.spk_id, k.spk_public, k.spk_signature
			FROM devices d JOIN device_keys k ON k.device_id = d.id
			WHERE d.account_id = $1 AND ($2 = 0 OR d.num = $2) AND k.spk_id > 0 ORDER BY d.num`, account, num)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var b wire.DeviceBundle
			var id, reg, spk int64
			if err := rows.Scan(&id, &b.DeviceID, &reg, &b.IdentityKey, &spk, &b.SignedPreKey.PublicKey, &b.SignedPreKey.Signature); err != nil {
				rows.Close()
				return err
			}
			b.RegistrationID, b.SignedPreKey.ID = uint32(reg), uint32(spk)
			out = append(out, b)
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, id := range ids {
			var kid int64
			var pub []byte
			err := tx.QueryRowContext(ctx, `DELETE FROM prekeys WHERE device_id = $1 AND key_id =
				(SELECT key_id FROM prekeys WHERE device_id = $1 ORDER BY key_id LIMIT 1`+db.d.skipLocked()+`)
				RETURNING key_id, public_key`, id).Scan(&kid, &pub)
			switch {
			case errors.Is(err, sql.ErrNoRows): // the pool is empty: a bundle without one
			case err != nil:
				return err
			default:
				out[i].PreKey = &wire.PreKey{ID: uint32(kid), PublicKey: pub}
			}
		}
		return nil
	})
	return out, err
}
