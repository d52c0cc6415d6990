package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/webhook"
)

var _ webhook.LaterStore = (*DB)(nil)

// The webhook outbox. An event is pending (state 0) until delivered (1) or
// given up (2). While pending, next_at is when its next attempt is due; a
// claim moves next_at to the end of its lease and sets lease to its token,
// so the event is not due again while the lease runs, and only results
// naming that token are recorded. started is when the current round of
// attempts began (enqueue or replay); done_at when it was delivered or
// given up. Each state has its own partial index, which the queries select
// by naming the state as a literal.
func init() {
	addMigration("webhook 1", migration{sql: `
CREATE TABLE webhooks (
	id            TEXT PRIMARY KEY,
	app           BIGINT NOT NULL,
	url           TEXT NOT NULL,
	body          BYTEA NOT NULL,
	created       BIGINT NOT NULL,
	state         SMALLINT NOT NULL DEFAULT 0,
	started       BIGINT NOT NULL,
	next_at       BIGINT NOT NULL,
	lease         BIGINT NOT NULL DEFAULT 0,
	attempts      INTEGER NOT NULL DEFAULT 0,
	last_at       BIGINT NOT NULL DEFAULT 0,
	last_status   INTEGER NOT NULL DEFAULT 0,
	last_response TEXT NOT NULL DEFAULT '',
	done_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_due ON webhooks (url, next_at) WHERE state = 0;
CREATE INDEX webhooks_delivered ON webhooks (done_at) WHERE state = 1;
CREATE INDEX webhooks_dead ON webhooks (done_at) WHERE state = 2;
CREATE INDEX webhooks_app ON webhooks (app, last_at);
`})
}

// The per-app index serves RecentWebhooks only, which asks for events
// that had an attempt (last_at > 0): an event enqueued is not in it until
// its first result, so an insert writes one index fewer.
func init() {
	addMigration("webhook 2", migration{sql: `
DROP INDEX webhooks_app;
CREATE INDEX webhooks_app ON webhooks (app, last_at) WHERE last_at > 0;
`})
}

const webhookCols = `id, app, url, body, created, state, started, next_at, lease, attempts, last_at, last_status, last_response, done_at`

// webhookChunk is the most rows one INSERT carries, and the most ids one
// statement names. (SQLite looks $N names up in a list, so a statement
// with many hundreds of them is slow to prepare.)
const webhookChunk = 32

// enqueueOneSQL enqueues one event (SQLite), prepared once at open. An
// event born claimed (webhook.Lease) gets its lease and is not due before
// the lease's end; otherwise its lease is 0 and it is due at once.
var enqueueOneSQL = `INSERT INTO webhooks (id, app, url, body, created, started, next_at, lease) VALUES ` + values(1, 8, 1) + ` ON CONFLICT (id) DO NOTHING`

// enqueueOneReturningSQL is enqueueSQL(1), prepared once at open: the
// INSERT of a remainder of one event on both engines (on SQLite as
// enqueueRowsSQLs[1], the same text).
var enqueueOneReturningSQL = enqueueSQL(1)

func init() {
	addSQLiteHotWrite(enqueueOneSQL)
	addHotWrite(enqueueOneReturningSQL)
}

