package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
)

// testRegister: a new phone gets the account asked for, with the device as
// its primary number 1, and every lookup returns the same values.
func testRegister(t *testing.T, e *env) {
	acctID, devID := e.ids.Next(), e.ids.Next()
	secret := hash("secret")
	a, d, err := e.db.Register(e.ctx,
		identity.Account{ID: acctID, Phone: phoneA, Created: t0, LastSeenPrivacy: identity.PrivacyEveryone},
		// Primary false and a stray Num: Register must set both.
		identity.Device{ID: devID, Num: 9, Name: "phone", SecretHash: secret, Created: t0.Add(1500 * time.Millisecond)})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	wantA := identity.Account{ID: acctID, Phone: phoneA, Created: t0, LastSeenPrivacy: identity.PrivacyEveryone}
	wantD := identity.Device{ID: devID, AccountID: acctID, Num: 1, Name: "phone", SecretHash: secret, Primary: true, Created: t0.Add(1500 * time.Millisecond)}
	checkAccount(t, "Register", a, wantA)
	checkDevice(t, "Register", d, wantD)

	got, err := e.db.AccountByPhone(e.ctx, phoneA)
	if err != nil {
		t.Fatalf("AccountByPhone: %v", err)
	}
	checkAccount(t, "AccountByPhone", got, wantA)

	gd, ga, err := e.db.Device(e.ctx, devID)
	if err != nil {
		t.Fatalf("Device: %v", err)
	}
	checkDevice(t, "Device", gd, wantD)
	checkAccount(t, "Device's account", ga, wantA)

	ds, err := e.db.Devices(e.ctx, acctID)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	checkDevices(t, "Devices", ds, []identity.Device{wantD})

	// A second phone is a second account, numbered from 1 again.
	b, bd := e.register(phoneB)
	if b.ID == acctID || bd.Num != 1 || bd.AccountID != b.ID {
		t.Errorf("second account %v with device %+v; want a new account whose device is number 1", b.ID, bd)
	}
}

// testRegisterAgain: registering a phone again keeps its account and
// replaces all its devices, with their queues and send refs, by the new
// primary, whose number is new.
func testRegisterAgain(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	d2 := e.link(a.ID, "laptop")
	_, bd := e.register(phoneB)
	for _, d := range []kontor.ID{d1.ID, d2.ID, bd.ID} {
		e.insert(e.entry(d, "hello"))
	}
	ref1 := e.ids.Next()
	e.claim(d1.ID, "r1", ref1, 1)
	keepB := e.queue(bd.ID)

	newAcct, newDev := e.ids.Next(), e.ids.Next()
	a2, d3, err := e.db.Register(e.ctx,
		identity.Account{ID: newAcct, Phone: phoneA, Created: t0.Add(time.Hour), LastSeenPrivacy: identity.PrivacyEveryone},
		identity.Device{ID: newDev, Name: "new phone", SecretHash: hash("new"), Created: t0.Add(time.Hour)})
	if err != nil {
		t.Fatalf("Register again: %v", err)
	}
	checkAccount(t, "Register again", a2, a)
	want := identity.Device{ID: newDev, AccountID: a.ID, Num: 3, Name: "new phone", SecretHash: hash("new"), Primary: true, Created: t0.Add(time.Hour)}
	checkDevice(t, "Register again", d3, want)

	ds, err := e.db.Devices(e.ctx, a.ID)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	checkDevices(t, "Devices after registering again", ds, []identity.Device{want})
	for _, old := range []identity.Device{d1, d2} {
		_, _, err := e.db.Device(e.ctx, old.ID)
		wantKind(t, "Device of a replaced device", err, kontor.NotFound)
		e.checkQueue("replaced device", old.ID)
	}
	if id, fresh := e.claim(d1.ID, "r1", e.ids.Next(), 2); !fresh || id == ref1 {
		t.Errorf("ClaimRef of a replaced device's ref = %v, fresh %v; want its refs gone", id, fresh)
	}
	if _, err := e.db.RecipientByAccount(e.ctx, newAcct); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("RecipientByAccount(the unused new id): %v, want kind not_found", err)
	}
	e.checkQueue("other account", bd.ID, keepB...)
}

