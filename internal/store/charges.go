package store

import (
	"context"

	"github.com/kontor-chat/kontor"
)

func init() {
	// Tax, shipping and discount of an order, in minor units of its
	// currency; 0 for the orders placed before (their total is their
	// subtotal, which is what they hold).
	addMigration("orders 2", migration{sql: `
ALTER TABLE orders ADD COLUMN tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN shipping BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN discount BIGINT NOT NULL DEFAULT 0;
`})
}

// SetOrderCharges sets an order's tax, shipping, discount and total in one
// conditional write (commerce.ChargeStore): only while the order is
// pending or confirmed, and only when the amounts add up to the total
// with the order's own subtotal, so no order can ever hold a total that
// is not subtotal + tax + shipping - discount, or one below 0.
func (db *DB) SetOrderCharges(ctx context.Context, id kontor.ID, tax, shipping, discount, total int64) error {
	const op = "store.SetOrderCharges"
	if tax < 0 || shipping < 0 || discount < 0 || total < 0 {
		return kontor.Errorf(kontor.Invalid, op, "amounts of an order are not below 0")
	}
	res, err := db.w.ExecContext(ctx, `UPDATE orders SET tax = $2, shipping = $3, discount = $4, total = $5
		WHERE id = $1 AND state IN ('pending', 'confirmed') AND subtotal + $2 + $3 - $4 = $5`, int64(id), tax, shipping, discount, total)
	if err != nil {
		return internal(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(op, err)
	} else if n == 0 {
		return kontor.Errorf(kontor.Conflict, op, "order %s is not pending or confirmed, or its amounts do not add up to %d", id, total)
	}
	return nil
}
