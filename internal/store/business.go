package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
)

func init() {
	// 2: when a number's tier last changed and how many quality or tier
	// changes it had (store/quality.go, business.Quality).
	addMigration("business 2", migration{sql: `
ALTER TABLE business_numbers ADD COLUMN tier_changed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE business_numbers ADD COLUMN quality_seq BIGINT NOT NULL DEFAULT 0;
`})
	addMigration("business 1", migration{sql: `
CREATE TABLE businesses (
	id           BIGINT PRIMARY KEY,
	name         TEXT NOT NULL,
	self_hosted  BOOLEAN NOT NULL,
	webhook_url  TEXT NOT NULL DEFAULT '',
	verify_token TEXT NOT NULL DEFAULT '',
	created      BIGINT NOT NULL
);
CREATE TABLE business_numbers (
	id            BIGINT PRIMARY KEY,
	business_id   BIGINT NOT NULL,
	phone         TEXT NOT NULL UNIQUE,
	account_id    BIGINT NOT NULL,
	verified_name TEXT NOT NULL,
	quality       TEXT NOT NULL,
	tier          TEXT NOT NULL,
	mps           INTEGER NOT NULL,
	profile       TEXT NOT NULL DEFAULT '{}',
	created       BIGINT NOT NULL
);
CREATE INDEX business_numbers_business ON business_numbers (business_id);
CREATE TABLE business_apps (
	id          BIGINT PRIMARY KEY,
	business_id BIGINT NOT NULL,
	secret      TEXT NOT NULL,
	created     BIGINT NOT NULL
);
CREATE INDEX business_apps_business ON business_apps (business_id);
CREATE TABLE business_tokens (
	id          BIGINT PRIMARY KEY,
	hash        BYTEA NOT NULL UNIQUE,
	business_id BIGINT NOT NULL,
	partner_id  BIGINT NOT NULL,
	scopes      INTEGER NOT NULL,
	label       TEXT NOT NULL DEFAULT '',
	expires     BIGINT NOT NULL,
	revoked     BOOLEAN NOT NULL DEFAULT FALSE,
	created     BIGINT NOT NULL
);
CREATE TABLE partners (
	id      BIGINT PRIMARY KEY,
	name    TEXT NOT NULL,
	created BIGINT NOT NULL
);
CREATE TABLE partner_grants (
	partner_id  BIGINT NOT NULL,
	business_id BIGINT NOT NULL,
	PRIMARY KEY (partner_id, business_id)
);
`})
}

// CreateBusiness stores a business with its first number, app and token.
func (db *DB) CreateBusiness(ctx context.Context, b business.Business, n business.Number, a business.App, t business.Token) error {
	return db.tx(ctx, "store.CreateBusiness", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO businesses (id, name, self_hosted, webhook_url, verify_token, created) VALUES ($1,$2,$3,$4,$5,$6)`,
			int64(b.ID), b.Name, b.SelfHosted, b.WebhookURL, b.VerifyToken, ms(b.Created)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO business_numbers (id, business_id, phone, account_id, verified_name, quality, tier, mps, created)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, int64(n.ID), int64(n.Business), string(n.Phone), int64(n.Account), n.VerifiedName, n.Quality, n.Tier, n.MPS, ms(n.Created)); err != nil {
			if isUnique(err) {
				return kontor.Errorf(kontor.Conflict, "store.CreateBusiness", "%s is a business number already", n.Phone)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO business_apps (id, business_id, secret, created) VALUES ($1,$2,$3,$4)`,
			int64(a.ID), int64(a.Business), a.Secret, ms(a.Created)); err != nil {
			return err
		}
		return putToken(ctx, tx, t)
	})
}

func putToken(ctx context.Context, tx *sql.Tx, t business.Token) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO business_tokens (id, hash, business_id, partner_id, scopes, label, expires, revoked, created)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, int64(t.ID), t.Hash, int64(t.Business), int64(t.Partner), int(t.Scopes), t.Label, ms(t.Expires), t.Revoked, ms(t.Created))
	return err
}

// isUnique says whether err is a unique-constraint violation.
func isUnique(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value") || strings.Contains(s, "SQLSTATE 23505")
}

