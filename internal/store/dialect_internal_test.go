package store

import (
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
// with hundreds of parameters, lose their names.
func TestAnonParamsHot(t *testing.T) {
	for _, q := range []string{insertSQLs[insertChunk], enqueueRowsSQLs[rowChunk], claimRefSQL, enqueueOneSQL} {
		if got := anonParams(q); strings.Contains(got, "$") {
			t.Errorf("anonParams(%q) = %q", q, got)
		}
	}
	n := 0
	for _, q := range (&DB{d: sqlite}).hotWrites() {
		if anonParams(q) != q {
			n++
		}
	}
	t.Logf("%d hot writes with anonymous parameters", n)
}
