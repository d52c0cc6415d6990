package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
)

// In a cluster a hosted endpoint's profile (its device credential, Signal
// keys and sessions, conversations: the files of a client.Storage) lives
// in endpoint_files, and the node that runs the endpoint holds its row of
// endpoint_leases. Every write of the files checks, in its transaction,
// that the writer still holds the lease at the epoch it was given
// (fencing): a node that was paused or cut off past its lease, while
// another took the endpoint over (and the epoch up), can never write
// Signal state again. On PostgreSQL the check locks the lease row FOR
// SHARE, so a takeover waits for a write in flight and a write after the
// takeover sees the new epoch.
func init() {
	addMigration("endpoint files 1", migration{sql: `
CREATE TABLE endpoint_leases (
	number  BIGINT PRIMARY KEY,
	holder  TEXT NOT NULL,
	epoch   BIGINT NOT NULL,
	expires BIGINT NOT NULL,
	renewed BIGINT NOT NULL
);
CREATE INDEX endpoint_leases_expires ON endpoint_leases (expires);
CREATE TABLE endpoint_files (
	number BIGINT NOT NULL,
	name   TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	data   BYTEA NOT NULL,
	PRIMARY KEY (number, name, seq)
);
CREATE TABLE endpoint_blobs (
	id     BIGINT NOT NULL,
	seq    INTEGER NOT NULL,
	number BIGINT NOT NULL,
	data   BYTEA NOT NULL,
	PRIMARY KEY (id, seq)
);
CREATE INDEX endpoint_blobs_number ON endpoint_blobs (number);
`})
}

// ErrLeaseLost is what a write of an endpoint's files wraps when the
// writer no longer holds the endpoint's lease at its epoch: another node
// took the endpoint over.
var ErrLeaseLost = errors.New("the endpoint's lease is held by another node")

// EndpointLease is a node's hold on a hosted endpoint: who, since which
// takeover (Epoch grows by one with each claim), until when.
type EndpointLease struct {
	Number  kontor.ID
	Holder  string
	Epoch   int64
	Expires time.Time
	Renewed time.Time
}

// forShare ends a SELECT of a row a transaction relies on: PostgreSQL
// locks it against updates until the commit; SQLite has one writer.
func (d dialect) forShare() string {
	if d.name == "postgres" {
		return " FOR SHARE"
	}
	return ""
}

// ClaimEndpoint leases number's endpoint to holder until expires, when
// nobody holds it, its lease ran out before now, or holder holds it
// already (a node back after a crash). Each claim raises the epoch, which
// fences the writes of every earlier holder. ok is false when another
// node holds a live lease; prev is the lease before the claim (zero for
// the first).
func (db *DB) ClaimEndpoint(ctx context.Context, number kontor.ID, holder string, now, expires time.Time) (got, prev EndpointLease, ok bool, err error) {
	const op = "store.ClaimEndpoint"
	err = db.tx(ctx, op, func(tx *sql.Tx) error {
		var exp, ren int64
		err := tx.QueryRowContext(ctx, `SELECT holder, epoch, expires, renewed FROM endpoint_leases WHERE number = $1`, int64(number)).
			Scan(&prev.Holder, &prev.Epoch, &exp, &ren)
		switch {
		case err == nil:
			prev.Number, prev.Expires, prev.Renewed = number, time.UnixMilli(exp), time.UnixMilli(ren)
		case errors.Is(err, sql.ErrNoRows):
		default:
			return err
		}
		var epoch int64
		err = tx.QueryRowContext(ctx, `INSERT INTO endpoint_leases (number, holder, epoch, expires, renewed) VALUES ($1,$2,1,$3,$4)
			ON CONFLICT (number) DO UPDATE SET holder = excluded.holder, epoch = endpoint_leases.epoch + 1,
				expires = excluded.expires, renewed = excluded.renewed
			WHERE endpoint_leases.expires < $4 OR endpoint_leases.holder = excluded.holder
			RETURNING epoch`, int64(number), holder, expires.UnixMilli(), now.UnixMilli()).Scan(&epoch)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		got, ok = EndpointLease{Number: number, Holder: holder, Epoch: epoch, Expires: time.UnixMilli(expires.UnixMilli()), Renewed: time.UnixMilli(now.UnixMilli())}, true
		return nil
	})
	return got, prev, ok, err
}

