package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

func init() {
	addMigration("console 1", migration{sql: `
CREATE TABLE console_users (
	id            BIGINT PRIMARY KEY,
	business_id   BIGINT NOT NULL,
	email         TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	created       BIGINT NOT NULL
);
CREATE INDEX console_users_business ON console_users (business_id);
CREATE TABLE console_sessions (
	hash    BYTEA PRIMARY KEY,
	user_id BIGINT NOT NULL,
	created BIGINT NOT NULL,
	seen    BIGINT NOT NULL,
	expires BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires);
CREATE TABLE console_invites (
	id          BIGINT PRIMARY KEY,
	hash        BYTEA NOT NULL UNIQUE,
	business_id BIGINT NOT NULL,
	email       TEXT NOT NULL,
	role        TEXT NOT NULL,
	user_id     BIGINT NOT NULL,
	by_user     BIGINT NOT NULL,
	created     BIGINT NOT NULL,
	expires     BIGINT NOT NULL,
	used        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX console_invites_business ON console_invites (business_id, created);
CREATE INDEX console_invites_expires ON console_invites (expires);
CREATE TABLE console_login_limits (
	limit_key    TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start BIGINT NOT NULL,
	locked_until BIGINT NOT NULL
);
`})
}

const consoleUserCols = `id, business_id, email, role, password_hash, created`

func scanConsoleUser(row interface{ Scan(...any) error }) (consoleauth.User, error) {
	var u consoleauth.User
	var id, biz, created int64
	var role string
	err := row.Scan(&id, &biz, &u.Email, &role, &u.PasswordHash, &created)
	u.ID, u.Business, u.Role, u.Created = kontor.ID(id), kontor.ID(biz), consoleauth.Role(role), time.UnixMilli(created)
	return u, err
}

func insertConsoleUser(ctx context.Context, tx *sql.Tx, u consoleauth.User) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO console_users (`+consoleUserCols+`) VALUES ($1,$2,$3,$4,$5,$6)`,
		int64(u.ID), int64(u.Business), u.Email, string(u.Role), u.PasswordHash, ms(u.Created))
	if err != nil && isUnique(err) {
		return kontor.Errorf(kontor.Conflict, "store.CreateConsoleUser", "%s already has a console account", u.Email)
	}
	return err
}

func insertConsoleInvite(ctx context.Context, tx *sql.Tx, i consoleauth.Invite) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO console_invites (id, hash, business_id, email, role, user_id, by_user, created, expires, used)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, int64(i.ID), i.Hash, int64(i.Business), i.Email, string(i.Role), int64(i.User), int64(i.By),
		ms(i.Created), ms(i.Expires), i.Used)
	return err
}

// CreateConsoleUser stores a user and, when given, their set-password link.
func (db *DB) CreateConsoleUser(ctx context.Context, u consoleauth.User, inv *consoleauth.Invite) error {
	return db.tx(ctx, "store.CreateConsoleUser", func(tx *sql.Tx) error {
		if err := insertConsoleUser(ctx, tx, u); err != nil {
			return err
		}
		if inv != nil {
			return insertConsoleInvite(ctx, tx, *inv)
		}
		return nil
	})
}

func (db *DB) consoleUser(ctx context.Context, op, where string, arg any) (consoleauth.User, error) {
	u, err := scanConsoleUser(db.r.QueryRowContext(ctx, `SELECT `+consoleUserCols+` FROM console_users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound(op, "There is no such user.")
	}
	if err != nil {
		return u, internal(op, err)
	}
	return u, nil
}

// ConsoleUser returns a user by id.
func (db *DB) ConsoleUser(ctx context.Context, id kontor.ID) (consoleauth.User, error) {
	return db.consoleUser(ctx, "store.ConsoleUser", "id = $1", int64(id))
}