// testDevices: linked devices get the next number, never a used one, up to
// max devices; removing one takes its queue along.
func testDevices(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	add := func(name string, max int) (identity.Device, error) {
		return e.db.AddDevice(e.ctx, identity.Device{ID: e.ids.Next(), AccountID: a.ID, Name: name, SecretHash: hash(name), Created: t0}, max)
	}
	d2, err := add("laptop", 3)
	if err != nil {
		t.Fatalf("AddDevice: %v", err)
	}
	checkDevice(t, "AddDevice", d2, identity.Device{ID: d2.ID, AccountID: a.ID, Num: 2, Name: "laptop", SecretHash: hash("laptop"), Created: t0})
	d3, err := add("tablet", 3)
	if err != nil || d3.Num != 3 {
		t.Fatalf("AddDevice = %+v, %v; want number 3", d3, err)
	}
	_, err = add("one too many", 3)
	wantKind(t, "AddDevice over max", err, kontor.Conflict)
	ds, err := e.db.Devices(e.ctx, a.ID)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	checkDevices(t, "Devices", ds, []identity.Device{d1, d2, d3})

	// Removing a device deletes it and its queue, not the others' queues.
	e2, e3 := e.entry(d2.ID, "for the laptop"), e.entry(d3.ID, "for the tablet")
	e.insert(e2, e3)
	if err := e.db.RemoveDevice(e.ctx, d2.ID); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	e.checkQueue("removed device", d2.ID)
	e.checkQueue("other device", d3.ID, e3)
	_, _, err = e.db.Device(e.ctx, d2.ID)
	wantKind(t, "Device after RemoveDevice", err, kontor.NotFound)
	for _, id := range []kontor.ID{d2.ID, e.ids.Next()} {
		if err := e.db.RemoveDevice(e.ctx, id); err != nil {
			t.Errorf("RemoveDevice of a device that is gone: %v", err)
		}
	}

	// Room again; the new device must not reuse a number.
	d4, err := add("desktop", 3)
	if err != nil {
		t.Fatalf("AddDevice after a removal: %v", err)
	}
	if d4.Num <= 3 {
		t.Errorf("AddDevice after a removal gave number %d; numbers 1-3 were used", d4.Num)
	}
	ds, _ = e.db.Devices(e.ctx, a.ID)
	checkDevices(t, "Devices after removal", ds, []identity.Device{d1, d3, d4})

	ds, err = e.db.Devices(e.ctx, e.ids.Next())
	if err != nil || len(ds) != 0 {
		t.Errorf("Devices of an unknown account = %v, %v; want none", nums(ds), err)
	}
}

// testCredentials: a device's secret hash comes back byte for byte with the
// device's account, for a primary and for a linked device.
func testCredentials(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	secret := []byte{0, 1, 2, 0xff, 0xfe, 0, 0x80, 0x7f, '\'', '"', '\\', 0}
	d2, err := e.db.AddDevice(e.ctx, identity.Device{ID: e.ids.Next(), AccountID: a.ID, Name: "Zoë's 📱", SecretHash: secret, Created: t0}, 5)
	if err != nil {
		t.Fatalf("AddDevice: %v", err)
	}
	for _, want := range []identity.Device{d1, d2} {
		d, acct, err := e.db.Device(e.ctx, want.ID)
		if err != nil {
			t.Fatalf("Device(%d): %v", want.ID, err)
		}
		checkDevice(t, "Device", d, want)
		checkAccount(t, "Device's account", acct, a)
	}
}

// testOperatorTokens: stored hashes are found, others not; storing one
// twice is fine.
func testOperatorTokens(t *testing.T, e *env) {
	tok, other := hash("token"), hash("other")
	check := func(what string, h []byte, want bool) {
		t.Helper()
		ok, err := e.db.OperatorToken(e.ctx, h)
		if err != nil || ok != want {
			t.Errorf("%s: OperatorToken = %v, %v; want %v", what, ok, err, want)
		}
	}
	check("before", tok, false)
	for range 2 {
		if err := e.db.AddOperatorToken(e.ctx, tok, t0); err != nil {
			t.Fatalf("AddOperatorToken: %v", err)
		}
	}
	check("stored", tok, true)
	check("other", other, false)
	check("prefix", tok[:16], false)
}

