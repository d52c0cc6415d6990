package store

import (
	"encoding/json"
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

// inList returns the SQL that tests column against the list parameter $n,
// and the parameter value for the list.
func (d dialect) inList(column string, n int, ids []int64) (string, any) {
	if d.name == "postgres" {
		return fmt.Sprintf("%s = ANY($%d)", column, n), ids
	}
	b, _ := json.Marshal(ids)
	return fmt.Sprintf("%s IN (SELECT value FROM json_each($%d))", column, n), string(b)
}

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