// RenewEndpoints extends holder's leases of the endpoints in held (number
// → epoch) to expires, in one transaction, and returns the numbers it
// still holds at their epoch; the others were taken over.
func (db *DB) RenewEndpoints(ctx context.Context, holder string, held map[kontor.ID]int64, now, expires time.Time) (map[kontor.ID]bool, error) {
	kept := make(map[kontor.ID]bool, len(held))
	if len(held) == 0 {
		return kept, nil
	}
	err := db.tx(ctx, "store.RenewEndpoints", func(tx *sql.Tx) error {
		clear(kept)
		for n, epoch := range held {
			res, err := tx.ExecContext(ctx, `UPDATE endpoint_leases SET expires = $4, renewed = $5 WHERE number = $1 AND holder = $2 AND epoch = $3`,
				int64(n), holder, epoch, expires.UnixMilli(), now.UnixMilli())
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 1 {
				kept[n] = true
			}
		}
		return nil
	})
	return kept, err
}

// Clock returns the database server's clock (PostgreSQL's
// clock_timestamp(); SQLite's is this machine's), to millisecond
// precision: a node compares it with its own, as every node's leases are
// written by one clock and read by the others' (server.skewWatch).
func (db *DB) Clock(ctx context.Context) (time.Time, error) {
	q := `SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS BIGINT)`
	if db.d.name == "postgres" {
		q = `SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)`
	}
	var ms int64
	if err := db.r.QueryRowContext(ctx, q).Scan(&ms); err != nil {
		return time.Time{}, internal("store.Clock", err)
	}
	return time.UnixMilli(ms), nil
}

// ReleaseEndpoint gives a lease up (a node that stops): the row stays,
// expired, so that another node takes the endpoint over at once.
func (db *DB) ReleaseEndpoint(ctx context.Context, l EndpointLease) error {
	return db.tx(ctx, "store.ReleaseEndpoint", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE endpoint_leases SET expires = 0 WHERE number = $1 AND holder = $2 AND epoch = $3`, int64(l.Number), l.Holder, l.Epoch)
		return err
	})
}

// DropEndpoint deletes an endpoint's lease and files (its number is gone,
// or its business is self-hosted now).
func (db *DB) DropEndpoint(ctx context.Context, number kontor.ID) error {
	return db.tx(ctx, "store.DropEndpoint", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_files WHERE number = $1`, int64(number)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_blobs WHERE number = $1`, int64(number)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM endpoint_leases WHERE number = $1`, int64(number))
		return err
	})
}

// FreeEndpoints returns up to limit leases that a node may claim at now:
// expired ones (longest expired first) and those of holder itself (a
// node back after a crash finds its own).
func (db *DB) FreeEndpoints(ctx context.Context, holder string, now time.Time, limit int) ([]EndpointLease, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT number, holder, epoch, expires, renewed FROM endpoint_leases
		WHERE expires < $1 OR holder = $2 ORDER BY expires LIMIT $3`, now.UnixMilli(), holder, limit)
	if err != nil {
		return nil, internal("store.FreeEndpoints", err)
	}
	defer rows.Close()
	var out []EndpointLease
	for rows.Next() {
		var l EndpointLease
		var n, exp, ren int64
		if err := rows.Scan(&n, &l.Holder, &l.Epoch, &exp, &ren); err != nil {
			return nil, internal("store.FreeEndpoints", err)
		}
		l.Number, l.Expires, l.Renewed = kontor.ID(n), time.UnixMilli(exp), time.UnixMilli(ren)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.FreeEndpoints", err)
	}
	return out, nil
}

// EndpointLoad counts the endpoints with a lease row and the nodes whose
// node number lease is live at now: a node's fair share of the endpoints
// is their quotient.
func (db *DB) EndpointLoad(ctx context.Context, now time.Time) (endpoints, nodes int, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM endpoint_leases), (SELECT COUNT(*) FROM node_leases WHERE expires >= $1)`, now.UnixMilli()).
		Scan(&endpoints, &nodes)
	if err != nil {
		return 0, 0, internal("store.EndpointLoad", err)
	}
	return endpoints, nodes, nil
}