const businessCols = `id, name, self_hosted, webhook_url, verify_token, created`

func scanBusiness(row interface{ Scan(...any) error }) (business.Business, error) {
	var b business.Business
	var id, created int64
	err := row.Scan(&id, &b.Name, &b.SelfHosted, &b.WebhookURL, &b.VerifyToken, &created)
	b.ID, b.Created = kontor.ID(id), time.UnixMilli(created)
	return b, err
}

// Business returns a business (through the directory cache, dircache.go).
func (db *DB) Business(ctx context.Context, id kontor.ID) (business.Business, error) {
	if b, ok := dirGet(db.dir, db.dir.businesses, id); ok {
		return b, nil
	}
	gen := db.dir.generation()
	b, err := scanBusiness(db.readRow(ctx, `SELECT `+businessCols+` FROM businesses WHERE id = $1`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("store.Business", "no business %s", id)
	}
	if err != nil {
		return b, internal("store.Business", err)
	}
	dirPut(db.dir, db.dir.businesses, gen, id, b)
	return b, nil
}

// Businesses lists all businesses.
func (db *DB) Businesses(ctx context.Context) ([]business.Business, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+businessCols+` FROM businesses ORDER BY id`)
	if err != nil {
		return nil, internal("store.Businesses", err)
	}
	defer rows.Close()
	var out []business.Business
	for rows.Next() {
		b, err := scanBusiness(rows)
		if err != nil {
			return nil, internal("store.Businesses", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

const numberCols = `id, business_id, phone, account_id, verified_name, quality, tier, mps, created`

func scanNumber(row interface{ Scan(...any) error }) (business.Number, error) {
	var n business.Number
	var id, biz, acct, created int64
	var phone string
	err := row.Scan(&id, &biz, &phone, &acct, &n.VerifiedName, &n.Quality, &n.Tier, &n.MPS, &created)
	n.ID, n.Business, n.Phone, n.Account, n.Created = kontor.ID(id), kontor.ID(biz), kontor.Phone(phone), kontor.ID(acct), time.UnixMilli(created)
	return n, err
}

// Number returns a business number by its id (through the directory
// cache, dircache.go).
func (db *DB) Number(ctx context.Context, id kontor.ID) (business.Number, error) {
	if n, ok := dirGet(db.dir, db.dir.numbers, id); ok {
		return n, nil
	}
	gen := db.dir.generation()
	n, err := db.number(ctx, "id = $1", int64(id), id.String())
	if err == nil {
		dirPut(db.dir, db.dir.numbers, gen, id, n)
	}
	return n, err
}

// NumberByPhone returns the business number of phone.
func (db *DB) NumberByPhone(ctx context.Context, p kontor.Phone) (business.Number, error) {
	return db.number(ctx, "phone = $1", string(p), string(p))
}

func (db *DB) number(ctx context.Context, where string, arg any, what string) (business.Number, error) {
	n, err := scanNumber(db.readRow(ctx, `SELECT `+numberCols+` FROM business_numbers WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return n, notFound("store.Number", "no business phone number %s", what)
	}
	if err != nil {
		return n, internal("store.Number", err)
	}
	return n, nil
}

// Numbers lists a business's numbers.
func (db *DB) Numbers(ctx context.Context, biz kontor.ID) ([]business.Number, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+numberCols+` FROM business_numbers WHERE business_id = $1 ORDER BY id`, int64(biz))
	if err != nil {
		return nil, internal("store.Numbers", err)
	}
	defer rows.Close()
	var out []business.Number
	for rows.Next() {
		n, err := scanNumber(rows)
		if err != nil {
			return nil, internal("store.Numbers", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Apps lists a business's apps.
func (db *DB) Apps(ctx context.Context, biz kontor.ID) ([]business.App, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, business_id, secret, created FROM business_apps WHERE business_id = $1 ORDER BY id`, int64(biz))
	if err != nil {
		return nil, internal("store.Apps", err)
	}
	defer rows.Close()
	var out []business.App
	for rows.Next() {
		var a business.App
		var id, b, created int64
		if err := rows.Scan(&id, &b, &a.Secret, &created); err != nil {
			return nil, internal("store.Apps", err)
		}
		a.ID, a.Business, a.Created = kontor.ID(id), kontor.ID(b), time.UnixMilli(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutToken stores a new token.
func (db *DB) PutToken(ctx context.Context, t business.Token) error {
	return db.tx(ctx, "store.PutToken", func(tx *sql.Tx) error { return putToken(ctx, tx, t) })
}

const tokenCols = `id, hash, business_id, partner_id, scopes, label, expires, revoked, created`

func scanToken(row interface{ Scan(...any) error }) (business.Token, error) {
	var t business.Token
	var id, biz, partner, exp, created int64
	var scopes int
	err := row.Scan(&id, &t.Hash, &biz, &partner, &scopes, &t.Label, &exp, &t.Revoked, &created)
	t.ID, t.Business, t.Partner, t.Scopes = kontor.ID(id), kontor.ID(biz), kontor.ID(partner), business.Scope(scopes)
	t.Expires, t.Created = fromMS(exp), time.UnixMilli(created)
	return t, err
}

// TokenByHash finds a token by the hash of its secret (through the
// directory cache, dircache.go, which keeps only tokens found and not
// revoked).
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (business.Token, error) {
	key, cacheable := tokenKey(hash)
	if cacheable {
		if t, ok := dirGet(db.dir, db.dir.tokens, key); ok {
			return t, nil
		}
	}
	gen := db.dir.generation()
	t, err := scanToken(db.readRow(ctx, `SELECT `+tokenCols+` FROM business_tokens WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("store.TokenByHash", "no such token")
	}
	if err != nil {
		return t, internal("store.TokenByHash", err)
	}
	if cacheable && !t.Revoked {
		dirPut(db.dir, db.dir.tokens, gen, key, t)
	}
	return t, nil
}

// Tokens lists the tokens of a business or a partner.
func (db *DB) Tokens(ctx context.Context, biz, partner kontor.ID) ([]business.Token, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+tokenCols+` FROM business_tokens WHERE business_id = $1 AND partner_id = $2 ORDER BY id`, int64(biz), int64(partner))
	if err != nil {
		return nil, internal("store.Tokens", err)
	}
	defer rows.Close()
	var out []business.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, internal("store.Tokens", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token.
func (db *DB) RevokeToken(ctx context.Context, id kontor.ID) error {
	return db.changing(DirToken, id, db.tx(ctx, "store.RevokeToken", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE business_tokens SET revoked = TRUE WHERE id = $1`, int64(id))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.RevokeToken", "no token %s", id)
		}
		return nil
	}))
}

// CreatePartner stores a partner.
func (db *DB) CreatePartner(ctx context.Context, p business.Partner) error {
	return db.tx(ctx, "store.CreatePartner", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO partners (id, name, created) VALUES ($1,$2,$3)`, int64(p.ID), p.Name, ms(p.Created))
		return err
	})
}

// Partner returns a partner.
func (db *DB) Partner(ctx context.Context, id kontor.ID) (business.Partner, error) {
	var p business.Partner
	var pid, created int64
	err := db.r.QueryRowContext(ctx, `SELECT id, name, created FROM partners WHERE id = $1`, int64(id)).Scan(&pid, &p.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("store.Partner", "no partner %s", id)
	}
	if err != nil {
		return p, internal("store.Partner", err)
	}
	p.ID, p.Created = kontor.ID(pid), time.UnixMilli(created)
	return p, nil
}

// Grant gives a partner access to a business.
func (db *DB) Grant(ctx context.Context, partner, biz kontor.ID) error {
	return db.changing(DirGrant, partner, db.tx(ctx, "store.Grant", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO partner_grants (partner_id, business_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, int64(partner), int64(biz))
		return err
	}))
}

// Ungrant takes a partner's access to a business away; kontor.NotFound
// when the partner had none.
func (db *DB) Ungrant(ctx context.Context, partner, biz kontor.ID) error {
	return db.changing(DirGrant, partner, db.tx(ctx, "store.Ungrant", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM partner_grants WHERE partner_id = $1 AND business_id = $2`, int64(partner), int64(biz))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.Ungrant", "partner %s has no access to business %s", partner, biz)
		}
		return nil
	}))
}

// Granted says whether a partner has access to a business. It reads
// through the directory cache, which keeps the grants found.
func (db *DB) Granted(ctx context.Context, partner, biz kontor.ID) (bool, error) {
	k := grantKey{partner, biz}
	if _, ok := dirGet(db.dir, db.dir.grants, k); ok {
		return true, nil
	}
	gen := db.dir.generation()
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM partner_grants WHERE partner_id = $1 AND business_id = $2`, int64(partner), int64(biz)).Scan(&n); err != nil {
		return false, internal("store.Granted", err)
	}
	if n > 0 {
		dirPut(db.dir, db.dir.grants, gen, k, struct{}{})
	}
	return n > 0, nil
}

// Profile returns a number's business profile.
func (db *DB) Profile(ctx context.Context, number kontor.ID) (business.Profile, error) {
	var p business.Profile
	var raw string
	err := db.r.QueryRowContext(ctx, `SELECT profile FROM business_numbers WHERE id = $1`, int64(number)).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("store.Profile", "no business phone number %s", number)
	}
	if err != nil {
		return p, internal("store.Profile", err)
	}
	if err := jsonUnmarshal(raw, &p); err != nil {
		return p, internal("store.Profile", err)
	}
	return p, nil
}

// PutProfile replaces a number's business profile.
func (db *DB) PutProfile(ctx context.Context, number kontor.ID, p business.Profile) error {
	raw, err := jsonMarshal(p)
	if err != nil {
		return internal("store.PutProfile", err)
	}
	return db.tx(ctx, "store.PutProfile", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE business_numbers SET profile = $2 WHERE id = $1`, int64(number), raw)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.PutProfile", "no business phone number %s", number)
		}
		return nil
	})
}