// testCodes: a code round-trips, counts attempts, is replaced by the next
// one for the same phone, and is deleted.
func testCodes(t *testing.T, e *env) {
	c1 := identity.Code{Phone: phoneA, Hash: hash("123456"), Expires: t0.Add(10 * time.Minute), Created: t0}
	other := identity.Code{Phone: phoneB, Hash: hash("654321"), Expires: t0.Add(time.Minute), Attempts: 2, Created: t0.Add(time.Second)}
	for _, c := range []identity.Code{c1, other} {
		if err := e.db.PutCode(e.ctx, c); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
	}
	check := func(what string, want identity.Code) {
		t.Helper()
		got, err := e.db.Code(e.ctx, want.Phone)
		if err != nil {
			t.Fatalf("%s: Code: %v", what, err)
		}
		if got.Phone != want.Phone || !bytes.Equal(got.Hash, want.Hash) || !got.Expires.Equal(want.Expires) ||
			got.Attempts != want.Attempts || !got.Created.Equal(want.Created) {
			t.Errorf("%s: Code = %+v, want %+v", what, got, want)
		}
	}
	check("stored", c1)
	check("other phone", other)

	for want := 1; want <= 3; want++ {
		n, err := e.db.AddCodeAttempt(e.ctx, phoneA)
		if err != nil || n != want {
			t.Fatalf("AddCodeAttempt = %d, %v; want %d", n, err, want)
		}
	}
	c1.Attempts = 3
	check("after 3 attempts", c1)
	check("other phone after attempts", other)

	c2 := identity.Code{Phone: phoneA, Hash: hash("111111"), Expires: t0.Add(20 * time.Minute), Created: t0.Add(5 * time.Minute)}
	if err := e.db.PutCode(e.ctx, c2); err != nil {
		t.Fatalf("PutCode again: %v", err)
	}
	check("replaced", c2)

	for range 2 {
		if err := e.db.DeleteCode(e.ctx, phoneA); err != nil {
			t.Fatalf("DeleteCode: %v", err)
		}
	}
	_, err := e.db.Code(e.ctx, phoneA)
	wantKind(t, "Code after DeleteCode", err, kontor.NotFound)
	_, err = e.db.AddCodeAttempt(e.ctx, phoneA)
	wantKind(t, "AddCodeAttempt after DeleteCode", err, kontor.NotFound)
	check("other phone after delete", other)
}

// testCodeRequests: LogCodeRequest counts a phone's and an address's
// requests since a time, this one and the one exactly at since included.
func testCodeRequests(t *testing.T, e *env) {
	const window = time.Hour
	steps := []struct {
		phone         kontor.Phone
		ip            string
		at            time.Duration // after t0
		byPhone, byIP int
	}{
		{phoneA, "192.0.2.1", 0, 1, 1},
		{phoneA, "192.0.2.1", time.Minute, 2, 2},
		{phoneB, "192.0.2.1", 2 * time.Minute, 1, 3},
		{phoneA, "2001:db8::1", 3 * time.Minute, 3, 1},
		{phoneC, "192.0.2.2", 4 * time.Minute, 1, 1},
		// The window now starts at 1m: the request at 0 drops out, the one
		// at 1m is on the edge and counts.
		{phoneA, "192.0.2.1", window + time.Minute, 3, 3},
		{phoneB, "192.0.2.1", window + 2*time.Minute, 2, 3},
		// Hours later, only this request counts.
		{phoneA, "192.0.2.1", 5 * window, 1, 1},
	}
	for i, s := range steps {
		at := t0.Add(s.at)
		byPhone, byIP, err := e.db.LogCodeRequest(e.ctx, s.phone, s.ip, at, at.Add(-window))
		if err != nil {
			t.Fatalf("step %d: LogCodeRequest: %v", i, err)
		}
		if byPhone != s.byPhone || byIP != s.byIP {
			t.Errorf("step %d (%s from %s at +%v): counts %d by phone, %d by address; want %d, %d",
				i, s.phone, s.ip, s.at, byPhone, byIP, s.byPhone, s.byIP)
		}
	}
}