// ConsoleUserByEmail returns a user by their (lower-case) email.
func (db *DB) ConsoleUserByEmail(ctx context.Context, email string) (consoleauth.User, error) {
	return db.consoleUser(ctx, "store.ConsoleUserByEmail", "email = $1", email)
}

// ConsoleUsers lists a business's users by email.
func (db *DB) ConsoleUsers(ctx context.Context, biz kontor.ID) ([]consoleauth.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+consoleUserCols+` FROM console_users WHERE business_id = $1 ORDER BY email`, int64(biz))
	if err != nil {
		return nil, internal("store.ConsoleUsers", err)
	}
	defer rows.Close()
	var out []consoleauth.User
	for rows.Next() {
		u, err := scanConsoleUser(rows)
		if err != nil {
			return nil, internal("store.ConsoleUsers", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ownersChange runs fn on a user's row while the business's users are
// locked (its businesses row: portable, and one writer at a time on
// SQLite), then refuses when the business has no owner left.
func (db *DB) ownersChange(ctx context.Context, op string, id kontor.ID, fn func(tx *sql.Tx) error) error {
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		var biz int64
		err := tx.QueryRowContext(ctx, `SELECT business_id FROM console_users WHERE id = $1`, int64(id)).Scan(&biz)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "There is no such user.")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE businesses SET name = name WHERE id = $1`, biz); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		var owners int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_users WHERE business_id = $1 AND role = $2`, biz, string(consoleauth.RoleOwner)).Scan(&owners); err != nil {
			return err
		}
		if owners == 0 {
			return kontor.Errorf(kontor.Conflict, op, "A business needs at least one owner: make someone else an owner first.")
		}
		return nil
	})
}

// SetConsoleRole changes a user's role, keeping at least one owner.
func (db *DB) SetConsoleRole(ctx context.Context, id kontor.ID, role consoleauth.Role) error {
	return db.ownersChange(ctx, "store.SetConsoleRole", id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE console_users SET role = $2 WHERE id = $1`, int64(id), string(role))
		return err
	})
}

// DeleteConsoleUser deletes a user, their sessions and links, keeping at
// least one owner.
func (db *DB) DeleteConsoleUser(ctx context.Context, id kontor.ID) error {
	return db.ownersChange(ctx, "store.DeleteConsoleUser", id, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM console_users WHERE id = $1`, `DELETE FROM console_sessions WHERE user_id = $1`,
			`DELETE FROM console_invites WHERE user_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, int64(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetConsolePassword replaces a user's password and ends their sessions.
func (db *DB) SetConsolePassword(ctx context.Context, id kontor.ID, hash string) error {
	return db.tx(ctx, "store.SetConsolePassword", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE console_users SET password_hash = $2 WHERE id = $1`, int64(id), hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.SetConsolePassword", "There is no such user.")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, int64(id))
		return err
	})
}

// PutConsoleSession stores a new session.
func (db *DB) PutConsoleSession(ctx context.Context, s consoleauth.Session) error {
	return db.tx(ctx, "store.PutConsoleSession", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (hash, user_id, created, seen, expires) VALUES ($1,$2,$3,$4,$5)`,
			s.Hash, int64(s.User), ms(s.Created), ms(s.Seen), ms(s.Expires))
		return err
	})
}

// ConsoleSession returns a session by the hash of its token.
func (db *DB) ConsoleSession(ctx context.Context, hash []byte) (consoleauth.Session, error) {
	s := consoleauth.Session{Hash: hash}
	var user, created, seen, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT user_id, created, seen, expires FROM console_sessions WHERE hash = $1`, hash).Scan(&user, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("store.ConsoleSession", "no such session")
	}
	if err != nil {
		return s, internal("store.ConsoleSession", err)
	}
	s.User, s.Created, s.Seen, s.Expires = kontor.ID(user), time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
	return s, nil
}

