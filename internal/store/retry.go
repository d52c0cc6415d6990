package store

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"
)

// The lock order. Every transaction that writes more than one row of
// these tables writes them in this order, table by table, and the rows
// of one table in the order of their key, so that two transactions on
// PostgreSQL never wait for each other in a circle (a deadlock, SQLSTATE
// 40P01, in which PostgreSQL aborts one of them):
//
//	send_refs, queue                      router only (ClaimRef, Insert, Delete)
//	endpoint_contacts                     by (number_id, peer)
//	endpoint_messages                     by (number_id, msg_id)
//	inbox_messages (insert, then status)  by (number_id, msg_id)
//	inbox_early                           by (number_id, msg_id, status)
//	inbox_notes                           new rows only
//	inbox_conversations (upsert and read) by (number_id, peer)
//	inbox_versions                        by number_id
//	webhooks                              new rows only (ON CONFLICT DO NOTHING),
//	                                      then delivered results by id (SettleWebhooksLater)
//
// The router's group commit (Tx, with the hosted sends' writes riding
// it), the endpoint's (PutEndpointBatch, PutInbox) and the console's
// single-conversation writes (MarkInboxRead, AssignInbox, AddInboxNote)
// all keep it. What the order cannot rule out (a row locked by a
// statement whose order SQL chooses, a serialization failure, SQLite's
// busy database) retryTx tries again.

// txAttempts is how often retryTx runs a transaction that fails
// transiently, in all.
const txAttempts = 5

// retryPause is the longest pause before the first retry; it doubles
// with each retry after it.
const retryPause = 4 * time.Millisecond

// transient says whether err is a failure that running the same
// transaction again can cure: on PostgreSQL a deadlock (40P01) or a
// serialization failure (40001), on SQLite a busy or locked database.
func transient(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		s := pg.SQLState()
		return s == "40P01" || s == "40001"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		c := lite.Code() & 0xff // the primary result code
		return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// retryTx is tx for a transaction that may run more than once: fn must
// leave nothing outside tx but what its last run sets. A run that fails
// transiently (transient) is rolled back and run again after a short
// random pause, txAttempts times in all; the last failure is returned,
// of kind kontor.Unavailable when it was transient.
func (db *DB) retryTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	pause := retryPause
	for attempt := 1; ; attempt++ {
		err := db.tx(ctx, op, fn)
		if err == nil || attempt == txAttempts || !transient(err) {
			return err
		}
		db.retried(op)
		t := time.NewTimer(rand.N(pause) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause *= 2
	}
}

// Retries returns how many write transactions the store ran again after
// a transient failure since it opened, by op (as Commits).
func (db *DB) Retries() map[string]int64 { return db.retries.snapshot() }

// retried counts a retry of op.
func (db *DB) retried(op string) { db.retries.add(op) }
