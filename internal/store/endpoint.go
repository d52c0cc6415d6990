package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// The endpoint's writes on every message, prepared once at open.
const (
	noteInboundSQL = `INSERT INTO endpoint_contacts (number_id, peer, last_inbound) VALUES ($1,$2,$3)
			ON CONFLICT (number_id, peer) DO UPDATE SET last_inbound = excluded.last_inbound
			WHERE endpoint_contacts.last_inbound < excluded.last_inbound`
	claimNoticeSQL = `INSERT INTO endpoint_contacts (number_id, peer, notice_sent) VALUES ($1,$2,TRUE)
			ON CONFLICT (number_id, peer) DO UPDATE SET notice_sent = TRUE WHERE endpoint_contacts.notice_sent = FALSE`
)

// noteInboundSQLs note 1 … rowChunk people's latest message times in
// one statement (one row per person: putMessages sums them up).
var noteInboundSQLs = chunkSQLs(`INSERT INTO endpoint_contacts (number_id, peer, last_inbound) VALUES `, 3,
	` ON CONFLICT (number_id, peer) DO UPDATE SET last_inbound = excluded.last_inbound
			WHERE endpoint_contacts.last_inbound < excluded.last_inbound`)

// putMessageSQLs record 1 … rowChunk messages in one statement.
var putMessageSQLs = chunkSQLs(`INSERT INTO endpoint_messages (number_id, msg_id, peer, outgoing, category, callback, created, initiated, entry_point) VALUES `,
	9, ` ON CONFLICT (number_id, msg_id) DO NOTHING`)

func init() {
	addHotWrite(noteInboundSQL, claimNoticeSQL)
	addHotWrite(putMessageSQLs[1:]...)
	addHotWrite(noteInboundSQLs[1:]...)
	// Free entry-point windows: when a person's latest message with a
	// referral came, when the business's answer opened the window, and
	// which sent messages went out in one (their statuses say free).
	addMigration("entry 1", migration{sql: `
ALTER TABLE endpoint_contacts ADD COLUMN referral_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE endpoint_contacts ADD COLUMN entry_opened BIGINT NOT NULL DEFAULT 0;
ALTER TABLE endpoint_messages ADD COLUMN entry_point BOOLEAN NOT NULL DEFAULT FALSE;
`})
	// 2: which sent messages opened a conversation (business-initiated,
	// outside the person's 24-hour window): the messaging limit counts them.
	addMigration("endpoint 2", migration{sql: `
ALTER TABLE endpoint_messages ADD COLUMN initiated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX endpoint_messages_reach ON endpoint_messages (number_id, initiated, created);
`})
	addMigration("endpoint 1", migration{sql: `
CREATE TABLE endpoint_contacts (
	number_id    BIGINT NOT NULL,
	peer         TEXT NOT NULL,
	last_inbound BIGINT NOT NULL DEFAULT 0,
	notice_sent  BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (number_id, peer)
);
CREATE TABLE endpoint_media (
	id        BIGINT PRIMARY KEY,
	number_id BIGINT NOT NULL,
	mime_type TEXT NOT NULL,
	sha256    TEXT NOT NULL,
	size      BIGINT NOT NULL,
	file_name TEXT NOT NULL DEFAULT '',
	created   BIGINT NOT NULL,
	expires   BIGINT NOT NULL
);
CREATE INDEX endpoint_media_expires ON endpoint_media (expires);
CREATE TABLE endpoint_messages (
	number_id BIGINT NOT NULL,
	msg_id    BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	outgoing  BOOLEAN NOT NULL,
	category  TEXT NOT NULL DEFAULT '',
	callback  TEXT NOT NULL DEFAULT '',
	created   BIGINT NOT NULL,
	PRIMARY KEY (number_id, msg_id)
);
CREATE INDEX endpoint_messages_created ON endpoint_messages (created);
`})
}

// Contact returns what an endpoint knows of a peer (endpoint.Store),
// through the directory cache (dircache.go).
func (db *DB) Contact(ctx context.Context, number kontor.ID, peer kontor.Phone) (endpoint.Contact, error) {
	key := contactKey{number, peer}
	if c, ok := dirGet(db.dir, db.dir.contacts, key); ok {
		return c, nil
	}
	gen := db.dir.generation()
	c := endpoint.Contact{Peer: peer}
	var last, ref, opened int64
	err := db.readRow(ctx, `SELECT last_inbound, notice_sent, referral_at, entry_opened FROM endpoint_contacts WHERE number_id = $1 AND peer = $2`,
		int64(number), string(peer)).Scan(&last, &c.NoticeSent, &ref, &opened)
	if errors.Is(err, sql.ErrNoRows) {
		dirPut(db.dir, db.dir.contacts, gen, key, c)
		return c, nil
	}
	if err != nil {
		return c, internal("store.Contact", err)
	}
	c.LastInbound = fromMS(last)
	c.EntryPoint.Referral, c.EntryPoint.Opened = fromMS(ref), fromMS(opened)
	dirPut(db.dir, db.dir.contacts, gen, key, c)
	return c, nil
}

