package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// PutCode stores a pending registration code, replacing the phone's last one.
func (db *DB) PutCode(ctx context.Context, c identity.Code) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO codes (phone, hash, expires, attempts, created) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (phone) DO UPDATE SET hash = excluded.hash, expires = excluded.expires, attempts = excluded.attempts, created = excluded.created`,
		string(c.Phone), c.Hash, ms(c.Expires), c.Attempts, ms(c.Created))
	if err != nil {
		return internal("store.PutCode", err)
	}
	return nil
}

// Code returns the pending code of phone.
func (db *DB) Code(ctx context.Context, phone kontor.Phone) (identity.Code, error) {
	c := identity.Code{Phone: phone}
	var exp, created int64
	err := db.w.QueryRowContext(ctx, `SELECT hash, expires, attempts, created FROM codes WHERE phone = $1`, string(phone)).
		Scan(&c.Hash, &exp, &c.Attempts, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("store.Code", "no code pending for %s", phone)
	}
	if err != nil {
		return c, internal("store.Code", err)
	}
	c.Expires, c.Created = fromMS(exp), fromMS(created)
	return c, nil
}

// AddCodeAttempt counts a failed try and returns the new count.
func (db *DB) AddCodeAttempt(ctx context.Context, phone kontor.Phone) (int, error) {
	var n int
	err := db.w.QueryRowContext(ctx, `UPDATE codes SET attempts = attempts + 1 WHERE phone = $1 RETURNING attempts`, string(phone)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("store.AddCodeAttempt", "no code pending for %s", phone)
	}
	if err != nil {
		return 0, internal("store.AddCodeAttempt", err)
	}
	return n, nil
}

// DeleteCode removes the pending code of phone.
func (db *DB) DeleteCode(ctx context.Context, phone kontor.Phone) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM codes WHERE phone = $1`, string(phone)); err != nil {
		return internal("store.DeleteCode", err)
	}
	return nil
}

// LogCodeRequest records a code request and counts the recent ones.
func (db *DB) LogCodeRequest(ctx context.Context, phone kontor.Phone, ip string, t, since time.Time) (byPhone, byIP int, err error) {
	err = db.tx(ctx, "store.LogCodeRequest", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_requests (phone, ip, at) VALUES ($1,$2,$3)`, string(phone), ip, ms(t)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM code_requests WHERE phone = $1 AND at >= $2`, string(phone), ms(since)).Scan(&byPhone); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM code_requests WHERE ip = $1 AND at >= $2`, ip, ms(since)).Scan(&byIP)
	})
	return byPhone, byIP, err
}

// PruneCodes removes codes that expired before t and older request logs.
func (db *DB) PruneCodes(ctx context.Context, t time.Time) error {
	return db.tx(ctx, "store.PruneCodes", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM codes WHERE expires < $1`, `DELETE FROM code_requests WHERE at < $1`, `DELETE FROM link_codes WHERE expires < $1`} {
			if _, err := tx.ExecContext(ctx, q, ms(t)); err != nil {
				return err
			}
		}
		return nil
	})
}

const deviceCols = `id, account_id, num, name, secret_hash, is_primary, created, last_seen`

func scanDevice(row interface{ Scan(...any) error }) (identity.Device, error) {
	var d identity.Device
	var created, seen int64
	err := row.Scan(&d.ID, &d.AccountID, &d.Num, &d.Name, &d.SecretHash, &d.Primary, &created, &seen)
	d.Created, d.LastSeen = fromMS(created), fromMS(seen)
	return d, err
}

const accountCols = `id, phone, created, last_seen, last_seen_privacy`

func scanAccount(row interface{ Scan(...any) error }) (identity.Account, error) {
	var a identity.Account
	var phone string
	var created, seen int64
	err := row.Scan(&a.ID, &phone, &created, &seen, &a.LastSeenPrivacy)
	a.Phone, a.Created, a.LastSeen = kontor.Phone(phone), fromMS(created), fromMS(seen)
	return a, err
}

