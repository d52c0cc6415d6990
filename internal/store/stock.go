package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// Stock: a product's available stock is its inventory column; every change
// of it by an adjustment or an order is a row of stock_moves, numbered per
// product by the product's stock_seq (incremented by the same UPDATE that
// changes the inventory, so the row lock that serialises the changes also
// hands out the numbers). low_stock is the alert threshold, -1 for none.
func init() {
	addMigration("stock 1", migration{sql: `
ALTER TABLE products ADD COLUMN low_stock INTEGER NOT NULL DEFAULT -1;
ALTER TABLE products ADD COLUMN stock_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE stock_moves (
	product_id BIGINT NOT NULL,
	seq        BIGINT NOT NULL,
	catalog_id BIGINT NOT NULL,
	delta      INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL,
	by_name    TEXT NOT NULL DEFAULT '',
	order_id   BIGINT NOT NULL DEFAULT 0,
	level      INTEGER NOT NULL,
	at         BIGINT NOT NULL,
	idem_key   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (product_id, seq)
);
CREATE INDEX stock_moves_order ON stock_moves (order_id, product_id);
CREATE UNIQUE INDEX stock_moves_key ON stock_moves (product_id, idem_key) WHERE idem_key <> '';
CREATE INDEX orders_business_created ON orders (business_id, created);
`})
	addHotWrite(moveStockSQL, insertMoveSQL)
}

// moveStockSQL changes a product's inventory by $2 when the result stays
// from 0 to $3.
const moveStockSQL = `UPDATE products SET inventory = inventory + $2, stock_seq = stock_seq + 1
	WHERE id = $1 AND inventory + $2 >= 0 AND inventory + $2 <= $3
	RETURNING inventory, low_stock, stock_seq, catalog_id, retailer_id, name`

const insertMoveSQL = `INSERT INTO stock_moves (product_id, seq, catalog_id, delta, reason, note, source, by_name, order_id, level, at, idem_key)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`

// moveStock applies m to its product's stock in tx and appends it to the
// history, filling m.Seq and m.Level; ok is false, and nothing changed,
// when the level would leave 0..MaxInventory (stock an order releases may
// go beyond) or the product is gone. A
// move that crosses the product's low-stock threshold downwards enqueues
// the alert's webhook in tx (alerted).
func (db *DB) moveStock(ctx context.Context, tx *sql.Tx, m *commerce.StockMove) (ok, alerted bool, err error) {
	var low int
	var catalog int64
	var rid, name string
	most := commerce.MaxInventory
	if m.Reason == commerce.ReasonReleased || m.Delta <= 0 {
		// Stock that comes back is never refused, nor is a level that goes
		// down refused for being high (stock returned by orders may be above
		// MaxInventory); the column is 32 bits on PostgreSQL.
		most = math.MaxInt32
	}
	err = db.queryRow(ctx, tx, moveStockSQL, int64(m.Product), m.Delta, most).Scan(&m.Level, &low, &m.Seq, &catalog, &rid, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	if _, err := db.exec(ctx, tx, insertMoveSQL, int64(m.Product), m.Seq, catalog, m.Delta, m.Reason, m.Note, m.Source, m.By,
		int64(m.Order), m.Level, ms(m.At), m.Key); err != nil {
		return false, false, err
	}
	if !commerce.Crossed(m.Level, m.Delta, low) {
		return true, false, nil
	}
	a := commerce.StockAlert{Catalog: kontor.ID(catalog), Product: m.Product, RetailerID: rid, Name: name, Available: m.Level, Threshold: low, Move: *m}
	return true, true, db.enqueueStockAlert(ctx, tx, a)
}

// enqueueStockAlert writes an alert's webhook to the outbox in tx, for the
// business's webhook URL, signed by its first app. A business without a
// URL gets none (the alert shows in the low-stock list all the same).
func (db *DB) enqueueStockAlert(ctx context.Context, tx *sql.Tx, a commerce.StockAlert) error {
	var biz, app int64
	var url string
	err := tx.QueryRowContext(ctx, `SELECT b.id, b.webhook_url, COALESCE((SELECT MIN(p.id) FROM business_apps p WHERE p.business_id = b.id), 0)
		FROM catalogs c JOIN businesses b ON b.id = c.business_id WHERE c.id = $1`, int64(a.Catalog)).Scan(&biz, &url, &app)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (url == "" || app == 0)) {
		return nil
	}
	if err != nil {
		return err
	}
	a.Business = kontor.ID(biz)
	id, body, err := a.Webhook()
	if err != nil {
		return err
	}
	ev := webhook.Event{ID: id, App: kontor.ID(app), URL: url, Body: body, Created: a.Move.At}
	if err := webhook.Check(ev); err != nil {
		db.log.Error("a low-stock alert cannot be sent", "product", a.Product, "err", err)
		return nil // the stock change stands; the alert is in the low-stock list
	}
	_, err = db.enqueueWebhooks(ctx, tx, []webhook.Event{ev}, ev.Created, webhook.Lease{})
	return err
}

