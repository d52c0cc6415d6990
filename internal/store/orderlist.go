package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

func init() {
	// The console lists a business's orders in one state, newest first;
	// orders_business_created (stock 1) serves the list of every state.
	// order_events is the history of an order's moves and charges (the
	// console's order page); placing, payments and expiry have their own
	// times already.
	addMigration("orders 3", migration{sql: `
CREATE INDEX orders_business_state ON orders (business_id, state, created);
CREATE TABLE order_events (
	order_id   BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	kind       TEXT NOT NULL,
	from_state TEXT NOT NULL DEFAULT '',
	to_state   TEXT NOT NULL DEFAULT '',
	tax        BIGINT NOT NULL DEFAULT 0,
	shipping   BIGINT NOT NULL DEFAULT 0,
	discount   BIGINT NOT NULL DEFAULT 0,
	total      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX order_events_order ON order_events (order_id, at);
`})
}

// ListOrders returns a page of a business's orders, newest first
// (commerce.OrderLister).
func (db *DB) ListOrders(ctx context.Context, q commerce.OrderQuery) ([]commerce.Order, bool, error) {
	const op = "store.ListOrders"
	args := []any{int64(q.Business), q.Limit + 1}
	where := "business_id = $1"
	if q.State != "" {
		args = append(args, q.State)
		where += fmt.Sprintf(" AND state = $%d", len(args))
	}
	if !q.After.Created.IsZero() || q.After.ID != 0 {
		args = append(args, ms(q.After.Created), int64(q.After.ID))
		// created <= first, so the index's range starts at the cursor.
		where += fmt.Sprintf(" AND created <= $%d AND (created < $%d OR id < $%d)", len(args)-1, len(args)-1, len(args))
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, catalog_id, customer, items, currency, subtotal, tax, shipping, discount, total, state, note, created, expires
		FROM orders WHERE `+where+` ORDER BY created DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, false, internal(op, err)
	}
	defer rows.Close()
	var out []commerce.Order
	for rows.Next() {
		o := commerce.Order{Business: q.Business}
		var id, cat, created, expires int64
		var customer, items string
		if err := rows.Scan(&id, &cat, &customer, &items, &o.Currency, &o.Subtotal, &o.Tax, &o.Shipping, &o.Discount, &o.Total, &o.State, &o.Text,
			&created, &expires); err != nil {
			return nil, false, internal(op, err)
		}
		o.ID, o.Catalog, o.Customer, o.Created, o.Expires = kontor.ID(id), kontor.ID(cat), kontor.Phone(customer), fromMS(created), fromMS(expires)
		if err := json.Unmarshal([]byte(items), &o.Items); err != nil {
			return nil, false, internal(op, fmt.Errorf("order %d: %w", id, err))
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, false, internal(op, err)
	}
	more := len(out) > q.Limit
	if more {
		out = out[:q.Limit]
	}
	return out, more, nil
}

// addOrderEvent records ev of order id in tx.
func addOrderEvent(ctx context.Context, tx *sql.Tx, id kontor.ID, ev commerce.OrderEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO order_events (order_id, at, kind, from_state, to_state, tax, shipping, discount, total)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, int64(id), ms(ev.At), ev.Kind, ev.From, ev.To, ev.Tax, ev.Shipping, ev.Discount, ev.Total)
	return err
}

// OrderEvents returns the moves and charges of an order, oldest first
// (commerce.OrderLister).
func (db *DB) OrderEvents(ctx context.Context, id kontor.ID) ([]commerce.OrderEvent, error) {
	const op = "store.OrderEvents"
	rows, err := db.r.QueryContext(ctx, `SELECT at, kind, from_state, to_state, tax, shipping, discount, total FROM order_events
		WHERE order_id = $1 ORDER BY at`, int64(id))
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []commerce.OrderEvent
	for rows.Next() {
		var ev commerce.OrderEvent
		var at int64
		if err := rows.Scan(&at, &ev.Kind, &ev.From, &ev.To, &ev.Tax, &ev.Shipping, &ev.Discount, &ev.Total); err != nil {
			return nil, internal(op, err)
		}
		ev.At = fromMS(at)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

var _ commerce.OrderLister = (*DB)(nil)
