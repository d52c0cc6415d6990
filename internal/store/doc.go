// Package store keeps kontor's data in SQL, on SQLite (modernc.org/sqlite,
// the default, embedded) or PostgreSQL (pgx), with one set of queries for
// both. It implements the Store interfaces the domain packages declare
// (identity.Store, router.Store).
//
// Queries use $N placeholders, which both engines take; dialect.go holds the
// few differences. Migrations are an ordered list in migrations.go, each run
// in a transaction and recorded in schema_version. Ids are made in Go and
// times are Unix milliseconds passed as parameters: no SQL now().
//
// SQLite: WAL, synchronous=NORMAL, one writer connection (every write
// transaction goes through it, so writers never see SQLITE_BUSY from each
// other) and a pool of readers. PostgreSQL: one pool.
//
// Row locks: a transaction that changes the stock of several products
// (an order placed, expired or canceled) changes them in product-id order,
// so that two of them never wait for each other on PostgreSQL; a product's
// stock_seq is changed by the same UPDATE as its inventory, so the row lock
// also numbers its stock history.
//
// store never imports transport packages. It holds no locks of its own.
package store