// EnqueueWebhooks adds events to the outbox, born claimed under lease
// unless it is zero, and returns those it added (webhook.Store).
func (db *DB) EnqueueWebhooks(ctx context.Context, evs []webhook.Event, now time.Time, lease webhook.Lease) ([]webhook.Event, error) {
	var added []webhook.Event
	err := db.tx(ctx, "store.EnqueueWebhooks", func(tx *sql.Tx) error {
		var err error
		added, err = db.enqueueWebhooks(ctx, tx, evs, now, lease)
		return err
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// enqueueWebhooks is EnqueueWebhooks in tx. It returns evs itself when
// every event was new (the usual case), else a new slice.
func (db *DB) enqueueWebhooks(ctx context.Context, tx *sql.Tx, evs []webhook.Event, now time.Time, lease webhook.Lease) ([]webhook.Event, error) {
	b := []hookBatch{{evs: evs, now: now, lease: lease}}
	if err := db.enqueueBatches(ctx, tx, b); err != nil {
		return nil, err
	}
	return b[0].added, nil
}

// hookBatch is one caller's events for enqueueBatches: born at now and
// claimed under lease unless it is zero; added is set to the events it
// added (evs itself when every one was new, else a new slice).
type hookBatch struct {
	evs   []webhook.Event
	now   time.Time
	lease webhook.Lease
	added []webhook.Event
}

// enqueueRowsSQLs add 1 … rowChunk events and return the ids they added
// (SQLite: prepared once at open, so a batch of any size costs no parse).
var enqueueRowsSQLs = chunkSQLs(`INSERT INTO webhooks (id, app, url, body, created, started, next_at, lease) VALUES `, 8, ` ON CONFLICT (id) DO NOTHING RETURNING id`)

func init() { addSQLiteHotWrite(enqueueRowsSQLs[1:]...) }

// enqueueBatches enqueues the events of every batch in as few statements
// as their number allows (the router's group commit has one batch per
// send riding it), and sets each batch's added. An id that comes twice is
// added once, to the first batch that has it.
func (db *DB) enqueueBatches(ctx context.Context, tx *sql.Tx, bs []hookBatch) error {
	total := 0
	for _, b := range bs {
		total += len(b.evs)
	}
	if total == 0 {
		for i := range bs {
			bs[i].added = bs[i].evs
		}
		return nil
	}
	args := make([]any, 0, 8*total)
	for _, b := range bs {
		next, token := b.now.UnixMilli(), int64(0)
		if !b.lease.IsZero() {
			next, token = b.lease.Until.UnixMilli(), b.lease.Token
		}
		for _, ev := range b.evs {
			args = append(args, ev.ID, int64(ev.App), ev.URL, ev.Body, ev.Created.UnixMilli(), b.now.UnixMilli(), next, token)
		}
	}
	// isNew holds the ids the statements added, nil when all were.
	var isNew map[string]bool
	var err error
	if db.d.name != "postgres" && total == 1 {
		// One event (a console's or a retry's): the prepared single-row
		// INSERT, its RowsAffected saying whether it was new.
		var res sql.Result
		if res, err = db.exec(ctx, tx, enqueueOneSQL, args...); err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n != 1 {
				isNew = map[string]bool{}
			}
		}
	} else {
		isNew, err = db.enqueueReturning(ctx, tx, total, args)
	}
	if err != nil {
		return err
	}
	for i := range bs {
		b := &bs[i]
		if isNew == nil {
			b.added = b.evs
			continue
		}
		b.added = keepNew(b.evs, isNew)
	}
	return nil
}

// keepNew returns the events of evs whose ids are in isNew (evs itself if
// all are), taking each id out of isNew as it goes so that an id twice is
// kept once.
func keepNew(evs []webhook.Event, isNew map[string]bool) []webhook.Event {
	var kept []webhook.Event
	skipped := false
	for i, ev := range evs {
		added := isNew[ev.ID]
		delete(isNew, ev.ID)
		switch {
		case !added && !skipped:
			skipped = true
			kept = append(make([]webhook.Event, 0, len(evs)), evs[:i]...)
		case added && skipped:
			kept = append(kept, ev)
		}
	}
	if skipped {
		return kept
	}
	return evs
}

// enqueueReturning inserts total events (args, 8 a row) with multi-row
// INSERTs that return the ids added: rowChunk rows a statement on SQLite
// (each size prepared once), webhookChunk on PostgreSQL (one round trip
// each). It returns the ids added, or nil when every row was.
func (db *DB) enqueueReturning(ctx context.Context, tx *sql.Tx, total int, args []any) (map[string]bool, error) {
	ids := make([]string, 0, total)
	scan := func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}
	if db.d.name != "postgres" {
		if err := db.queryChunks(ctx, tx, enqueueRowsSQLs, 8, args, scan); err != nil {
			return nil, err
		}
	} else {
		var full *sql.Stmt // the INSERT of webhookChunk rows, prepared once
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		for len(args) > 0 {
			n := min(len(args)/8, webhookChunk)
			var rows *sql.Rows
			var err error
			switch n {
			case 1:
				rows, err = tx.StmtContext(ctx, db.wstmts[enqueueOneReturningSQL]).QueryContext(ctx, args[:8]...)
			case webhookChunk:
				if full == nil {
					full, err = tx.PrepareContext(ctx, enqueueSQL(n))
				}
				if err == nil {
					rows, err = full.QueryContext(ctx, args[:8*n]...)
				}
			default:
				rows, err = tx.QueryContext(ctx, enqueueSQL(n), args[:8*n]...)
			}
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				if err := scan(rows); err != nil {
					rows.Close()
					return nil, err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			args = args[8*n:]
		}
	}
	if len(ids) == total {
		return nil, nil
	}
	isNew := make(map[string]bool, len(ids))
	for _, id := range ids {
		isNew[id] = true
	}
	return isNew, nil
}

// enqueueSQL adds n events and returns the ids it added (PostgreSQL: one
// round trip per webhookChunk events).
func enqueueSQL(n int) string {
	return `INSERT INTO webhooks (id, app, url, body, created, started, next_at, lease) VALUES ` + values(n, 8, 1) + ` ON CONFLICT (id) DO NOTHING RETURNING id`
}

// DueWebhookURLs returns URLs with due events, in order, after after
// (webhook.Store). It skips from one URL to the next in the due index,
// one seek each, however many events wait.
func (db *DB) DueWebhookURLs(ctx context.Context, now time.Time, after string, limit int) ([]string, error) {
	const op = "store.DueWebhookURLs"
	rows, err := db.r.QueryContext(ctx, `WITH RECURSIVE u (url) AS (
			SELECT MIN(url) FROM webhooks WHERE state = 0 AND url > $2
			UNION ALL
			SELECT (SELECT MIN(w.url) FROM webhooks w WHERE w.state = 0 AND w.url > u.url) FROM u WHERE u.url IS NOT NULL)
		SELECT url FROM u WHERE url IS NOT NULL
			AND EXISTS (SELECT 1 FROM webhooks w WHERE w.state = 0 AND w.url = u.url AND w.next_at <= $1)
		LIMIT $3`, now.UnixMilli(), after, limit)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, internal(op, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// DueWebhooks claims due events of some URLs under a lease
// (webhook.Store). On PostgreSQL a concurrent claim skips the rows this one
// has locked, and once this one commits they are no longer due; SQLite has
// one writer.
func (db *DB) DueWebhooks(ctx context.Context, c webhook.Claim) ([]webhook.Delivery, error) {
	var out []webhook.Delivery
	err := db.tx(ctx, "store.DueWebhooks", func(tx *sql.Tx) error {
		out = out[:0]
		st := tx.StmtContext(ctx, db.wstmts[db.dueSQL()]) // prepared at open
		defer st.Close()
		for _, w := range c.Want {
			rows, err := st.QueryContext(ctx, c.Now.UnixMilli(), c.Until.UnixMilli(), c.Token, w.URL, w.Limit)
			if err != nil {
				return err
			}
			if out, err = scanWebhooks(rows, out); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// dueSQL claims the due events of one URL (prepared at open: hotWrites).
func (db *DB) dueSQL() string {
	return `UPDATE webhooks SET next_at = $2, lease = $3 WHERE id IN
			(SELECT id FROM webhooks WHERE state = 0 AND url = $4 AND next_at <= $1 ORDER BY next_at LIMIT $5` + db.d.skipLocked() + `)
			RETURNING ` + webhookCols
}

// releaseSQL gives one claimed event back; prepared at open.
const releaseSQL = `UPDATE webhooks SET lease = 0, next_at = $3 WHERE id = $1 AND lease = $2`

func init() { addHotWrite(releaseSQL) }

// settleChunk is the most results one UPDATE records.
const settleChunk = 32

// settleSQL returns the UPDATE that records n results: a list of values,
// each cast so that PostgreSQL knows the types, joined to their rows by id
// and lease. One statement per chunk saves PostgreSQL a round trip per
// result and SQLite a statement per result (SQLite prepares each size up
// to rowChunk at open: settleSQLs).
func settleSQL(n int) string {
	var sb strings.Builder
	sb.WriteString(`WITH r (id, lease, state, tried, next_at, last_at, last_status, last_response, done_at) AS (VALUES `)
	types := [...]string{"TEXT", "BIGINT", "SMALLINT", "INTEGER", "BIGINT", "BIGINT", "INTEGER", "TEXT", "BIGINT"}
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c, t := range types {
			if c > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "CAST($%d AS %s)", i*len(types)+c+1, t)
		}
		sb.WriteByte(')')
	}
	sb.WriteString(`) UPDATE webhooks SET state = r.state, lease = 0, attempts = webhooks.attempts + r.tried, next_at = r.next_at,
		last_at = r.last_at, last_status = r.last_status, last_response = r.last_response, done_at = r.done_at
		FROM r WHERE webhooks.id = r.id AND webhooks.lease = r.lease`)
	return sb.String()
}

// settleFull is settleSQL(settleChunk), made once.
var settleFull = settleSQL(settleChunk)

// SettleWebhooks records attempts' results in one transaction
// (webhook.Store).
func (db *DB) SettleWebhooks(ctx context.Context, rs []webhook.Result) error {
	return db.tx(ctx, "store.SettleWebhooks", func(tx *sql.Tx) error {
		return db.settle(ctx, tx, rs)
	})
}

// settle records results in tx.
func (db *DB) settle(ctx context.Context, tx *sql.Tx, rs []webhook.Result) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, 9*settleChunk)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		var err error
		switch n := len(args) / 9; {
		case n < settleChunk:
			_, err = tx.ExecContext(ctx, settleSQL(n), args...)
		case full == nil:
			if full, err = tx.PrepareContext(ctx, settleFull); err == nil {
				_, err = full.ExecContext(ctx, args...)
			}
		default:
			_, err = full.ExecContext(ctx, args...)
		}
		args = args[:0]
		return err
	}
	for _, r := range rs {
		if r.Outcome == webhook.OutcomeReleased {
			if _, err := db.exec(ctx, tx, releaseSQL, r.ID, r.Lease, r.Next.UnixMilli()); err != nil {
				return err
			}
			continue
		}
		state, tried, next, done := webhook.Pending, 0, r.Next.UnixMilli(), int64(0)
		switch r.Outcome {
		case webhook.OutcomeDelivered:
			state, next, done = webhook.Delivered, 0, r.At.UnixMilli()
		case webhook.OutcomeDead:
			state, next, done = webhook.Dead, 0, r.At.UnixMilli()
		}
		if r.Tried {
			tried = 1
		}
		args = append(args, r.ID, r.Lease, int(state), tried, next, r.At.UnixMilli(), r.Status, r.Response, done)
		if db.d.name != "postgres" {
			continue
		}
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if db.d.name != "postgres" {
		// In process: the UPDATEs of 1 … rowChunk results, each size
		// prepared at open (parsing one per batch size was half of
		// settling: docs/performance.md).
		return db.execChunks(ctx, tx, settleSQLs, 9, args)
	}
	return flush()
}

// settleSQLs record 1 … rowChunk results (SQLite), prepared at open.
var settleSQLs = func() []string {
	out := make([]string, rowChunk+1)
	for n := 1; n <= rowChunk; n++ {
		out[n] = settleSQL(n)
	}
	return out
}()

func init() { addSQLiteHotWrite(settleSQLs[1:]...) }

// Results of delivered events recorded later (webhook.LaterStore) wait in
// memory, at most Config.SettleLater, for the next group commit (the
// router's Tx, an endpoint's PutEndpointBatch), which records up to
// lateMax of them in its own transaction: a settlement then
// costs no commit of its own, and the outbox pages it rewrites (the row's
// table page, the due and per-app index entries of rows enqueued a few
// milliseconds before) are mostly pages the commit's new webhooks dirty
// anyway. When no group commit comes in time (an idle node, a backlog of
// webhooks alone) one transaction of their own records them. Held in
// memory, they die with the process: their events stay pending under
// their lease and are sent again when it ends (webhook.LaterStore).
const lateMax = 256

// DefaultSettleLater is how long the results of delivered webhooks wait
// for a group commit by default (Config.SettleLater).
const DefaultSettleLater = 20 * time.Millisecond

// lateSettles holds results of delivered events not recorded yet.
type lateSettles struct {
	wait    time.Duration // Config.SettleLater
	mu      sync.Mutex
	rs      []webhook.Result
	timer   *time.Timer    // runs flushLate wait after rs became non-empty; nil when rs is empty
	flushes sync.WaitGroup // a timer armed or its flush running
	closed  bool           // Close began: results are recorded at once
}

// SettleWebhooksLater takes results of delivered events, to record within
// Config.SettleLater (webhook.LaterStore). It copies rs.
func (db *DB) SettleWebhooksLater(rs []webhook.Result) {
	if len(rs) == 0 {
		return
	}
	l := &db.late
	l.mu.Lock()
	if l.closed || l.wait < 0 {
		l.mu.Unlock()
		db.settleLost(db.SettleWebhooks(context.Background(), rs), len(rs))
		return
	}
	l.rs = append(l.rs, rs...)
	l.arm(db)
	l.mu.Unlock()
}

// arm starts the timer of a flush of its own unless one is armed; l.mu is
// held.
func (l *lateSettles) arm(db *DB) {
	if l.timer != nil || len(l.rs) == 0 {
		return
	}
	l.flushes.Add(1)
	l.timer = time.AfterFunc(l.wait, func() {
		defer l.flushes.Done()
		db.flushLate()
	})
}

// take removes up to n results, the oldest first.
func (l *lateSettles) take(n int) []webhook.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, len(l.rs))
	if n == 0 {
		return nil
	}
	out := l.rs[:n:n]
	if l.rs = l.rs[n:]; len(l.rs) == 0 {
		l.rs = nil
		if l.timer != nil && l.timer.Stop() {
			l.flushes.Done()
		}
		l.timer = nil
	}
	return out
}

// putBack returns results a transaction took and did not commit.
func (l *lateSettles) putBack(db *DB, rs []webhook.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rs = append(rs[:len(rs):len(rs)], l.rs...)
	if l.closed {
		return // Close records them
	}
	l.arm(db)
}

// flushLate records the waiting results in a transaction of their own
// (the timer's: no group commit took them in time).
func (db *DB) flushLate() {
	l := &db.late
	l.mu.Lock()
	rs := l.rs
	l.rs, l.timer = nil, nil
	l.mu.Unlock()
	if len(rs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db.settleLost(db.SettleWebhooks(ctx, rs), len(rs))
}

// settleLost logs results of delivered events that could not be recorded.
func (db *DB) settleLost(err error, n int) {
	if err != nil {
		db.log.Error("recording delivered webhooks; they will be sent again after their leases", "n", n, "err", err)
	}
}

// closeLate records what waits, at Close.
func (db *DB) closeLate() {
	l := &db.late
	l.mu.Lock()
	l.closed = true
	if l.timer != nil && l.timer.Stop() {
		l.flushes.Done()
	}
	l.timer = nil
	l.mu.Unlock()
	l.flushes.Wait() // a flush under way
	if rs := l.take(math.MaxInt); len(rs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db.settleLost(db.SettleWebhooks(ctx, rs), len(rs))
	}
}

// Savepoint statements around the late settlements in a group commit, so
// that their failure leaves the commit's own writes alone.
const (
	lateSavepointSQL = `SAVEPOINT late_settle`
	lateReleaseSQL   = `RELEASE SAVEPOINT late_settle`
	lateRollbackSQL  = `ROLLBACK TO SAVEPOINT late_settle`
)

func init() { addHotWrite(lateSavepointSQL, lateReleaseSQL) }

// txLate is retryTx for a group commit (the router's, an endpoint's):
// after fn it records up to lateMax waiting results of delivered webhooks,
// and puts them back when the run does not commit (before the next run,
// or when the last one failed).
func (db *DB) txLate(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	var late []webhook.Result
	err := db.retryTx(ctx, op, func(tx *sql.Tx) error {
		if len(late) > 0 { // a run that failed took them
			db.late.putBack(db, late)
			late = nil
		}
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		late, err = db.settleLateIn(ctx, tx)
		return err
	})
	if err != nil && len(late) > 0 {
		db.late.putBack(db, late)
	}
	return err
}

// settleLateIn records up to lateMax waiting results in tx (a group
// commit) and returns them, so that the caller can put them back if
// tx does not commit. Results whose statements fail are dropped, logged,
// and tx goes on without them.
func (db *DB) settleLateIn(ctx context.Context, tx *sql.Tx) ([]webhook.Result, error) {
	rs := db.late.take(lateMax)
	if len(rs) == 0 {
		return nil, nil
	}
	slices.SortFunc(rs, func(a, b webhook.Result) int { return strings.Compare(a.ID, b.ID) }) // the lock order (retry.go)
	if _, err := db.exec(ctx, tx, lateSavepointSQL); err != nil {
		return rs, err
	}
	if err := db.settle(ctx, tx, rs); err != nil {
		if _, rerr := tx.ExecContext(ctx, lateRollbackSQL); rerr != nil {
			return rs, errors.Join(err, rerr)
		}
		db.settleLost(err, len(rs))
		return nil, nil
	}
	_, err := db.exec(ctx, tx, lateReleaseSQL)
	return rs, err
}

// ReplayWebhooks makes delivered and dead events pending again
// (webhook.Store).
func (db *DB) ReplayWebhooks(ctx context.Context, ids []string, now time.Time) (int, error) {
	var total int
	err := db.tx(ctx, "store.ReplayWebhooks", func(tx *sql.Tx) error {
		total = 0
		for len(ids) > 0 {
			n := min(len(ids), webhookChunk)
			args := []any{now.UnixMilli()}
			for _, id := range ids[:n] {
				args = append(args, id)
			}
			res, err := tx.ExecContext(ctx, `UPDATE webhooks SET state = 0, attempts = 0, started = $1, next_at = $1, lease = 0, done_at = 0
				WHERE state <> 0 AND id IN `+values(1, n, 2), args...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += int(k)
			ids = ids[n:]
		}
		return nil
	})
	return total, err
}

// DeadWebhooks lists dead letters, the most recent first (webhook.Store).
func (db *DB) DeadWebhooks(ctx context.Context, app kontor.ID, limit int) ([]webhook.Delivery, error) {
	return db.listWebhooks(ctx, "store.DeadWebhooks", `SELECT `+webhookCols+` FROM webhooks
		WHERE state = 2 AND ($1 = 0 OR app = $1) ORDER BY done_at DESC LIMIT $2`, int64(app), limit)
}

// RecentWebhooks lists app's most recently attempted events
// (webhook.Store).
func (db *DB) RecentWebhooks(ctx context.Context, app kontor.ID, limit int) ([]webhook.Delivery, error) {
	return db.listWebhooks(ctx, "store.RecentWebhooks", `SELECT `+webhookCols+` FROM webhooks
		WHERE app = $1 AND last_at > 0 ORDER BY last_at DESC LIMIT $2`, int64(app), limit)
}

func (db *DB) listWebhooks(ctx context.Context, op, q string, args ...any) ([]webhook.Delivery, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal(op, err)
	}
	out, err := scanWebhooks(rows, nil)
	if err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// PruneWebhooks deletes old delivered events and dead letters
// (webhook.Store).
func (db *DB) PruneWebhooks(ctx context.Context, delivered, dead time.Time, limit int) (int, error) {
	var total int
	err := db.tx(ctx, "store.PruneWebhooks", func(tx *sql.Tx) error {
		total = 0
		for _, p := range []struct {
			state  string // a literal, for the partial index
			before time.Time
		}{{"1", delivered}, {"2", dead}} {
			res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id IN
				(SELECT id FROM webhooks WHERE state = `+p.state+` AND done_at < $1 LIMIT $2)`, p.before.UnixMilli(), limit-total)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if total += int(n); total >= limit {
				break
			}
		}
		return nil
	})
	return total, err
}

// scanWebhooks reads rows of webhookCols and closes them.
func scanWebhooks(rows *sql.Rows, out []webhook.Delivery) ([]webhook.Delivery, error) {
	defer rows.Close()
	for rows.Next() {
		var d webhook.Delivery
		var app, created, started, next, last, done int64
		var state int
		if err := rows.Scan(&d.ID, &app, &d.URL, &d.Body, &created, &state, &started, &next, &d.Lease, &d.Attempts,
			&last, &d.LastStatus, &d.LastResponse, &done); err != nil {
			return out, err
		}
		d.App, d.State = kontor.ID(app), webhook.State(state)
		d.Created, d.Started = time.UnixMilli(created), time.UnixMilli(started)
		d.Next, d.LastAt, d.Done = unixMilliOrZero(next), unixMilliOrZero(last), unixMilliOrZero(done)
		out = append(out, d)
	}
	return out, rows.Err()
}

func unixMilliOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
