package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/router"
)

const queueCols = `device_id, id, kind, from_account, from_phone, from_device, to_phone, ts, expires, body`

// insertChunk is the most rows one INSERT carries.
const insertChunk = 64

// insertSQLs holds the INSERT for 1 … insertChunk rows, made once.
var insertSQLs = func() []string {
	out := make([]string, insertChunk+1)
	for n := 1; n <= insertChunk; n++ {
		out[n] = `INSERT INTO queue (` + queueCols + `) VALUES ` + values(n, 10, 1) + ` ON CONFLICT (device_id, id) DO NOTHING`
	}
	return out
}()

func insertSQL(n int) string { return insertSQLs[n] }

const (
	claimRefSQL  = `INSERT INTO send_refs (sender_device, ref, msg_id, at) VALUES ($1,$2,$3,$4) ON CONFLICT (sender_device, ref) DO NOTHING`
	refSQL       = `SELECT msg_id FROM send_refs WHERE sender_device = $1 AND ref = $2`
	devicesSQL   = `SELECT id, num FROM devices WHERE account_id = $1 ORDER BY num`
	pullSQL      = `SELECT ` + queueCols + ` FROM queue WHERE device_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	deleteSQLFmt = `DELETE FROM queue WHERE device_id = $1 AND %s RETURNING ` + metaCols
)

// deleteChunk is the most ids one DELETE names with placeholders of their
// own; SQLite plans "id IN ($2,…)" as index lookups, where a JSON list
// costs a scan of the device's entries.
const deleteChunk = 32

// deleteSQL returns the DELETE for n ids (1 ≤ n ≤ deleteChunk). PostgreSQL
// takes any number as one array.
func (db *DB) deleteSQL(n int) string {
	if db.d.name == "postgres" {
		return fmt.Sprintf(deleteSQLFmt, "id = ANY($2)")
	}
	return fmt.Sprintf(deleteSQLFmt, "id IN "+values(1, n, 2))
}

// extraWrites are statements other files of the store run often in write
// transactions, registered from their init functions (addHotWrite).
var extraWrites []string

// addHotWrite has Open prepare qs once on the writer (see exec).
func addHotWrite(qs ...string) { extraWrites = append(extraWrites, qs...) }

// sqliteWrites are hot writes only SQLite runs (the multi-row statements
// of each size that PostgreSQL sends unprepared, or in other forms),
// registered by addSQLiteHotWrite.
var sqliteWrites []string

// addSQLiteHotWrite has Open prepare qs once on SQLite's writer only.
func addSQLiteHotWrite(qs ...string) { sqliteWrites = append(sqliteWrites, qs...) }

// exec runs q in tx, prepared when Open prepared it (addHotWrite).
func (db *DB) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st, ok := db.wstmts[q]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// hotWrites lists the statements the group commit runs, to prepare once
// (a text listed twice is prepared once).
func (db *DB) hotWrites() []string {
	qs := append([]string{claimRefSQL, refSQL, devicesSQL}, insertSQLs[1:]...)
	qs = append(qs, extraWrites...)
	if db.d.name != "postgres" {
		qs = append(qs, sqliteWrites...)
	}
	qs = append(qs, db.dueSQL())
	qs = append(qs, db.lockStockSQL())
	for n := 1; n <= deleteChunk; n++ {
		qs = append(qs, db.deleteSQL(n))
	}
	return qs
}

// Tx runs fn in one write transaction (the router's group commit). The
// Tx also takes hosted endpoints' writes for the sends in it
// (endpoint.WritesTx), written after fn, and the results of delivered
// webhooks waiting to be recorded (SettleWebhooksLater). A transaction
// that fails transiently (a deadlock, say) runs fn again, in a new
// transaction (retryTx): the router's group commit does its work anew
// each time, and the results a failed run took are given back first.
func (db *DB) Tx(ctx context.Context, fn func(router.Tx) error) error {
	return db.txLate(ctx, "store.Tx", func(tx *sql.Tx) error {
		qt := &queueTx{db: db, tx: tx, ctx: ctx}
		if err := fn(qt); err != nil {
			return err
		}
		return qt.flushRides()
	})
}

// queueTx implements router.Tx and endpoint.WritesTx.
type queueTx struct {
	db    *DB
	tx    *sql.Tx
	ctx   context.Context
	rides []*endpoint.TxWrites // AddEndpointWrites
}

// exec runs q in the transaction, prepared when Open prepared it.
func (t *queueTx) exec(q string, args ...any) (sql.Result, error) {
	return t.db.exec(t.ctx, t.tx, q, args...)
}

// query is exec for statements that return rows.
func (t *queueTx) query(q string, args ...any) (*sql.Rows, error) {
	if st, ok := t.db.wstmts[q]; ok {
		return t.tx.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, q, args...)
}

// queryRow is query for one row.
func (t *queueTx) queryRow(q string, args ...any) *sql.Row {
	if st, ok := t.db.wstmts[q]; ok {
		return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

// ClaimRef records a send ref, or returns the id it was claimed with before.
func (t *queueTx) ClaimRef(sender kontor.ID, ref string, id kontor.ID, at int64) (kontor.ID, bool, error) {
	res, err := t.exec(claimRefSQL, int64(sender), ref, int64(id), at)
	if err != nil {
		return 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return id, true, nil
	}
	var existing int64
	if err := t.queryRow(refSQL, int64(sender), ref).Scan(&existing); err != nil {
		return 0, false, err
	}
	return kontor.ID(existing), false, nil
}

// Insert adds entries, skipping any whose (device, id) exists.
func (t *queueTx) Insert(entries []router.Entry) error {
	for len(entries) > 0 {
		n := min(len(entries), insertChunk)
		args := make([]any, 0, n*10)
		for _, e := range entries[:n] {
			args = append(args, int64(e.Device), int64(e.ID), int(e.Kind), int64(e.FromAccount), string(e.From), e.FromDevice, string(e.To), e.TS, e.Expires, e.Body)
		}
		if _, err := t.exec(insertSQL(n), args...); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

const metaCols = `device_id, id, kind, from_account, from_phone, from_device, to_phone, ts, expires`

func scanMeta(rows *sql.Rows) ([]router.Entry, error) {
	defer rows.Close()
	var out []router.Entry
	for rows.Next() {
		var e router.Entry
		var kind int
		var from, to string
		if err := rows.Scan(&e.Device, &e.ID, &kind, &e.FromAccount, &from, &e.FromDevice, &to, &e.TS, &e.Expires); err != nil {
			return nil, err
		}
		e.Kind, e.From, e.To = router.EntryKind(kind), kontor.Phone(from), kontor.Phone(to)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Delete removes a device's entries by id and returns those that existed.
func (t *queueTx) Delete(device kontor.ID, ids []kontor.ID) ([]router.Entry, error) {
	if t.db.d.name == "postgres" {
		if len(ids) == 0 {
			return nil, nil
		}
		list := make([]int64, len(ids))
		for i, id := range ids {
			list[i] = int64(id)
		}
		rows, err := t.query(t.db.deleteSQL(1), int64(device), list)
		if err != nil {
			return nil, err
		}
		return scanMeta(rows)
	}
	var out []router.Entry
	for len(ids) > 0 {
		n := min(len(ids), deleteChunk)
		args := make([]any, 0, n+1)
		args = append(args, int64(device))
		for _, id := range ids[:n] {
			args = append(args, int64(id))
		}
		rows, err := t.query(t.db.deleteSQL(n), args...)
		if err != nil {
			return nil, err
		}
		got, err := scanMeta(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		ids = ids[n:]
	}
	return out, nil
}

// Expire removes up to limit entries whose time is past. On PostgreSQL
// it passes over entries another transaction holds (a device's ack
// deleting them, another node's sweep): waiting for them, in an order
// of its own, could close a circle of waits, and the ack or the next
// sweep removes them anyway.
func (t *queueTx) Expire(now int64, limit int) ([]router.Entry, error) {
	rows, err := t.tx.QueryContext(t.ctx, `DELETE FROM queue WHERE (device_id, id) IN
		(SELECT device_id, id FROM queue WHERE expires < $1 ORDER BY expires, device_id, id LIMIT $2`+t.db.d.skipLocked()+`) RETURNING `+metaCols, now, limit)
	if err != nil {
		return nil, err
	}
	return scanMeta(rows)
}

// Devices returns an account's current devices.
func (t *queueTx) Devices(account kontor.ID) ([]router.DeviceRef, error) {
	rows, err := t.query(devicesSQL, int64(account))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []router.DeviceRef
	for rows.Next() {
		var d router.DeviceRef
		if err := rows.Scan(&d.ID, &d.Num); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PruneRefs forgets send refs claimed before before.
func (t *queueTx) PruneRefs(before int64) error {
	_, err := t.tx.ExecContext(t.ctx, `DELETE FROM send_refs WHERE at < $1`, before)
	return err
}

// Pull returns up to limit entries of device after the id after, in order.
func (db *DB) Pull(ctx context.Context, device, after kontor.ID, limit int) ([]router.Entry, error) {
	st, err := db.read(ctx, pullSQL)
	if err != nil {
		return nil, internal("store.Pull", err)
	}
	rows, err := st.QueryContext(ctx, int64(device), int64(after), limit)
	if err != nil {
		return nil, internal("store.Pull", err)
	}
	defer rows.Close()
	out := make([]router.Entry, 0, min(limit, 64))
	for rows.Next() {
		var e router.Entry
		var kind int
		var from, to string
		if err := rows.Scan(&e.Device, &e.ID, &kind, &e.FromAccount, &from, &e.FromDevice, &to, &e.TS, &e.Expires, &e.Body); err != nil {
			return nil, internal("store.Pull", err)
		}
		e.Kind, e.From, e.To = router.EntryKind(kind), kontor.Phone(from), kontor.Phone(to)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.Pull", err)
	}
	return out, nil
}

// Recipient returns the account of phone with its current devices.
func (db *DB) Recipient(ctx context.Context, phone kontor.Phone) (router.Recipient, error) {
	return db.recipient(ctx, "a.phone = $1", string(phone))
}

// RecipientByAccount returns an account with its current devices.
func (db *DB) RecipientByAccount(ctx context.Context, account kontor.ID) (router.Recipient, error) {
	return db.recipient(ctx, "a.id = $1", account)
}

func (db *DB) recipient(ctx context.Context, where string, arg any) (router.Recipient, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT a.id, a.phone, d.id, d.num FROM accounts a LEFT JOIN devices d ON d.account_id = a.id
		WHERE `+where+` ORDER BY d.num`, arg)
	if err != nil {
		return router.Recipient{}, internal("store.Recipient", err)
	}
	defer rows.Close()
	var r router.Recipient
	found := false
	for rows.Next() {
		var phone string
		var did sql.NullInt64
		var num sql.NullInt64
		if err := rows.Scan(&r.Account, &phone, &did, &num); err != nil {
			return r, internal("store.Recipient", err)
		}
		found, r.Phone = true, kontor.Phone(phone)
		if did.Valid {
			r.Devices = append(r.Devices, router.DeviceRef{ID: kontor.ID(did.Int64), Num: int(num.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return r, internal("store.Recipient", err)
	}
	if !found {
		return r, notFound("store.Recipient", "no account %v", strings.TrimSpace(toString(arg)))
	}
	brows, err := db.r.QueryContext(ctx, `SELECT phone FROM blocks WHERE account_id = $1`, int64(r.Account))
	if err != nil {
		return r, internal("store.Recipient", err)
	}
	defer brows.Close()
	for brows.Next() {
		var p string
		if err := brows.Scan(&p); err != nil {
			return r, internal("store.Recipient", err)
		}
		r.Blocked = append(r.Blocked, kontor.Phone(p))
	}
	if err := brows.Err(); err != nil {
		return r, internal("store.Recipient", err)
	}
	return r, nil
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case kontor.ID:
		return x.String()
	}
	return ""
}