// TouchConsoleSession records a session's last use.
func (db *DB) TouchConsoleSession(ctx context.Context, hash []byte, seen time.Time) error {
	return db.tx(ctx, "store.TouchConsoleSession", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE console_sessions SET seen = $2 WHERE hash = $1 AND seen < $2`, hash, ms(seen))
		return err
	})
}

// DeleteConsoleSession ends a session (none is no error).
func (db *DB) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	return db.tx(ctx, "store.DeleteConsoleSession", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
		return err
	})
}

// DeleteConsoleSessions ends every session of a user.
func (db *DB) DeleteConsoleSessions(ctx context.Context, user kontor.ID) (int, error) {
	var n int64
	err := db.tx(ctx, "store.DeleteConsoleSessions", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, int64(user))
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// PutConsoleInvite stores a link.
func (db *DB) PutConsoleInvite(ctx context.Context, i consoleauth.Invite) error {
	return db.tx(ctx, "store.PutConsoleInvite", func(tx *sql.Tx) error { return insertConsoleInvite(ctx, tx, i) })
}

const consoleInviteCols = `id, hash, business_id, email, role, user_id, by_user, created, expires, used`

func scanConsoleInvite(row interface{ Scan(...any) error }) (consoleauth.Invite, error) {
	var i consoleauth.Invite
	var id, biz, user, by, created, expires int64
	var role string
	err := row.Scan(&id, &i.Hash, &biz, &i.Email, &role, &user, &by, &created, &expires, &i.Used)
	i.ID, i.Business, i.Role, i.User, i.By = kontor.ID(id), kontor.ID(biz), consoleauth.Role(role), kontor.ID(user), kontor.ID(by)
	i.Created, i.Expires = time.UnixMilli(created), time.UnixMilli(expires)
	return i, err
}

// ConsoleInvite returns a link by its hash.
func (db *DB) ConsoleInvite(ctx context.Context, hash []byte) (consoleauth.Invite, error) {
	i, err := scanConsoleInvite(db.r.QueryRowContext(ctx, `SELECT `+consoleInviteCols+` FROM console_invites WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return i, notFound("store.ConsoleInvite", "no such link")
	}
	if err != nil {
		return i, internal("store.ConsoleInvite", err)
	}
	return i, nil
}

