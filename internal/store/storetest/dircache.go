package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/store"
)

// testDirectoryCache: the rows the Business API reads on every call come
// through the directory cache, and every change of them made through the
// store is seen by the next read (nothing stale is served on the node
// that made it) and handed to the hook that tells the other nodes.
func testDirectoryCache(_ *testing.T, e *env) {
	var mu sync.Mutex
	var heard []string
	e.db.OnDirectoryChange(func(k store.DirKind, id kontor.ID) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, string(rune(k))+" "+id.String())
	})
	defer e.db.OnDirectoryChange(nil)
	b, n := e.newBusiness("+4930777777")
	app := mustApp(e, b.ID)
	h := sha256.Sum256([]byte("a token of the cache test"))
	tok := business.Token{ID: e.ids.Next(), Hash: h[:], Business: b.ID, Scopes: business.ScopeMessaging, Created: t0}
	if err := e.db.PutToken(e.ctx, tok); err != nil {
		e.t.Fatal(err)
	}
	// Each read twice: the second may come from the cache.
	for range 2 {
		if got, err := e.db.TokenByHash(e.ctx, h[:]); err != nil || got.ID != tok.ID || got.Revoked {
			e.t.Fatalf("token: %+v %v", got, err)
		}
		if got, err := e.db.Number(e.ctx, n.ID); err != nil || got.MPS != 80 || got.Tier != "TIER_250" || got.Quality != "GREEN" {
			e.t.Fatalf("number: %+v %v", got, err)
		}
		if got, err := e.db.Business(e.ctx, b.ID); err != nil || got.WebhookURL != "" {
			e.t.Fatalf("business: %+v %v", got, err)
		}
		if got, err := e.db.AppSecret(e.ctx, app); err != nil || got != "s3cret-+4930777777" {
			e.t.Fatalf("app secret: %q %v", got, err)
		}
	}
	// An unknown token is not found, every time.
	other := sha256.Sum256([]byte("nobody's token"))
	for range 2 {
		if _, err := e.db.TokenByHash(e.ctx, other[:]); kontor.KindOf(err) != kontor.NotFound {
			e.t.Fatalf("unknown token: %v", err)
		}
	}

	if err := e.db.RevokeToken(e.ctx, tok.ID); err != nil {
		e.t.Fatal(err)
	}
	if got, err := e.db.TokenByHash(e.ctx, h[:]); err != nil || !got.Revoked {
		e.t.Fatalf("revoked token right after the revocation: %+v %v", got, err)
	}
	if err := e.db.SetNumberMPS(e.ctx, n.ID, 5); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Number(e.ctx, n.ID); got.MPS != 5 {
		e.t.Fatalf("mps right after the change: %d", got.MPS)
	}
	if err := e.db.SetNumberTier(e.ctx, n.ID, "TIER_1K"); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Number(e.ctx, n.ID); got.Tier != "TIER_1K" {
		e.t.Fatalf("tier right after the change: %s", got.Tier)
	}
	st, err := e.db.QualityState(e.ctx, n.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if ok, err := e.db.ChangeQuality(e.ctx, business.QualityChange{Number: n.ID, Business: b.ID, Seq: st.Seq, OldQuality: "GREEN", Quality: "YELLOW",
		OldTier: "TIER_1K", Tier: "TIER_250", At: t0}); err != nil || !ok {
		e.t.Fatalf("quality change: %v %v", ok, err)
	}
	if got, _ := e.db.Number(e.ctx, n.ID); got.Quality != "YELLOW" || got.Tier != "TIER_250" {
		e.t.Fatalf("quality and tier right after the change: %s %s", got.Quality, got.Tier)
	}
	if err := e.db.SetWebhook(e.ctx, b.ID, "https://hooks.example/new", ""); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Business(e.ctx, b.ID); got.WebhookURL != "https://hooks.example/new" {
		e.t.Fatalf("webhook URL right after the change: %q", got.WebhookURL)
	}
	if err := e.db.SetAppSecret(e.ctx, app, "rotated"); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.AppSecret(e.ctx, app); got != "rotated" {
		e.t.Fatalf("app secret right after the rotation: %q", got)
	}

	// A partner's grant: granted and taken away, each seen by the next
	// read.
	partner := business.Partner{ID: e.ids.Next(), Name: "Agentur Cache", Created: t0}
	if err := e.db.CreatePartner(e.ctx, partner); err != nil {
		e.t.Fatal(err)
	}
	granted := func(want bool, what string) {
		e.t.Helper()
		for range 2 {
			if ok, err := e.db.Granted(e.ctx, partner.ID, b.ID); err != nil || ok != want {
				e.t.Fatalf("granted %s: %v %v, want %v", what, ok, err, want)
			}
		}
	}
	granted(false, "before the grant")
	if err := e.db.Grant(e.ctx, partner.ID, b.ID); err != nil {
		e.t.Fatal(err)
	}
	granted(true, "right after the grant")
	if err := e.db.Ungrant(e.ctx, partner.ID, b.ID); err != nil {
		e.t.Fatal(err)
	}
	granted(false, "right after the ungrant")
	if err := e.db.Ungrant(e.ctx, partner.ID, b.ID); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("ungrant without a grant: %v", err)
	}

	// Contacts: each write is seen by the next read.
	if c, err := e.db.Contact(e.ctx, n.ID, phoneA); err != nil || !c.LastInbound.IsZero() || c.NoticeSent {
		e.t.Fatalf("a new contact: %+v %v", c, err)
	}
	if err := e.db.NoteInbound(e.ctx, n.ID, phoneA, t0); err != nil {
		e.t.Fatal(err)
	}
	if c, _ := e.db.Contact(e.ctx, n.ID, phoneA); !c.LastInbound.Equal(t0) {
		e.t.Fatalf("last inbound right after it was noted: %v", c.LastInbound)
	}
	if first, err := e.db.ClaimNotice(e.ctx, n.ID, phoneA); err != nil || !first {
		e.t.Fatalf("claim notice: %v %v", first, err)
	}
	if c, _ := e.db.Contact(e.ctx, n.ID, phoneA); !c.NoticeSent {
		e.t.Fatal("notice not sent right after the claim")
	}
	ref := t0.Add(time.Minute)
	if err := e.db.NoteReferral(e.ctx, n.ID, phoneA, ref); err != nil {
		e.t.Fatal(err)
	}
	if c, _ := e.db.Contact(e.ctx, n.ID, phoneA); !c.EntryPoint.Referral.Equal(ref) || !c.EntryPoint.Opened.IsZero() {
		e.t.Fatalf("entry point right after the referral: %+v", c.EntryPoint)
	}
	if ok, err := e.db.OpenEntryPoint(e.ctx, n.ID, phoneA, ref, ref.Add(time.Second)); err != nil || !ok {
		e.t.Fatalf("open entry point: %v %v", ok, err)
	}
	if c, _ := e.db.Contact(e.ctx, n.ID, phoneA); !c.EntryPoint.Opened.Equal(ref.Add(time.Second)) {
		e.t.Fatalf("entry point right after it opened: %+v", c.EntryPoint)
	}

	mu.Lock()
	defer mu.Unlock()
	g := "g " + partner.ID.String()
	want := []string{"t " + tok.ID.String(), "n " + n.ID.String(), "n " + n.ID.String(), "n " + n.ID.String(), "b " + b.ID.String(), "a " + app.String(), g, g, g}
	if len(heard) != len(want) {
		e.t.Fatalf("the hook heard %v, want %v", heard, want)
	}
	for i := range want {
		if heard[i] != want[i] {
			e.t.Fatalf("the hook heard %v, want %v", heard, want)
		}
	}
}
