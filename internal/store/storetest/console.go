package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// consoleUser stores a user of biz with a password hash.
func (e *env) consoleUser(biz kontor.ID, email string, role consoleauth.Role) consoleauth.User {
	e.t.Helper()
	u := consoleauth.User{ID: e.ids.Next(), Business: biz, Email: email, Role: role, PasswordHash: "$argon2id$" + email, Created: t0}
	if err := e.db.CreateConsoleUser(e.ctx, u, nil); err != nil {
		e.t.Fatalf("CreateConsoleUser(%s): %v", email, err)
	}
	return u
}

// testConsoleUsers: users round-trip, emails are unique on the platform,
// lists are per business, and a business always keeps one owner.
func testConsoleUsers(t *testing.T, e *env) {
	a, _ := e.newBusiness("+4930200001")
	b, _ := e.newBusiness("+4930200002")
	owner := e.consoleUser(a.ID, "owner@a.example", consoleauth.RoleOwner)
	agent := e.consoleUser(a.ID, "agent@a.example", consoleauth.RoleAgent)
	other := e.consoleUser(b.ID, "owner@b.example", consoleauth.RoleOwner)

	got, err := e.db.ConsoleUserByEmail(e.ctx, "agent@a.example")
	if err != nil || !sameUser(got, agent) {
		t.Fatalf("ConsoleUserByEmail = %+v, %v; want %+v", got, err, agent)
	}
	if got, err := e.db.ConsoleUser(e.ctx, owner.ID); err != nil || !sameUser(got, owner) {
		t.Fatalf("ConsoleUser = %+v, %v; want %+v", got, err, owner)
	}
	_, err = e.db.ConsoleUserByEmail(e.ctx, "nobody@a.example")
	wantKind(t, "unknown email", err, kontor.NotFound)

	dup := consoleauth.User{ID: e.ids.Next(), Business: b.ID, Email: "agent@a.example", Role: consoleauth.RoleAgent, Created: t0}
	link := consoleauth.Invite{ID: e.ids.Next(), Hash: hash("dup link"), Business: b.ID, Email: dup.Email, Role: dup.Role, User: dup.ID, Created: t0, Expires: t0.Add(time.Hour)}
	wantKind(t, "same email in another business", e.db.CreateConsoleUser(e.ctx, dup, &link), kontor.Conflict)
	if _, err := e.db.ConsoleInvite(e.ctx, link.Hash); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("the refused user's link was stored: %v", err)
	}

	us, err := e.db.ConsoleUsers(e.ctx, a.ID)
	if err != nil || len(us) != 2 || !sameUser(us[0], agent) || !sameUser(us[1], owner) {
		t.Fatalf("ConsoleUsers(a) = %+v, %v; want agent, owner", us, err)
	}
	if us, _ := e.db.ConsoleUsers(e.ctx, b.ID); len(us) != 1 || !sameUser(us[0], other) {
		t.Fatalf("ConsoleUsers(b) = %+v", us)
	}

	// The last owner can be neither demoted nor removed; nothing changes.
	wantKind(t, "demote the last owner", e.db.SetConsoleRole(e.ctx, owner.ID, consoleauth.RoleAdmin), kontor.Conflict)
	wantKind(t, "remove the last owner", e.db.DeleteConsoleUser(e.ctx, owner.ID), kontor.Conflict)
	if got, _ := e.db.ConsoleUser(e.ctx, owner.ID); got.Role != consoleauth.RoleOwner {
		t.Fatalf("the refused demotion changed the role to %s", got.Role)
	}
	// With a second owner, the first can step down.
	if err := e.db.SetConsoleRole(e.ctx, agent.ID, consoleauth.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetConsoleRole(e.ctx, owner.ID, consoleauth.RoleAgent); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "role of an unknown user", e.db.SetConsoleRole(e.ctx, e.ids.Next(), consoleauth.RoleAgent), kontor.NotFound)

	// Removing a user ends their sessions and links.
	s := consoleauth.Session{Hash: hash("s1"), User: owner.ID, Created: t0, Seen: t0, Expires: t0.Add(time.Hour)}
	if err := e.db.PutConsoleSession(e.ctx, s); err != nil {
		t.Fatal(err)
	}
	reset := consoleauth.Invite{ID: e.ids.Next(), Hash: hash("reset"), Business: a.ID, Email: owner.Email, Role: owner.Role, User: owner.ID, Created: t0, Expires: t0.Add(time.Hour)}
	if err := e.db.PutConsoleInvite(e.ctx, reset); err != nil {
		t.Fatal(err)
	}
	if err := e.db.DeleteConsoleUser(e.ctx, owner.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ConsoleUser(e.ctx, owner.ID); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("removed user still there: %v", err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, s.Hash); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("removed user's session still there: %v", err)
	}
	if _, err := e.db.ConsoleInvite(e.ctx, reset.Hash); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("removed user's link still there: %v", err)
	}
}