// Register makes a new account with primary as its only device, or replaces
// all devices of the phone's existing account by primary.
func (db *DB) Register(ctx context.Context, acct identity.Account, primary identity.Device) (identity.Account, identity.Device, error) {
	const op = "store.Register"
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		// Make the account if it is new; either way lock its row.
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, phone, created, last_seen_privacy) VALUES ($1,$2,$3,$4) ON CONFLICT (phone) DO NOTHING`,
			acct.ID, string(acct.Phone), ms(acct.Created), acct.LastSeenPrivacy); err != nil {
			return err
		}
		var num int
		a, err := scanAccountNum(tx.QueryRowContext(ctx, `UPDATE accounts SET next_device = next_device + 1 WHERE phone = $1 RETURNING `+accountCols+`, next_device - 1`, string(acct.Phone)), &num)
		if err != nil {
			return err
		}
		acct = a
		if err := deleteDevicesOf(ctx, db.d, tx, a.ID); err != nil {
			return err
		}
		// A link code an old device made must not add a device to the
		// account now that its owner registered again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM link_codes WHERE account_id = $1`, a.ID); err != nil {
			return err
		}
		primary.AccountID, primary.Num, primary.Primary = a.ID, num, true
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			primary.ID, primary.AccountID, primary.Num, primary.Name, primary.SecretHash, true, ms(primary.Created), ms(primary.LastSeen))
		return err
	})
	return acct, primary, err
}

func scanAccountNum(row *sql.Row, num *int) (identity.Account, error) {
	var a identity.Account
	var phone string
	var created, seen int64
	err := row.Scan(&a.ID, &phone, &created, &seen, &a.LastSeenPrivacy, num)
	a.Phone, a.Created, a.LastSeen = kontor.Phone(phone), fromMS(created), fromMS(seen)
	return a, err
}

// deleteDevicesOf removes an account's devices with their queues and refs.
func deleteDevicesOf(ctx context.Context, d dialect, tx *sql.Tx, account kontor.ID) error {
	for _, q := range []string{
		`DELETE FROM queue WHERE device_id IN (SELECT id FROM devices WHERE account_id = $1)`,
		`DELETE FROM send_refs WHERE sender_device IN (SELECT id FROM devices WHERE account_id = $1)`,
		`DELETE FROM prekeys WHERE device_id IN (SELECT id FROM devices WHERE account_id = $1)`,
		`DELETE FROM device_keys WHERE device_id IN (SELECT id FROM devices WHERE account_id = $1)`,
		`DELETE FROM devices WHERE account_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, account); err != nil {
			return err
		}
	}
	return nil
}

// AccountByPhone returns the account of phone.
func (db *DB) AccountByPhone(ctx context.Context, phone kontor.Phone) (identity.Account, error) {
	a, err := scanAccount(db.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE phone = $1`, string(phone)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("store.AccountByPhone", "no account has the number %s", phone)
	}
	if err != nil {
		return a, internal("store.AccountByPhone", err)
	}
	return a, nil
}

// Devices returns the current devices of an account, by number.
func (db *DB) Devices(ctx context.Context, account kontor.ID) ([]identity.Device, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE account_id = $1 ORDER BY num`, account)
	if err != nil {
		return nil, internal("store.Devices", err)
	}
	defer rows.Close()
	var out []identity.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, internal("store.Devices", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.Devices", err)
	}
	return out, nil
}

// Device returns a device and its account.
func (db *DB) Device(ctx context.Context, id kontor.ID) (identity.Device, identity.Account, error) {
	d, err := scanDevice(db.readRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, identity.Account{}, notFound("store.Device", "no device %d", id)
	}
	if err != nil {
		return d, identity.Account{}, internal("store.Device", err)
	}
	a, err := scanAccount(db.readRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, d.AccountID))
	if errors.Is(err, sql.ErrNoRows) {
		return d, a, notFound("store.Device", "no device %d", id)
	}
	if err != nil {
		return d, a, internal("store.Device", err)
	}
	return d, a, nil
}

// AddDevice adds a linked device with the account's next number.
func (db *DB) AddDevice(ctx context.Context, d identity.Device, max int) (identity.Device, error) {
	const op = "store.AddDevice"
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		var num int
		err := tx.QueryRowContext(ctx, `UPDATE accounts SET next_device = next_device + 1 WHERE id = $1 RETURNING next_device - 1`, d.AccountID).Scan(&num)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "no account %d", d.AccountID)
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE account_id = $1`, d.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return kontor.Errorf(kontor.Conflict, op, "the account has %d devices already", n)
		}
		d.Num = num
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			d.ID, d.AccountID, d.Num, d.Name, d.SecretHash, d.Primary, ms(d.Created), ms(d.LastSeen))
		return err
	})
	return d, err
}