// fence fails with ErrLeaseLost unless l is still the lease of its
// endpoint; on PostgreSQL the lease row stays locked FOR SHARE until the
// transaction ends.
func (db *DB) fence(ctx context.Context, tx *sql.Tx, op string, l EndpointLease) error {
	var holder string
	var epoch int64
	err := tx.QueryRowContext(ctx, `SELECT holder, epoch FROM endpoint_leases WHERE number = $1`+db.d.forShare(), int64(l.Number)).Scan(&holder, &epoch)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (holder != l.Holder || epoch != l.Epoch)) {
		return db.lostLease(op, l)
	}
	return err
}

// EndpointFile returns the content of an endpoint's file; an error
// wrapping fs.ErrNotExist (kind NotFound) when there is none.
func (db *DB) EndpointFile(ctx context.Context, number kontor.ID, name string) ([]byte, error) {
	const op = "store.EndpointFile"
	rows, err := db.r.QueryContext(ctx, `SELECT data FROM endpoint_files WHERE number = $1 AND name = $2 ORDER BY seq`, int64(number), name)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []byte
	found := false
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, internal(op, err)
		}
		out, found = append(out, b...), true
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	if !found {
		return nil, &kontor.Error{Kind: kontor.NotFound, Op: op, Msg: name, Err: fs.ErrNotExist}
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// WriteEndpointFiles replaces files of l's endpoint (name → content; a nil
// content removes the file) in one transaction, while l is its lease.
func (db *DB) WriteEndpointFiles(ctx context.Context, l EndpointLease, files map[string][]byte) error {
	const op = "store.WriteEndpointFiles"
	if db.d.name == "postgres" && len(files) == 1 {
		for name, b := range files {
			if b == nil {
				return db.fencedPG(ctx, op, l, removeFilePG, name, nil, true)
			}
			return db.fencedPG(ctx, op, l, writeFilePG, name, b, false)
		}
	}
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		if err := db.fence(ctx, tx, op, l); err != nil {
			return err
		}
		for name, b := range files {
			if b == nil {
				if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_files WHERE number = $1 AND name = $2`, int64(l.Number), name); err != nil {
					return err
				}
				continue
			}
			// Piece 0 is replaced in place (two writers of one file wait
			// for each other on its row), the appended pieces go.
			if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_files (number, name, seq, data) VALUES ($1,$2,0,$3)
				ON CONFLICT (number, name, seq) DO UPDATE SET data = excluded.data`, int64(l.Number), name, b); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_files WHERE number = $1 AND name = $2 AND seq > 0`, int64(l.Number), name); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppendEndpointFile appends b to an endpoint's file (a new piece: the
// file is not rewritten), while l is its lease.
func (db *DB) AppendEndpointFile(ctx context.Context, l EndpointLease, name string, b []byte) error {
	const op = "store.AppendEndpointFile"
	if db.d.name == "postgres" {
		return db.fencedPG(ctx, op, l, appendFilePG, name, b, false)
	}
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		if err := db.fence(ctx, tx, op, l); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO endpoint_files (number, name, seq, data)
			SELECT $1, $2, COALESCE(MAX(seq) + 1, 0), $3 FROM endpoint_files WHERE number = $1 AND name = $2`, int64(l.Number), name, b)
		return err
	})
}

// On PostgreSQL a write of one file is one statement, its own
// transaction: the fence (the lease row locked FOR SHARE in a CTE; under
// READ COMMITTED a takeover committed meanwhile is seen, as in fence) and
// the write together, one round trip instead of five. A write that
// changes no row was fenced off.
//
// It commits without waiting for the WAL flush (synchronous_commit off
// for that transaction only). That loses nothing that matters: the WAL
// is one sequence, and whatever made the write count — the router's
// commit of the message sealed with the session, the ack of a message
// opened with it — is a synchronous commit after it, which flushes it
// too. A crash of PostgreSQL can only lose such writes whose message
// never committed (a node that reopens the endpoint then seals again
// from the state before: nobody received what it had sealed). A profile
// write waits for no disk, as DirStorage.NoSync does on one node.
const (
	leaseCTE = `WITH c AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
		lease AS (SELECT number FROM endpoint_leases, c WHERE number = $1 AND holder = $2 AND epoch = $3 AND c.v = 'off' FOR SHARE OF endpoint_leases)`

	writeFilePG = leaseCTE + `, pieces AS (DELETE FROM endpoint_files WHERE number = $1 AND name = $4::text AND seq > 0 AND EXISTS (SELECT 1 FROM lease))
		INSERT INTO endpoint_files (number, name, seq, data) SELECT number, $4::text, 0, $5::bytea FROM lease
		ON CONFLICT (number, name, seq) DO UPDATE SET data = excluded.data`
	appendFilePG = leaseCTE + ` INSERT INTO endpoint_files (number, name, seq, data)
		SELECT number, $4::text, (SELECT COALESCE(MAX(seq) + 1, 0) FROM endpoint_files WHERE number = $1 AND name = $4::text), $5::bytea FROM lease`
	removeFilePG = leaseCTE + ` DELETE FROM endpoint_files WHERE number = $1 AND name = $4::text AND EXISTS (SELECT 1 FROM lease)`
)

