package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
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
// pending or confirmed, has no payment under way or made, and only when
// the amounts add up to the total with the order's own subtotal, so no
// order can ever hold a total that is not subtotal + tax + shipping -
// discount, or one below 0, or one other than what its payment charges.
func (db *DB) SetOrderCharges(ctx context.Context, id kontor.ID, tax, shipping, discount, total int64) error {
	const op = "store.SetOrderCharges"
	if tax < 0 || shipping < 0 || discount < 0 || total < 0 {
		return kontor.Errorf(kontor.Invalid, op, "amounts of an order are not below 0")
	}
	errNot := errors.New("not changed")
	why := ""
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		// Lock the order first: a payment starting now (StartPayment)
		// then waits for this transaction and finds the new total, or
		// committed before and the next statement sees it.
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET total = total WHERE id = $1`, int64(id)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE orders SET tax = $2, shipping = $3, discount = $4, total = $5
			WHERE id = $1 AND state IN ('pending', 'confirmed') AND subtotal + $2 + $3 - $4 = $5
			AND NOT EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND state NOT IN ('declined', 'canceled'))`, int64(id), tax, shipping, discount, total)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			if err != nil {
				return err
			}
			return addOrderEvent(ctx, tx, id, commerce.OrderEvent{At: time.Now(), Kind: commerce.EventCharges, Tax: tax, Shipping: shipping, Discount: discount, Total: total})
		}
		var state string
		var paying bool
		err = tx.QueryRowContext(ctx, `SELECT state, EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND state NOT IN ('declined', 'canceled'))
			FROM orders WHERE id = $1`, int64(id)).Scan(&state, &paying)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			why = fmt.Sprintf("there is no order %s", id)
		case err != nil:
			return err
		case state != "pending" && state != "confirmed":
			why = fmt.Sprintf("order %s is %s: its charges can change only while it is pending or confirmed", id, state)
		case paying:
			why = fmt.Sprintf("order %s has a payment under way or made: its charges cannot change now", id)
		default:
			why = fmt.Sprintf("the amounts of order %s do not add up to %d", id, total)
		}
		return errNot
	})
	if errors.Is(err, errNot) {
		return kontor.Errorf(kontor.Conflict, op, "%s", why)
	}
	return err
}
