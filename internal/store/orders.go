package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
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
// reserves nothing and returns the shortages (commerce.OrderStore).
//
// Orders placed at the same moment share one transaction (orderQueue). It
// locks every product they name, in id order (PostgreSQL: FOR UPDATE, so
// two nodes' batches cannot deadlock; SQLite has one writer), reads the
// stock, gives it to the orders in the order they came, and records the
// placed ones with their stock moves (reason sold: the stock history's,
// and maybe a low-stock alert), each guarded so that a move that would
// take stock below zero fails the batch rather than oversell. A hot
// product then costs one lock and one commit per batch, not per order: on
// PostgreSQL the row lock is held across the commit's WAL flush, which
// otherwise bounds a hot product to one order per flush.
func (db *DB) PlaceOrder(ctx context.Context, o commerce.Order) ([]commerce.Short, error) {
	q := &db.orders[0]
	if db.d.name == "postgres" && len(o.Items) > 0 {
		// PostgreSQL runs transactions side by side: orders for other
		// products need not wait for a hot product's batch. An order's
		// queue is its first product's; batches in different queues that
		// name the same products wait for each other's locks (taken in id
		// order, so they cannot deadlock). SQLite has one writer, so one
		// queue.
		first := o.Items[0].Product
		for _, it := range o.Items[1:] {
			first = min(first, it.Product)
		}
		// Ids end in a sequence that is mostly 0: Fibonacci hashing
		// spreads all their bits over the queues.
		q = &db.orders[(uint64(first)*0x9E3779B97F4A7C15)>>(64-orderQueueBits)]
	}
	return q.place(ctx, db, o)
}

// orderQueues is how many batches of orders may run at once (PostgreSQL).
const (
	orderQueueBits = 2
	orderQueues    = 1 << orderQueueBits
)

// orderBatchTimeout bounds one batch's transaction, which runs without its
// callers' cancellation.
const orderBatchTimeout = 30 * time.Second

// maxOrderBatch bounds the orders of one transaction.
const maxOrderBatch = 64

// orderQueue groups concurrent PlaceOrder calls. A caller that finds no
// batch running runs one with every order waiting (its own first), then
// hands the turn to the first caller still waiting and returns; so it has
// no goroutine of its own, and none waits for more than the batch before
// its own.
type orderQueue struct {
	mu      sync.Mutex
	waiting []*placing
	busy    bool // a caller is running a batch
}

// placing is one PlaceOrder call in the queue.
type placing struct {
	o     commerce.Order
	short []commerce.Short
	err   error
	turn  chan bool // true: run the next batch; false: answered
}

func (q *orderQueue) place(ctx context.Context, db *DB, o commerce.Order) ([]commerce.Short, error) {
	if err := ctx.Err(); err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: "store.PlaceOrder", Msg: "the order was given up before it was placed", Err: err}
	}
	p := &placing{o: o, turn: make(chan bool, 1)}
	q.mu.Lock()
	q.waiting = append(q.waiting, p)
	lead := !q.busy
	q.busy = true
	q.mu.Unlock()
	if !lead && !<-p.turn {
		return p.short, p.err
	}
	// p is waiting[0]: only the caller whose turn it is takes from the queue.
	q.mu.Lock()
	n := min(len(q.waiting), maxOrderBatch)
	batch := slices.Clone(q.waiting[:n])
	q.waiting = slices.Delete(q.waiting, 0, n)
	q.mu.Unlock()
	// The batch is others' orders too: one caller going away must not
	// undo them.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orderBatchTimeout)
	db.placeBatch(bctx, batch)
	cancel()
	q.mu.Lock()
	if len(q.waiting) > 0 {
		q.waiting[0].turn <- true
	} else {
		q.busy = false
	}
	q.mu.Unlock()
	for _, b := range batch[1:] {
		b.turn <- false
	}
	return p.short, p.err
}

// placeBatch places a batch in one transaction. When that fails (on
// PostgreSQL a deadlock with an expiry sweep, say) each order is tried on
// its own, so that one order's trouble is not the others'.
func (db *DB) placeBatch(ctx context.Context, batch []*placing) {
	err := db.reserve(ctx, batch)
	if err == nil {
		return
	}
	if len(batch) == 1 {
		batch[0].short, batch[0].err = nil, err
		return
	}
	for _, p := range batch {
		p.short, p.err = nil, nil
		if err := db.reserve(ctx, []*placing{p}); err != nil {
			p.short, p.err = nil, err
		}
	}
}

// reserve runs one batch's transaction and sets each order's shortages.
func (db *DB) reserve(ctx context.Context, batch []*placing) error {
	var ids []kontor.ID
	for _, p := range batch {
		for _, it := range p.o.Items {
			ids = append(ids, it.Product)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return db.tx(ctx, "store.PlaceOrder", func(tx *sql.Tx) error {
		stock := make(map[kontor.ID]int, len(ids))
		for _, id := range ids {
			var n int
			err := db.queryRow(ctx, tx, db.lockStockSQL(), int64(id)).Scan(&n)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			stock[id] = n // a product deleted meanwhile has none
		}
		left := make(map[kontor.ID]int, 4)
		for _, p := range batch {
			p.short = nil
			// Items in product order, so that shortages come in one order.
			items := slices.Clone(p.o.Items)
			slices.SortStableFunc(items, func(a, b commerce.OrderItem) int { return cmp.Compare(a.Product, b.Product) })
			clear(left)
			for _, it := range items {
				have, seen := left[it.Product]
				if !seen {
					have = stock[it.Product]
				}
				if have < it.Quantity {
					p.short = append(p.short, commerce.Short{RetailerID: it.RetailerID, Wanted: it.Quantity, Available: have})
					continue
				}
				left[it.Product] = have - it.Quantity
			}
			if len(p.short) > 0 {
				continue // nothing of it is taken
			}
			o := p.o
			for _, it := range items {
				// The move is guarded (never below zero): under the
				// locks it cannot be refused, and if it were, the batch
				// fails rather than oversell.
				m := commerce.StockMove{Product: it.Product, Delta: -it.Quantity, Reason: commerce.ReasonSold, Source: commerce.SourceOrder, Order: o.ID, At: o.Created}
				ok, _, err := db.moveStock(ctx, tx, &m)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("store: the stock of product %s changed under its lock", it.Product)
				}
			}
			raw, err := json.Marshal(o.Items)
			if err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx, insertOrderSQL, int64(o.ID), int64(o.Business), int64(o.Catalog), string(o.Customer), string(raw),
				o.Currency, o.Subtotal, o.Total, o.State, o.Text, ms(o.Created), ms(o.Expires), o.Tax, o.Shipping, o.Discount); err != nil {
				return err
			}
			maps.Copy(stock, left)
		}
		return nil
	})
}

// lockStockSQL reads a product's stock and, on PostgreSQL, locks its row
// until the transaction ends; SQLite's one writer needs no lock.
func (db *DB) lockStockSQL() string {
	if db.d.name == "postgres" {
		return lockStockSQL + " FOR UPDATE"
	}
	return lockStockSQL
}

const lockStockSQL = `SELECT inventory FROM products WHERE id = $1`

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
		if err != nil {
			return err
		}
		if err := addOrderEvent(ctx, tx, id, commerce.OrderEvent{At: time.Now(), Kind: commerce.EventMove, From: from, To: to}); err != nil {
			return err
		}
		if !release {
			return nil
		}
		var items []commerce.OrderItem
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return err
		}
		return db.releaseStock(ctx, tx, released(id, items, time.Now())) // the move's time: MoveOrder is given none
	})
}
