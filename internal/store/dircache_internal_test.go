package store

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
)

// TestDirectoryCacheOtherNode: a row changed behind this node's back (as
// another node does, on the shared database) is served from the cache
// until the bus's hint makes the node forget it, or until CacheTTL.
func TestDirectoryCacheOtherNode(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: t.TempDir(), CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	b := business.Business{ID: ids.Next(), Name: "Blumen", Created: time.UnixMilli(0)}
	n := business.Number{ID: ids.Next(), Business: b.ID, Phone: "+4930123", Account: ids.Next(), Quality: "GREEN", Tier: "TIER_250", MPS: 80}
	a := business.App{ID: ids.Next(), Business: b.ID, Secret: "old"}
	h := sha256.Sum256([]byte("token"))
	tok := business.Token{ID: ids.Next(), Hash: h[:], Business: b.ID, Scopes: business.ScopeMessaging}
	if err := db.CreateBusiness(ctx, b, n, a, tok); err != nil {
		t.Fatal(err)
	}
	read := func() (business.Token, business.Number, business.Business, string) {
		t.Helper()
		tk, err1 := db.TokenByHash(ctx, h[:])
		nm, err2 := db.Number(ctx, n.ID)
		bz, err3 := db.Business(ctx, b.ID)
		sc, err4 := db.AppSecret(ctx, a.ID)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return tk, nm, bz, sc
	}
	read() // fills the cache
	for _, q := range []string{
		`UPDATE business_tokens SET revoked = TRUE`,
		`UPDATE business_numbers SET mps = 7`,
		`UPDATE businesses SET webhook_url = 'https://elsewhere.example/'`,
		`UPDATE business_apps SET secret = 'new'`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tk, nm, bz, sc := read()
	if tk.Revoked || nm.MPS != 80 || bz.WebhookURL != "" || sc != "old" {
		t.Fatalf("not served from the cache: %+v %+v %+v %q", tk, nm, bz, sc)
	}
	db.Forget(DirToken, tok.ID)
	db.Forget(DirNumber, n.ID)
	db.Forget(DirBusiness, b.ID)
	db.Forget(DirApp, a.ID)
	tk, nm, bz, sc = read()
	if !tk.Revoked || nm.MPS != 7 || bz.WebhookURL != "https://elsewhere.example/" || sc != "new" {
		t.Fatalf("after the hints: %+v %+v %+v %q", tk, nm, bz, sc)
	}
	// A revoked token is not kept: un-revoked behind the node's back, it
	// is read again at once.
	if _, err := db.w.ExecContext(ctx, `UPDATE business_tokens SET revoked = FALSE`); err != nil {
		t.Fatal(err)
	}
	if tk, _ := db.TokenByHash(ctx, h[:]); tk.Revoked {
		t.Fatal("a revoked token was cached")
	}
	// A partner's grant is kept until the hint; a grant not found is not
	// kept.
	p := business.Partner{ID: ids.Next(), Name: "Agentur"}
	if err := db.CreatePartner(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.Grant(ctx, p.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	granted := func() bool {
		t.Helper()
		ok, err := db.Granted(ctx, p.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	granted() // fills the cache
	if _, err := db.w.ExecContext(ctx, `DELETE FROM partner_grants`); err != nil {
		t.Fatal(err)
	}
	if !granted() {
		t.Fatal("the grant was not served from the cache")
	}
	db.Forget(DirGrant, p.ID)
	if granted() {
		t.Fatal("the grant was served after the hint")
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO partner_grants (partner_id, business_id) VALUES ($1, $2)`, int64(p.ID), int64(b.ID)); err != nil {
		t.Fatal(err)
	}
	if !granted() {
		t.Fatal("a grant not found was cached")
	}
	// A hint of a kind this node does not know forgets everything.
	if _, err := db.w.ExecContext(ctx, `UPDATE business_numbers SET mps = 9`); err != nil {
		t.Fatal(err)
	}
	db.Forget(DirKind('?'), 0)
	if nm, _ := db.Number(ctx, n.ID); nm.MPS != 9 {
		t.Fatalf("after an unknown hint: mps %d", nm.MPS)
	}
}

// TestDirectoryCacheTTL: without any hint, a row is read again once
// CacheTTL has passed.
func TestDirectoryCacheTTL(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: t.TempDir(), CacheTTL: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	b := business.Business{ID: ids.Next(), Name: "Blumen"}
	n := business.Number{ID: ids.Next(), Business: b.ID, Phone: "+4930124", Account: ids.Next(), MPS: 80}
	if err := db.CreateBusiness(ctx, b, n, business.App{ID: ids.Next(), Business: b.ID}, business.Token{ID: ids.Next(), Hash: []byte("x"), Business: b.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Number(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE business_numbers SET mps = 3`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	if nm, _ := db.Number(ctx, n.ID); nm.MPS != 3 {
		t.Fatalf("after the TTL: mps %d", nm.MPS)
	}
}

// TestDirCache: the cache's rules, table-driven.
func TestDirCache(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(c *dirCache) bool // whether the entry 1 is found at the end
		want bool
	}{
		{"put then get", func(c *dirCache) bool {
			dirPut(c, c.numbers, c.generation(), 1, business.Number{ID: 1})
			return true
		}, true},
		{"a change while reading: not kept", func(c *dirCache) bool {
			gen := c.generation()
			c.forget(DirBusiness, 99) // any change
			dirPut(c, c.numbers, gen, 1, business.Number{ID: 1})
			return true
		}, false},
		{"forgotten after the put", func(c *dirCache) bool {
			dirPut(c, c.numbers, c.generation(), 1, business.Number{ID: 1})
			c.forget(DirNumber, 1)
			return true
		}, false},
		{"another id forgotten", func(c *dirCache) bool {
			dirPut(c, c.numbers, c.generation(), 1, business.Number{ID: 1})
			c.forget(DirNumber, 2)
			gen := c.generation()
			dirPut(c, c.numbers, gen, 3, business.Number{ID: 3})
			return true
		}, true},
		{"bounded: full empties", func(c *dirCache) bool {
			for i := range dirCacheMax + 10 {
				dirPut(c, c.numbers, c.generation(), kontor.ID(i+1), business.Number{ID: kontor.ID(i + 1)})
			}
			return len(c.numbers) <= dirCacheMax
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newDirCache(time.Hour)
			if !tc.run(c) {
				t.Fatal("the cache broke a rule")
			}
			if _, ok := dirGet(c, c.numbers, 1); ok != tc.want {
				t.Fatalf("entry 1 found: %v, want %v", ok, tc.want)
			}
		})
	}
	off := newDirCache(-1)
	dirPut(off, off.numbers, off.generation(), 1, business.Number{ID: 1})
	if _, ok := dirGet(off, off.numbers, 1); ok {
		t.Fatal("a cache turned off kept a row")
	}
}
