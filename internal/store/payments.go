package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/payments"
)

var _ payments.Store = (*DB)(nil)

// Payments: one row per attempt to pay an order, keyed by its idempotency
// key. payments_live lets an order have at most one payment that holds
// money or may take it; declined, canceled and refunded attempts do not
// count.
// announced is the last state the observers (webhooks, billing) accepted.
func init() {
	addMigration("payments 1", migration{sql: `
CREATE TABLE payments (
	id          BIGINT PRIMARY KEY,
	order_id    BIGINT NOT NULL,
	business_id BIGINT NOT NULL,
	customer    TEXT NOT NULL,
	idem_key    TEXT NOT NULL UNIQUE,
	provider    TEXT NOT NULL,
	provider_id TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL,
	card        TEXT NOT NULL DEFAULT '',
	amount      BIGINT NOT NULL,
	currency    TEXT NOT NULL,
	state       TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	refund_id   TEXT NOT NULL DEFAULT '',
	created     BIGINT NOT NULL,
	updated     BIGINT NOT NULL,
	announced   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX payments_live ON payments (order_id) WHERE state NOT IN ('declined', 'canceled');
CREATE INDEX payments_order ON payments (order_id, id);
CREATE INDEX payments_charge ON payments (provider, provider_id);
CREATE INDEX payments_open ON payments (updated) WHERE state IN ('created', 'pending', 'refunding');
CREATE INDEX payments_unannounced ON payments (updated) WHERE announced <> state;
`})
	// A refunded payment no longer holds its order: an order whose total
	// changed while it was being paid is refunded and may be paid again
	// (orders that were refunded or expired cannot be paid anyway).
	addMigration("payments 2", migration{sql: `
DROP INDEX payments_live;
CREATE UNIQUE INDEX payments_live ON payments (order_id) WHERE state NOT IN ('declined', 'canceled', 'refunded');
`})
}

const paymentCols = `id, order_id, business_id, customer, idem_key, provider, provider_id, method, card, amount, currency, state, reason, refund_id, created, updated, announced`

func scanPayment(row interface{ Scan(...any) error }) (payments.Payment, error) {
	var p payments.Payment
	var id, order, biz, created, updated int64
	var customer, state, announced string
	err := row.Scan(&id, &order, &biz, &customer, &p.Key, &p.Provider, &p.ProviderID, &p.Method, &p.Card, &p.Amount, &p.Currency,
		&state, &p.Reason, &p.Refund, &created, &updated, &announced)
	p.ID, p.Order, p.Business, p.Customer, p.State, p.Announced = kontor.ID(id), kontor.ID(order), kontor.ID(biz), kontor.Phone(customer), payments.State(state), payments.State(announced)
	p.Created, p.Updated = fromMS(created), fromMS(updated)
	return p, err
}

// StartPayment records a new attempt unless its key, or a live payment of
// its order, is there already (payments.Store). Both are unique indexes,
// so racing requests on several nodes start one payment.
func (db *DB) StartPayment(ctx context.Context, p payments.Payment) (payments.Payment, bool, error) {
	const op = "store.StartPayment"
	var got payments.Payment
	existed := false
	errTotal := errors.New("the order's total changed")
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO payments (`+paymentCols+`) VALUES `+values(1, 17, 1)+` ON CONFLICT DO NOTHING`,
			int64(p.ID), int64(p.Order), int64(p.Business), string(p.Customer), p.Key, p.Provider, p.ProviderID, p.Method, p.Card, p.Amount, p.Currency,
			string(p.State), p.Reason, p.Refund, ms(p.Created), ms(p.Updated), string(p.Announced))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			// Lock the order (after the payment, as MovePayment does) and
			// check it still costs p.Amount: a payment request changing
			// its charges (SetOrderCharges) either went first, and this
			// payment is undone, or waits and then sees this payment and
			// is refused. So a payment always charges the order's total.
			lock, err := tx.ExecContext(ctx, `UPDATE orders SET total = total WHERE id = $1 AND total = $2`, int64(p.Order), p.Amount)
			if err != nil {
				return err
			}
			if n, _ := lock.RowsAffected(); n == 0 {
				return errTotal
			}
			got = p
			return nil
		}
		existed = true
		got, err = scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE idem_key = $1`, p.Key))
		if errors.Is(err, sql.ErrNoRows) {
			got, err = scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE order_id = $1 AND state NOT IN ('declined', 'canceled', 'refunded')`, int64(p.Order)))
		}
		return err
	})
	if errors.Is(err, errTotal) {
		return payments.Payment{}, false, kontor.Errorf(kontor.Conflict, op, "order %s does not cost %d %s (any more): its charges changed; look at it and pay again", p.Order, p.Amount, p.Currency)
	}
	return got, existed, err
}

// Payment returns a payment (payments.Store).
func (db *DB) Payment(ctx context.Context, id kontor.ID) (payments.Payment, error) {
	p, err := scanPayment(db.r.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = $1`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("store.Payment", "no payment %s", id)
	}
	if err != nil {
		return p, internal("store.Payment", err)
	}
	return p, nil
}

