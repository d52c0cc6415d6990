package store_test

import (
	"path/filepath"
	"testing"

	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// TestSQLite runs the store suite on SQLite files in temporary directories.
func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB {
		return open(t, store.Config{DataDir: t.TempDir()})
	})
	storetest.RunSchema(t, func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "kontor.db")
	})
}

// TestPostgres runs the store suite on PostgreSQL, a fresh schema per test,
// when KONTOR_TEST_POSTGRES names a database. Without it the test is
// skipped, or fails when CI is set.
func TestPostgres(t *testing.T) {
	storetest.PostgresURL(t) // skips, or fails under CI, without KONTOR_TEST_POSTGRES
	storetest.Run(t, func(t *testing.T) *store.DB {
		return open(t, store.Config{URL: storetest.PostgresURL(t)})
	})
	storetest.RunSchema(t, func(t *testing.T) string { return storetest.PostgresURL(t) })
}

// TestOpenUnsupported: a URL naming another database is refused.
func TestOpenUnsupported(t *testing.T) {
	for _, u := range []string{"mysql://root@localhost/kontor", "kontor.db", "file:kontor.db"} {
		if db, err := store.Open(t.Context(), store.Config{URL: u, DataDir: t.TempDir()}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func open(t *testing.T, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