// NoteReferral records that peer's message with a referral came at t:
// a new entry-point window waits for the business's answer
// (endpoint.Store).
func (db *DB) NoteReferral(ctx context.Context, number kontor.ID, peer kontor.Phone, t time.Time) error {
	defer db.dir.forgetContact(number, peer)
	return db.tx(ctx, "store.NoteReferral", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO endpoint_contacts (number_id, peer, referral_at) VALUES ($1,$2,$3)
			ON CONFLICT (number_id, peer) DO UPDATE SET referral_at = excluded.referral_at`, int64(number), string(peer), ms(t))
		return err
	})
}

// OpenEntryPoint marks the entry-point window of peer's referral at
// referral opened at at, unless it was opened already; it reports
// whether this call opened it (endpoint.Store).
func (db *DB) OpenEntryPoint(ctx context.Context, number kontor.ID, peer kontor.Phone, referral, at time.Time) (bool, error) {
	opened := false
	defer db.dir.forgetContact(number, peer)
	err := db.tx(ctx, "store.OpenEntryPoint", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE endpoint_contacts SET entry_opened = $4
			WHERE number_id = $1 AND peer = $2 AND referral_at = $3 AND entry_opened < referral_at`,
			int64(number), string(peer), ms(referral), ms(at))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		opened = n == 1
		return err
	})
	return opened, err
}

// NoteInbound records a peer's message time (endpoint.Store).
func (db *DB) NoteInbound(ctx context.Context, number kontor.ID, peer kontor.Phone, t time.Time) error {
	defer db.dir.forgetContact(number, peer)
	return db.tx(ctx, "store.NoteInbound", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, noteInboundSQL, int64(number), string(peer), ms(t))
		return err
	})
}

// ClaimNotice marks the hosted notice sent (endpoint.Store).
func (db *DB) ClaimNotice(ctx context.Context, number kontor.ID, peer kontor.Phone) (bool, error) {
	first := false
	defer db.dir.forgetContact(number, peer)
	err := db.tx(ctx, "store.ClaimNotice", func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, claimNoticeSQL, int64(number), string(peer))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	return first, err
}

// PutEndpointMedia records a file kept at an endpoint (endpoint.Store).
func (db *DB) PutEndpointMedia(ctx context.Context, m endpoint.MediaRecord) error {
	return db.tx(ctx, "store.PutEndpointMedia", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO endpoint_media (id, number_id, mime_type, sha256, size, file_name, created, expires)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, int64(m.ID), int64(m.Number), m.MimeType, m.SHA256, m.Size, m.FileName, ms(m.Created), ms(m.Expires))
		return err
	})
}

