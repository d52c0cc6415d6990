package storetest

import (
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// newBusiness stores a business with one number and returns both.
func (e *env) newBusiness(phone kontor.Phone) (business.Business, business.Number) {
	e.t.Helper()
	b := business.Business{ID: e.ids.Next(), Name: "Blumen " + string(phone), Created: t0}
	n := business.Number{ID: e.ids.Next(), Business: b.ID, Phone: phone, Account: e.ids.Next(), VerifiedName: b.Name,
		Quality: "GREEN", Tier: "TIER_250", MPS: 80, Created: t0}
	a := business.App{ID: e.ids.Next(), Business: b.ID, Secret: "s3cret-" + string(phone), Created: t0}
	tok := business.Token{ID: e.ids.Next(), Hash: []byte("hash-" + string(phone)), Business: b.ID, Scopes: business.ScopeMessaging, Created: t0}
	if err := e.db.CreateBusiness(e.ctx, b, n, a, tok); err != nil {
		e.t.Fatal(err)
	}
	return b, n
}

func testBusinesses(_ *testing.T, e *env) {
	b, n := e.newBusiness("+4930111111")
	got, err := e.db.Business(e.ctx, b.ID)
	if err != nil || got.Name != b.Name || !got.Created.Equal(t0) {
		e.t.Fatalf("business: %+v %v", got, err)
	}
	byPhone, err := e.db.NumberByPhone(e.ctx, "+4930111111")
	if err != nil || byPhone.ID != n.ID || byPhone.MPS != 80 || byPhone.Tier != "TIER_250" {
		e.t.Fatalf("number by phone: %+v %v", byPhone, err)
	}
	// A number belongs to one business only.
	b2 := business.Business{ID: e.ids.Next(), Name: "x", Created: t0}
	n2 := n
	n2.ID, n2.Business = e.ids.Next(), b2.ID
	if err := e.db.CreateBusiness(e.ctx, b2, n2, business.App{ID: e.ids.Next(), Business: b2.ID, Secret: "y", Created: t0},
		business.Token{ID: e.ids.Next(), Hash: []byte("other"), Business: b2.ID, Scopes: 1, Created: t0}); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("second business with the same number: %v", err)
	}
	if _, err := e.db.Business(e.ctx, b2.ID); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("the refused business was stored: %v", err)
	}
	tok, err := e.db.TokenByHash(e.ctx, []byte("hash-+4930111111"))
	if err != nil || tok.Business != b.ID || tok.Revoked || !tok.Expires.IsZero() {
		e.t.Fatalf("token: %+v %v", tok, err)
	}
	if err := e.db.RevokeToken(e.ctx, tok.ID); err != nil {
		e.t.Fatal(err)
	}
	if tok, _ = e.db.TokenByHash(e.ctx, tok.Hash); !tok.Revoked {
		e.t.Fatal("revoked token not revoked")
	}
	if secret, err := e.db.AppSecret(e.ctx, mustApp(e, b.ID)); err != nil || secret != "s3cret-+4930111111" {
		e.t.Fatalf("app secret: %q %v", secret, err)
	}
	p := business.Profile{About: "Blumen", Websites: []string{"https://blumen.example"}}
	if err := e.db.PutProfile(e.ctx, n.ID, p); err != nil {
		e.t.Fatal(err)
	}
	if got, err := e.db.Profile(e.ctx, n.ID); err != nil || got.About != "Blumen" || len(got.Websites) != 1 {
		e.t.Fatalf("profile: %+v %v", got, err)
	}
	if err := e.db.SetNumberMPS(e.ctx, n.ID, 1000); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Number(e.ctx, n.ID); got.MPS != 1000 {
		e.t.Fatalf("mps: %d", got.MPS)
	}
	partner := business.Partner{ID: e.ids.Next(), Name: "Agentur", Created: t0}
	if err := e.db.CreatePartner(e.ctx, partner); err != nil {
		e.t.Fatal(err)
	}
	if ok, _ := e.db.Granted(e.ctx, partner.ID, b.ID); ok {
		e.t.Fatal("granted before the grant")
	}
	for range 2 { // granting twice is fine
		if err := e.db.Grant(e.ctx, partner.ID, b.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	if ok, _ := e.db.Granted(e.ctx, partner.ID, b.ID); !ok {
		e.t.Fatal("not granted after the grant")
	}
}

func mustApp(e *env, b kontor.ID) kontor.ID {
	e.t.Helper()
	apps, err := e.db.Apps(e.ctx, b)
	if err != nil || len(apps) != 1 {
		e.t.Fatalf("apps: %v %v", apps, err)
	}
	return apps[0].ID
}

func testEndpointState(_ *testing.T, e *env) {
	_, n := e.newBusiness("+4930222222")
	c, err := e.db.Contact(e.ctx, n.ID, phoneA)
	if err != nil || !c.LastInbound.IsZero() || c.NoticeSent {
		e.t.Fatalf("new contact: %+v %v", c, err)
	}
	later, earlier := t0.Add(time.Hour), t0
	for _, at := range []time.Time{later, earlier} { // the window never moves back
		if err := e.db.NoteInbound(e.ctx, n.ID, phoneA, at); err != nil {
			e.t.Fatal(err)
		}
	}
	if c, _ = e.db.Contact(e.ctx, n.ID, phoneA); !c.LastInbound.Equal(later) {
		e.t.Fatalf("last inbound: %v", c.LastInbound)
	}
	for i, want := range []bool{true, false} {
		if first, err := e.db.ClaimNotice(e.ctx, n.ID, phoneA); err != nil || first != want {
			e.t.Fatalf("claim %d: %v %v", i, first, err)
		}
	}
	m := endpoint.MessageRecord{Number: n.ID, ID: e.ids.Next(), Peer: phoneA, Outgoing: true, Category: "utility", Callback: "cb", Created: t0, Initiated: true}
	if err := e.db.PutMessage(e.ctx, m); err != nil {
		e.t.Fatal(err)
	}
	if got, err := e.db.Message(e.ctx, n.ID, m.ID); err != nil || got.Peer != phoneA || got.Callback != "cb" || !got.Outgoing || !got.Initiated || got.Category != "utility" {
		e.t.Fatalf("message: %+v %v", got, err)
	}
	if _, err := e.db.Message(e.ctx, e.ids.Next(), m.ID); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("another number's message: %v", err)
	}
	// Many in one transaction (the endpoint's group commit); one already
	// there stays as it was.
	batch := []endpoint.MessageRecord{
		{Number: n.ID, ID: e.ids.Next(), Peer: phoneA, Outgoing: true, Category: "service", Callback: "one", Created: t0},
		{Number: n.ID, ID: m.ID, Peer: phoneB, Outgoing: false, Callback: "again", Created: t0},
		{Number: n.ID, ID: e.ids.Next(), Peer: phoneB, Created: t0.Add(time.Second)},
	}
	if err := e.db.PutMessages(e.ctx, batch); err != nil {
		e.t.Fatal(err)
	}
	for _, want := range []endpoint.MessageRecord{batch[0], m, batch[2]} {
		got, err := e.db.Message(e.ctx, n.ID, want.ID)
		if err != nil || got.Peer != want.Peer || got.Callback != want.Callback || got.Outgoing != want.Outgoing || !got.Created.Equal(want.Created) {
			e.t.Fatalf("message %s after PutMessages: %+v %v; want %+v", want.ID, got, err, want)
		}
	}
	if err := e.db.PutMessages(e.ctx, nil); err != nil {
		e.t.Fatal(err)
	}
	// Records and webhooks in one transaction (the endpoint's group commit
	// on the platform's store): both are there, the webhook due at now.
	rec := endpoint.MessageRecord{Number: n.ID, ID: e.ids.Next(), Peer: phoneA, Outgoing: true, Category: "service", Created: t0}
	url := "http://127.0.0.1:9/batch-" + n.ID.String()
	ev := webhook.Event{ID: "batch." + rec.ID.String(), App: e.ids.Next(), URL: url, Body: []byte(`{"x":1}`), Created: t0}
	if added, err := e.db.PutEndpointBatch(e.ctx, []endpoint.MessageRecord{rec}, endpoint.InboxWrites{}, []webhook.Event{ev}, t0, webhook.Lease{}); err != nil || len(added) != 1 {
		e.t.Fatal(added, err)
	}
	if got, err := e.db.Message(e.ctx, n.ID, rec.ID); err != nil || got.Peer != phoneA || !got.Outgoing {
		e.t.Fatalf("message after PutEndpointBatch: %+v %v", got, err)
	}
	due, err := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: t0, Until: t0.Add(time.Minute), Token: 3, Want: []webhook.Want{{URL: url, Limit: 10}}})
	if err != nil || len(due) != 1 || due[0].ID != ev.ID || string(due[0].Body) != `{"x":1}` {
		e.t.Fatalf("webhook after PutEndpointBatch: %+v %v", due, err)
	}
	if _, err := e.db.PutEndpointBatch(e.ctx, nil, endpoint.InboxWrites{}, nil, t0, webhook.Lease{}); err != nil {
		e.t.Fatal(err)
	}
	md := endpoint.MediaRecord{ID: e.ids.Next(), Number: n.ID, MimeType: "image/png", SHA256: "ab", Size: 3, Created: time.Now(), Expires: time.Now().Add(time.Hour)}
	if err := e.db.PutEndpointMedia(e.ctx, md); err != nil {
		e.t.Fatal(err)
	}
	if owner, err := e.db.MediaNumber(e.ctx, md.ID); err != nil || owner != n.ID {
		e.t.Fatalf("media number: %v %v", owner, err)
	}
	if err := e.db.DeleteEndpointMedia(e.ctx, n.ID, md.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.EndpointMedia(e.ctx, n.ID, md.ID); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("deleted media: %v", err)
	}
}