// PaymentByCharge finds a payment by its provider's charge id
// (payments.Store).
func (db *DB) PaymentByCharge(ctx context.Context, provider, id string) (payments.Payment, error) {
	if id == "" {
		return payments.Payment{}, notFound("store.PaymentByCharge", "no charge id")
	}
	p, err := scanPayment(db.r.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE provider = $1 AND provider_id = $2`, provider, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("store.PaymentByCharge", "no %s charge %q", provider, id)
	}
	if err != nil {
		return p, internal("store.PaymentByCharge", err)
	}
	return p, nil
}

// OrderPayments returns an order's payments, oldest first (payments.Store).
func (db *DB) OrderPayments(ctx context.Context, order kontor.ID) ([]payments.Payment, error) {
	return db.queryPayments(ctx, "store.OrderPayments", `SELECT `+paymentCols+` FROM payments WHERE order_id = $1 ORDER BY id`, int64(order))
}

func (db *DB) queryPayments(ctx context.Context, op, q string, args ...any) ([]payments.Payment, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []payments.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// MovePayment changes a payment's state if it is in one of m.From, and
// with it the order's: to paid (only while the order may still be paid:
// pending with its reservation running past m.At, or confirmed, and only
// while its total and currency are still the payment's; otherwise the
// payment becomes refunding) or to refunded (payments.Store). The
// UPDATE of the order is conditional, so it and the reservation sweep
// (ExpireOrders) cannot both win.
func (db *DB) MovePayment(ctx context.Context, m payments.Move) (payments.Payment, bool, error) {
	const op = "store.MovePayment"
	if len(m.From) == 0 {
		return payments.Payment{}, false, kontor.Errorf(kontor.Internal, op, "a move from no state")
	}
	var got payments.Payment
	applied := false
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		applied = false
		args := []any{int64(m.ID), string(m.To), m.ProviderID, m.Card, m.Reason, m.Refund, ms(m.At)}
		in := make([]string, len(m.From))
		for i, s := range m.From {
			args = append(args, string(s))
			in[i] = "$" + strconv.Itoa(8+i)
		}
		var order, amount int64
		var currency string
		err := tx.QueryRowContext(ctx, `UPDATE payments SET state = $2,
				provider_id = CASE WHEN $3 = '' THEN provider_id ELSE $3 END,
				card = CASE WHEN $4 = '' THEN card ELSE $4 END,
				reason = CASE WHEN $5 = '' THEN reason ELSE $5 END,
				refund_id = CASE WHEN $6 = '' THEN refund_id ELSE $6 END,
				updated = $7
			WHERE id = $1 AND state IN (`+strings.Join(in, ", ")+`) RETURNING order_id, amount, currency`, args...).Scan(&order, &amount, &currency)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			applied = true
			if m.PayOrder && m.To == payments.Succeeded {
				res, err := tx.ExecContext(ctx, `UPDATE orders SET state = 'paid' WHERE id = $1 AND total = $3 AND currency = $4
					AND (state = 'confirmed' OR (state = 'pending' AND expires > $2))`, order, ms(m.At), amount, currency)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					reason := "the order expired or was canceled before the payment completed"
					var total int64
					var cur, state string
					if err := tx.QueryRowContext(ctx, `SELECT total, currency, state FROM orders WHERE id = $1`, order).Scan(&total, &cur, &state); err != nil {
						return err
					}
					if (state == "pending" || state == "confirmed") && (total != amount || cur != currency) {
						reason = "the order's total changed while it was being paid; pay it again"
					}
					if _, err := tx.ExecContext(ctx, `UPDATE payments SET state = 'refunding', reason = $2 WHERE id = $1`, int64(m.ID), reason); err != nil {
						return err
					}
				}
			}
			if m.RefundOrder && m.To == payments.Refunded {
				if _, err := tx.ExecContext(ctx, `UPDATE orders SET state = 'refunded' WHERE id = $1 AND state IN ('paid', 'shipped', 'completed')`, order); err != nil {
					return err
				}
			}
		}
		got, err = scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = $1`, int64(m.ID)))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "no payment %s", m.ID)
		}
		return err
	})
	return got, applied, err
}

// AnnouncePayment records that the observers accepted state s
// (payments.Store).
func (db *DB) AnnouncePayment(ctx context.Context, id kontor.ID, s payments.State) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE payments SET announced = $2 WHERE id = $1 AND state = $2`, int64(id), string(s)); err != nil {
		return internal("store.AnnouncePayment", err)
	}
	return nil
}

// PaymentsToSweep returns payments a sweep must look at: created or
// pending ones last changed before stale, refunding ones, and those whose
// state was not announced yet (payments.Store).
func (db *DB) PaymentsToSweep(ctx context.Context, stale time.Time, limit int) ([]payments.Payment, error) {
	return db.queryPayments(ctx, "store.PaymentsToSweep", `SELECT `+paymentCols+` FROM payments
			WHERE state IN ('created', 'pending', 'refunding') AND (state = 'refunding' OR updated < $1)
		UNION
		SELECT `+paymentCols+` FROM payments WHERE announced <> state
		ORDER BY updated LIMIT $2`, ms(stale), limit)
}