// ConsoleInvites lists a business's open links, the newest first.
func (db *DB) ConsoleInvites(ctx context.Context, biz kontor.ID, now time.Time) ([]consoleauth.Invite, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+consoleInviteCols+` FROM console_invites
		WHERE business_id = $1 AND used = FALSE AND expires > $2 ORDER BY created DESC, id DESC LIMIT 1000`, int64(biz), ms(now))
	if err != nil {
		return nil, internal("store.ConsoleInvites", err)
	}
	defer rows.Close()
	var out []consoleauth.Invite
	for rows.Next() {
		i, err := scanConsoleInvite(rows)
		if err != nil {
			return nil, internal("store.ConsoleInvites", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// DeleteConsoleInvite withdraws a link of a business.
func (db *DB) DeleteConsoleInvite(ctx context.Context, biz, id kontor.ID) error {
	return db.tx(ctx, "store.DeleteConsoleInvite", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_invites WHERE id = $1 AND business_id = $2 AND used = FALSE`, int64(id), int64(biz))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.DeleteConsoleInvite", "There is no such invitation (it may have been used already).")
		}
		return nil
	})
}

// RedeemConsoleInvite uses a link once: the UPDATE … RETURNING takes it
// only while it is unused and unexpired, so two uses at once get it once.
func (db *DB) RedeemConsoleInvite(ctx context.Context, hash []byte, now time.Time, u consoleauth.User) (consoleauth.User, error) {
	const op = "store.RedeemConsoleInvite"
	var out consoleauth.User
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		var biz, user int64
		var email, role string
		err := tx.QueryRowContext(ctx, `UPDATE console_invites SET used = TRUE WHERE hash = $1 AND used = FALSE AND expires > $2
			RETURNING business_id, email, role, user_id`, hash, ms(now)).Scan(&biz, &email, &role, &user)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "no such link")
		}
		if err != nil {
			return err
		}
		if user != 0 {
			res, err := tx.ExecContext(ctx, `UPDATE console_users SET password_hash = $2 WHERE id = $1`, user, u.PasswordHash)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFound(op, "the link's user was removed")
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, user); err != nil {
				return err
			}
			out, err = scanConsoleUser(tx.QueryRowContext(ctx, `SELECT `+consoleUserCols+` FROM console_users WHERE id = $1`, user))
			return err
		}
		out = consoleauth.User{ID: u.ID, Business: kontor.ID(biz), Email: email, Role: consoleauth.Role(role), PasswordHash: u.PasswordHash, Created: u.Created}
		return insertConsoleUser(ctx, tx, out)
	})
	return out, err
}

// ConsoleLockedUntil returns the latest lock of the keys.
func (db *DB) ConsoleLockedUntil(ctx context.Context, keys []string) (time.Time, error) {
	var until int64
	for _, k := range keys {
		var v int64
		err := db.r.QueryRowContext(ctx, `SELECT locked_until FROM console_login_limits WHERE limit_key = $1`, k).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return time.Time{}, internal("store.ConsoleLockedUntil", err)
		}
		until = max(until, v)
	}
	return fromMS(until), nil
}

// ConsoleFailure counts a failed sign-in in one statement: the upsert holds
// the key's row, so concurrent failures all count.
func (db *DB) ConsoleFailure(ctx context.Context, key string, at, windowStart time.Time, maxFailures int, lockUntil time.Time) (time.Time, error) {
	var until int64
	err := db.tx(ctx, "store.ConsoleFailure", func(tx *sql.Tx) error {
		// $1 key, $2 at, $3 window start, $4 max, $5 lock until.
		return tx.QueryRowContext(ctx, `INSERT INTO console_login_limits AS l (limit_key, failures, window_start, locked_until)
			VALUES ($1, CASE WHEN CAST($4 AS INTEGER) <= 1 THEN 0 ELSE 1 END, CAST($2 AS BIGINT),
				CASE WHEN CAST($4 AS INTEGER) <= 1 THEN CAST($5 AS BIGINT) ELSE 0 END)
			ON CONFLICT (limit_key) DO UPDATE SET
				failures = CASE WHEN l.window_start < CAST($3 AS BIGINT) THEN 1 WHEN l.failures + 1 >= CAST($4 AS INTEGER) THEN 0 ELSE l.failures + 1 END,
				locked_until = CASE WHEN l.window_start >= CAST($3 AS BIGINT) AND l.failures + 1 >= CAST($4 AS INTEGER) THEN CAST($5 AS BIGINT) ELSE l.locked_until END,
				window_start = CASE WHEN l.window_start < CAST($3 AS BIGINT) OR l.failures + 1 >= CAST($4 AS INTEGER) THEN CAST($2 AS BIGINT) ELSE l.window_start END
			RETURNING locked_until`, key, ms(at), ms(windowStart), maxFailures, ms(lockUntil)).Scan(&until)
	})
	return fromMS(until), err
}

// ClearConsoleFailures forgets a key's failures (not its lock).
func (db *DB) ClearConsoleFailures(ctx context.Context, key string) error {
	return db.tx(ctx, "store.ClearConsoleFailures", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE console_login_limits SET failures = 0 WHERE limit_key = $1 AND failures > 0`, key)
		return err
	})
}

// PruneConsole deletes expired sessions and links and stale failure counts.
func (db *DB) PruneConsole(ctx context.Context, now, staleBefore time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, "store.PruneConsole", func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql string
			arg int64
		}{
			{`DELETE FROM console_sessions WHERE expires <= $1`, ms(now)},
			{`DELETE FROM console_invites WHERE expires <= $1`, ms(now)},
			{`DELETE FROM console_login_limits WHERE window_start < $1 AND locked_until < $1`, ms(staleBefore)},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.arg)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return int(n), err
}
