package consoleauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/store"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

// cheap are argon2id costs that keep the tests fast; TestPasswordHash
// checks the real ones.
var cheap = consoleauth.Params{Memory: 64, Time: 1, Threads: 1}

type env struct {
	ctx   context.Context
	db    *store.DB
	clock *clock
	svc   *consoleauth.Service
	biz   business.Created
	biz2  business.Created
}

type accounts struct{ n int }

func (a *accounts) RegisterDirect(_ context.Context, phone, _ string) (business.Device, error) {
	a.n++
	return business.Device{Account: kontor.ID(1000 + a.n), Phone: kontor.Phone(phone), DeviceID: 1, Credential: "kd_x"}, nil
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.UnixMilli(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMilli())}
	ids := kontor.NewIDs(c, 1)
	bs := business.New(db, &accounts{}, ids, c, nil)
	e := &env{ctx: ctx, db: db, clock: c, svc: consoleauth.New(consoleauth.Config{Params: cheap}, db, ids, c, nil)}
	if e.biz, err = bs.Create(ctx, business.CreateRequest{Name: "A", Phone: "+493010000"}); err != nil {
		t.Fatal(err)
	}
	if e.biz2, err = bs.Create(ctx, business.CreateRequest{Name: "B", Phone: "+493020000"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// user makes a user with a password.
func (e *env) user(t *testing.T, biz kontor.ID, email, role, pw string) consoleauth.User {
	t.Helper()
	u, tok, err := e.svc.Create(e.ctx, consoleauth.CreateUser{Business: biz, Email: email, Role: role, Password: pw})
	if err != nil || tok != "" {
		t.Fatalf("Create(%s): %v (link %q)", email, err, tok)
	}
	return u
}

func TestCan(t *testing.T) {
	for _, tc := range []struct {
		role                                          consoleauth.Role
		view, edit, hooks, editHooks, tok, sec, users bool
		catalog, editCatalog, stock                   bool
	}{
		{consoleauth.RoleOwner, true, true, true, true, true, true, true, true, true, true},
		{consoleauth.RoleAdmin, true, true, true, true, true, true, false, true, true, true},
		{consoleauth.RoleAgent, true, false, false, false, false, false, false, true, false, true},
		{"", false, false, false, false, false, false, false, false, false, false},
		{"root", false, false, false, false, false, false, false, false, false, false},
	} {
		got := []bool{consoleauth.Can(tc.role, consoleauth.ViewSettings), consoleauth.Can(tc.role, consoleauth.EditSettings),
			consoleauth.Can(tc.role, consoleauth.ViewWebhooks), consoleauth.Can(tc.role, consoleauth.EditWebhooks),
			consoleauth.Can(tc.role, consoleauth.ManageTokens), consoleauth.Can(tc.role, consoleauth.RotateSecret),
			consoleauth.Can(tc.role, consoleauth.ManageUsers), consoleauth.Can(tc.role, consoleauth.ViewCatalog),
			consoleauth.Can(tc.role, consoleauth.EditCatalog), consoleauth.Can(tc.role, consoleauth.AdjustStock)}
		want := []bool{tc.view, tc.edit, tc.hooks, tc.editHooks, tc.tok, tc.sec, tc.users, tc.catalog, tc.editCatalog, tc.stock}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("role %q action %d: %v, want %v", tc.role, i, got[i], want[i])
			}
		}
	}
}

