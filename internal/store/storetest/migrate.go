package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kontor-chat/kontor/internal/store"
)

// RunSchema runs the tests that open one database more than once: opening
// is idempotent, also from several nodes at once, and a database whose
// schema is newer than the code is refused. url must return the address of
// an empty database for each call ("sqlite:PATH" or "postgres://…"), as
// store.Config.URL takes it; the subtests run in parallel.
func RunSchema(t *testing.T, url func(t *testing.T) string) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, url string)
	}{
		{"Reopen", testReopen},
		{"OpenAtOnce", testOpenAtOnce},
		{"NewerSchema", testNewerSchema},
		{"SearchBackfill", testSearchBackfill},
		{"InboxSearchRebuild", testInboxSearchRebuild},
		{"InboxThreadsMigration", testInboxThreadsMigration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, url(t))
		})
	}
}

// open opens the store at url. The test may close it early with the
// function returned; else it is closed when the test ends.
func open(t *testing.T, url string) (*store.DB, func() error) {
	t.Helper()
	db, err := store.Open(t.Context(), store.Config{URL: url})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	closeDB := sync.OnceValue(db.Close)
	t.Cleanup(func() { closeDB() })
	return db, closeDB
}

// raw opens the database at url with database/sql, past the store.
func raw(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawExec returns a function that runs a statement on r, outside the
// store, and fails the test when it fails.
func rawExec(t *testing.T, r *sql.DB) func(q string, args ...any) {
	return func(q string, args ...any) {
		t.Helper()
		if _, err := r.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// versions returns how many versions schema_version records and the highest.
func versions(ctx context.Context, db *sql.DB) (n, max int, err error) {
	err = db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(version), 0) FROM schema_version`).Scan(&n, &max)
	return n, max, err
}

// checkVersions fails the test unless schema_version holds 1 … max once each.
func checkVersions(t *testing.T, url string) int {
	t.Helper()
	n, max, err := versions(t.Context(), raw(t, url))
	if err != nil {
		t.Fatalf("reading schema_version: %v", err)
	}
	if max < 1 || n != max {
		t.Errorf("schema_version has %d rows up to version %d; want versions 1 … %d once each", n, max, max)
	}
	return max
}

// testReopen: opening a migrated database again keeps its data and
// migrates nothing twice; two stores can have it open at once.
func testReopen(t *testing.T, url string) {
	db, closeDB := open(t, url)
	e := newEnv(t, db)
	a, d := e.register(phoneA)
	en := e.entry(d.ID, "kept")
	e.insert(en)
	want := checkVersions(t, url)
	if err := closeDB(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db2, _ := open(t, url)
	if got := checkVersions(t, url); got != want {
		t.Errorf("schema version %d after reopening, was %d", got, want)
	}
	e2 := newEnv(t, db2)
	got, err := db2.AccountByPhone(e2.ctx, phoneA)
	if err != nil {
		t.Fatalf("AccountByPhone after reopening: %v", err)
	}
	checkAccount(t, "after reopening", got, a)
	e2.checkQueue("after reopening", d.ID, en)

	// A second store on the same database sees the first one's writes.
	db3, _ := open(t, url)
	e3 := newEnv(t, db3)
	_, bd := e3.register(phoneB)
	if _, err := db2.AccountByPhone(e2.ctx, phoneB); err != nil {
		t.Errorf("an account registered through another store: %v", err)
	}
	en2 := e3.entry(bd.ID, "through db3")
	e3.insert(en2)
	e2.checkQueue("written through another store", bd.ID, en2)
	checkVersions(t, url)
}

// testOpenAtOnce: nodes starting together on an empty database all come up
// and migrate it once. SQLite serves one node (the data directory is
// locked), and it cannot turn a new file to WAL from two connections at
// once, so there the first open goes alone and the others then open the
// migrated file together.
func testOpenAtOnce(t *testing.T, url string) {
	const nodes = 8
	if strings.HasPrefix(url, "sqlite:") {
		_, closeDB := open(t, url)
		if err := closeDB(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	dbs := make([]*store.DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = store.Open(t.Context(), store.Config{URL: url}) })
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Errorf("node %d: Open: %v", i, errs[i])
			continue
		}
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("node %d: Ping: %v", i, err)
		}
		db.Close()
	}
	checkVersions(t, url)
}

// testNewerSchema: a database migrated past what this code knows is
// refused, and left as it was.
func testNewerSchema(t *testing.T, url string) {
	_, closeDB := open(t, url)
	if err := closeDB(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := raw(t, url)
	_, have, err := versions(t.Context(), r)
	if err != nil {
		t.Fatalf("reading schema_version: %v", err)
	}
	if _, err := r.ExecContext(t.Context(), `INSERT INTO schema_version (version) VALUES ($1)`, have+1); err != nil {
		t.Fatalf("recording version %d: %v", have+1, err)
	}

	db, err := store.Open(t.Context(), store.Config{URL: url})
	if err == nil {
		db.Close()
		t.Fatalf("Open of a database at schema version %d succeeded; this code knows %d", have+1, have)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprint("schema version ", have+1)) || !strings.Contains(msg, "newer") {
		t.Errorf("Open: %q; want it to say the schema version %d is newer", msg, have+1)
	}
	if n, max, err := versions(t.Context(), r); err != nil || n != have+1 || max != have+1 {
		t.Errorf("after the refused Open schema_version has %d rows up to %d (%v); want it unchanged", n, max, err)
	}
}
