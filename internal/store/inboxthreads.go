package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor/internal/inbox"
)

// The inbox log's conversations as threads: inbox_threads holds a row
// (number_id, peer, at, msg_id) per logged message, the key the console
// reads a conversation by (its newest page, the page before a message, its
// stamp). It took the place of the index inbox_messages_peer on the same
// columns, which the endpoint's write transaction kept up to date: the
// conversations of a group commit interleave, so each message's entry
// landed on a leaf of its own (~1 WAL page per message, the largest single
// write of a Business API send). A background indexer (IndexInboxThreads,
// run with the search indexer by IndexInbox) writes the rows instead, a
// batch of up to inbox.IndexBatch messages in one transaction: a batch puts
// several entries on each conversation's tail leaf.
//
// Its cursor (inbox_threads_cursor) is kept as the search index keeps its
// own (inboxsearch.go): SQLite's rowid, which grows in commit order;
// PostgreSQL's (xid, number_id, msg_id), read only below the oldest running
// transaction. A read of a conversation is one statement, one snapshot:
// the conversation's rows UNION ALL the messages of the log after the
// cursor (the tail, read by rowid or xid and filtered by conversation)
// that have no row yet. Every message is in one of the two parts exactly
// once, whether or not the cursor is exact (the migration's is
// conservative on PostgreSQL).
//
// The tail is bounded: a read that finds the log more than InboxThreadsLag
// messages past the cursor first runs the indexer itself until it has
// caught up (catchUpThreads), so a console read scans at most about
// InboxThreadsLag rows of tail, and a stopped or slow indexer costs the reader
// that finds it behind one catch-up, never a scan of the whole log per
// read. On PostgreSQL a transaction held open holds the cursor back (the
// indexer may not pass it): then the tail grows until it ends, as the
// search index waits.
func init() {
	addMigration("inbox threads 1", migration{
		sqlite: `
CREATE TABLE inbox_threads (
	number_id BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	at        BIGINT NOT NULL,
	msg_id    BIGINT NOT NULL,
	PRIMARY KEY (number_id, peer, at, msg_id)
) WITHOUT ROWID;
INSERT INTO inbox_threads (number_id, peer, at, msg_id)
	SELECT number_id, peer, at, msg_id FROM inbox_messages ORDER BY number_id, peer, at, msg_id;
` + inboxThreadsCursor + `
INSERT INTO inbox_threads_cursor (id, seq, number_id, msg_id) VALUES (1, COALESCE((SELECT MAX(rowid) FROM inbox_messages), 0), 0, 0);
DROP INDEX inbox_messages_peer;
`,
		// The cursor is set first, just below the xmin of its statement's
		// snapshot; the copy's statement, later, has a snapshot of its
		// own (READ COMMITTED: one per statement) that sees every
		// transaction older than that xmin, so all their messages have
		// rows. Those of later transactions are in the tail until the
		// indexer passes them (the reads skip the tail's messages that
		// have rows). Set after the copy, the cursor could pass a
		// transaction that another node committed during the copy: its
		// messages would have neither rows nor a place in the tail.
		postgres: `
CREATE TABLE inbox_threads (
	number_id BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	at        BIGINT NOT NULL,
	msg_id    BIGINT NOT NULL,
	PRIMARY KEY (number_id, peer, at, msg_id)
);
` + inboxThreadsCursor + `
INSERT INTO inbox_threads_cursor (id, seq, number_id, msg_id)
	VALUES (1, pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, 9223372036854775807, 9223372036854775807);
INSERT INTO inbox_threads (number_id, peer, at, msg_id)
	SELECT number_id, peer, at, msg_id FROM inbox_messages ORDER BY number_id, peer, at, msg_id;
DROP INDEX inbox_messages_peer;
`,
	})
}

const inboxThreadsCursor = `
CREATE TABLE inbox_threads_cursor (
	id        INTEGER PRIMARY KEY,
	seq       BIGINT NOT NULL,
	number_id BIGINT NOT NULL,
	msg_id    BIGINT NOT NULL
);`

// InboxThreadsLag is how many messages the log may be past the threads'
// cursor before a reader catches the indexer up (catchUpThreads). At
// 10,000 messages a second the indexer leaves up to 10,000/s × 250 ms
// (inbox.IndexEvery) + 500 (inbox.IndexBatch, a batch being written) =
// 3,000 messages behind it at its peaks; the bound is twice that, so that
// at that rate readers do not catch up on its behalf after every tick
// (with 2,000, a read just before a tick did), but only when it has
// stalled or fallen behind for a while (or, on PostgreSQL, a transaction
// held open holds its cursor back). The bound does not make the usual
// read dearer: the tail a read scans is what the indexer leaves; it caps
// the worst, at ~6,000 rows.
const InboxThreadsLag = 2 * (10_000*int(inbox.IndexEvery/time.Millisecond)/1000 + inbox.IndexBatch)

