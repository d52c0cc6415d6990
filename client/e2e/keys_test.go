package e2e

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
)

// The test vector of libsignal-protocol-java's NumericFingerprintGeneratorTest
// (and of libsignal's Rust fingerprint tests).
func TestFingerprintVector(t *testing.T) {
	aliceKey, _ := hex.DecodeString("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868")
	bobKey, _ := hex.DecodeString("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b")
	const want = "300354477692869396892869876765458257569162576843440918079131"
	if got := Fingerprint("+14152222222", [][]byte{aliceKey}, "+14153333333", [][]byte{bobKey}); got != want {
		t.Errorf("alice's side: %s, want %s", got, want)
	}
	if got := Fingerprint("+14153333333", [][]byte{bobKey}, "+14152222222", [][]byte{aliceKey}); got != want {
		t.Errorf("bob's side: %s, want %s", got, want)
	}
	other := slices.Clone(bobKey)
	other[9] ^= 1
	if got := Fingerprint("+14152222222", [][]byte{aliceKey}, "+14153333333", [][]byte{other}); got == want {
		t.Error("another key gives the same number")
	}
	if got := Fingerprint("+14152222222", [][]byte{aliceKey}, "+14153333334", [][]byte{bobKey}); got == want {
		t.Error("another number gives the same safety number")
	}
	// Several keys: any order, the same number.
	two := Fingerprint("+14152222222", [][]byte{aliceKey, other}, "+14153333333", [][]byte{bobKey})
	if two != Fingerprint("+14152222222", [][]byte{other, aliceKey}, "+14153333333", [][]byte{bobKey}) || two == want {
		t.Error("a key set's number depends on the order, or ignores a key")
	}
	if got := FormatSafetyNumber(want); got != "30035 44776 92869 39689 28698 76765 45825 75691 62576 84344 09180 79131" {
		t.Errorf("FormatSafetyNumber = %q", got)
	}
}

var sixtyDigits = regexp.MustCompile(`^[0-9]{60}$`)

func TestSafetyNumber(t *testing.T) {
	ctx := context.Background()
	kd := newKeyDir(t)
	a, b, c := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir()), kd.join(t, carol, "")

	// Before any message: alice fetches bob's keys, and starts the session
	// with them, so her first message needs no fetch.
	na, err := a.s.SafetyNumber(ctx, bob.Phone)
	if err != nil {
		t.Fatal(err)
	}
	if kd.fetchCount(alice) != 1 {
		t.Fatalf("%d fetches for the safety number", kd.fetchCount(alice))
	}
	m := a.send(b, "hello")
	if kd.fetchCount(alice) != 1 || kindOf(m) != kindPreKey {
		t.Fatalf("the first message fetched again (%d) or is of kind %d", kd.fetchCount(alice), kindOf(m))
	}
	b.recv(a, m, "hello")
	nb, err := b.s.SafetyNumber(ctx, alice.Phone)
	if err != nil {
		t.Fatal(err)
	}
	if kd.fetchCount(bob) != 0 {
		t.Fatal("bob fetched keys he had from the message")
	}
	if na != nb || !sixtyDigits.MatchString(na) {
		t.Fatalf("alice sees %q, bob %q; want the same 60 digits", na, nb)
	}
	nc, err := a.s.SafetyNumber(ctx, carol.Phone)
	if err != nil || nc == na || !sixtyDigits.MatchString(nc) {
		t.Fatalf("with carol: %q, %v", nc, err)
	}
	_ = c

	// Verifying takes the number the person compared.
	wrong := []byte(na)
	wrong[17] = '0' + (wrong[17]-'0'+1)%10
	if err := a.s.Verify(bob.Phone, string(wrong)); !errors.Is(err, ErrSafetyNumberMismatch) {
		t.Fatalf("Verify with a wrong number: %v", err)
	}
	if a.s.Verified(bob.Phone) {
		t.Fatal("verified with a wrong number")
	}
	if err := a.s.Verify(bob.Phone, FormatSafetyNumber(na)); err != nil || !a.s.Verified(bob.Phone) {
		t.Fatalf("Verify: %v", err)
	}
	a.restart()
	if !a.s.Verified(bob.Phone) {
		t.Fatal("the verification did not survive a restart")
	}
	if err := a.s.Unverify(bob.Phone); err != nil || a.s.Verified(bob.Phone) {
		t.Fatalf("Unverify: %v", err)
	}
	if _, err := a.s.SafetyNumber(ctx, alice.Phone); err == nil {
		t.Fatal("a safety number with oneself")
	}
	if _, err := a.s.SafetyNumber(ctx, "+4915199999999"); err == nil {
		t.Fatal("a safety number with an unknown number")
	}
}

