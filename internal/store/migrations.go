package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// migration is one step of the schema: portable SQL, or a pair when the
// engines need different text; fill, when set, runs after the SQL in the
// same transaction (to derive rows in Go, such as a search index).
type migration struct {
	sql      string
	sqlite   string
	postgres string
	fill     func(ctx context.Context, tx *sql.Tx, d dialect) error
}

func (m migration) text(d dialect) string {
	if m.sql != "" {
		return m.sql
	}
	if d.name == "postgres" {
		return m.postgres
	}
	return m.sqlite
}

// migrations run in order; never edit a step that has shipped, add one.
// Steps are numbered from 1. The core's are here; a part that owns more
// tables registers named steps from its own file with addMigration, so that
// parts can grow their schema without editing one shared list.
var migrations = []migration{
	{sql: `
CREATE TABLE accounts (
	id                BIGINT PRIMARY KEY,
	phone             TEXT NOT NULL UNIQUE,
	created           BIGINT NOT NULL,
	last_seen         BIGINT NOT NULL DEFAULT 0,
	last_seen_privacy TEXT NOT NULL DEFAULT 'everyone',
	next_device       INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE devices (
	id          BIGINT PRIMARY KEY,
	account_id  BIGINT NOT NULL,
	num         INTEGER NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	secret_hash BYTEA NOT NULL,
	is_primary  BOOLEAN NOT NULL,
	created     BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL DEFAULT 0,
	UNIQUE (account_id, num)
);
CREATE TABLE codes (
	phone    TEXT PRIMARY KEY,
	hash     BYTEA NOT NULL,
	expires  BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	created  BIGINT NOT NULL
);
CREATE TABLE code_requests (
	phone TEXT NOT NULL,
	ip    TEXT NOT NULL,
	at    BIGINT NOT NULL
);
CREATE INDEX code_requests_phone ON code_requests (phone, at);
CREATE INDEX code_requests_ip ON code_requests (ip, at);
CREATE INDEX code_requests_at ON code_requests (at);
CREATE TABLE link_codes (
	hash       BYTEA PRIMARY KEY,
	account_id BIGINT NOT NULL,
	expires    BIGINT NOT NULL
);
CREATE TABLE operator_tokens (
	hash    BYTEA PRIMARY KEY,
	created BIGINT NOT NULL
);
CREATE TABLE queue (
	device_id    BIGINT NOT NULL,
	id           BIGINT NOT NULL,
	kind         SMALLINT NOT NULL,
	from_account BIGINT NOT NULL,
	from_phone   TEXT NOT NULL,
	from_device  INTEGER NOT NULL,
	to_phone     TEXT NOT NULL DEFAULT '',
	ts           BIGINT NOT NULL,
	expires      BIGINT NOT NULL,
	body         BYTEA NOT NULL,
	PRIMARY KEY (device_id, id)
);
CREATE INDEX queue_expires ON queue (expires);
CREATE TABLE send_refs (
	sender_device BIGINT NOT NULL,
	ref           TEXT NOT NULL,
	msg_id        BIGINT NOT NULL,
	at            BIGINT NOT NULL,
	PRIMARY KEY (sender_device, ref)
);
CREATE INDEX send_refs_at ON send_refs (at);
`},
	// 2: the key directory (end-to-end encryption).
	{sql: `
CREATE TABLE device_keys (
	device_id       BIGINT PRIMARY KEY,
	identity_key    BYTEA NOT NULL,
	registration_id INTEGER NOT NULL,
	spk_id          INTEGER NOT NULL DEFAULT 0,
	spk_public      BYTEA,
	spk_signature   BYTEA,
	updated         BIGINT NOT NULL
);
CREATE TABLE prekeys (
	device_id  BIGINT NOT NULL,
	key_id     INTEGER NOT NULL,
	public_key BYTEA NOT NULL,
	PRIMARY KEY (device_id, key_id)
);
`},
	// 3: media blobs and who has fetched them.
	{sql: `
CREATE TABLE media (
	id            TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	size          BIGINT NOT NULL,
	owner_device  BIGINT NOT NULL,
	owner_account BIGINT NOT NULL,
	to_account    BIGINT NOT NULL,
	created       BIGINT NOT NULL,
	expires       BIGINT NOT NULL
);
CREATE INDEX media_expires ON media (expires);
CREATE TABLE media_fetches (
	media_id  TEXT NOT NULL,
	device_id BIGINT NOT NULL,
	PRIMARY KEY (media_id, device_id)
);
`},
}

// parts holds the steps other files register, by name ("webhook 1").
// They run after the core's, in the order of their names, each once; the
// names applied are recorded in schema_parts. Names never change once
// shipped; a part adds "webhook 2" for its next step.
var parts = map[string]migration{}

// addMigration registers a named step (from an init function); a name
// registered twice panics at start, before any database is touched.
func addMigration(name string, m migration) {
	if _, dup := parts[name]; dup {
		panic(fmt.Sprintf("store: migration %q registered twice", name))
	}
	parts[name] = m
}

// partNames returns the registered names in order.
func partNames() []string {
	out := make([]string, 0, len(parts))
	for k := range parts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
