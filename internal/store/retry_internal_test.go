package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kontor-chat/kontor"
)

// pgErr and liteErr stand for the drivers' errors: pgconn.PgError has
// SQLState, modernc's sqlite.Error has Code.
type pgErr string

func (e pgErr) Error() string    { return "pg " + string(e) }
func (e pgErr) SQLState() string { return string(e) }

type liteErr int

func (e liteErr) Error() string { return fmt.Sprintf("sqlite %d", int(e)) }
func (e liteErr) Code() int     { return int(e) }

// TestTransient: deadlocks, serialization failures and a busy SQLite
// are worth another run, wrapped or not; nothing else is.
func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"deadlock", pgErr("40P01"), true},
		{"serialization", pgErr("40001"), true},
		{"unique", pgErr("23505"), false},
		{"wrapped deadlock", fmt.Errorf("insert: %w", pgErr("40P01")), true},
		{"in a kontor error", &kontor.Error{Kind: kontor.Internal, Op: "x", Err: pgErr("40001")}, true},
		{"busy", liteErr(5), true},
		{"busy snapshot", liteErr(5 | 2<<8), true},
		{"locked", liteErr(6), true},
		{"constraint", liteErr(19), false},
		{"plain", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transient(tc.err); got != tc.want {
				t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
