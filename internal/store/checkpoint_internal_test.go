package store

import (
	"context"
	"testing"
)

// TestCheckpointPragmas: the SQLite writer checkpoints the WAL after
// Config.CheckpointPages pages (DefaultCheckpointPages when 0) and cuts it
// back to walSizeLimit.
func TestCheckpointPragmas(t *testing.T) {
	for _, tc := range []struct {
		pages, want int
	}{{0, DefaultCheckpointPages}, {1000, 1000}, {16000, 16000}} {
		db, err := Open(context.Background(), Config{DataDir: t.TempDir(), CheckpointPages: tc.pages})
		if err != nil {
			t.Fatal(err)
		}
		var pages, limit int
		if err := db.w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if err := db.w.QueryRow("PRAGMA journal_size_limit").Scan(&limit); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if pages != tc.want || limit != walSizeLimit {
			t.Errorf("CheckpointPages %d: wal_autocheckpoint %d, journal_size_limit %d; want %d and %d", tc.pages, pages, limit, tc.want, walSizeLimit)
		}
	}
}