// With several devices per account, the number covers the device sets: all
// devices agree once messages went both ways, as the client sends them (to
// every device of the peer, and a copy to its own other devices).
func TestSafetyNumberSeveralDevices(t *testing.T) {
	ctx := context.Background()
	kd := newKeyDir(t)
	a1, a2, b1 := kd.join(t, alice, ""), kd.join(t, alice2, ""), kd.join(t, bob, "")
	sendAll := func(from *party, text string, to ...*party) {
		for _, p := range to {
			p.recv(from, from.send(p, text), text)
		}
	}
	sendAll(a1, "from a1", b1, a2)
	sendAll(b1, "from b1", a1, a2)
	sendAll(a2, "from a2", b1, a1)
	n1, err1 := a1.s.SafetyNumber(ctx, bob.Phone)
	n2, err2 := a2.s.SafetyNumber(ctx, bob.Phone)
	nb, err3 := b1.s.SafetyNumber(ctx, alice.Phone)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if n1 != n2 || n1 != nb {
		t.Fatalf("a1 %s, a2 %s, b1 %s; want one number", n1, n2, nb)
	}
}

func TestMaintain(t *testing.T) {
	ctx := context.Background()
	kd := newKeyDir(t)
	b := kd.join(t, bob, t.TempDir())
	c := kd.join(t, carol, "")

	if kd.pool(bob) != PreKeysTarget {
		t.Fatalf("first Maintain left %d prekeys on the server, want %d", kd.pool(bob), PreKeysTarget)
	}
	ids := map[uint32]bool{}
	for _, p := range b.s.keys.PreKeys {
		if p.ID < 1 || p.ID > maxKeyID || ids[p.ID] || !p.Uploaded {
			t.Fatalf("prekey %d: bad id, repeated, or not uploaded", p.ID)
		}
		ids[p.ID] = true
	}
	if len(ids) != PreKeysTarget {
		t.Fatalf("%d prekeys made, want %d", len(ids), PreKeysTarget)
	}
	uploads := kd.uploads[bob]
	st, err := b.s.Maintain(ctx)
	if err != nil || kd.uploads[bob] != uploads || st.PreKeys != PreKeysTarget || st.SignedPreKeyID == 0 {
		t.Fatalf("Maintain with nothing to do: %+v, %v, %d uploads", st, err, kd.uploads[bob]-uploads)
	}

	drain := func(n int) {
		t.Helper()
		for range n {
			if _, err := c.s.api.Bundles(ctx, bob.Phone, bob.DeviceID); err != nil {
				t.Fatal(err)
			}
		}
	}
	drain(PreKeysTarget - PreKeysLow) // exactly PreKeysLow left: no top-up yet
	if _, err := b.s.Maintain(ctx); err != nil || kd.pool(bob) != PreKeysLow || kd.uploads[bob] != uploads {
		t.Fatalf("Maintain at %d left: %v, pool %d", PreKeysLow, err, kd.pool(bob))
	}
	drain(1)
	st, err = b.s.Maintain(ctx)
	if err != nil || kd.pool(bob) != PreKeysTarget || st.PreKeys != PreKeysTarget {
		t.Fatalf("Maintain below %d: %+v, %v, pool %d", PreKeysLow, st, err, kd.pool(bob))
	}
	// Keys handed out stay on the device: a message may still use them.
	if n, pending := b.s.LocalPreKeys(); n != 2*PreKeysTarget-PreKeysLow+1 || pending != 0 {
		t.Fatalf("bob holds %d prekeys (%d not uploaded)", n, pending)
	}

	// A failed upload loses nothing: the keys wait on the device.
	drain(PreKeysTarget)
	api := b.s.api
	b.s.api = &client.API{Server: "http://127.0.0.1:1", Credential: api.Credential} // nothing listens there
	if _, err := b.s.Maintain(ctx); kontor.KindOf(err) != kontor.Unavailable {
		t.Fatalf("Maintain without a server: %v", err)
	}
	b.s.api = api
	failing := &failOnce{next: http.DefaultTransport}
	b.s.api.HTTP = &http.Client{Transport: failing}
	if _, err := b.s.Maintain(ctx); err == nil {
		t.Fatal("Maintain with a failing upload worked")
	}
	before, pending := b.s.LocalPreKeys()
	if pending != PreKeysTarget {
		t.Fatalf("%d prekeys wait for an upload, want %d", pending, PreKeysTarget)
	}
	b.restart()
	if _, err := b.s.Maintain(ctx); err != nil || kd.pool(bob) != PreKeysTarget {
		t.Fatalf("Maintain after a failed upload: %v, pool %d", err, kd.pool(bob))
	}
	if n, pending := b.s.LocalPreKeys(); n != before || pending != 0 {
		t.Fatalf("after the retry bob holds %d prekeys (%d pending), want %d (0)", n, pending, before)
	}
}