// TestCanOrdersBilling: every role handles orders; refunds and billing are
// for owners and admins.
func TestCanOrdersBilling(t *testing.T) {
	for _, tc := range []struct {
		role                    consoleauth.Role
		orders, refund, billing bool
	}{
		{consoleauth.RoleOwner, true, true, true},
		{consoleauth.RoleAdmin, true, true, true},
		{consoleauth.RoleAgent, true, false, false},
		{"", false, false, false},
		{"root", false, false, false},
	} {
		if got := consoleauth.Can(tc.role, consoleauth.HandleOrders); got != tc.orders {
			t.Errorf("role %q handles orders: %v, want %v", tc.role, got, tc.orders)
		}
		if got := consoleauth.Can(tc.role, consoleauth.RefundOrders); got != tc.refund {
			t.Errorf("role %q refunds: %v, want %v", tc.role, got, tc.refund)
		}
		if got := consoleauth.Can(tc.role, consoleauth.ViewBilling); got != tc.billing {
			t.Errorf("role %q sees billing: %v, want %v", tc.role, got, tc.billing)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h := consoleauth.HashPassword("correct horse battery", consoleauth.DefaultParams())
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the default costs", h)
	}
	if !consoleauth.VerifyPassword("correct horse battery", h) {
		t.Fatal("the right password does not verify")
	}
	if h2 := consoleauth.HashPassword("correct horse battery", consoleauth.DefaultParams()); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	parts := strings.Split(h, "$")
	for _, tc := range []struct{ name, pw, hash string }{
		{"wrong password", "correct horse batterY", h},
		{"empty password", "", h},
		{"empty hash", "x", ""},
		{"argon2i", "correct horse battery", strings.Replace(h, "argon2id", "argon2i", 1)},
		{"other version", "correct horse battery", strings.Replace(h, "v=19", "v=16", 1)},
		{"huge memory", "correct horse battery", strings.Replace(h, "m=19456", "m=99999999", 1)},
		{"zero time", "correct horse battery", strings.Replace(h, "t=2", "t=0", 1)},
		{"cut key", "correct horse battery", strings.Join(parts[:5], "$") + "$" + parts[5][:10]},
		{"bad base64", "correct horse battery", strings.Join(parts[:5], "$") + "$!!!!" + parts[5][4:]},
		{"other costs", "correct horse battery", strings.Replace(h, "t=2", "t=3", 1)},
	} {
		if consoleauth.VerifyPassword(tc.pw, tc.hash) {
			t.Errorf("%s: verified", tc.name)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ana@Example.COM", "ana@example.com"},
		{"  ana@example.com ", "ana@example.com"},
		{"a.b+c@shop.example.de", "a.b+c@shop.example.de"},
		{"", ""},
		{"ana", ""},
		{"ana@localhost", ""},
		{"Ana <ana@example.com>", ""},
		{"ana@@example.com", ""},
		{strings.Repeat("a", 250) + "@example.com", ""},
	} {
		got, err := consoleauth.NormalizeEmail(tc.in)
		if tc.want == "" {
			if kontor.KindOf(err) != kontor.Invalid {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want Invalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCSRF(t *testing.T) {
	a, b := "kcs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "kcs_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	ta := consoleauth.CSRFToken(a)
	for _, tc := range []struct {
		name, session, got string
		want               bool
	}{
		{"own token", a, ta, true},
		{"another session's", b, ta, false},
		{"empty", a, "", false},
		{"changed", a, ta[:len(ta)-1] + "x", false},
		{"the session token itself", a, a, false},
		{"no session", "", consoleauth.CSRFToken(""), false},
	} {
		if got := consoleauth.CheckCSRF(tc.session, tc.got); got != tc.want {
			t.Errorf("%s: CheckCSRF = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCreateChecks(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		r    consoleauth.CreateUser
		kind kontor.Kind
		msg  string
	}{
		{"bad email", consoleauth.CreateUser{Business: e.biz.WABAID, Email: "nope", Role: "owner"}, kontor.Invalid, "is not an email address"},
		{"bad role", consoleauth.CreateUser{Business: e.biz.WABAID, Email: "a@x.example", Role: "boss"}, kontor.Invalid, "owner, admin or agent"},
		{"no business", consoleauth.CreateUser{Business: 42, Email: "a@x.example", Role: "owner"}, kontor.NotFound, ""},
		{"short password", consoleauth.CreateUser{Business: e.biz.WABAID, Email: "a@x.example", Role: "owner", Password: "short"}, kontor.Invalid, "at least 12"},
		{"blank password", consoleauth.CreateUser{Business: e.biz.WABAID, Email: "a@x.example", Role: "owner", Password: strings.Repeat(" ", 13)}, kontor.Invalid, "only spaces"},
		{"long password", consoleauth.CreateUser{Business: e.biz.WABAID, Email: "a@x.example", Role: "owner", Password: strings.Repeat("x", 257)}, kontor.Invalid, "at most 256"},
	} {
		_, _, err := e.svc.Create(e.ctx, tc.r)
		if kontor.KindOf(err) != tc.kind || !strings.Contains(kontor.MessageOf(err), tc.msg) {
			t.Errorf("%s: %v; want kind %v with %q", tc.name, err, tc.kind, tc.msg)
		}
	}
	e.user(t, e.biz.WABAID, "a@x.example", "owner", "twelve chars!")
	if _, _, err := e.svc.Create(e.ctx, consoleauth.CreateUser{Business: e.biz2.WABAID, Email: "A@x.example", Role: "owner"}); kontor.KindOf(err) != kontor.Conflict {
		t.Errorf("the same email twice: %v, want Conflict", err)
	}
}

// signIn returns the error kind of a sign-in ("ok" when it worked).
func (e *env) signIn(email, pw, ip string) string {
	_, _, err := e.svc.SignIn(e.ctx, email, pw, ip)
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, consoleauth.ErrBadCredentials):
		return "bad"
	case kontor.KindOf(err) == kontor.RateLimited:
		return "locked"
	}
	return err.Error()
}

func TestLockout(t *testing.T) {
	e := newEnv(t)
	const pw = "the right password"
	e.user(t, e.biz.WABAID, "ana@x.example", "agent", pw)
	e.user(t, e.biz.WABAID, "ben@x.example", "agent", pw)
	steps := []struct {
		advance   time.Duration
		email, pw string
		ip        string
		want      string
	}{
		{0, "ana@x.example", pw, "10.0.0.1", "ok"},
		{0, "ana@x.example", "wrong", "10.0.0.1", "bad"},
		{0, "ANA@x.example", "wrong", "10.0.0.2", "bad"}, // the account counts from any address, in any case
		{0, "ana@x.example", "wrong", "10.0.0.3", "bad"},
		{0, "ana@x.example", "wrong", "10.0.0.4", "bad"},
		{time.Minute, "ana@x.example", "wrong", "10.0.0.5", "locked"}, // the 5th
		{0, "ana@x.example", pw, "10.0.0.6", "locked"},                // the right password too
		{0, "ben@x.example", pw, "10.0.0.6", "ok"},                    // others are not locked
		{14 * time.Minute, "ana@x.example", pw, "10.0.0.7", "locked"},
		{time.Minute, "ana@x.example", pw, "10.0.0.7", "ok"}, // 15 minutes after the 5th
		// Success forgets the failures: four more are allowed.
		{0, "ana@x.example", "wrong", "10.0.1.1", "bad"},
		{0, "ana@x.example", "wrong", "10.0.1.1", "bad"},
		{0, "ana@x.example", "wrong", "10.0.1.1", "bad"},
		{0, "ana@x.example", "wrong", "10.0.1.1", "bad"},
		{0, "ana@x.example", pw, "10.0.1.1", "ok"},
		// Failures more than 15 minutes apart start the count again.
		{0, "ben@x.example", "wrong", "10.0.2.1", "bad"},
		{0, "ben@x.example", "wrong", "10.0.2.1", "bad"},
		{0, "ben@x.example", "wrong", "10.0.2.1", "bad"},
		{0, "ben@x.example", "wrong", "10.0.2.1", "bad"},
		{16 * time.Minute, "ben@x.example", "wrong", "10.0.2.1", "bad"},
		{0, "ben@x.example", pw, "10.0.2.1", "ok"},
		// An unknown email locks like a known one (no enumeration).
		{0, "ghost@x.example", "a", "10.0.3.1", "bad"},
		{0, "ghost@x.example", "a", "10.0.3.1", "bad"},
		{0, "ghost@x.example", "a", "10.0.3.1", "bad"},
		{0, "ghost@x.example", "a", "10.0.3.1", "bad"},
		{0, "ghost@x.example", "a", "10.0.3.1", "locked"},
		{0, "not even an email", "a", "10.0.3.2", "bad"},
	}
	for i, s := range steps {
		e.clock.Add(s.advance)
		if got := e.signIn(s.email, s.pw, s.ip); got != s.want {
			t.Fatalf("step %d (%s from %s): %s, want %s", i, s.email, s.ip, got, s.want)
		}
	}
}

func TestLockoutByAddress(t *testing.T) {
	e := newEnv(t)
	const pw = "the right password"
	e.user(t, e.biz.WABAID, "ana@x.example", "agent", pw)
	// 20 failures from one address, each on another email, lock the
	// address; IPv6 addresses of one /64 count together.
	for i := range 20 {
		want := "bad"
		if i == 19 {
			want = "locked"
		}
		ip := "2001:db8:1:2::" + string(rune('a'+i%6))
		if got := e.signIn("user"+string(rune('a'+i))+"@x.example", "wrong", ip); got != want {
			t.Fatalf("failure %d from %s: %s, want %s", i+1, ip, got, want)
		}
	}
	if got := e.signIn("ana@x.example", pw, "2001:db8:1:2::ffff"); got != "locked" {
		t.Fatalf("the right password from the locked /64: %s", got)
	}
	if got := e.signIn("ana@x.example", pw, "2001:db8:1:3::1"); got != "ok" {
		t.Fatalf("the right password from another /64: %s", got)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	const pw = "the right password"
	u := e.user(t, e.biz.WABAID, "ana@x.example", "admin", pw)
	sign := func() string {
		tok, got, err := e.svc.SignIn(e.ctx, "ana@x.example", pw, "10.0.0.1")
		if err != nil || got.ID != u.ID || !strings.HasPrefix(tok, "kcs_") {
			t.Fatalf("SignIn: %q %+v %v", tok, got, err)
		}
		return tok
	}
	alive := func(tok string) bool {
		_, got, err := e.svc.Authenticate(e.ctx, tok)
		if err != nil && !errors.Is(err, consoleauth.ErrSessionEnded) {
			t.Fatalf("Authenticate: %v", err)
		}
		if err == nil && got.ID != u.ID {
			t.Fatalf("Authenticate returned user %v", got.ID)
		}
		return err == nil
	}
	// Idle: used every 11 hours it lives on; 12 idle hours end it.
	a := sign()
	for range 5 {
		e.clock.Add(11 * time.Hour)
		if !alive(a) {
			t.Fatal("a session used every 11 hours ended")
		}
	}
	e.clock.Add(12 * time.Hour)
	if alive(a) {
		t.Fatal("a session idle for 12 hours is alive")
	}
	// Absolute: 7 days after sign-in, however busy.
	b := sign()
	for range 13 {
		e.clock.Add(12*time.Hour - time.Minute)
		alive(b)
	}
	e.clock.Add(12 * time.Hour)
	if alive(b) {
		t.Fatal("a session older than 7 days is alive")
	}
	// Sign out ends one; sign out everywhere ends all.
	c, d, f := sign(), sign(), sign()
	if err := e.svc.SignOut(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	if alive(c) || !alive(d) {
		t.Fatal("SignOut ended the wrong sessions")
	}
	if n, err := e.svc.SignOutEverywhere(e.ctx, u); err != nil || n != 2 {
		t.Fatalf("SignOutEverywhere = %d, %v; want 2", n, err)
	}
	if alive(d) || alive(f) {
		t.Fatal("a session survived signing out everywhere")
	}
	for _, bad := range []string{"", "kcs_", "kcs_" + strings.Repeat("A", 43), "kcl_" + strings.Repeat("A", 43), d + "x"} {
		if alive(bad) {
			t.Errorf("token %q authenticates", bad)
		}
	}
	// A role change applies to a live session at once.
	owner := e.user(t, e.biz.WABAID, "own@x.example", "owner", pw)
	g := sign()
	if err := e.svc.SetRole(e.ctx, owner, u.ID, "agent"); err != nil {
		t.Fatal(err)
	}
	if _, got, err := e.svc.Authenticate(e.ctx, g); err != nil || got.Role != consoleauth.RoleAgent {
		t.Fatalf("after the role change: %+v %v", got, err)
	}
}

func TestLinks(t *testing.T) {
	e := newEnv(t)
	const pw = "the right password"
	owner := e.user(t, e.biz.WABAID, "own@x.example", "owner", pw)
	admin := e.user(t, e.biz.WABAID, "adm@x.example", "admin", pw)
	agent := e.user(t, e.biz.WABAID, "agt@x.example", "agent", pw)
	other := e.user(t, e.biz2.WABAID, "own@y.example", "owner", pw)

	// Only owners invite, see and change users.
	for _, u := range []consoleauth.User{admin, agent} {
		if _, _, err := e.svc.Invite(e.ctx, u, "new@x.example", "agent"); kontor.KindOf(err) != kontor.Forbidden {
			t.Errorf("%s invites: %v, want Forbidden", u.Role, err)
		}
		if _, err := e.svc.Users(e.ctx, u); kontor.KindOf(err) != kontor.Forbidden {
			t.Errorf("%s lists users: %v", u.Role, err)
		}
		if err := e.svc.SetRole(e.ctx, u, agent.ID, "owner"); kontor.KindOf(err) != kontor.Forbidden {
			t.Errorf("%s changes a role: %v", u.Role, err)
		}
		if err := e.svc.Remove(e.ctx, u, agent.ID); kontor.KindOf(err) != kontor.Forbidden {
			t.Errorf("%s removes a user: %v", u.Role, err)
		}
	}
	// Another business's users are not there for an owner.
	if err := e.svc.SetRole(e.ctx, other, agent.ID, "owner"); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("another business's owner changes a role: %v, want NotFound", err)
	}
	if err := e.svc.Remove(e.ctx, other, agent.ID); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("another business's owner removes a user: %v, want NotFound", err)
	}
	if _, _, err := e.svc.Invite(e.ctx, owner, "agt@x.example", "agent"); kontor.KindOf(err) != kontor.Conflict {
		t.Errorf("inviting an existing user: %v, want Conflict", err)
	}
	inv, tok, err := e.svc.Invite(e.ctx, owner, "New@x.example", "admin")
	if err != nil || inv.Email != "new@x.example" || inv.Role != consoleauth.RoleAdmin || !strings.HasPrefix(tok, "kcl_") {
		t.Fatalf("Invite: %+v %q %v", inv, tok, err)
	}
	if is, _ := e.svc.Invites(e.ctx, owner); len(is) != 1 || is[0].ID != inv.ID {
		t.Fatalf("open invitations: %+v", is)
	}
	if is, _ := e.svc.Invites(e.ctx, other); len(is) != 0 {
		t.Fatalf("another business sees the invitation: %+v", is)
	}
	if l, err := e.svc.Link(e.ctx, tok); err != nil || l.ID != inv.ID {
		t.Fatalf("Link: %+v %v", l, err)
	}
	if _, err := e.svc.Redeem(e.ctx, tok, "short"); kontor.KindOf(err) != kontor.Invalid {
		t.Fatalf("a short password: %v", err)
	}
	nu, err := e.svc.Redeem(e.ctx, tok, "a new password here")
	if err != nil || nu.Email != "new@x.example" || nu.Business != e.biz.WABAID || nu.Role != consoleauth.RoleAdmin {
		t.Fatalf("Redeem: %+v %v", nu, err)
	}
	if _, err := e.svc.Redeem(e.ctx, tok, "a new password here"); !errors.Is(err, consoleauth.ErrLinkInvalid) {
		t.Fatalf("a second use: %v", err)
	}
	if _, err := e.svc.Link(e.ctx, tok); !errors.Is(err, consoleauth.ErrLinkInvalid) {
		t.Fatalf("Link of a used link: %v", err)
	}
	if e.signIn("new@x.example", "a new password here", "10.1.1.1") != "ok" {
		t.Fatal("the invited user cannot sign in")
	}
	// Expiry: 72 hours.
	_, late, _ := e.svc.Invite(e.ctx, owner, "late@x.example", "agent")
	e.clock.Add(72 * time.Hour)
	if _, err := e.svc.Redeem(e.ctx, late, "a new password here"); !errors.Is(err, consoleauth.ErrLinkInvalid) {
		t.Fatalf("an invitation after 72 hours: %v", err)
	}
	// Withdrawn.
	w, wt, _ := e.svc.Invite(e.ctx, owner, "w@x.example", "agent")
	if err := e.svc.WithdrawInvite(e.ctx, other, w.ID); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("another business withdraws: %v", err)
	}
	if err := e.svc.WithdrawInvite(e.ctx, owner, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Redeem(e.ctx, wt, "a new password here"); !errors.Is(err, consoleauth.ErrLinkInvalid) {
		t.Fatalf("a withdrawn invitation: %v", err)
	}
	// The operator's set-password link: made with the user, and later
	// again for a lost password; using it ends the user's sessions.
	fresh, link, err := e.svc.Create(e.ctx, consoleauth.CreateUser{Business: e.biz2.WABAID, Email: "first@y.example", Role: "owner"})
	if err != nil || link == "" || fresh.PasswordHash != "" {
		t.Fatalf("Create without a password: %+v %q %v", fresh, link, err)
	}
	if e.signIn("first@y.example", "", "10.2.2.2") != "bad" {
		t.Fatal("a user without a password signed in")
	}
	if _, err := e.svc.Redeem(e.ctx, link, "first owner password"); err != nil {
		t.Fatal(err)
	}
	tok1, _, err := e.svc.SignIn(e.ctx, "first@y.example", "first owner password", "10.2.2.2")
	if err != nil {
		t.Fatal(err)
	}
	_, reset, err := e.svc.ResetLink(e.ctx, "FIRST@y.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Redeem(e.ctx, reset, "second owner password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Authenticate(e.ctx, tok1); !errors.Is(err, consoleauth.ErrSessionEnded) {
		t.Fatalf("a session survived a new password: %v", err)
	}
	if e.signIn("first@y.example", "first owner password", "10.2.2.3") != "bad" || e.signIn("first@y.example", "second owner password", "10.2.2.3") != "ok" {
		t.Fatal("the new password did not replace the old one")
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	const pw, pw2 = "the right password", "a brand new password"
	e.user(t, e.biz.WABAID, "ana@x.example", "agent", pw)
	tok1, u, _ := e.svc.SignIn(e.ctx, "ana@x.example", pw, "10.0.0.1")
	tok2, _, _ := e.svc.SignIn(e.ctx, "ana@x.example", pw, "10.0.0.2")
	for _, tc := range []struct {
		name, current, next string
		msg                 string
	}{
		{"wrong current", "not it", pw2, "current password is not right"},
		{"short new", pw, "short", "at least 12"},
		{"same", pw, pw, "is the current one"},
	} {
		if _, err := e.svc.ChangePassword(e.ctx, u, tc.current, tc.next, "10.0.0.1"); kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), tc.msg) {
			t.Errorf("%s: %v; want Invalid with %q", tc.name, err, tc.msg)
		}
	}
	tok3, err := e.svc.ChangePassword(e.ctx, u, pw, pw2, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{tok1, tok2} {
		if _, _, err := e.svc.Authenticate(e.ctx, old); !errors.Is(err, consoleauth.ErrSessionEnded) {
			t.Errorf("an old session survived the change: %v", err)
		}
	}
	if _, got, err := e.svc.Authenticate(e.ctx, tok3); err != nil || got.ID != u.ID {
		t.Fatalf("the new session: %+v %v", got, err)
	}
	if e.signIn("ana@x.example", pw, "10.0.0.3") != "bad" || e.signIn("ana@x.example", pw2, "10.0.0.3") != "ok" {
		t.Fatal("the new password did not replace the old one")
	}
	// Guessing the current password locks like signing in: the 5th wrong
	// guess, and then the right one too.
	_, u, _ = e.svc.SignIn(e.ctx, "ana@x.example", pw2, "10.0.0.4")
	for i := range 5 {
		_, err := e.svc.ChangePassword(e.ctx, u, "guess", "yet another password", "10.0.0.4")
		if want := map[bool]kontor.Kind{true: kontor.RateLimited, false: kontor.Invalid}[i == 4]; kontor.KindOf(err) != want {
			t.Fatalf("guess %d: %v, want %v", i+1, err, want)
		}
	}
	if _, err := e.svc.ChangePassword(e.ctx, u, pw2, "yet another password", "10.0.0.4"); kontor.KindOf(err) != kontor.RateLimited {
		t.Fatalf("the right password while locked: %v", err)
	}
}