// EndpointMedia returns a file record (endpoint.Store).
func (db *DB) EndpointMedia(ctx context.Context, number, id kontor.ID) (endpoint.MediaRecord, error) {
	var m endpoint.MediaRecord
	var mid, num, created, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT id, number_id, mime_type, sha256, size, file_name, created, expires FROM endpoint_media
		WHERE id = $1 AND number_id = $2`, int64(id), int64(number)).Scan(&mid, &num, &m.MimeType, &m.SHA256, &m.Size, &m.FileName, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("store.EndpointMedia", "no media %s", id)
	}
	if err != nil {
		return m, internal("store.EndpointMedia", err)
	}
	m.ID, m.Number, m.Created, m.Expires = kontor.ID(mid), kontor.ID(num), fromMS(created), fromMS(expires)
	if !m.Expires.After(time.Now()) {
		return m, notFound("store.EndpointMedia", "media %s has expired", id)
	}
	return m, nil
}

// ExpiredEndpointMedia names a media file of a hosted endpoint whose
// record ExpireEndpointMedia deleted.
type ExpiredEndpointMedia struct {
	Number, ID kontor.ID
}

// ExpireEndpointMedia deletes up to limit media records of endpoints that
// expired at or before t (EndpointMedia no longer answers them), oldest
// first, together with their files kept in endpoint_blobs (a cluster's
// hosted endpoints), in one transaction, and returns them, so that the
// caller removes files kept elsewhere (an endpoint's media directory).
// Several nodes may sweep at once: a record is returned by the sweep that
// deleted it. The records are taken in one DELETE whose subquery picks
// them in (expires, id) order and, on PostgreSQL, skips rows another
// sweep holds, so two sweeps never wait on each other's rows (each
// waiting on the other's was a deadlock).
func (db *DB) ExpireEndpointMedia(ctx context.Context, t time.Time, limit int) ([]ExpiredEndpointMedia, error) {
	const op = "store.ExpireEndpointMedia"
	type taken struct {
		m       ExpiredEndpointMedia
		expires int64
	}
	var out []ExpiredEndpointMedia
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `DELETE FROM endpoint_media WHERE id IN (
			SELECT id FROM endpoint_media WHERE expires <= $1 ORDER BY expires, id LIMIT $2`+db.d.skipLocked()+`)
			RETURNING id, number_id, expires`, ms(t), limit)
		if err != nil {
			return err
		}
		var found []taken
		for rows.Next() {
			var id, number, expires int64
			if err := rows.Scan(&id, &number, &expires); err != nil {
				rows.Close()
				return err
			}
			found = append(found, taken{ExpiredEndpointMedia{Number: kontor.ID(number), ID: kontor.ID(id)}, expires})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// RETURNING gives no order: oldest first, as the subquery took them.
		slices.SortFunc(found, func(a, b taken) int {
			if c := cmp.Compare(a.expires, b.expires); c != 0 {
				return c
			}
			return cmp.Compare(a.m.ID, b.m.ID)
		})
		for _, f := range found {
			if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_blobs WHERE id = $1 AND number = $2`, int64(f.m.ID), int64(f.m.Number)); err != nil {
				return err
			}
			out = append(out, f.m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteEndpointMedia removes a file record (endpoint.Store).
func (db *DB) DeleteEndpointMedia(ctx context.Context, number, id kontor.ID) error {
	return db.tx(ctx, "store.DeleteEndpointMedia", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoint_media WHERE id = $1 AND number_id = $2`, int64(id), int64(number))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.DeleteEndpointMedia", "no media %s", id)
		}
		return nil
	})
}

// PutMessage records a message an endpoint sent or got.
func (db *DB) PutMessage(ctx context.Context, m endpoint.MessageRecord) error {
	return db.PutMessages(ctx, []endpoint.MessageRecord{m})
}

// PutMessages records messages an endpoint sent or got, in one transaction
// (endpoint.Store); a record already there is left alone. The messages
// people sent note their time too (Contact.LastInbound, the latest).
func (db *DB) PutMessages(ctx context.Context, msgs []endpoint.MessageRecord) error {
	if len(msgs) == 0 {
		return nil
	}
	defer db.forgetInbound(msgs)
	return db.retryTx(ctx, "store.PutMessages", func(tx *sql.Tx) error { return db.putMessages(ctx, tx, msgs) })
}

// putMessages records msgs, and notes in endpoint_contacts the latest
// time of each person who sent some of them (NoteInbound), both in key
// order (the lock order, retry.go). It changes nothing of msgs.
func (db *DB) putMessages(ctx context.Context, tx *sql.Tx, msgs []endpoint.MessageRecord) error {
	if len(msgs) == 0 {
		return nil
	}
	if len(msgs) > 1 && !slices.IsSortedFunc(msgs, compareRecords) {
		msgs = slices.SortedStableFunc(slices.Values(msgs), compareRecords)
	}
	var latest map[contactKey]int64
	for _, m := range msgs {
		if !m.Outgoing {
			if latest == nil {
				latest = make(map[contactKey]int64)
			}
			k := contactKey{m.Number, m.Peer}
			latest[k] = max(latest[k], ms(m.Created))
		}
	}
	if len(latest) > 0 {
		keys := slices.SortedFunc(maps.Keys(latest), func(a, b contactKey) int {
			return cmp.Or(cmp.Compare(a.number, b.number), strings.Compare(string(a.peer), string(b.peer)))
		})
		args := make([]any, 0, 3*len(keys))
		for _, k := range keys {
			args = append(args, int64(k.number), string(k.peer), latest[k])
		}
		if err := db.execChunks(ctx, tx, noteInboundSQLs, 3, args); err != nil {
			return err
		}
	}
	args := make([]any, 0, 9*len(msgs))
	for _, m := range msgs {
		args = append(args, int64(m.Number), int64(m.ID), string(m.Peer), m.Outgoing, m.Category, m.Callback, ms(m.Created), m.Initiated, m.EntryPoint)
	}
	return db.execChunks(ctx, tx, putMessageSQLs, 9, args)
}

// forgetInbound drops the cached contacts of the people who sent msgs
// (putMessages changed them), once the change is committed.
func (db *DB) forgetInbound(msgs []endpoint.MessageRecord) {
	for _, m := range msgs {
		if !m.Outgoing {
			db.dir.forgetContact(m.Number, m.Peer)
		}
	}
}

// compareRecords orders message records by key.
func compareRecords(a, b endpoint.MessageRecord) int {
	return cmp.Or(cmp.Compare(a.Number, b.Number), cmp.Compare(a.ID, b.ID))
}

// PutEndpointBatch writes an endpoint's message records, inbox log and
// webhooks in one transaction, the webhooks starting at now and born
// claimed under lease unless it is zero; it returns the webhooks it added
// (endpoint.BatchStore; webhook.Store.EnqueueWebhooks).
func (db *DB) PutEndpointBatch(ctx context.Context, msgs []endpoint.MessageRecord, in endpoint.InboxWrites, evs []webhook.Event, now time.Time, lease webhook.Lease) ([]webhook.Event, error) {
	if len(msgs) == 0 && len(evs) == 0 && len(in.Messages) == 0 && len(in.Statuses) == 0 && len(in.Reads) == 0 {
		return nil, nil
	}
	var added []webhook.Event
	defer db.forgetInbound(msgs)
	err := db.txLate(ctx, "store.PutEndpointBatch", func(tx *sql.Tx) error {
		if err := db.putMessages(ctx, tx, msgs); err != nil {
			return err
		}
		if err := db.putInbox(ctx, tx, in); err != nil {
			return err
		}
		var err error
		added, err = db.enqueueWebhooks(ctx, tx, evs, now, lease)
		return err
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// AddEndpointWrites has a hosted endpoint's writes for a send written in
// the router's transaction of it (endpoint.WritesTx): at its end, with
// those of the other sends in it, as PutEndpointBatch writes them.
func (t *queueTx) AddEndpointWrites(w *endpoint.TxWrites) { t.rides = append(t.rides, w) }

// flushRides writes what AddEndpointWrites gathered: the records and the
// inbox log of all in one go, the webhooks of all too, each ride's under
// its lease.
func (t *queueTx) flushRides() error {
	if len(t.rides) == 0 {
		return nil
	}
	var msgs []endpoint.MessageRecord
	var in endpoint.InboxWrites
	for _, w := range t.rides {
		msgs = append(msgs, w.Msgs...)
		in.Messages = append(in.Messages, w.Inbox.Messages...)
		in.Statuses = append(in.Statuses, w.Inbox.Statuses...)
		in.Reads = append(in.Reads, w.Inbox.Reads...)
	}
	if err := t.db.putMessages(t.ctx, t.tx, msgs); err != nil {
		return err
	}
	if err := t.db.putInbox(t.ctx, t.tx, in); err != nil {
		return err
	}
	bs := make([]hookBatch, len(t.rides))
	for i, w := range t.rides {
		bs[i] = hookBatch{evs: w.Hooks, now: w.Now, lease: w.Lease}
	}
	if err := t.db.enqueueBatches(t.ctx, t.tx, bs); err != nil {
		return err
	}
	for i, w := range t.rides {
		w.Added = bs[i].added
	}
	return nil
}

// Message returns a message record (endpoint.Store).
func (db *DB) Message(ctx context.Context, number, id kontor.ID) (endpoint.MessageRecord, error) {
	var m endpoint.MessageRecord
	var num, mid, created int64
	var peer string
	err := db.readRow(ctx, `SELECT number_id, msg_id, peer, outgoing, category, callback, created, initiated, entry_point FROM endpoint_messages
		WHERE number_id = $1 AND msg_id = $2`, int64(number), int64(id)).Scan(&num, &mid, &peer, &m.Outgoing, &m.Category, &m.Callback, &created, &m.Initiated, &m.EntryPoint)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("store.Message", "no message %s", id)
	}
	if err != nil {
		return m, internal("store.Message", err)
	}
	m.Number, m.ID, m.Peer, m.Created = kontor.ID(num), kontor.ID(mid), kontor.Phone(peer), fromMS(created)
	return m, nil
}

// MediaNumber returns the number holding endpoint media id (endpoint.Store).
func (db *DB) MediaNumber(ctx context.Context, id kontor.ID) (kontor.ID, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT number_id FROM endpoint_media WHERE id = $1`, int64(id)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("store.MediaNumber", "no media %s", id)
	}
	if err != nil {
		return 0, internal("store.MediaNumber", err)
	}
	return kontor.ID(n), nil
}

// Reach counts the people the business-initiated messages of a number's
// business went to since t — all its numbers together, as the public
// service counts since October 2025 — and whether peer is one of them
// (endpoint.Store). A self-hosted endpoint's store knows only its number.
func (db *DB) Reach(ctx context.Context, number kontor.ID, peer kontor.Phone, since time.Time) (int, bool, error) {
	var n, mine int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT peer), COUNT(CASE WHEN peer = $3 THEN 1 END) FROM endpoint_messages
		WHERE (number_id = $1 OR number_id IN (SELECT id FROM business_numbers WHERE business_id =
			(SELECT business_id FROM business_numbers WHERE id = $1)))
		AND initiated AND created >= $2`, int64(number), ms(since), string(peer)).Scan(&n, &mine)
	if err != nil {
		return 0, false, internal("store.Reach", err)
	}
	return n, mine > 0, nil
}
