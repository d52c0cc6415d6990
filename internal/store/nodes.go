package store

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"time"

	"github.com/kontor-chat/kontor"
)

func init() {
	addMigration("nodes 1", migration{sql: `
CREATE TABLE node_leases (
	node    INTEGER PRIMARY KEY,
	holder  TEXT NOT NULL,
	expires BIGINT NOT NULL
);
`})
}

// MaxNodes is how many node numbers ids have room for.
const MaxNodes = 1024

// ClaimNode leases a node number to holder until expires: want when it is
// 0 or more, else any free one. A number is free when nobody holds it or
// its lease ran out. It returns kontor.Conflict when want (or every number)
// is taken.
func (db *DB) ClaimNode(ctx context.Context, holder string, want int, now, expires time.Time) (int, error) {
	const op = "store.ClaimNode"
	got := -1
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		try := func(n int) (bool, error) {
			res, err := tx.ExecContext(ctx, `INSERT INTO node_leases (node, holder, expires) VALUES ($1,$2,$3)
				ON CONFLICT (node) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
				WHERE node_leases.expires < $4 OR node_leases.holder = excluded.holder`, n, holder, expires.UnixMilli(), now.UnixMilli())
			if err != nil {
				return false, err
			}
			k, err := res.RowsAffected()
			return k == 1, err
		}
		if want >= 0 {
			ok, err := try(want)
			if err != nil {
				return err
			}
			if !ok {
				return kontor.Errorf(kontor.Conflict, op, "node number %d is held by another running node; give each node its own --node, or -1 to pick a free one", want)
			}
			got = want
			return nil
		}
		start := rand.IntN(MaxNodes)
		for i := range MaxNodes {
			n := (start + i) % MaxNodes
			ok, err := try(n)
			if err != nil {
				return err
			}
			if ok {
				got = n
				return nil
			}
		}
		return kontor.Errorf(kontor.Conflict, op, "all %d node numbers are held", MaxNodes)
	})
	return got, err
}

// RenewNode extends holder's lease of node; false when it lost the lease.
func (db *DB) RenewNode(ctx context.Context, node int, holder string, expires time.Time) (bool, error) {
	var ok bool
	err := db.tx(ctx, "store.RenewNode", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE node_leases SET expires = $3 WHERE node = $1 AND holder = $2`, node, holder, expires.UnixMilli())
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		ok = k == 1
		return err
	})
	return ok, err
}

// ReleaseNode gives holder's lease of node up.
func (db *DB) ReleaseNode(ctx context.Context, node int, holder string) error {
	return db.tx(ctx, "store.ReleaseNode", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM node_leases WHERE node = $1 AND holder = $2`, node, holder)
		return err
	})
}
