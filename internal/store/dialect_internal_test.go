package store

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestAnonParams(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{`INSERT INTO t (a, b) VALUES ($1,$2),($3,$4) ON CONFLICT (a) DO NOTHING`, `INSERT INTO t (a, b) VALUES (?,?),(?,?) ON CONFLICT (a) DO NOTHING`},
		{`SELECT 1`, `SELECT 1`},
		{`UPDATE t SET a = $1 WHERE b = $2 AND c = 'x$3'`, `UPDATE t SET a = ? WHERE b = ? AND c = 'x$3'`},
		{`SELECT 'it''s $1', $1`, `SELECT 'it''s $1', ?`},
		{`SELECT "$1" FROM t WHERE a = $1 -- $2` + "\n" + `AND b = $2`, `SELECT "$1" FROM t WHERE a = ? -- $2` + "\n" + `AND b = ?`},
		{`SELECT $10`, `SELECT $10`},                         // not from 1
		{`SELECT $2, $1`, `SELECT $2, $1`},                   // out of order
		{`SELECT $1 WHERE a = $1`, `SELECT $1 WHERE a = $1`}, // twice
		{`SELECT $1, $02`, `SELECT $1, $02`},                 // not as values writes it
		{`SELECT $1, ?`, `SELECT $1, ?`},                     // mixed
		{`SELECT $1, :a`, `SELECT $1, :a`},                   // mixed
		{`SELECT 'open $1`, `SELECT 'open $1`},               // broken literal
		{`SELECT $`, `SELECT $`},                             // no number
		{`SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11`, `SELECT ?,?,?,?,?,?,?,?,?,?,?`},
	} {
		if got := anonParams(tt.q); got != tt.want {
			t.Errorf("anonParams(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// TestAnonParamsHot: the group commit's multi-row statements, the ones
// with hundreds of parameters, lose their names, and so does every hot
// write on SQLite with more than 16 placeholders (binding n named ones
// costs n² name comparisons; below that it does not show).
func TestAnonParamsHot(t *testing.T) {
	for _, q := range []string{insertSQLs[insertChunk], enqueueRowsSQLs[rowChunk], claimRefSQL, enqueueOneSQL} {
		if got := anonParams(q); strings.Contains(got, "$") {
			t.Errorf("anonParams(%q) = %q", q, got)
		}
	}
	placeholder := regexp.MustCompile(`\$[0-9]+`)
	for _, q := range (&DB{d: sqlite}).hotWrites() {
		if n := len(placeholder.FindAllString(q, -1)); n > 16 && anonParams(q) == q {
			t.Errorf("a hot write with %d placeholders keeps their names: %.200q", n, q)
		}
	}
}

// TestHotWritesByEngine: Open prepares the statements each engine runs,
// and only those: SQLite's multi-row enqueues and settlements of every
// size up to rowChunk (a remainder of one event too), not on PostgreSQL,
// which sends its own (enqueueSQL, settleSQL) and prepares only the
// INSERT of one event.
func TestHotWritesByEngine(t *testing.T) {
	sqliteOnly := append([]string{enqueueOneSQL}, enqueueRowsSQLs[2:]...)
	sqliteOnly = append(sqliteOnly, settleSQLs[1:]...)
	both := []string{enqueueOneReturningSQL, enqueueRowsSQLs[1], releaseSQL}
	for _, tc := range []struct {
		d        dialect
		has, not []string
	}{
		{sqlite, append(sqliteOnly, both...), nil},
		{postgres, both, sqliteOnly},
	} {
		hot := (&DB{d: tc.d}).hotWrites()
		for _, q := range tc.has {
			if !slices.Contains(hot, q) {
				t.Errorf("%s does not prepare %.120q", tc.d.name, q)
			}
		}
		for _, q := range tc.not {
			if slices.Contains(hot, q) {
				t.Errorf("%s prepares %.120q, which it never runs", tc.d.name, q)
			}
		}
	}
}