// testPruneCodes: PruneCodes(t) removes codes and link codes that expired
// before t and request logs from before t, and keeps the rest.
func testPruneCodes(t *testing.T, e *env) {
	a, _ := e.register(phoneA)
	cut := t0.Add(10 * time.Minute)
	for _, c := range []identity.Code{
		{Phone: phoneA, Hash: hash("a"), Expires: cut.Add(-time.Millisecond), Created: t0},
		{Phone: phoneB, Hash: hash("b"), Expires: cut, Created: t0},
	} {
		if err := e.db.PutCode(e.ctx, c); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
	}
	const ip = "192.0.2.7"
	for _, at := range []time.Time{t0, cut.Add(-time.Millisecond), cut, cut.Add(time.Minute)} {
		if _, _, err := e.db.LogCodeRequest(e.ctx, phoneC, ip, at, t0); err != nil {
			t.Fatalf("LogCodeRequest: %v", err)
		}
	}
	oldLink, newLink := hash("old link"), hash("new link")
	if err := e.db.PutLinkCode(e.ctx, oldLink, a.ID, cut.Add(-time.Millisecond)); err != nil {
		t.Fatalf("PutLinkCode: %v", err)
	}
	if err := e.db.PutLinkCode(e.ctx, newLink, a.ID, cut); err != nil {
		t.Fatalf("PutLinkCode: %v", err)
	}

	if err := e.db.PruneCodes(e.ctx, cut); err != nil {
		t.Fatalf("PruneCodes: %v", err)
	}

	_, err := e.db.Code(e.ctx, phoneA)
	wantKind(t, "Code expired before the cut", err, kontor.NotFound)
	if _, err := e.db.Code(e.ctx, phoneB); err != nil {
		t.Errorf("Code expiring at the cut: %v, want it kept", err)
	}
	// Counting from the beginning of time: the 2 kept requests and this one.
	byPhone, byIP, err := e.db.LogCodeRequest(e.ctx, phoneC, ip, cut.Add(2*time.Minute), time.Time{})
	if err != nil || byPhone != 3 || byIP != 3 {
		t.Errorf("requests after PruneCodes: %d by phone, %d by address, %v; want 3, 3", byPhone, byIP, err)
	}
	// A zero now never expires a code: what TakeLinkCode finds was kept.
	_, err = e.db.TakeLinkCode(e.ctx, oldLink, time.Time{})
	wantKind(t, "TakeLinkCode of a pruned link code", err, kontor.NotFound)
	if got, err := e.db.TakeLinkCode(e.ctx, newLink, time.Time{}); err != nil || got != a.ID {
		t.Errorf("TakeLinkCode of a kept link code = %v, %v; want %v", got, err, a.ID)
	}
}

// testLinkCodes: a link code gives its account once, until it expires.
func testLinkCodes(t *testing.T, e *env) {
	a, _ := e.register(phoneA)
	b, _ := e.register(phoneB)
	exp := t0.Add(10 * time.Minute)
	type put struct {
		account kontor.ID
		expires time.Time
	}
	tests := []struct {
		name string
		puts []put // stored under the same hash, in order
		now  time.Time
		want kontor.ID // 0: kind NotFound
	}{
		{"valid", []put{{a.ID, exp}}, t0, a.ID},
		{"at its expiry", []put{{a.ID, exp}}, exp, a.ID},
		{"expired", []put{{a.ID, exp}}, exp.Add(time.Millisecond), 0},
		{"replaced", []put{{a.ID, exp}, {b.ID, exp.Add(time.Minute)}}, exp.Add(30 * time.Second), b.ID},
		{"never stored", nil, t0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hash(tt.name)
			for _, p := range tt.puts {
				if err := e.db.PutLinkCode(e.ctx, h, p.account, p.expires); err != nil {
					t.Fatalf("PutLinkCode: %v", err)
				}
			}
			got, err := e.db.TakeLinkCode(e.ctx, h, tt.now)
			if tt.want == 0 {
				wantKind(t, "TakeLinkCode", err, kontor.NotFound)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("TakeLinkCode = %v, %v; want %v", got, err, tt.want)
			}
			_, err = e.db.TakeLinkCode(e.ctx, h, tt.now)
			wantKind(t, "TakeLinkCode a second time", err, kontor.NotFound)
		})
	}
}