// RemoveDevice deletes a device with its queue, send refs and keys.
func (db *DB) RemoveDevice(ctx context.Context, id kontor.ID) error {
	return db.tx(ctx, "store.RemoveDevice", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM queue WHERE device_id = $1`, `DELETE FROM send_refs WHERE sender_device = $1`,
			`DELETE FROM prekeys WHERE device_id = $1`, `DELETE FROM device_keys WHERE device_id = $1`, `DELETE FROM devices WHERE id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAccount deletes an account, its devices and their queues.
func (db *DB) DeleteAccount(ctx context.Context, account kontor.ID) error {
	return db.tx(ctx, "store.DeleteAccount", func(tx *sql.Tx) error {
		if err := deleteDevicesOf(ctx, db.d, tx, account); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = $1`, account)
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM link_codes WHERE account_id = $1`, account); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM blocks WHERE account_id = $1`, account)
		return err
	})
}

// SetLastSeen records when a device, and so its account, was last connected.
func (db *DB) SetLastSeen(ctx context.Context, device kontor.ID, t time.Time) error {
	return db.tx(ctx, "store.SetLastSeen", func(tx *sql.Tx) error {
		var account int64
		err := tx.QueryRowContext(ctx, `UPDATE devices SET last_seen = $2 WHERE id = $1 RETURNING account_id`, device, ms(t)).Scan(&account)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET last_seen = $2 WHERE id = $1 AND last_seen < $2`, account, ms(t))
		return err
	})
}

// SetPrivacy sets who may see the account's last-seen time.
func (db *DB) SetPrivacy(ctx context.Context, account kontor.ID, lastSeen string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE accounts SET last_seen_privacy = $2 WHERE id = $1`, account, lastSeen)
	if err != nil {
		return internal("store.SetPrivacy", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("store.SetPrivacy", "no account %d", account)
	}
	return nil
}

// PutLinkCode stores a link code by hash.
func (db *DB) PutLinkCode(ctx context.Context, hash []byte, account kontor.ID, expires time.Time) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO link_codes (hash, account_id, expires) VALUES ($1,$2,$3)
		ON CONFLICT (hash) DO UPDATE SET account_id = excluded.account_id, expires = excluded.expires`, hash, account, ms(expires)); err != nil {
		return internal("store.PutLinkCode", err)
	}
	return nil
}

// TakeLinkCode uses up a link code and returns its account.
func (db *DB) TakeLinkCode(ctx context.Context, hash []byte, now time.Time) (kontor.ID, error) {
	var account, exp int64
	err := db.w.QueryRowContext(ctx, `DELETE FROM link_codes WHERE hash = $1 RETURNING account_id, expires`, hash).Scan(&account, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && exp < ms(now)) {
		return 0, notFound("store.TakeLinkCode", "no such link code")
	}
	if err != nil {
		return 0, internal("store.TakeLinkCode", err)
	}
	return kontor.ID(account), nil
}

// AddOperatorToken stores the hash of an operator credential.
func (db *DB) AddOperatorToken(ctx context.Context, hash []byte, created time.Time) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO operator_tokens (hash, created) VALUES ($1,$2) ON CONFLICT (hash) DO NOTHING`, hash, ms(created)); err != nil {
		return internal("store.AddOperatorToken", err)
	}
	return nil
}

// OperatorToken reports whether hash is a stored operator credential.
func (db *DB) OperatorToken(ctx context.Context, hash []byte) (bool, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM operator_tokens WHERE hash = $1`, hash).Scan(&n); err != nil {
		return false, internal("store.OperatorToken", err)
	}
	return n > 0, nil
}