// queryRow runs a one-row query in tx, prepared when Open prepared it
// (addHotWrite).
func (db *DB) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st, ok := db.wstmts[q]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// released are the moves that give the items of an order back.
func released(order kontor.ID, items []commerce.OrderItem, at time.Time) []commerce.StockMove {
	ms := make([]commerce.StockMove, len(items))
	for i, it := range items {
		ms[i] = commerce.StockMove{Product: it.Product, Delta: it.Quantity, Reason: commerce.ReasonReleased, Source: commerce.SourceOrder, Order: order, At: at}
	}
	return ms
}

// releaseStock applies moves that give stock back, skipping products that
// are gone, in product order (as PlaceOrder locks them: no deadlock on
// PostgreSQL).
func (db *DB) releaseStock(ctx context.Context, tx *sql.Tx, moves []commerce.StockMove) error {
	slices.SortStableFunc(moves, func(a, b commerce.StockMove) int { return cmp.Compare(a.Product, b.Product) })
	for i := range moves {
		if _, _, err := db.moveStock(ctx, tx, &moves[i]); err != nil {
			return err
		}
	}
	return nil
}

// setStock sets a product's inventory to level in tx as a correction
// move (none when it is there already). The first UPDATE locks the row on
// PostgreSQL, so no order changes the level between reading and moving.
func (db *DB) setStock(ctx context.Context, tx *sql.Tx, product kontor.ID, level int, at time.Time) error {
	var old int
	if err := tx.QueryRowContext(ctx, `UPDATE products SET stock_seq = stock_seq WHERE id = $1 RETURNING inventory`, int64(product)).Scan(&old); err != nil {
		return err
	}
	if old == level {
		return nil
	}
	m := commerce.StockMove{Product: product, Delta: level - old, Reason: commerce.ReasonCorrection, Note: fmt.Sprintf("inventory set to %d", level),
		Source: commerce.SourceAPI, At: at}
	ok, _, err := db.moveStock(ctx, tx, &m)
	if err == nil && !ok {
		err = fmt.Errorf("setting the inventory of %s to %d was refused", product, level) // Validate bounds it: cannot happen
	}
	return err
}

// errKeyUsed ends an adjustment whose idempotency key another one has.
var errKeyUsed = errors.New("store: idempotency key used")

