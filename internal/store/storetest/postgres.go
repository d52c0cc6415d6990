package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// PostgresURL returns the address of a fresh schema in the database named by
// KONTOR_TEST_POSTGRES (store.Open creates the schema; it is dropped when the
// test ends). Without the variable the test is skipped, or fails when CI is
// set: CI must not pass by skipping. It behaves as kontortest.PostgresURL
// does, without kontortest's dependency on the whole server.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("KONTOR_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KONTOR_TEST_POSTGRES is not set, but CI is: PostgreSQL tests must run in CI")
		}
		t.Skip("KONTOR_TEST_POSTGRES not set: skipping the PostgreSQL run of this test")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("KONTOR_TEST_POSTGRES: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "st_" + hex.EncodeToString(b[:])
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
	})
	return u.String()
}
