package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

func init() {
	// The console lists a business's orders in one state, newest first;
	// orders_business_created (stock 1) serves the list of every state.
	addMigration("orders 3", migration{sql: `
CREATE INDEX orders_business_state ON orders (business_id, state, created);
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
		where += fmt.Sprintf(" AND (created < $%d OR (created = $%d AND id < $%d))", len(args)-1, len(args)-1, len(args))
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

var _ commerce.OrderLister = (*DB)(nil)