// AdjustStock applies an adjustment and records it (commerce.StockStore).
// An adjustment with a key that the product's history has already is not
// applied again: the earlier move comes back (a Conflict when it differs).
func (db *DB) AdjustStock(ctx context.Context, m commerce.StockMove) (commerce.StockMove, bool, error) {
	const op = "store.AdjustStock"
	alerted := false
	want := m
	var prev *commerce.StockMove // the move that has m's key already
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		m = want
		if m.Key != "" {
			if p, err := moveByKey(ctx, tx, m.Product, m.Key); err == nil {
				prev = &p
				return errKeyUsed
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		ok, al, err := db.moveStock(ctx, tx, &m)
		if err != nil && m.Key != "" && isUnique(err) {
			return errKeyUsed // the same key, at the same time, on another node
		}
		if err != nil || ok {
			alerted = al
			return err
		}
		var level int
		if err := tx.QueryRowContext(ctx, `SELECT inventory FROM products WHERE id = $1`, int64(m.Product)).Scan(&level); errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "no product %s", m.Product)
		} else if err != nil {
			return err
		}
		var reason string
		if m.Delta < 0 {
			reserved, err := reservedOf(ctx, tx, m.Product)
			if err != nil {
				return err
			}
			reason = fmt.Sprintf("only %d available (%d more reserved by open orders): %d would leave %d", level, reserved, m.Delta, level+m.Delta)
		} else {
			reason = fmt.Sprintf("%d in stock and %d more would exceed %d", level, m.Delta, commerce.MaxInventory)
		}
		return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "parameter delta is not valid: " + reason,
			Err: &commerce.FieldError{Field: "delta", Reason: reason}}
	})
	if errors.Is(err, errKeyUsed) {
		if prev == nil { // lost the race: read what the winner wrote
			p, err := moveByKey(ctx, db.r, want.Product, want.Key)
			if err != nil {
				return commerce.StockMove{}, false, internal(op, err)
			}
			prev = &p
		}
		if prev.Delta != want.Delta || prev.Reason != want.Reason {
			return commerce.StockMove{}, false, kontor.Errorf(kontor.Conflict, op,
				"idempotency key %q was used for another adjustment of this product (%+d %s, seq %d)", want.Key, prev.Delta, prev.Reason, prev.Seq)
		}
		return *prev, false, nil
	}
	if err != nil {
		return commerce.StockMove{}, false, err
	}
	return m, alerted, nil
}

const moveCols = `seq, delta, reason, note, source, by_name, order_id, level, at, idem_key`

func scanMove(product kontor.ID, row interface{ Scan(...any) error }) (commerce.StockMove, error) {
	m := commerce.StockMove{Product: product}
	var order, at int64
	err := row.Scan(&m.Seq, &m.Delta, &m.Reason, &m.Note, &m.Source, &m.By, &order, &m.Level, &at, &m.Key)
	m.Order, m.At = kontor.ID(order), fromMS(at)
	return m, err
}

// moveByKey finds a product's move by its idempotency key.
func moveByKey(ctx context.Context, q querier, product kontor.ID, key string) (commerce.StockMove, error) {
	return scanMove(product, q.QueryRowContext(ctx, `SELECT `+moveCols+` FROM stock_moves WHERE product_id = $1 AND idem_key = $2`, int64(product), key))
}