// SetWebhook sets where a business's webhooks go.
func (db *DB) SetWebhook(ctx context.Context, biz kontor.ID, url, verify string) error {
	return db.changing(DirBusiness, biz, db.tx(ctx, "store.SetWebhook", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE businesses SET webhook_url = $2, verify_token = $3 WHERE id = $1`, int64(biz), url, verify)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.SetWebhook", "no business %s", biz)
		}
		return nil
	}))
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// AppSecret returns the secret of an app (webhook.Secrets via the server),
// through the directory cache (dircache.go).
func (db *DB) AppSecret(ctx context.Context, app kontor.ID) (string, error) {
	if s, ok := dirGet(db.dir, db.dir.secrets, app); ok {
		return s, nil
	}
	gen := db.dir.generation()
	var secret string
	err := db.r.QueryRowContext(ctx, `SELECT secret FROM business_apps WHERE id = $1`, int64(app)).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("store.AppSecret", "no app %s", app)
	}
	if err != nil {
		return "", internal("store.AppSecret", err)
	}
	dirPut(db.dir, db.dir.secrets, gen, app, secret)
	return secret, nil
}

// SetAppSecret replaces an app's secret.
func (db *DB) SetAppSecret(ctx context.Context, app kontor.ID, secret string) error {
	return db.changing(DirApp, app, db.tx(ctx, "store.SetAppSecret", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE business_apps SET secret = $2 WHERE id = $1`, int64(app), secret)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.SetAppSecret", "no app %s", app)
		}
		return nil
	}))
}

// SetNumberMPS sets how many messages per second a number may send.
func (db *DB) SetNumberMPS(ctx context.Context, number kontor.ID, mps int) error {
	return db.changing(DirNumber, number, db.tx(ctx, "store.SetNumberMPS", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE business_numbers SET mps = $2 WHERE id = $1`, int64(number), mps)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.SetNumberMPS", "no business phone number %s", number)
		}
		return nil
	}))
}

// SetNumberTier sets a number's messaging limit tier.
func (db *DB) SetNumberTier(ctx context.Context, number kontor.ID, tier string) error {
	return db.changing(DirNumber, number, db.tx(ctx, "store.SetNumberTier", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE business_numbers SET tier = $2 WHERE id = $1`, int64(number), tier)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.SetNumberTier", "no business phone number %s", number)
		}
		return nil
	}))
}
