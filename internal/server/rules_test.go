package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadRules(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"effective":"2027-01-01","categories":{"promo":{}}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		spec, inNov, problem string
	}{
		{"", "2025-07-01", ""},
		{"shipped", "2026-10-01", ""},
		{filepath.Join(dir, "missing.json"), "", "no such file"},
		{bad, "", `"promo" is not one of`},
	} {
		book, err := seedRules(c.spec)
		switch {
		case c.problem != "":
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("seedRules(%q): %v, want an error about %q", c.spec, err, c.problem)
			}
		case err != nil:
			t.Errorf("seedRules(%q): %v", c.spec, err)
		case book.At(nov).Effective != c.inNov:
			t.Errorf("seedRules(%q) in November 2026: %s, want %s", c.spec, book.At(nov).Effective, c.inNov)
		}
	}
}
