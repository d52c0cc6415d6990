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

// list returns a list of strings as a parameter that inList and listRows
// take: a JSON list on SQLite (one parameter, however long the list,
// parsed by json_each), an array on PostgreSQL. A query that takes its
// list as one parameter has one text, prepared once.
func (d dialect) list(ss []string) any {
	if d.name == "postgres" {
		return ss
	}
	js, _ := json.Marshal(ss) // strings cannot fail
	return string(js)
}

// inList returns the condition that col is one of a list parameter.
func (d dialect) inList(col, param string) string {
	if d.name == "postgres" {
		return col + ` = ANY(` + param + `::text[])`
	}
	return col + ` IN (SELECT value FROM json_each(` + param + `))`
}

// listRows returns a query of a list parameter's strings, one a row, in a
// column named name.
func (d dialect) listRows(param, name string) string {
	if d.name == "postgres" {
		return `SELECT unnest(` + param + `::text[]) AS ` + name
	}
	return `SELECT value AS ` + name + ` FROM json_each(` + param + `)`
}
