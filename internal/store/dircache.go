package store

import (
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
)

// The directory cache keeps the rows every Business API call reads — the
// access token by its hash, the phone number, the business (its webhook
// URL), the app's secret, and for a partner's token the business's grant
// of access to the partner — so that a call does not read them again from
// the database. DB.Number, DB.Business, DB.TokenByHash, DB.AppSecret and
// DB.Granted read through it; reads inside a transaction never do.
//
// Correctness:
//   - Every write of those rows goes through this package, and each one,
//     once committed, forgets what it changed on this node before it
//     returns (DB.changed): the next read on this node sees the change.
//   - The same write tells the other nodes through the hook set with
//     OnDirectoryChange (the server publishes it on the bus); a node that
//     hears it forgets the row (DB.Forget).
//   - A hint can be lost (the bus carries hints, never data), so an entry
//     is kept at most CacheTTL: that bounds how long another node may act
//     on a row changed elsewhere.
//   - A read that raced with a change does not put its (maybe old) row in
//     the cache: each change bumps a generation, and a read only fills the
//     cache when the generation it started under is still current.
//   - Only rows found are kept (never "no such token", never "not
//     granted"), revoked tokens are not kept, and each kind holds at most dirCacheMax entries (emptied
//     when full): unknown or revoked tokens cannot fill memory. Expiry is
//     checked by the caller against its clock on every call
//     (business.Service.Authenticate), so a cached token still expires on
//     time.
//
// Contacts (what a number's endpoint knows of a person: the 24-hour
// window's last inbound message, the hosted notice, the entry point) are
// kept too. They are read and written only by the number's endpoint, which
// runs in one place (one node's hosted endpoints, or a self-hosted
// process), and every write of them is in endpoint.go here: those writes
// forget the contact on this node, and no hint goes over the bus.
//
// Lock order: dirCache.mu is a leaf, never held across a query or a call.

// DirKind says which kind of row changed.
type DirKind byte

// The kinds of rows the directory cache keeps.
const (
	DirToken    DirKind = 't' // id: the token's id
	DirNumber   DirKind = 'n' // id: the phone-number id
	DirBusiness DirKind = 'b' // id: the business (WABA) id
	DirApp      DirKind = 'a' // id: the app id
	DirGrant    DirKind = 'g' // id: the partner id (all of its grants)
)

// DefaultCacheTTL is how long a cached row is kept unless Config says.
const DefaultCacheTTL = 2 * time.Second

// dirCacheMax bounds the entries of one kind.
const dirCacheMax = 8192

type cached[T any] struct {
	v       T
	expires time.Time
}

// dirMap is the cache of one kind of row.
type dirMap[K comparable, T any] map[K]cached[T]

type dirCache struct {
	ttl time.Duration // <= 0: nothing is cached

	mu         sync.Mutex
	gen        uint64
	tokens     dirMap[[32]byte, business.Token]
	numbers    dirMap[kontor.ID, business.Number]
	businesses dirMap[kontor.ID, business.Business]
	secrets    dirMap[kontor.ID, string]
	grants     dirMap[grantKey, struct{}] // the grants found
	contacts   dirMap[contactKey, endpoint.Contact]
	onChange   func(DirKind, kontor.ID)
}

func newDirCache(ttl time.Duration) *dirCache {
	return &dirCache{ttl: ttl, tokens: dirMap[[32]byte, business.Token]{}, numbers: dirMap[kontor.ID, business.Number]{},
		businesses: dirMap[kontor.ID, business.Business]{}, secrets: dirMap[kontor.ID, string]{},
		grants: dirMap[grantKey, struct{}]{}, contacts: dirMap[contactKey, endpoint.Contact]{}}
}

// grantKey is a partner's access to a business.
type grantKey struct {
	partner, business kontor.ID
}

// contactKey is a contact of a number.
type contactKey struct {
	number kontor.ID
	peer   kontor.Phone
}

// forgetContact drops a contact this node changed.
func (c *dirCache) forgetContact(number kontor.ID, peer kontor.Phone) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.contacts, contactKey{number, peer})
}

// generation returns the generation a read starts under.
func (c *dirCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func dirGet[K comparable, T any](c *dirCache, m dirMap[K, T], k K) (T, bool) {
	var zero T
	if c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	e, ok := m[k]
	c.mu.Unlock()
	if !ok || !time.Now().Before(e.expires) {
		return zero, false
	}
	return e.v, true
}

func dirPut[K comparable, T any](c *dirCache, m dirMap[K, T], gen uint64, k K, v T) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // a change came while this was read: the row may be old
	}
	if len(m) >= dirCacheMax {
		clear(m)
	}
	m[k] = cached[T]{v: v, expires: time.Now().Add(c.ttl)}
}

// forget drops what the cache holds of a row.
func (c *dirCache) forget(kind DirKind, id kontor.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch kind {
	case DirToken:
		for h, e := range c.tokens {
			if e.v.ID == id {
				delete(c.tokens, h)
			}
		}
	case DirNumber:
		delete(c.numbers, id)
	case DirBusiness:
		delete(c.businesses, id)
	case DirApp:
		delete(c.secrets, id)
	case DirGrant:
		for k := range c.grants {
			if k.partner == id {
				delete(c.grants, k)
			}
		}
	default: // a kind this node does not know (a newer node's): forget all
		clear(c.tokens)
		clear(c.numbers)
		clear(c.businesses)
		clear(c.secrets)
		clear(c.grants)
		clear(c.contacts)
	}
}

// OnDirectoryChange sets fn to hear of every committed change of a cached
// row on this node (after the node forgot it itself), so that other nodes
// can be told. fn must not block.
func (db *DB) OnDirectoryChange(fn func(kind DirKind, id kontor.ID)) {
	db.dir.mu.Lock()
	defer db.dir.mu.Unlock()
	db.dir.onChange = fn
}

// Forget drops a row another node changed from this node's cache.
func (db *DB) Forget(kind DirKind, id kontor.ID) { db.dir.forget(kind, id) }

// changed forgets rows this node changed and tells the other nodes; the
// write has committed.
func (db *DB) changed(kind DirKind, ids ...kontor.ID) {
	for _, id := range ids {
		db.dir.forget(kind, id)
	}
	db.dir.mu.Lock()
	fn := db.dir.onChange
	db.dir.mu.Unlock()
	if fn != nil {
		for _, id := range ids {
			fn(kind, id)
		}
	}
}

// tokenKey is the cache key of a token's hash; ok is false for a hash of
// another length (never cached).
func tokenKey(hash []byte) (k [32]byte, ok bool) {
	if len(hash) != len(k) {
		return k, false
	}
	copy(k[:], hash)
	return k, true
}

// changing passes on err, the outcome of a write of a cached row, once the
// row is forgotten here and the other nodes are told: even when err says
// the write failed, as a commit can fail after the database applied it.
func (db *DB) changing(kind DirKind, id kontor.ID, err error) error {
	db.changed(kind, id)
	return err
}