// testDeleteAccount: deleting an account deletes its devices, their queues
// and send refs and its link codes; the other accounts keep everything, and
// the phone can register anew.
func testDeleteAccount(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	d2 := e.link(a.ID, "laptop")
	b, bd := e.register(phoneB)
	e.insert(e.entry(d1.ID, "1"), e.entry(d2.ID, "2"), e.entry(bd.ID, "for b"),
		// A message from A to B: B's queue is B's, and keeps it.
		router.Entry{Device: bd.ID, ID: e.ids.Next(), Kind: router.KindMessage, FromAccount: a.ID, From: phoneA, FromDevice: 1, TS: 1, Expires: 2, Body: []byte("from a")})
	keepB := e.queue(bd.ID)
	ref := e.ids.Next()
	e.claim(d1.ID, "r", ref, 1)
	link := hash("link")
	if err := e.db.PutLinkCode(e.ctx, link, a.ID, t0.Add(time.Hour)); err != nil {
		t.Fatalf("PutLinkCode: %v", err)
	}

	if err := e.db.DeleteAccount(e.ctx, a.ID); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}

	_, err := e.db.AccountByPhone(e.ctx, phoneA)
	wantKind(t, "AccountByPhone", err, kontor.NotFound)
	_, err = e.db.Recipient(e.ctx, phoneA)
	wantKind(t, "Recipient", err, kontor.NotFound)
	_, err = e.db.RecipientByAccount(e.ctx, a.ID)
	wantKind(t, "RecipientByAccount", err, kontor.NotFound)
	for _, d := range []identity.Device{d1, d2} {
		_, _, err = e.db.Device(e.ctx, d.ID)
		wantKind(t, "Device", err, kontor.NotFound)
		e.checkQueue("deleted account's device", d.ID)
	}
	if ds, err := e.db.Devices(e.ctx, a.ID); err != nil || len(ds) != 0 {
		t.Errorf("Devices of the deleted account = %v, %v; want none", nums(ds), err)
	}
	_, err = e.db.TakeLinkCode(e.ctx, link, t0)
	wantKind(t, "TakeLinkCode of the deleted account's code", err, kontor.NotFound)
	if id, fresh := e.claim(d1.ID, "r", e.ids.Next(), 2); !fresh || id == ref {
		t.Errorf("ClaimRef of a deleted device's ref = %v, fresh %v; want its refs gone", id, fresh)
	}
	e.tx(func(tx router.Tx) error {
		if ds, err := tx.Devices(a.ID); err != nil || len(ds) != 0 {
			t.Errorf("Tx.Devices of the deleted account = %v, %v; want none", ds, err)
		}
		return nil
	})

	got, err := e.db.AccountByPhone(e.ctx, phoneB)
	if err != nil {
		t.Fatalf("AccountByPhone of the other account: %v", err)
	}
	checkAccount(t, "other account", got, b)
	e.checkQueue("other account", bd.ID, keepB...)

	// The number is free: registering it makes a new account.
	a2, d3 := e.register(phoneA)
	if a2.ID == a.ID || d3.Num != 1 {
		t.Errorf("registering a deleted number gave account %v device %d; want a new account (not %v) with device 1", a2.ID, d3.Num, a.ID)
	}
}