// failOnce fails the first PUT that passes through it.
type failOnce struct {
	next   http.RoundTripper
	failed bool
}

func (f *failOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && !f.failed {
		f.failed = true
		return nil, errors.New("connection reset")
	}
	return f.next.RoundTrip(r)
}

func TestSignedPreKeyRotation(t *testing.T) {
	ctx := context.Background()
	kd := newKeyDir(t)
	a, b := kd.join(t, alice, ""), kd.join(t, bob, t.TempDir())
	c := kd.join(t, carol, "")
	first := kd.statusOf(bob).SignedPreKeyID

	// Carol starts a session before the rotation; bob reads it after.
	early := c.send(b, "from before the rotation")
	b.clock.add(SignedPreKeyRotation - time.Hour)
	if st, err := b.s.Maintain(ctx); err != nil || st.SignedPreKeyID != first {
		t.Fatalf("rotated too early: %+v, %v", st, err)
	}
	b.clock.add(2 * time.Hour)
	st, err := b.s.Maintain(ctx)
	if err != nil || st.SignedPreKeyID == first || st.SignedPreKeyID == 0 {
		t.Fatalf("no rotation after a week: %+v, %v", st, err)
	}
	b.recv(c, early, "from before the rotation")
	b.recv(a, a.send(b, "after the rotation"), "after the rotation")

	// Alice starts another session with the current key; it is kept past
	// the grace of the first key.
	kd.set(func(kd *keyDir) { kd.noPreKeys = true }) // the signed prekey alone carries the session
	d := kd.join(t, wire.DeviceAddress{Phone: "+4915100000004", DeviceID: 1}, "")
	oldSession := d.send(b, "made with the second signed prekey")
	kd.set(func(kd *keyDir) { kd.noPreKeys = false })
	for range 6 { // six more weeks, a Maintain each
		b.clock.add(SignedPreKeyRotation)
		if _, err := b.s.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint32
	for _, r := range b.s.keys.Signed {
		ids = append(ids, r.ID)
	}
	if slices.Contains(ids, first) || slices.Contains(ids, st.SignedPreKeyID) || len(ids) > 6 {
		t.Fatalf("signed prekeys kept: %v; the first (%d) and second (%d) are past their grace", ids, first, st.SignedPreKeyID)
	}
	// A session from a key past its grace cannot be read: told, not lost.
	err = b.fails(d, oldSession)
	if !strings.Contains(err.Error(), "no longer has") {
		t.Fatalf("error %v", err)
	}
	// The sender is asked to start anew: bob's next message does.
	d.recv(b, b.send(d, "let's start again"), "let's start again")
	b.recv(d, d.send(b, "fine"), "fine")
}