// fencedPG runs one of the statements above. For a remove (none is
// nothing to remove) no row changed is checked against the lease.
func (db *DB) fencedPG(ctx context.Context, op string, l EndpointLease, q, name string, b []byte, remove bool) error {
	args := []any{int64(l.Number), l.Holder, l.Epoch, name}
	if !remove {
		args = append(args, b)
	}
	res, err := db.w.ExecContext(ctx, q, args...)
	if err != nil {
		return internal(op, err)
	}
	k, err := res.RowsAffected()
	if err != nil {
		return internal(op, err)
	}
	if k == 0 {
		if !remove {
			return db.lostLease(op, l)
		}
		var epoch int64
		err := db.r.QueryRowContext(ctx, `SELECT epoch FROM endpoint_leases WHERE number = $1 AND holder = $2`, int64(l.Number), l.Holder).Scan(&epoch)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && epoch != l.Epoch) {
			return db.lostLease(op, l)
		}
		if err != nil {
			return internal(op, err)
		}
	}
	db.committed(op)
	return nil
}

func (db *DB) lostLease(op string, l EndpointLease) error {
	return &kontor.Error{Kind: kontor.Conflict, Op: op, Msg: fmt.Sprintf("endpoint %s: lease epoch %d of %s", l.Number, l.Epoch, l.Holder), Err: ErrLeaseLost}
}

// EndpointFiles lists the names of an endpoint's files under prefix
// (all of them for ""), sorted.
func (db *DB) EndpointFiles(ctx context.Context, number kontor.ID, prefix string) ([]string, error) {
	const op = "store.EndpointFiles"
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT name FROM endpoint_files WHERE number = $1 AND name LIKE $2 ESCAPE '\'`, int64(number), like)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, internal(op, err)
		}
		if strings.HasPrefix(name, prefix) { // SQLite's LIKE ignores case
			out = append(out, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	slices.Sort(out)
	return out, nil
}

// storageTimeout bounds one call of an EndpointStorage (client.Storage
// takes no context).
const storageTimeout = 30 * time.Second

// EndpointStorage is a hosted endpoint's profile in the store: a
// client.Storage over endpoint_files whose every write is fenced by the
// lease it was made with. A write refused because the lease was lost
// returns an error wrapping ErrLeaseLost and calls OnLost (once), so that
// the node closes the endpoint at once. Lock is a lock within this
// EndpointStorage: the lease already keeps every other node out.
type EndpointStorage struct {
	db    *DB
	lease EndpointLease
	// OnLost, when set, is called once, in its own goroutine, the first
	// time a write is refused for a lost lease.
	OnLost func()
	lost   sync.Once

	mu    sync.Mutex // leaf
	locks map[string]bool
}

// EndpointStorage returns the profile of l's endpoint, written under l.
func (db *DB) EndpointStorage(l EndpointLease) *EndpointStorage {
	return &EndpointStorage{db: db, lease: l}
}

var _ client.Storage = (*EndpointStorage)(nil)

// Lease is the lease the storage writes under.
func (s *EndpointStorage) Lease() EndpointLease { return s.lease }

func checkName(name string) error {
	if name == "" || !fs.ValidPath(name) {
		return fmt.Errorf("store: %q is not a file name of a profile", name)
	}
	return nil
}

func (s *EndpointStorage) refused(err error) error {
	if errors.Is(err, ErrLeaseLost) && s.OnLost != nil {
		s.lost.Do(func() { go s.OnLost() })
	}
	return err
}

// ReadFile returns the content of name.
func (s *EndpointStorage) ReadFile(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	return s.db.EndpointFile(ctx, s.lease.Number, name)
}

// WriteFile replaces name with b in one transaction.
func (s *EndpointStorage) WriteFile(name string, b []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if b == nil {
		b = []byte{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	return s.refused(s.db.WriteEndpointFiles(ctx, s.lease, map[string][]byte{name: b}))
}

// AppendFile appends b to name as a new piece.
func (s *EndpointStorage) AppendFile(name string, b []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	return s.refused(s.db.AppendEndpointFile(ctx, s.lease, name, b))
}

// List returns the names of the files directly in dir, sorted.
func (s *EndpointStorage) List(dir string) ([]string, error) {
	prefix := ""
	if dir != "" {
		if err := checkName(dir); err != nil {
			return nil, err
		}
		prefix = dir + "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	names, err := s.db.EndpointFiles(ctx, s.lease.Number, prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		rest := n[len(prefix):]
		if !strings.Contains(rest, "/") && !strings.HasPrefix(path.Base(rest), ".") {
			out = append(out, rest)
		}
	}
	return out, nil
}

// Remove deletes name.
func (s *EndpointStorage) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	return s.refused(s.db.WriteEndpointFiles(ctx, s.lease, map[string][]byte{name: nil}))
}

// Lock takes the lock name within this storage.
func (s *EndpointStorage) Lock(name string) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[name] {
		return nil, fmt.Errorf("%w (%s)", client.ErrProfileInUse, name)
	}
	if s.locks == nil {
		s.locks = map[string]bool{}
	}
	s.locks[name] = true
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.locks, name)
	}, nil
}

