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
// takes their rows in product-id order (a batch of orders locks them all
// first; an order expired or canceled changes them in that order), so that
// two of them never wait for each other on PostgreSQL; a product's
// stock_seq is changed by the same UPDATE as its inventory, so the row lock
// also numbers its stock history.
//
// The conversation rows and the rows around them (message records, the
// inbox log, webhooks) are written by the router's group commit, the
// endpoints' and the console at once: every transaction takes them in the
// one order retry.go lists, and the group commits run a transaction
// again that a deadlock, a serialization failure or a busy database
// failed (retryTx).
//
// Results of delivered webhooks (SettleWebhooksLater) wait in memory for
// the next group commit (the router's Tx, an endpoint's PutEndpointBatch),
// which records up to 256 of them in its transaction, under a savepoint so that their failure cannot fail the
// commit's own writes; a timer records them alone after
// Config.SettleLater (20 ms) when no commit comes, and Close records what
// waits.
//
// store never imports transport packages. Its locks of its own are the
// order queue's (orders.go), held only to add or take waiting orders,
// never across a query, the directory cache's (dircache.go) and the
// waiting webhook results' (webhook.go, lateSettles.mu: never held across
// a query), leaves; orders placed at the same moment share one
// transaction, run by one of their callers.
package store
