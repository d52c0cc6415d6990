package store

import (
	"context"
	"database/sql"
)

// rowChunk is the most rows one of the endpoint's multi-row statements
// carries (inbox log, message records): a batch of 64 messages is four
// statements, not 64, and each size is prepared once at open.
const rowChunk = 16

// chunkSQLs makes the statements for 1 … rowChunk rows: head, the VALUES
// of n rows of cols parameters each, then tail. Index n holds n rows.
func chunkSQLs(head string, cols int, tail string) []string {
	out := make([]string, rowChunk+1)
	for n := 1; n <= rowChunk; n++ {
		out[n] = head + values(n, cols, 1) + tail
	}
	return out
}

// execChunks runs sqls (from chunkSQLs) over args, cols values a row, in
// chunks of at most rowChunk rows.
func (db *DB) execChunks(ctx context.Context, tx *sql.Tx, sqls []string, cols int, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/cols, rowChunk)
		if _, err := db.exec(ctx, tx, sqls[n], args[:n*cols]...); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}

// queryChunks is execChunks for statements that return rows (RETURNING):
// scan is called for each row returned.
func (db *DB) queryChunks(ctx context.Context, tx *sql.Tx, sqls []string, cols int, args []any, scan func(*sql.Rows) error) error {
	for len(args) > 0 {
		n := min(len(args)/cols, rowChunk)
		var rows *sql.Rows
		var err error
		if st, ok := db.wstmts[sqls[n]]; ok {
			rows, err = tx.StmtContext(ctx, st).QueryContext(ctx, args[:n*cols]...)
		} else {
			rows, err = tx.QueryContext(ctx, sqls[n], args[:n*cols]...)
		}
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}
