package store

import (
	"context"
	"slices"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// heldReceiptsMax bounds the receipts HeldDelivery reads: an endpoint
// acknowledges its receipts within moments, so few are ever held.
const heldReceiptsMax = 1000

// HeldDelivery finds the delivered receipt of message id that the router
// queued for the devices of the account of phone (a self-hosted business
// number) and that is still held, not yet acknowledged: who it came from
// (the person who got the message) and when the router made it. ok is
// false when there is none (never delivered, not this number's, or
// acknowledged already).
func (db *DB) HeldDelivery(ctx context.Context, phone kontor.Phone, id kontor.ID) (from kontor.Phone, at time.Time, ok bool, err error) {
	const op = "store.HeldDelivery"
	rows, err := db.r.QueryContext(ctx, `SELECT q.from_phone, q.ts, q.body FROM queue q
		JOIN devices d ON d.id = q.device_id JOIN accounts a ON a.id = d.account_id
		WHERE a.phone = $1 AND q.kind = $2 ORDER BY q.id LIMIT $3`, string(phone), int(router.KindReceipt), heldReceiptsMax)
	if err != nil {
		return "", time.Time{}, false, internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		var ts int64
		var body []byte
		if err := rows.Scan(&f, &ts, &body); err != nil {
			return "", time.Time{}, false, internal(op, err)
		}
		r, err := router.DecodeReceipt(body)
		if err != nil || r.Status != wire.StatusDelivered || !slices.Contains(r.IDs, id) {
			continue
		}
		return kontor.Phone(f), time.UnixMilli(ts), true, nil
	}
	if err := rows.Err(); err != nil {
		return "", time.Time{}, false, internal(op, err)
	}
	return "", time.Time{}, false, nil
}