// blobChunk is how many bytes of a media file one row of endpoint_blobs
// holds.
const blobChunk = 1 << 20

// PutEndpointBlob keeps the media file id of an endpoint's number (a
// hosted endpoint's media in a cluster: every node can serve them, and
// they survive the node that took them), read from r to its end, in one
// transaction of 1 MiB rows; it returns the bytes kept. An error of r
// keeps nothing. No lease fences it: ids are new, a stale holder's file
// harms nobody.
func (db *DB) PutEndpointBlob(ctx context.Context, number, id kontor.ID, r io.Reader) (int64, error) {
	const op = "store.PutEndpointBlob"
	var n int64
	buf := make([]byte, blobChunk)
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		n = 0
		for seq := 0; ; seq++ {
			k, rerr := io.ReadFull(r, buf)
			if k > 0 || seq == 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_blobs (id, seq, number, data) VALUES ($1,$2,$3,$4)`, int64(id), seq, int64(number), buf[:k]); err != nil {
					return err
				}
				n += int64(k)
			}
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				return nil
			}
			if rerr != nil {
				return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "reading the file", Err: rerr}
			}
		}
	})
	return n, err
}

// OpenEndpointBlob reads a media file kept by PutEndpointBlob, a row at a
// time; an error wrapping fs.ErrNotExist (NotFound) when there is none.
func (db *DB) OpenEndpointBlob(ctx context.Context, number, id kontor.ID) (io.ReadCloser, error) {
	b := &blobReader{ctx: ctx, db: db, number: number, id: id}
	if err := b.fetch(); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &kontor.Error{Kind: kontor.NotFound, Op: "store.OpenEndpointBlob", Msg: id.String(), Err: fs.ErrNotExist}
		}
		return nil, internal("store.OpenEndpointBlob", err)
	}
	return b, nil
}

// DeleteEndpointBlob deletes a media file; a missing one is no error.
func (db *DB) DeleteEndpointBlob(ctx context.Context, number, id kontor.ID) error {
	return db.tx(ctx, "store.DeleteEndpointBlob", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM endpoint_blobs WHERE id = $1 AND number = $2`, int64(id), int64(number))
		return err
	})
}

// blobReader reads a blob's rows in order.
type blobReader struct {
	ctx        context.Context
	db         *DB
	number, id kontor.ID
	seq        int
	buf        []byte
	done       bool
}

func (b *blobReader) fetch() error {
	err := b.db.r.QueryRowContext(b.ctx, `SELECT data FROM endpoint_blobs WHERE id = $1 AND number = $2 AND seq = $3`, int64(b.id), int64(b.number), b.seq).Scan(&b.buf)
	if errors.Is(err, sql.ErrNoRows) && b.seq > 0 {
		b.done = true
		return nil
	}
	b.seq++
	return err
}

func (b *blobReader) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.done {
			return 0, io.EOF
		}
		if err := b.fetch(); err != nil {
			return 0, internal("store.OpenEndpointBlob", err)
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *blobReader) Close() error { b.done, b.buf = true, nil; return nil }
