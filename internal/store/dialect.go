package store

import (
	"encoding/json"
	"fmt"
	"strconv"
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

// anonParams returns q with its placeholders $1, $2, … $n as SQLite's
// anonymous "?" when they come in that order, each once (as values makes
// them), else q itself. SQLite keeps named parameters in a list it
// searches from the start for each one bound (sqlite3_bind_parameter_name,
// which the driver calls for every parameter), so binding n of them costs
// n²: 400 µs for the 640 of a 64-row queue INSERT. Anonymous ones have no
// names to look up. String literals, quoted names and comments are left
// alone.
func anonParams(q string) string {
	var sb strings.Builder
	next := 1
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			if j == len(q) {
				return q
			}
			sb.WriteString(q[i : j+1]) // '' is two literals one after the other
			i = j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			sb.WriteString(q[i : i+j])
			i += j
		case c == '$':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if q[i+1:j] != strconv.Itoa(next) {
				return q
			}
			next++
			sb.WriteByte('?')
			i = j
		case c == '?' || c == ':' || c == '@':
			return q // SQLite's other placeholders: leave the text as it is
		default:
			sb.WriteByte(c)
			i++
		}
	}
	return sb.String()
}