// testConsoleOwnersRace: two owners stepping down at once leave one owner,
// on both databases.
func testConsoleOwnersRace(t *testing.T, e *env) {
	for round := range 10 {
		a, _ := e.newBusiness(kontor.Phone(fmt.Sprintf("+493020001%02d", round)))
		o1 := e.consoleUser(a.ID, "o1@"+a.ID.String()+".example", consoleauth.RoleOwner)
		o2 := e.consoleUser(a.ID, "o2@"+a.ID.String()+".example", consoleauth.RoleOwner)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []kontor.ID{o1.ID, o2.ID} {
			wg.Go(func() {
				if i == 0 {
					errs[i] = e.db.SetConsoleRole(e.ctx, id, consoleauth.RoleAgent)
				} else {
					errs[i] = e.db.DeleteConsoleUser(e.ctx, id)
				}
			})
		}
		wg.Wait()
		us, _ := e.db.ConsoleUsers(e.ctx, a.ID)
		owners := 0
		for _, u := range us {
			if u.Role == consoleauth.RoleOwner {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d owners after two owners stepped down at once (errors %v)", round, owners, errs)
		}
		if (errs[0] == nil) == (errs[1] == nil) || (kontor.KindOf(errs[0]) != kontor.Conflict && kontor.KindOf(errs[1]) != kontor.Conflict) {
			t.Fatalf("round %d: errors %v; want one success and one Conflict", round, errs)
		}
	}
}

// testConsoleSessions: sessions round-trip, are touched forward only and
// end one by one or all at once.
func testConsoleSessions(t *testing.T, e *env) {
	a, _ := e.newBusiness("+4930200020")
	u := e.consoleUser(a.ID, "u@a.example", consoleauth.RoleOwner)
	v := e.consoleUser(a.ID, "v@a.example", consoleauth.RoleAgent)
	mk := func(name string, user kontor.ID, exp time.Duration) consoleauth.Session {
		s := consoleauth.Session{Hash: hash(name), User: user, Created: t0, Seen: t0, Expires: t0.Add(exp)}
		if err := e.db.PutConsoleSession(e.ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1, s2, s3 := mk("s1", u.ID, time.Hour), mk("s2", u.ID, 2*time.Hour), mk("s3", v.ID, time.Minute)
	got, err := e.db.ConsoleSession(e.ctx, s1.Hash)
	if err != nil || !bytes.Equal(got.Hash, s1.Hash) || got.User != u.ID || !got.Created.Equal(t0) || !got.Seen.Equal(t0) || !got.Expires.Equal(s1.Expires) {
		t.Fatalf("ConsoleSession = %+v, %v; want %+v", got, err, s1)
	}
	if err := e.db.TouchConsoleSession(e.ctx, s1.Hash, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := e.db.TouchConsoleSession(e.ctx, s1.Hash, t0.Add(5*time.Minute)); err != nil { // older: ignored
		t.Fatal(err)
	}
	if got, _ := e.db.ConsoleSession(e.ctx, s1.Hash); !got.Seen.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("seen = %v after touches at +10 min and +5 min, want +10 min", got.Seen)
	}
	if err := e.db.DeleteConsoleSession(e.ctx, s1.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, s1.Hash); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("deleted session: %v", err)
	}
	mk("s4", u.ID, time.Hour)
	if n, err := e.db.DeleteConsoleSessions(e.ctx, u.ID); err != nil || n != 2 {
		t.Errorf("DeleteConsoleSessions = %d, %v; want 2 (s2, s4)", n, err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, s2.Hash); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("s2 survived signing out everywhere: %v", err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, s3.Hash); err != nil {
		t.Errorf("another user's session ended with u's: %v", err)
	}
	// Pruning takes expired sessions only.
	mk("s5", v.ID, time.Hour)
	if _, err := e.db.PruneConsole(e.ctx, t0.Add(30*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, s3.Hash); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("expired s3 survived pruning: %v", err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, hash("s5")); err != nil {
		t.Errorf("live s5 pruned: %v", err)
	}
	// A new password ends the user's sessions, and only theirs.
	mk("s6", u.ID, time.Hour)
	if err := e.db.SetConsolePassword(e.ctx, v.ID, "$argon2id$changed"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.ConsoleUser(e.ctx, v.ID); got.PasswordHash != "$argon2id$changed" {
		t.Errorf("password hash = %q after SetConsolePassword", got.PasswordHash)
	}
	if _, err := e.db.ConsoleSession(e.ctx, hash("s5")); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("v's session survived a new password: %v", err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, hash("s6")); err != nil {
		t.Errorf("u's session ended with v's new password: %v", err)
	}
	wantKind(t, "password of an unknown user", e.db.SetConsolePassword(e.ctx, e.ids.Next(), "x"), kontor.NotFound)
}

// testConsoleInvites: a link is used once, even by many at once; an
// expired or withdrawn one not at all; an invitation makes the user, a
// set-password link sets the password and ends the user's sessions.
func testConsoleInvites(t *testing.T, e *env) {
	a, _ := e.newBusiness("+4930200030")
	b, _ := e.newBusiness("+4930200031")
	owner := e.consoleUser(a.ID, "owner@a.example", consoleauth.RoleOwner)
	inv := consoleauth.Invite{ID: e.ids.Next(), Hash: hash("invite"), Business: a.ID, Email: "new@a.example", Role: consoleauth.RoleAdmin,
		By: owner.ID, Created: t0, Expires: t0.Add(time.Hour)}
	old := consoleauth.Invite{ID: e.ids.Next(), Hash: hash("old"), Business: a.ID, Email: "late@a.example", Role: consoleauth.RoleAgent,
		By: owner.ID, Created: t0.Add(-2 * time.Hour), Expires: t0.Add(-time.Hour)}
	for _, i := range []consoleauth.Invite{inv, old} {
		if err := e.db.PutConsoleInvite(e.ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := e.db.ConsoleInvite(e.ctx, inv.Hash); err != nil || got.ID != inv.ID || got.Email != inv.Email || got.Role != inv.Role ||
		got.By != owner.ID || got.User != 0 || !got.Expires.Equal(inv.Expires) || got.Used {
		t.Fatalf("ConsoleInvite = %+v, %v; want %+v", got, err, inv)
	}
	if is, err := e.db.ConsoleInvites(e.ctx, a.ID, t0); err != nil || len(is) != 1 || is[0].ID != inv.ID {
		t.Fatalf("open invites = %+v, %v; want only the unexpired one", is, err)
	}
	if is, _ := e.db.ConsoleInvites(e.ctx, b.ID, t0); len(is) != 0 {
		t.Fatalf("business b sees a's invitations: %+v", is)
	}
	_, err := e.db.RedeemConsoleInvite(e.ctx, old.Hash, t0, consoleauth.User{ID: e.ids.Next(), PasswordHash: "h", Created: t0})
	wantKind(t, "expired invitation", err, kontor.NotFound)

	// Eight at once: exactly one becomes the user.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []consoleauth.User
	for range 8 {
		wg.Go(func() {
			u, err := e.db.RedeemConsoleInvite(e.ctx, inv.Hash, t0.Add(time.Minute), consoleauth.User{ID: e.ids.Next(), PasswordHash: "$argon2id$new", Created: t0})
			if err == nil {
				mu.Lock()
				won = append(won, u)
				mu.Unlock()
			} else if kontor.KindOf(err) != kontor.NotFound {
				t.Errorf("redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d of 8 concurrent uses of one invitation succeeded, want 1", len(won))
	}
	u := won[0]
	if u.Business != a.ID || u.Email != "new@a.example" || u.Role != consoleauth.RoleAdmin || u.PasswordHash != "$argon2id$new" {
		t.Fatalf("invited user = %+v", u)
	}
	if got, err := e.db.ConsoleUserByEmail(e.ctx, "new@a.example"); err != nil || !sameUser(got, u) {
		t.Fatalf("stored invited user = %+v, %v; want %+v", got, err, u)
	}
	if is, _ := e.db.ConsoleInvites(e.ctx, a.ID, t0); len(is) != 0 {
		t.Errorf("a used invitation is still open: %+v", is)
	}

	// A set-password link sets the password and ends the sessions.
	if err := e.db.PutConsoleSession(e.ctx, consoleauth.Session{Hash: hash("owner s"), User: owner.ID, Created: t0, Seen: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	reset := consoleauth.Invite{ID: e.ids.Next(), Hash: hash("reset"), Business: a.ID, Email: owner.Email, Role: owner.Role, User: owner.ID, Created: t0, Expires: t0.Add(time.Hour)}
	if err := e.db.PutConsoleInvite(e.ctx, reset); err != nil {
		t.Fatal(err)
	}
	got, err := e.db.RedeemConsoleInvite(e.ctx, reset.Hash, t0, consoleauth.User{ID: e.ids.Next(), PasswordHash: "$argon2id$reset", Created: t0.Add(time.Hour)})
	if err != nil || got.ID != owner.ID || got.PasswordHash != "$argon2id$reset" || !got.Created.Equal(owner.Created) || got.Role != consoleauth.RoleOwner {
		t.Fatalf("set-password link: %+v, %v", got, err)
	}
	if _, err := e.db.ConsoleSession(e.ctx, hash("owner s")); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("the owner's session survived a new password: %v", err)
	}

	// An invitation for an email that got an account meanwhile: Conflict,
	// and the invitation stays unused.
	clash := consoleauth.Invite{ID: e.ids.Next(), Hash: hash("clash"), Business: a.ID, Email: "owner@a.example", Role: consoleauth.RoleAgent, Created: t0, Expires: t0.Add(time.Hour)}
	if err := e.db.PutConsoleInvite(e.ctx, clash); err != nil {
		t.Fatal(err)
	}
	_, err = e.db.RedeemConsoleInvite(e.ctx, clash.Hash, t0, consoleauth.User{ID: e.ids.Next(), PasswordHash: "x", Created: t0})
	wantKind(t, "invitation for a taken email", err, kontor.Conflict)
	if got, _ := e.db.ConsoleInvite(e.ctx, clash.Hash); got.Used {
		t.Error("a refused redemption used the invitation up")
	}
	// Withdrawing: only within the business.
	wantKind(t, "withdraw from another business", e.db.DeleteConsoleInvite(e.ctx, b.ID, clash.ID), kontor.NotFound)
	if err := e.db.DeleteConsoleInvite(e.ctx, a.ID, clash.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.db.RedeemConsoleInvite(e.ctx, clash.Hash, t0, consoleauth.User{ID: e.ids.Next(), PasswordHash: "x", Created: t0})
	wantKind(t, "withdrawn invitation", err, kontor.NotFound)
}

// testConsoleLimits: failures count within the window, lock at the limit,
// start again after the window, and concurrent failures all count.
func testConsoleLimits(t *testing.T, e *env) {
	const key = "email:x@a.example"
	win, lock := 15*time.Minute, 15*time.Minute
	fail := func(at time.Time) time.Time {
		t.Helper()
		l, err := e.db.ConsoleFailure(e.ctx, key, at, at.Add(-win), 5, at.Add(lock))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l, err := e.db.ConsoleLockedUntil(e.ctx, []string{key, "ip:1.2.3.4"}); err != nil || !l.IsZero() {
		t.Fatalf("fresh key locked until %v, %v", l, err)
	}
	for i := range 4 {
		if l := fail(t0.Add(time.Duration(i) * time.Minute)); !l.IsZero() {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	fifth := t0.Add(4 * time.Minute)
	if l := fail(fifth); !l.Equal(fifth.Add(lock)) {
		t.Fatalf("after the 5th failure locked until %v, want %v", l, fifth.Add(lock))
	}
	if l, _ := e.db.ConsoleLockedUntil(e.ctx, []string{"ip:1.2.3.4", key}); !l.Equal(fifth.Add(lock)) {
		t.Fatalf("ConsoleLockedUntil = %v", l)
	}
	// Failures spread wider than the window never lock.
	const slow = "email:slow@a.example"
	for i := range 12 {
		at := t0.Add(time.Duration(i) * 4 * time.Minute)
		l, err := e.db.ConsoleFailure(e.ctx, slow, at, at.Add(-10*time.Minute), 5, at.Add(lock))
		if err != nil || !l.IsZero() {
			t.Fatalf("slow failure %d: lock %v, %v", i, l, err)
		}
	}
	// Clearing forgets the count.
	const cleared = "email:c@a.example"
	for range 4 {
		if _, err := e.db.ConsoleFailure(e.ctx, cleared, t0, t0.Add(-win), 5, t0.Add(lock)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.ClearConsoleFailures(e.ctx, cleared); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.db.ConsoleFailure(e.ctx, cleared, t0, t0.Add(-win), 5, t0.Add(lock)); !l.IsZero() {
		t.Fatal("locked after clearing and one failure")
	}
	// 20 failures at once, limit 5: exactly four locks happen (every 5th).
	const hot = "ip:10.0.0.1"
	var wg sync.WaitGroup
	var mu sync.Mutex
	locks := 0
	for i := range 20 {
		wg.Go(func() {
			at := t0.Add(time.Duration(i) * time.Millisecond)
			l, err := e.db.ConsoleFailure(e.ctx, hot, at, t0.Add(-win), 5, t0.Add(lock+time.Duration(i)*time.Millisecond))
			if err != nil {
				t.Error(err)
				return
			}
			if !l.IsZero() {
				mu.Lock()
				locks++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Counted one after another, the 5th locks and the 15 after it see
	// the lock: any lost update shows as fewer.
	if locks != 16 {
		t.Errorf("%d of 20 concurrent failures saw a lock, want 16", locks)
	}
	// Pruning drops counts whose window and lock are over.
	if _, err := e.db.PruneConsole(e.ctx, t0.Add(time.Hour), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.db.ConsoleLockedUntil(e.ctx, []string{key, hot}); !l.IsZero() {
		t.Errorf("pruned locks still there: %v", l)
	}
}

func sameUser(a, b consoleauth.User) bool {
	a.Created, b.Created = a.Created.UTC(), b.Created.UTC()
	return a == b
}

// testSetAppSecret: rotating one app's secret changes only that app.
func testSetAppSecret(t *testing.T, e *env) {
	a, _ := e.newBusiness("+4930200040")
	b, _ := e.newBusiness("+4930200041")
	appA, appB := mustApp(e, a.ID), mustApp(e, b.ID)
	if err := e.db.SetAppSecret(e.ctx, appA, "new secret"); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.db.AppSecret(e.ctx, appA); s != "new secret" {
		t.Errorf("secret of a = %q", s)
	}
	if s, _ := e.db.AppSecret(e.ctx, appB); s != "s3cret-+4930200041" {
		t.Errorf("secret of b changed to %q", s)
	}
	wantKind(t, "unknown app", e.db.SetAppSecret(e.ctx, e.ids.Next(), "x"), kontor.NotFound)
}