// testReach: the messaging limit counts the people a business's initiated
// messages reached, over all its numbers, in the window asked for.
func testReach(_ *testing.T, e *env) {
	_, n1 := e.newBusiness("+4930333333")
	_, n3 := e.newBusiness("+4930555555")
	put := func(n kontor.ID, peer kontor.Phone, at time.Time, initiated bool) {
		if err := e.db.PutMessage(e.ctx, endpoint.MessageRecord{Number: n, ID: e.ids.Next(), Peer: peer, Outgoing: true, Created: at, Initiated: initiated}); err != nil {
			e.t.Fatal(err)
		}
	}
	put(n1.ID, phoneA, t0, true)
	put(n1.ID, phoneA, t0, true)                    // the same person counts once
	put(n1.ID, phoneB, t0, false)                   // inside the window: not counted
	put(n1.ID, phoneC, t0.Add(-48*time.Hour), true) // too long ago
	put(n3.ID, phoneB, t0, true)                    // another business
	n, reached, err := e.db.Reach(e.ctx, n1.ID, phoneA, t0.Add(-24*time.Hour))
	if err != nil || n != 1 || !reached {
		e.t.Fatalf("reach: %d %v %v", n, reached, err)
	}
	if _, reached, _ := e.db.Reach(e.ctx, n1.ID, phoneB, t0.Add(-24*time.Hour)); reached {
		e.t.Fatal("a person inside the window counts as reached")
	}
}

