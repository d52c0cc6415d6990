package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
)

var (
	_ identity.Store = (*DB)(nil)
	_ router.Store   = (*DB)(nil)
)

// Config says which database to open.
type Config struct {
	// URL is "" or "sqlite:" for kontor.db in DataDir, "sqlite:/path/file.db"
	// for another file, or "postgres://…" for PostgreSQL.
	URL     string
	DataDir string
	Logger  *slog.Logger
	// CacheTTL is how long the directory cache (dircache.go) keeps a row:
	// the longest another node may act on a row changed elsewhere when
	// the bus loses the change's hint. 0 means DefaultCacheTTL; negative
	// turns the cache off.
	CacheTTL time.Duration
	// SettleLater is how long the results of delivered webhooks may wait
	// in memory for a router group commit to record them
	// (SettleWebhooksLater) before a transaction of their own does. 0
	// means DefaultSettleLater; negative records them at once.
	SettleLater time.Duration
	// CheckpointPages is how many pages SQLite's WAL holds before the
	// writer copies them into the database file (wal_autocheckpoint); 0
	// means DefaultCheckpointPages. Not used with PostgreSQL.
	CheckpointPages int
}

// DefaultCheckpointPages is Config.CheckpointPages by default: 4000 pages
// (16 MiB), four times SQLite's own. A checkpoint copies each page the WAL
// holds once, however often it was written since the last one, and the
// hot pages of the outbox, queue and inbox indexes are written by nearly
// every commit: after 4000 pages it copies about half as many pages per
// message as after 1000, with a quarter of the fsyncs, and the store's
// write path took ~14 % less CPU per message (docs/performance.md, "4
// December 2026, evening").
const DefaultCheckpointPages = 4000

// walSizeLimit is the size the WAL file is cut back to after a checkpoint
// that emptied it (journal_size_limit): above what a checkpoint interval
// makes, so only a WAL that grew while readers held a checkpoint back is
// cut, and its disk space is given back.
const walSizeLimit = 64 << 20

// DB is the store.
type DB struct {
	d dialect
	// r serves reads; w serves writes and transactions. For PostgreSQL
	// they are the same pool; for SQLite w has exactly one connection.
	r, w *sql.DB
	log  *slog.Logger
	// Prepared statements by SQL text, for the hot paths (SQLite would
	// otherwise parse every statement again: a quarter of the CPU).
	// wstmts is filled once by Open and only read afterwards: preparing
	// on the writer while a transaction holds SQLite's one writer
	// connection would wait for that connection forever.
	wstmts    map[string]*sql.Stmt
	rstmts    sync.Map
	closeOnce sync.Once
	orders    [orderQueues]orderQueue // PlaceOrder's batches (orders.go)
	dir       *dirCache               // tokens, numbers, businesses, app secrets (dircache.go)
	commits   opCounts                // write transactions committed (Commits)
	retries   opCounts                // transactions run again (Retries, retry.go)
	late      lateSettles             // delivered webhooks' results to record (webhook.go)
}

// Commits returns how many write transactions the store committed since
// it opened, by what they did ("store.Tx" is the router's group commit;
// single-statement writes are not counted): for the node's metrics and
// for tests that count them.
func (db *DB) Commits() map[string]int64 { return db.commits.snapshot() }

// committed counts a write transaction of op.
func (db *DB) committed(op string) { db.commits.add(op) }

// opCounts counts events by op, safe for concurrent use.
type opCounts struct{ m sync.Map } // op → *atomic.Int64

func (c *opCounts) add(op string) {
	n, ok := c.m.Load(op)
	if !ok {
		n, _ = c.m.LoadOrStore(op, new(atomic.Int64))
	}
	n.(*atomic.Int64).Add(1)
}

func (c *opCounts) snapshot() map[string]int64 {
	out := map[string]int64{}
	c.m.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// prepareWrites prepares the hot write statements on the writer pool.
func (db *DB) prepareWrites(ctx context.Context) error {
	db.wstmts = make(map[string]*sql.Stmt)
	for _, q := range db.hotWrites() {
		if _, ok := db.wstmts[q]; ok {
			continue // registered twice (enqueueRowsSQLs[1] is enqueueOneReturningSQL)
		}
		text := q
		if db.d.name != "postgres" {
			text = anonParams(q)
		}
		st, err := db.w.PrepareContext(ctx, text)
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", q, err)
		}
		db.wstmts[q] = st
	}
	return nil
}

