package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

func init() {
	addMigration("orders 1", migration{sql: `
CREATE TABLE orders (
	id          BIGINT PRIMARY KEY,
	business_id BIGINT NOT NULL,
	catalog_id  BIGINT NOT NULL,
	customer    TEXT NOT NULL,
	items       TEXT NOT NULL,
	currency    TEXT NOT NULL,
	subtotal    BIGINT NOT NULL,
	total       BIGINT NOT NULL,
	state       TEXT NOT NULL,
	note        TEXT NOT NULL DEFAULT '',
	created     BIGINT NOT NULL,
	expires     BIGINT NOT NULL
);
CREATE INDEX orders_pending ON orders (state, expires);
`})
	addHotWrite(insertOrderSQL)
}

// insertOrderSQL records an order, prepared once (addHotWrite).
const insertOrderSQL = `INSERT INTO orders (id, business_id, catalog_id, customer, items, currency, subtotal, total, state, note, created, expires,
	tax, shipping, discount)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`

// ProductByRetailerID finds a product (commerce.Store).
func (db *DB) ProductByRetailerID(ctx context.Context, catalog kontor.ID, retailerID string) (commerce.Product, error) {
	p, err := scanProduct(db.readRow(ctx, `SELECT `+productCols+` FROM products WHERE catalog_id = $1 AND retailer_id = $2`, int64(catalog), retailerID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("store.ProductByRetailerID", "no product %q", retailerID)
	}
	if err != nil {
		return p, internal("store.ProductByRetailerID", err)
	}
	return p, nil
}

// PlaceOrder reserves every item's stock and records the order, or
// reserves nothing and returns the shortages (commerce.OrderStore). The
// UPDATE takes stock only where enough is left, row by row, so two
// transactions can never both take the last items.
func (db *DB) PlaceOrder(ctx context.Context, o commerce.Order) ([]commerce.Short, error) {
	var short []commerce.Short
	// Rows are locked in one order (by product id), so two orders for the
	// same products cannot deadlock on PostgreSQL.
	items := slices.Clone(o.Items)
	slices.SortFunc(items, func(a, b commerce.OrderItem) int { return cmp.Compare(a.Product, b.Product) })
	err := db.tx(ctx, "store.PlaceOrder", func(tx *sql.Tx) error {
		short = short[:0]
		for _, it := range items {
			// The move (reason sold) is the stock history's, and may
			// enqueue a low-stock alert; a refusal rolls both back.
			m := commerce.StockMove{Product: it.Product, Delta: -it.Quantity, Reason: commerce.ReasonSold, Source: commerce.SourceOrder, Order: o.ID, At: o.Created}
			ok, _, err := db.moveStock(ctx, tx, &m)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			var left int
			if err := tx.QueryRowContext(ctx, `SELECT inventory FROM products WHERE id = $1`, int64(it.Product)).Scan(&left); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			short = append(short, commerce.Short{RetailerID: it.RetailerID, Wanted: it.Quantity, Available: left})
		}
		if len(short) > 0 {
			return errRefused // undo what was reserved
		}
		items, err := json.Marshal(o.Items)
		if err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, insertOrderSQL, int64(o.ID), int64(o.Business), int64(o.Catalog), string(o.Customer), string(items),
			o.Currency, o.Subtotal, o.Total, o.State, o.Text, ms(o.Created), ms(o.Expires), o.Tax, o.Shipping, o.Discount)
		return err
	})
	if errors.Is(err, errRefused) {
		return short, nil
	}
	return nil, err
}

// errRefused rolls a refused order back.
var errRefused = errors.New("store: order refused")

// ExpireOrders lets the stock of pending orders past their reservation go,
// each order exactly once (commerce.OrderStore).
func (db *DB) ExpireOrders(ctx context.Context, t time.Time, limit int) (int, error) {
	n := 0
	err := db.tx(ctx, "store.ExpireOrders", func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `UPDATE orders SET state = 'expired' WHERE id IN
			(SELECT id FROM orders WHERE state = 'pending' AND expires < $1 ORDER BY expires LIMIT $2`+db.d.skipLocked()+`)
			AND state = 'pending' RETURNING id, items`, ms(t), limit)
		if err != nil {
			return err
		}
		var back []commerce.StockMove
		for rows.Next() {
			var id int64
			var raw string
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return err
			}
			var items []commerce.OrderItem
			if err := json.Unmarshal([]byte(raw), &items); err != nil {
				rows.Close()
				return err
			}
			back = append(back, released(kontor.ID(id), items, t)...)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return db.releaseStock(ctx, tx, back)
	})
	return n, err
}

// Order returns an order (commerce.OrderStore).
func (db *DB) Order(ctx context.Context, id kontor.ID) (commerce.Order, error) {
	var o commerce.Order
	var oid, biz, cat, created, expires int64
	var customer, items string
	err := db.r.QueryRowContext(ctx, `SELECT id, business_id, catalog_id, customer, items, currency, subtotal, total, state, note, created, expires,
		tax, shipping, discount
		FROM orders WHERE id = $1`, int64(id)).Scan(&oid, &biz, &cat, &customer, &items, &o.Currency, &o.Subtotal, &o.Total, &o.State, &o.Text, &created, &expires,
		&o.Tax, &o.Shipping, &o.Discount)
	if errors.Is(err, sql.ErrNoRows) {
		return o, notFound("store.Order", "no order %s", id)
	}
	if err != nil {
		return o, internal("store.Order", err)
	}
	o.ID, o.Business, o.Catalog, o.Customer, o.Created, o.Expires = kontor.ID(oid), kontor.ID(biz), kontor.ID(cat), kontor.Phone(customer), fromMS(created), fromMS(expires)
	if err := json.Unmarshal([]byte(items), &o.Items); err != nil {
		return o, internal("store.Order", err)
	}
	return o, nil
}

// MoveOrder changes an order's state if it still is from (commerce.OrderMover).
func (db *DB) MoveOrder(ctx context.Context, id kontor.ID, from, to string, release bool) error {
	return db.tx(ctx, "store.MoveOrder", func(tx *sql.Tx) error {
		var raw string
		err := tx.QueryRowContext(ctx, `UPDATE orders SET state = $3 WHERE id = $1 AND state = $2 RETURNING items`, int64(id), from, to).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return kontor.Errorf(kontor.Conflict, "store.MoveOrder", "the order changed meanwhile; look at it again")
		}
		if err != nil || !release {
			return err
		}
		var items []commerce.OrderItem
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return err
		}
		return db.releaseStock(ctx, tx, released(id, items, time.Now())) // the move's time: MoveOrder is given none
	})
}
