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
// store never imports transport packages. It holds no locks of its own.
package store