// testLastSeen: a device's last-seen time is what was set; its account's is
// the latest of its devices'.
func testLastSeen(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	d2 := e.link(a.ID, "laptop")
	e.register(phoneB)
	if !a.LastSeen.IsZero() || !d1.LastSeen.IsZero() {
		t.Errorf("new account and device last seen %v, %v; want zero", a.LastSeen, d1.LastSeen)
	}
	steps := []struct {
		device      kontor.ID
		at          time.Duration
		wantAccount time.Duration
	}{
		{d1.ID, time.Minute, time.Minute},
		{d2.ID, 30 * time.Second, time.Minute}, // older: the account keeps the later time
		{d2.ID, 2 * time.Minute, 2 * time.Minute},
		{d1.ID, 2*time.Minute + time.Millisecond, 2*time.Minute + time.Millisecond},
	}
	for i, s := range steps {
		if err := e.db.SetLastSeen(e.ctx, s.device, t0.Add(s.at)); err != nil {
			t.Fatalf("step %d: SetLastSeen: %v", i, err)
		}
		d, acct, err := e.db.Device(e.ctx, s.device)
		if err != nil {
			t.Fatalf("step %d: Device: %v", i, err)
		}
		if !d.LastSeen.Equal(t0.Add(s.at)) {
			t.Errorf("step %d: device last seen %v, want %v", i, d.LastSeen, t0.Add(s.at))
		}
		if !acct.LastSeen.Equal(t0.Add(s.wantAccount)) {
			t.Errorf("step %d: account last seen %v, want %v", i, acct.LastSeen, t0.Add(s.wantAccount))
		}
	}
	if got, _ := e.db.AccountByPhone(e.ctx, phoneB); !got.LastSeen.IsZero() {
		t.Errorf("other account last seen %v, want zero", got.LastSeen)
	}
	// A device removed meanwhile is no error.
	if err := e.db.SetLastSeen(e.ctx, e.ids.Next(), t0); err != nil {
		t.Errorf("SetLastSeen of an unknown device: %v", err)
	}
}

// testPrivacy: SetPrivacy changes one account's setting, also to the value
// it has.
func testPrivacy(t *testing.T, e *env) {
	a, d := e.register(phoneA)
	e.register(phoneB)
	for _, who := range []string{identity.PrivacyNobody, identity.PrivacyNobody, identity.PrivacyEveryone} {
		if err := e.db.SetPrivacy(e.ctx, a.ID, who); err != nil {
			t.Fatalf("SetPrivacy(%s): %v", who, err)
		}
		got, err := e.db.AccountByPhone(e.ctx, phoneA)
		if err != nil || got.LastSeenPrivacy != who {
			t.Errorf("after SetPrivacy(%s): AccountByPhone = %+v, %v", who, got, err)
		}
		if _, acct, err := e.db.Device(e.ctx, d.ID); err != nil || acct.LastSeenPrivacy != who {
			t.Errorf("after SetPrivacy(%s): Device's account = %+v, %v", who, acct, err)
		}
		if other, _ := e.db.AccountByPhone(e.ctx, phoneB); other.LastSeenPrivacy != identity.PrivacyEveryone {
			t.Errorf("after SetPrivacy(%s): other account has %q", who, other.LastSeenPrivacy)
		}
	}
}

// testNotFound: every lookup of something that does not exist fails with
// kind NotFound (next to an account that does exist).
func testNotFound(t *testing.T, e *env) {
	a, _ := e.register(phoneA)
	none := e.ids.Next()
	tests := []struct {
		name string
		call func() error
	}{
		{"Code", func() error { _, err := e.db.Code(e.ctx, phoneA); return err }},
		{"AddCodeAttempt", func() error { _, err := e.db.AddCodeAttempt(e.ctx, phoneA); return err }},
		{"AccountByPhone", func() error { _, err := e.db.AccountByPhone(e.ctx, unknown); return err }},
		{"Device", func() error { _, _, err := e.db.Device(e.ctx, none); return err }},
		{"AddDevice", func() error {
			_, err := e.db.AddDevice(e.ctx, identity.Device{ID: e.ids.Next(), AccountID: none, SecretHash: hash("x"), Created: t0}, 5)
			return err
		}},
		{"SetPrivacy", func() error { return e.db.SetPrivacy(e.ctx, none, identity.PrivacyNobody) }},
		{"TakeLinkCode", func() error { _, err := e.db.TakeLinkCode(e.ctx, hash("none"), t0); return err }},
		{"Recipient", func() error { _, err := e.db.Recipient(e.ctx, unknown); return err }},
		{"RecipientByAccount", func() error { _, err := e.db.RecipientByAccount(e.ctx, none); return err }},
	}
	for _, tt := range tests {
		wantKind(t, tt.name, tt.call(), kontor.NotFound)
	}
	if _, err := e.db.AccountByPhone(e.ctx, a.Phone); err != nil {
		t.Errorf("AccountByPhone of the existing account: %v", err)
	}
}