// IndexInboxThreads writes the thread rows of up to limit messages logged
// after the cursor, and the new cursor, in one transaction, and says how
// many messages it read: fewer than limit means it has caught up. Another
// node's indexer at work leaves it nothing to do (0).
func (db *DB) IndexInboxThreads(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = inbox.IndexBatch
	}
	var n int
	err := db.tx(ctx, "store.IndexInboxThreads", func(tx *sql.Tx) error {
		var cur indexCursor
		err := tx.QueryRowContext(ctx, `SELECT seq, number_id, msg_id FROM inbox_threads_cursor WHERE id = 1`+db.d.skipLocked()).Scan(&cur.seq, &cur.number, &cur.msg)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var rows *sql.Rows
		if db.d.name == "postgres" {
			rows, err = tx.QueryContext(ctx, `SELECT xid, number_id, msg_id FROM inbox_messages
				WHERE (xid, number_id, msg_id) > ($1, $2, $3) AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
				ORDER BY xid, number_id, msg_id LIMIT $4`, cur.seq, cur.number, cur.msg, limit)
		} else {
			rows, err = tx.QueryContext(ctx, `SELECT rowid, 0, 0 FROM inbox_messages WHERE rowid > $1 ORDER BY rowid LIMIT $2`, cur.seq, limit)
		}
		if err != nil {
			return err
		}
		last := cur
		for rows.Next() {
			if err := rows.Scan(&last.seq, &last.number, &last.msg); err != nil {
				rows.Close()
				return err
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil || n == 0 {
			return err
		}
		// The batch's rows sorted as the table is, so that the statement
		// writes each conversation's tail leaf once.
		if db.d.name == "postgres" {
			_, err = tx.ExecContext(ctx, `INSERT INTO inbox_threads (number_id, peer, at, msg_id)
				SELECT number_id, peer, at, msg_id FROM inbox_messages
				WHERE (xid, number_id, msg_id) > ($1, $2, $3) AND (xid, number_id, msg_id) <= ($4, $5, $6)
				ORDER BY number_id, peer, at, msg_id ON CONFLICT DO NOTHING`, cur.seq, cur.number, cur.msg, last.seq, last.number, last.msg)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO inbox_threads (number_id, peer, at, msg_id)
				SELECT number_id, peer, at, msg_id FROM inbox_messages WHERE rowid > $1 AND rowid <= $2
				ORDER BY number_id, peer, at, msg_id ON CONFLICT DO NOTHING`, cur.seq, last.seq)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE inbox_threads_cursor SET seq = $1, number_id = $2, msg_id = $3 WHERE id = 1`,
			last.seq, last.number, last.msg)
		return err
	})
	return n, err
}

// InboxThreadsBehind counts the logged messages after the threads'
// cursor, up to max+1 (all when max < 0): the tail a read of a
// conversation scans.
func (db *DB) InboxThreadsBehind(ctx context.Context, max int) (int, error) {
	if max < 0 {
		max = 1<<62 - 1
	}
	var n int
	if err := db.readRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM inbox_messages m WHERE `+db.threadsTail()+db.tailOrder()+` LIMIT $1) x`, max+1).Scan(&n); err != nil {
		return 0, internal("store.InboxThreadsBehind", err)
	}
	return n, nil
}

// threadsTail is the condition on a message m of the log that it is after
// the threads' cursor.
func (db *DB) threadsTail() string {
	if db.d.name == "postgres" {
		return `(m.xid, m.number_id, m.msg_id) > (SELECT kc.seq, kc.number_id, kc.msg_id FROM inbox_threads_cursor kc WHERE kc.id = 1)`
	}
	return `m.rowid > (SELECT kc.seq FROM inbox_threads_cursor kc WHERE kc.id = 1)`
}

// tailOrder orders the tail by its index (PostgreSQL's inbox_messages_xid;
// SQLite's rowid). PostgreSQL estimates a row comparison with the
// cursor's subquery at a third of the log, and without the order scans
// the whole log for a tail of a few rows.
func (db *DB) tailOrder() string {
	if db.d.name == "postgres" {
		return ` ORDER BY m.xid, m.number_id, m.msg_id`
	}
	return ` ORDER BY m.rowid`
}

// catchUpThreads runs the threads' indexer when the log is more than
// InboxThreadsLag messages past its cursor, until it has caught up (or can do
// no more: another node's indexer is at work, or on PostgreSQL an older
// transaction is still open).
func (db *DB) catchUpThreads(ctx context.Context) error {
	behind, err := db.InboxThreadsBehind(ctx, InboxThreadsLag)
	if err != nil || behind <= InboxThreadsLag {
		return err
	}
	for {
		n, err := db.IndexInboxThreads(ctx, inbox.IndexBatch)
		if err != nil || n < inbox.IndexBatch {
			return err
		}
	}
}

// threadKeys returns a statement's part that gives (at, msg_id) of the
// messages of conversation ($1, $2) that cond (on at and msg_id, "" for
// all) admits, newest first, up to limit ("" for all) of each of the two
// parts: the thread rows, and the tail's messages without a row.
func (db *DB) threadKeys(cond, limit string) string {
	and := ""
	if cond != "" {
		and = ` AND ` + cond
	}
	order := ""
	if limit != "" {
		order = ` ORDER BY at DESC, msg_id DESC LIMIT ` + limit
	}
	// +m.number_id: SQLite must not take the log's primary key for the
	// number (all of its messages) over the tail's rowid range.
	return `SELECT at, msg_id FROM (SELECT at, msg_id FROM inbox_threads WHERE number_id = $1 AND peer = $2` + and + order + `) th
		UNION ALL
		SELECT at, msg_id FROM (SELECT m.at, m.msg_id FROM ` + db.tailFrom() + ` WHERE ` + db.threadsTail() + ` AND +m.number_id = $1 AND m.peer = $2` + and + `
			AND NOT EXISTS (SELECT 1 FROM inbox_threads t WHERE t.number_id = m.number_id AND t.peer = m.peer AND t.at = m.at AND t.msg_id = m.msg_id)` + order + `) tail`
}

// tailFrom is the log as threadKeys reads its tail: on PostgreSQL the
// tail alone first, in the order of inbox_messages_xid (OFFSET 0 keeps
// the planner from folding the conversation's condition into it and
// scanning the whole log, as it does for a row comparison with a
// subquery).
func (db *DB) tailFrom() string {
	if db.d.name == "postgres" {
		return `(SELECT * FROM inbox_messages m WHERE ` + db.threadsTail() + db.tailOrder() + ` OFFSET 0) m`
	}
	return `inbox_messages m`
}