// read returns q prepared on the reader pool, preparing it once.
func (db *DB) read(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := db.rstmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.rstmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// readRow runs a hot read (one row) through a statement prepared once on
// the reader pool: the Business API reads a token, a number, a contact and
// a business on every call, an order seven reads, and parsing those again
// was an eighth (a quarter for orders) of the server's CPU under load
// (docs/performance.md). q must be one of a few fixed texts.
func (db *DB) readRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := db.read(ctx, q)
	if err != nil {
		return db.r.QueryRowContext(ctx, q, args...) // the error shows in Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// readRows is readRow for many rows.
func (db *DB) readRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.read(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Open opens the database and brings its schema up to date.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		db, err = openPostgres(ctx, cfg.URL)
	case cfg.URL == "", strings.HasPrefix(cfg.URL, "sqlite:"):
		path := strings.TrimPrefix(cfg.URL, "sqlite:")
		if path == "" {
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
			path = filepath.Join(cfg.DataDir, "kontor.db")
		}
		pages := cfg.CheckpointPages
		if pages <= 0 {
			pages = DefaultCheckpointPages
		}
		db, err = openSQLite(path, pages)
	default:
		return nil, fmt.Errorf("store: unsupported database URL %q (use postgres://… or sqlite:PATH)", cfg.URL)
	}
	if err != nil {
		return nil, err
	}
	db.log = log
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	db.dir = newDirCache(ttl)
	db.late.wait = cfg.SettleLater
	if db.late.wait == 0 {
		db.late.wait = DefaultSettleLater
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepareWrites(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(path string, checkpointPages int) (*DB, error) {
	pragmas := "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(OFF)&_txlock=immediate" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)", checkpointPages, walSizeLimit)
	dsn := "file:" + path + "?" + pragmas
	// The writer checkpoints the WAL itself, every checkpointPages pages.
	// A separate checkpointing connection was tried and measured worse:
	// p99 at 5,000 messages/s went from 32 ms to 143 ms, as its
	// checkpoints contended with the writer (docs/performance.md).
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{d: sqlite, r: r, w: w}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: bad PostgreSQL URL: %w", err)
	}
	if schema := u.Query().Get("search_path"); schema != "" {
		// Make the schema exist first, through a connection without it.
		q := u.Query()
		q.Del("search_path")
		base := *u
		base.RawQuery = q.Encode()
		db, err := sql.Open("pgx", base.String())
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		err = createSchema(ctx, db, schema)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("store: creating schema %s: %w", schema, err)
		}
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connecting to PostgreSQL: %w", err)
	}
	return &DB{d: postgres, r: db, w: db}, nil
}

// createSchema makes schema exist. Nodes starting together would race in
// CREATE SCHEMA IF NOT EXISTS (the loser fails on pg_namespace's unique
// index), so it holds the migration lock while it checks and creates.
func createSchema(ctx context.Context, db *sql.DB, schema string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7236373)"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+strings.ReplaceAll(schema, `"`, ``)+`"`); err != nil {
		return err
	}
	return tx.Commit()
}

// Dialect names the engine: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes the database.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() { err = db.close() })
	return err
}

func (db *DB) close() error {
	db.closeLate()
	for _, st := range db.wstmts {
		st.Close()
	}
	db.rstmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if db.d.name == "postgres" {
		// One node migrates at a time; the others wait here.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7236373)"); err != nil {
			return fmt.Errorf("store: migrate lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_version").Scan(&v); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	have := int(v.Int64)
	if have > len(migrations) {
		return fmt.Errorf("store: the database has schema version %d, newer than this kontor (%d); upgrade kontor", have, len(migrations))
	}
	for i := have; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i].text(db.d)); err != nil {
			return fmt.Errorf("store: migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES ($1)", i+1); err != nil {
			return fmt.Errorf("store: migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_parts (name TEXT PRIMARY KEY)"); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	applied := map[string]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM schema_parts")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("store: migrate: %w", err)
		}
		applied[n] = true
	}
	rows.Close()
	ran := 0
	for _, name := range partNames() {
		if applied[name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, parts[name].text(db.d)); err != nil {
			return fmt.Errorf("store: migration %q: %w", name, err)
		}
		if f := parts[name].fill; f != nil {
			if err := f(ctx, tx, db.d); err != nil {
				return fmt.Errorf("store: migration %q: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_parts (name) VALUES ($1)", name); err != nil {
			return fmt.Errorf("store: migration %q: %w", name, err)
		}
		ran++
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if have < len(migrations) || ran > 0 {
		db.log.Info("schema migrated", "from", have, "to", len(migrations), "part_steps", ran)
	}
	return nil
}

// notFound is the error for a missing thing.
func notFound(op, format string, args ...any) error {
	return kontor.Errorf(kontor.NotFound, op, format, args...)
}

// internal wraps a driver error.
func internal(op string, err error) error {
	return &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
}

// tx runs fn in a write transaction. A failure that running it again can
// cure (transient: a deadlock, a serialization failure, a busy database)
// has kind kontor.Unavailable; retryTx runs such transactions again.
func (db *DB) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return txFailed(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		var ke *kontor.Error
		if errors.As(err, &ke) {
			return err
		}
		return txFailed(op, err)
	}
	if err := tx.Commit(); err != nil {
		return txFailed(op, err)
	}
	db.committed(op)
	return nil
}

// txFailed wraps the driver error that failed a transaction of op.
func txFailed(op string, err error) error {
	if transient(err) {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the database gave the transaction up (a deadlock or a conflict with another one); try again", Err: err}
	}
	return internal(op, err)
}
