package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// day is the length of a day bucket, in milliseconds.
const day = int64(24 * time.Hour / time.Millisecond)

func init() {
	// ledger_daily sums a business's message charges by UTC day, number,
	// market, category and currency, kept in the transaction of each
	// entry (as ledger_rollup is by month), so usage by day — the
	// console's billing charts, pricing analytics by DAILY — reads a row
	// per day and kind of message instead of every message.
	addMigration("ledger 3", migration{sql: `
CREATE TABLE ledger_daily (
	business_id BIGINT NOT NULL,
	day_start   BIGINT NOT NULL,
	number_id   BIGINT NOT NULL,
	market      TEXT NOT NULL,
	category    TEXT NOT NULL,
	currency    TEXT NOT NULL,
	qty         BIGINT NOT NULL,
	sum_nanos   BIGINT NOT NULL,
	PRIMARY KEY (business_id, day_start, number_id, market, category, currency)
);
INSERT INTO ledger_daily (business_id, day_start, number_id, market, category, currency, qty, sum_nanos)
SELECT business_id, (at / 86400000) * 86400000, number_id, market, category, currency, COUNT(*), SUM(nanos)
FROM ledger WHERE kind = 'message'
GROUP BY business_id, (at / 86400000) * 86400000, number_id, market, category, currency;
`})
	addHotWrite(dailySQL)
}

const dailySQL = `INSERT INTO ledger_daily (business_id, day_start, number_id, market, category, currency, qty, sum_nanos)
	VALUES ($1,$2,$3,$4,$5,$6,1,$7) ON CONFLICT (business_id, day_start, number_id, market, category, currency)
	DO UPDATE SET qty = ledger_daily.qty + 1, sum_nanos = ledger_daily.sum_nanos + excluded.sum_nanos`

// daily adds a message charge to its day's sums.
func (db *DB) daily(ctx context.Context, tx *sql.Tx, e billing.Entry) error {
	if e.Kind != billing.KindMessage {
		return nil
	}
	at := e.At.UnixMilli()
	_, err := db.exec(ctx, tx, dailySQL, int64(e.Business), at-at%day, int64(e.Number), e.Market, e.Category, e.Currency, int64(e.Amount))
	return err
}

// UsageRows sums message charges by time bucket, number, market and
// category (billing.UsageStore). Whole days from a day's start read the
// daily sums; other ranges and buckets read the entries.
func (db *DB) UsageRows(ctx context.Context, business kontor.ID, from, to time.Time, bucket time.Duration) ([]billing.UsageRow, error) {
	const op = "store.UsageRows"
	ms := bucket.Milliseconds()
	if ms <= 0 {
		return nil, kontor.Errorf(kontor.Invalid, op, "bad bucket %s", bucket)
	}
	q := `SELECT at / $4, number_id, market, category, currency, COUNT(*), SUM(nanos) FROM ledger
		WHERE business_id = $1 AND at >= $2 AND at < $3 AND kind = 'message' GROUP BY at / $4, number_id, market, category, currency`
	if ms%day == 0 && from.UnixMilli()%day == 0 && to.UnixMilli()%day == 0 {
		q = `SELECT day_start / $4, number_id, market, category, currency, SUM(qty), SUM(sum_nanos) FROM ledger_daily
		WHERE business_id = $1 AND day_start >= $2 AND day_start < $3 GROUP BY day_start / $4, number_id, market, category, currency`
	}
	rows, err := db.r.QueryContext(ctx, q, int64(business), from.UnixMilli(), to.UnixMilli(), ms)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []billing.UsageRow
	for rows.Next() {
		var r billing.UsageRow
		var b, num, sum int64
		if err := rows.Scan(&b, &num, &r.Market, &r.Category, &r.Currency, &r.Count, &sum); err != nil {
			return nil, internal(op, err)
		}
		r.Start, r.Number, r.Sum = time.UnixMilli(b*ms).UTC(), kontor.ID(num), billing.Nanos(sum)
		out = append(out, r)
	}
	return out, rows.Err()
}
