package store

import (
	"fmt"
	"strings"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
}

var (
	sqlite   = dialect{name: "sqlite"}
	postgres = dialect{name: "postgres"}
)

// values returns "($a,$b,…),(…)" for rows of cols columns, numbering
// placeholders from start.
func values(rows, cols, start int) string {
	var sb strings.Builder
	n := start
	for r := range rows {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := range cols {
			if c > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "$%d", n)
			n++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// skipLocked ends a subquery that picks a row to take: PostgreSQL skips rows
// other transactions hold; SQLite has one writer at a time and needs nothing.
func (d dialect) skipLocked() string {
	if d.name == "postgres" {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