// querier is a pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// reservedOf is what pending and confirmed orders hold of a product.
func reservedOf(ctx context.Context, q querier, product kontor.ID) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(-m.delta), 0) FROM stock_moves m JOIN orders o ON o.id = m.order_id
		WHERE m.product_id = $1 AND m.reason = 'sold' AND o.state IN ('pending', 'confirmed')`, int64(product)).Scan(&n)
	return n, err
}

const levelCols = `id, catalog_id, retailer_id, name, inventory, low_stock`

func scanLevel(row interface{ Scan(...any) error }) (commerce.StockLevel, error) {
	var l commerce.StockLevel
	var id, cat int64
	err := row.Scan(&id, &cat, &l.RetailerID, &l.Name, &l.Available, &l.Threshold)
	l.Product, l.Catalog = kontor.ID(id), kontor.ID(cat)
	return l, err
}

// StockLevel returns a product's stock level (commerce.StockStore).
func (db *DB) StockLevel(ctx context.Context, product kontor.ID) (commerce.StockLevel, error) {
	const op = "store.StockLevel"
	l, err := scanLevel(db.r.QueryRowContext(ctx, `SELECT `+levelCols+` FROM products WHERE id = $1`, int64(product)))
	if errors.Is(err, sql.ErrNoRows) {
		return l, notFound(op, "no product %s", product)
	}
	if err != nil {
		return l, internal(op, err)
	}
	if l.Reserved, err = reservedOf(ctx, db.r, product); err != nil {
		return l, internal(op, err)
	}
	return l, nil
}

// StockLevels lists a catalog's stock levels (commerce.StockStore).
func (db *DB) StockLevels(ctx context.Context, catalog kontor.ID, low bool, after kontor.ID, limit int) ([]commerce.StockLevel, error) {
	const op = "store.StockLevels"
	q := `SELECT ` + levelCols + ` FROM products WHERE catalog_id = $1 AND id > $2`
	if low {
		q += ` AND low_stock >= 0 AND inventory <= low_stock`
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY id LIMIT $3`, int64(catalog), int64(after), limit)
	if err != nil {
		return nil, internal(op, err)
	}
	var out []commerce.StockLevel
	for rows.Next() {
		l, err := scanLevel(rows)
		if err != nil {
			rows.Close()
			return nil, internal(op, err)
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// What open orders hold, for the whole page in one query.
	args := make([]any, len(out))
	at := make(map[int64]int, len(out))
	for i, l := range out {
		args[i], at[int64(l.Product)] = int64(l.Product), i
	}
	rows, err = db.r.QueryContext(ctx, `SELECT m.product_id, SUM(-m.delta) FROM stock_moves m JOIN orders o ON o.id = m.order_id
		WHERE m.product_id IN `+values(1, len(args), 1)+` AND m.reason = 'sold' AND o.state IN ('pending', 'confirmed') GROUP BY m.product_id`, args...)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, internal(op, err)
		}
		out[at[id]].Reserved = n
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// StockMoves lists a product's history, newest first (commerce.StockStore).
func (db *DB) StockMoves(ctx context.Context, product kontor.ID, before int64, limit int) ([]commerce.StockMove, error) {
	const op = "store.StockMoves"
	var one int
	if err := db.r.QueryRowContext(ctx, `SELECT 1 FROM products WHERE id = $1`, int64(product)).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "no product %s", product)
	} else if err != nil {
		return nil, internal(op, err)
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+moveCols+` FROM stock_moves
		WHERE product_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, int64(product), before, limit)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []commerce.StockMove
	for rows.Next() {
		m, err := scanMove(product, rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// SetLowStock sets a product's low-stock threshold (commerce.StockStore).
func (db *DB) SetLowStock(ctx context.Context, product kontor.ID, threshold int) error {
	return db.tx(ctx, "store.SetLowStock", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE products SET low_stock = $2 WHERE id = $1`, int64(product), threshold)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.SetLowStock", "no product %s", product)
		}
		return nil
	})
}

// SalesOrders streams a business's orders placed in [from, to) in the
// given states, oldest first (commerce.StockStore).
func (db *DB) SalesOrders(ctx context.Context, biz kontor.ID, from, to time.Time, states []string, fn func(commerce.Order) error) error {
	const op = "store.SalesOrders"
	if len(states) == 0 {
		return nil
	}
	args := []any{int64(biz), ms(from), ms(to)}
	marks := make([]string, len(states))
	for i, s := range states {
		args = append(args, s)
		marks[i] = fmt.Sprintf("$%d", i+4)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, catalog_id, items, currency, total, state, created FROM orders
		WHERE business_id = $1 AND created >= $2 AND created < $3 AND state IN (`+strings.Join(marks, ",")+`) ORDER BY created, id`, args...)
	if err != nil {
		return internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		o := commerce.Order{Business: biz}
		var id, cat, created int64
		var items string
		if err := rows.Scan(&id, &cat, &items, &o.Currency, &o.Total, &o.State, &created); err != nil {
			return internal(op, err)
		}
		o.ID, o.Catalog, o.Created = kontor.ID(id), kontor.ID(cat), fromMS(created)
		if err := json.Unmarshal([]byte(items), &o.Items); err != nil {
			return internal(op, fmt.Errorf("order %d: %w", id, err))
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return internal(op, err)
	}
	return nil
}

var _ commerce.StockStore = (*DB)(nil)