func testBlocks(_ *testing.T, e *env) {
	acct, _ := e.register(phoneA)
	for range 2 {
		if err := e.db.Block(e.ctx, acct.ID, phoneB, t0); err != nil {
			e.t.Fatal(err)
		}
	}
	if got, err := e.db.Blocked(e.ctx, acct.ID); err != nil || len(got) != 1 || got[0] != phoneB {
		e.t.Fatalf("blocked: %v %v", got, err)
	}
	r, err := e.db.Recipient(e.ctx, phoneA)
	if err != nil || len(r.Blocked) != 1 || r.Blocked[0] != phoneB {
		e.t.Fatalf("recipient's blocks: %+v %v", r, err)
	}
	if err := e.db.Unblock(e.ctx, acct.ID, phoneB); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Blocked(e.ctx, acct.ID); len(got) != 0 {
		e.t.Fatalf("after unblock: %v", got)
	}
}

func testNodeLeases(_ *testing.T, e *env) {
	now := t0
	a, err := e.db.ClaimNode(e.ctx, "host-a", 5, now, now.Add(time.Minute))
	if err != nil || a != 5 {
		e.t.Fatalf("claim 5: %d %v", a, err)
	}
	if _, err := e.db.ClaimNode(e.ctx, "host-b", 5, now, now.Add(time.Minute)); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("5 twice: %v", err)
	}
	b, err := e.db.ClaimNode(e.ctx, "host-b", -1, now, now.Add(time.Minute))
	if err != nil || b == 5 {
		e.t.Fatalf("any: %d %v", b, err)
	}
	// The same holder takes its own number back; an expired lease is free.
	if got, err := e.db.ClaimNode(e.ctx, "host-a", 5, now, now.Add(time.Minute)); err != nil || got != 5 {
		e.t.Fatalf("own number again: %d %v", got, err)
	}
	if got, err := e.db.ClaimNode(e.ctx, "host-c", 5, now.Add(2*time.Minute), now.Add(3*time.Minute)); err != nil || got != 5 {
		e.t.Fatalf("expired lease: %d %v", got, err)
	}
	if ok, _ := e.db.RenewNode(e.ctx, 5, "host-a", now.Add(time.Hour)); ok {
		e.t.Fatal("a lost lease renewed")
	}
	if err := e.db.ReleaseNode(e.ctx, 5, "host-c"); err != nil {
		e.t.Fatal(err)
	}
}
