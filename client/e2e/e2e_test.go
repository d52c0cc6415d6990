package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.mau.fi/libsignal/logger"
	"go.mau.fi/libsignal/state/record"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
)

var (
	alice  = wire.DeviceAddress{Phone: "+4915100000001", DeviceID: 1}
	alice2 = wire.DeviceAddress{Phone: "+4915100000001", DeviceID: 2}
	bob    = wire.DeviceAddress{Phone: "+4915100000002", DeviceID: 1}
	bob2   = wire.DeviceAddress{Phone: "+4915100000002", DeviceID: 2}
	carol  = wire.DeviceAddress{Phone: "+4915100000003", DeviceID: 1}
)

// party is one device in a test: its sealer, its key store directory ("" in
// memory) and the notices it was told.
type party struct {
	t      testing.TB
	kd     *keyDir
	addr   wire.DeviceAddress
	dir    string
	st     client.Storage // instead of dir: opened with OpenStorage
	nosync bool           // Options.NoSync
	clock  *fakeClock
	s      *Sealer
	peer   *party // the other side, for tests that need it

	mu   sync.Mutex
	told []Notice
}

// join opens a device's sealer and uploads its keys.
func (kd *keyDir) join(t testing.TB, addr wire.DeviceAddress, dir string) *party {
	t.Helper()
	p := &party{t: t, kd: kd, addr: addr, dir: dir, clock: newFakeClock()}
	p.start()
	if _, err := p.s.Maintain(context.Background()); err != nil {
		t.Fatalf("%s: Maintain: %v", addr, err)
	}
	return p
}

func (p *party) start() {
	p.t.Helper()
	opts := Options{Clock: p.clock, NoSync: p.nosync, OnNotice: func(n Notice) {
		p.mu.Lock()
		p.told = append(p.told, n)
		p.mu.Unlock()
	}}
	var s *Sealer
	var err error
	if p.st != nil {
		s, err = OpenStorage(p.st, p.kd.api(p.addr), p.addr, opts)
	} else {
		s, err = Open(p.dir, p.kd.api(p.addr), p.addr, opts)
	}
	if err != nil {
		p.t.Fatalf("%s: Open: %v", p.addr, err)
	}
	p.s = s
	p.t.Cleanup(func() { _ = s.Close() })
}

// restart closes the sealer and opens the key store again.
func (p *party) restart() {
	p.t.Helper()
	_ = p.s.Close()
	p.start()
}

func (p *party) notices() []Notice {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.told)
}

func (p *party) send(to *party, text string) []byte {
	p.t.Helper()
	b, err := p.s.Seal(context.Background(), to.addr, []byte(text))
	if err != nil {
		p.t.Fatalf("%s seals for %s: %v", p.addr, to.addr, err)
	}
	if len(text) >= 8 && strings.Contains(string(b), text) {
		p.t.Fatalf("%s: the payload holds the plaintext", p.addr)
	}
	return b
}

func (p *party) recv(from *party, payload []byte, want string) {
	p.t.Helper()
	got, err := p.s.Open(context.Background(), from.addr, payload)
	if err != nil {
		p.t.Fatalf("%s opens from %s: %v", p.addr, from.addr, err)
	}
	if string(got) != want {
		p.t.Fatalf("%s opened %q from %s, want %q", p.addr, got, from.addr, want)
	}
}

// fails opens a payload that must not open, and returns the error.
func (p *party) fails(from *party, payload []byte) error {
	p.t.Helper()
	got, err := p.s.Open(context.Background(), from.addr, payload)
	if err == nil {
		p.t.Fatalf("%s opened %q from %s; want an error", p.addr, got, from.addr)
	}
	if !errors.Is(err, ErrUndecryptable) || !strings.Contains(err.Error(), "could not be decrypted") {
		p.t.Fatalf("error %v does not say the message could not be decrypted", err)
	}
	return err
}

func kindOf(payload []byte) byte { return payload[1] }

// storages runs a test with the key store on disk and in memory.
var storages = []struct {
	name string
	dir  func(t *testing.T) string
}{
	{"disk", func(t *testing.T) string { return t.TempDir() }},
	{"memory", func(*testing.T) string { return "" }},
}

func TestConversation(t *testing.T) {
	for _, st := range storages {
		t.Run(st.name, func(t *testing.T) {
			kd := newKeyDir(t)
			a, b := kd.join(t, alice, st.dir(t)), kd.join(t, bob, st.dir(t))

			m := a.send(b, "hello bob")
			if kindOf(m) != kindPreKey {
				t.Fatalf("first message is of kind %d, want a prekey message", kindOf(m))
			}
			if kd.pool(bob) != PreKeysTarget-1 {
				t.Fatalf("bob's pool on the server is %d, want %d", kd.pool(bob), PreKeysTarget-1)
			}
			b.recv(a, m, "hello bob")
			if n, _ := b.s.LocalPreKeys(); n != PreKeysTarget-1 {
				t.Fatalf("bob still holds %d prekeys; the used one must go", n)
			}
			// Until bob answers, alice's messages carry the session start.
			m2 := a.send(b, "still there?")
			if kindOf(m2) != kindPreKey {
				t.Fatalf("second message is of kind %d, want a prekey message", kindOf(m2))
			}
			b.recv(a, m2, "still there?")

			r := b.send(a, "hi alice")
			if kindOf(r) != kindWhisper {
				t.Fatalf("bob's reply is of kind %d, want a session message", kindOf(r))
			}
			a.recv(b, r, "hi alice")
			for i := range 3 {
				m := a.send(b, fmt.Sprint("after the reply ", i))
				if kindOf(m) != kindWhisper {
					t.Fatalf("message after the reply is of kind %d", kindOf(m))
				}
				b.recv(a, m, fmt.Sprint("after the reply ", i))
			}
			if kd.fetchCount(alice) != 1 || kd.fetchCount(bob) != 0 {
				t.Fatalf("bundle fetches: alice %d, bob %d; want 1 and 0", kd.fetchCount(alice), kd.fetchCount(bob))
			}
			if len(a.notices())+len(b.notices()) != 0 {
				t.Fatalf("notices at first contact: %v %v", a.notices(), b.notices())
			}
			// Padding: a payload's length tells the length of its message
			// only roughly.
			short, long := a.send(b, ""), a.send(b, strings.Repeat("x", padBlock-1))
			longer := a.send(b, strings.Repeat("x", padBlock))
			if len(short) != len(long) || len(longer) <= len(long) {
				t.Fatalf("payload lengths %d, %d, %d: want the first two equal, the third longer", len(short), len(long), len(longer))
			}
			b.recv(a, short, "")
			b.recv(a, long, strings.Repeat("x", padBlock-1))
			b.recv(a, longer, strings.Repeat("x", padBlock))
		})
	}
}

// TestOutOfOrder sends messages both ways and delivers them late, in
// shuffled order, across turns of the ratchet.
func TestOutOfOrder(t *testing.T) {
	tests := []struct {
		name   string
		seed   uint64
		steps  int
		window int // a delivery picks among the oldest window messages in flight
	}{
		{"one way, reversed", 0, 0, 0},
		{"both ways, shuffled", 1, 400, 3},
		{"both ways, shuffled, seed 2", 2, 400, 3},
		{"both ways, shuffled, seed 3", 3, 600, 3},
		{"both ways, shuffled, seed 4", 4, 600, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kd := newKeyDir(t)
			a, b := kd.join(t, alice, ""), kd.join(t, bob, "")
			type msg struct {
				payload []byte
				text    string
			}
			if tt.steps == 0 {
				var ms []msg
				for i := range 50 {
					text := fmt.Sprint("message ", i)
					ms = append(ms, msg{a.send(b, text), text})
				}
				for _, m := range slices.Backward(ms) {
					b.recv(a, m.payload, m.text)
				}
				dup := b.fails(a, ms[7].payload)
				if !strings.Contains(dup.Error(), "duplicate") {
					t.Fatalf("a repeated message: %v; want it called a duplicate", dup)
				}
				b.recv(a, a.send(b, "after the duplicate"), "after the duplicate")
				return
			}
			rng := rand.New(rand.NewPCG(tt.seed, 42))
			toA, toB := []msg{}, []msg{}
			deliver := func(q *[]msg, who, from *party) {
				i := rng.IntN(min(tt.window, len(*q)))
				m := (*q)[i]
				*q = slices.Delete(*q, i, i+1)
				who.recv(from, m.payload, m.text)
			}
			sent := 0
			for i := range tt.steps {
				switch rng.IntN(4) {
				case 0:
					text := fmt.Sprint("a", i)
					toB = append(toB, msg{a.send(b, text), text})
					sent++
				case 1:
					text := fmt.Sprint("b", i)
					toA = append(toA, msg{b.send(a, text), text})
					sent++
				case 2:
					if len(toB) > 0 {
						deliver(&toB, b, a)
					}
				case 3:
					if len(toA) > 0 {
						deliver(&toA, a, b)
					}
				}
			}
			for len(toB) > 0 {
				deliver(&toB, b, a)
			}
			for len(toA) > 0 {
				deliver(&toA, a, b)
			}
			if sent < tt.steps/3 {
				t.Fatalf("only %d messages sent", sent)
			}
		})
	}
}

// TestLateMessage holds a message back while the conversation turns
// around: libsignal (as Signal) keeps five receiving chains, so a message
// held back over more than five turns cannot be decrypted. The person is told, and
// the conversation goes on.
func TestLateMessage(t *testing.T) {
	for _, turns := range []int{0, 1, 4, 5, 6, 8} {
		t.Run(fmt.Sprint(turns, " turns"), func(t *testing.T) {
			kd := newKeyDir(t)
			a, b := kd.join(t, alice, ""), kd.join(t, bob, "")
			b.recv(a, a.send(b, "first"), "first")
			a.recv(b, b.send(a, "answer"), "answer")
			held := a.send(b, "held back")
			for i := range turns {
				a.recv(b, b.send(a, fmt.Sprint("b", i)), fmt.Sprint("b", i))
				b.recv(a, a.send(b, fmt.Sprint("a", i)), fmt.Sprint("a", i))
			}
			if turns <= 5 {
				b.recv(a, held, "held back")
			} else {
				b.fails(a, held)
			}
			a.recv(b, b.send(a, "go on"), "go on")
			b.recv(a, a.send(b, "going on"), "going on")
		})
	}
}

func TestRestartKeepsSessions(t *testing.T) {
	kd := newKeyDir(t)
	a, b, c := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir()), kd.join(t, carol, t.TempDir())
	b.recv(a, a.send(b, "one"), "one")
	a.recv(b, b.send(a, "two"), "two")
	// A session begun but not answered: its prekey message must survive too.
	c1 := a.send(c, "to carol before")

	a.restart()
	b.restart()
	c.restart()
	m := a.send(b, "three")
	if kindOf(m) != kindWhisper {
		t.Fatalf("after a restart alice sends a message of kind %d, want a session message", kindOf(m))
	}
	b.recv(a, m, "three")
	a.recv(b, b.send(a, "four"), "four")
	c2 := a.send(c, "to carol after")
	if kindOf(c2) != kindPreKey {
		t.Fatalf("the unanswered session lost its start: kind %d", kindOf(c2))
	}
	c.recv(a, c2, "to carol after")
	c.restart()
	c.recv(a, c1, "to carol before")
	a.recv(c, c.send(a, "hi from carol"), "hi from carol")
	if kd.fetchCount(alice) != 2 || kd.fetchCount(bob) != 0 || kd.fetchCount(carol) != 0 {
		t.Fatalf("bundle fetches: alice %d (want 2), bob %d, carol %d", kd.fetchCount(alice), kd.fetchCount(bob), kd.fetchCount(carol))
	}

	// The key store: a 0700 directory of 0600 files.
	root := filepath.Join(a.dir, storeDir)
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if info.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{identityFile, preKeysFile, peersFile, journalFile} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("key store file: %v", err)
		}
	}
	for _, peer := range []wire.DeviceAddress{bob, carol} {
		if sessionBytes(t, a, peer) == nil {
			t.Errorf("no session record with %s in the journal", peer)
		}
	}

	// One process at a time.
	if _, err := Open(a.dir, kd.api(alice), alice, Options{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("a second Open of a key store in use: %v, want ErrInUse", err)
	}
	// A key store belongs to one device.
	_ = a.s.Close()
	if _, err := Open(a.dir, kd.api(bob), bob, Options{}); err == nil {
		t.Fatal("alice's key store opened as bob's")
	}
}

// TestStorageWithoutJournal: in a Storage that is not a directory (the
// web chat's IndexedDB; here client.MemStorage) each session record is a
// file of its own under e2e/sessions, and there is no journal.
func TestStorageWithoutJournal(t *testing.T) {
	kd := newKeyDir(t)
	st := &client.MemStorage{}
	a := &party{t: t, kd: kd, addr: alice, st: st, clock: newFakeClock()}
	a.start()
	if _, err := a.s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := kd.join(t, bob, t.TempDir())
	b.recv(a, a.send(b, "one"), "one")
	a.recv(b, b.send(a, "two"), "two")
	a.restart()
	m := a.send(b, "three")
	if kindOf(m) != kindWhisper {
		t.Fatalf("after a restart alice sends a message of kind %d, want a session message", kindOf(m))
	}
	b.recv(a, m, "three")
	names, err := st.List(storeDir + "/" + sessionsDir)
	if err != nil {
		t.Fatal(err)
	}
	if want := path.Base(sessionFile(bob)); !slices.Equal(names, []string{want}) {
		t.Fatalf("session files %q, want [%s]", names, want)
	}
	if _, err := st.ReadFile(storeDir + "/" + journalFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a journal in a Storage that is not a directory: %v", err)
	}
}

func TestBundleWithoutOneTimePreKey(t *testing.T) {
	kd := newKeyDir(t)
	a, b := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir())
	kd.set(func(kd *keyDir) { kd.noPreKeys = true })
	m := a.send(b, "no one-time prekey")
	if kindOf(m) != kindPreKey {
		t.Fatalf("kind %d, want a prekey message", kindOf(m))
	}
	b.recv(a, m, "no one-time prekey")
	if n, _ := b.s.LocalPreKeys(); n != PreKeysTarget {
		t.Fatalf("bob holds %d prekeys, want all %d (none was used)", n, PreKeysTarget)
	}
	a.recv(b, b.send(a, "works"), "works")
	b.recv(a, a.send(b, "both ways"), "both ways")
}

func TestDamagedSessionIsRebuilt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, b *party)
	}{
		{"garbage in the session record", func(t *testing.T, b *party) {
			setSession(t, b, alice, []byte(`{"record": {"SessionState": 17`))
			b.restart()
		}},
		{"a record libsignal cannot read", func(t *testing.T, b *party) {
			setSession(t, b, alice, []byte(`{"record": {"SessionState": {}}}`))
			b.restart()
		}},
		{"session record gone", func(t *testing.T, b *party) {
			setSession(t, b, alice, nil)
			b.restart()
		}},
		{"session record from an old backup", func(t *testing.T, b *party) {
			// The chains moved on since the copy was taken.
			old := sessionBytes(t, b, alice)
			b.recv(b.peer, b.peer.send(b, "three"), "three")
			b.peer.recv(b, b.send(b.peer, "four"), "four")
			setSession(t, b, alice, old)
			b.restart()
		}},
		{"a session file of an earlier version, from an old backup", func(t *testing.T, b *party) {
			// Earlier versions kept a file per record; Open moves it into
			// the journal, where it replaces the newer record.
			old := sessionBytes(t, b, alice)
			b.recv(b.peer, b.peer.send(b, "three"), "three")
			b.peer.recv(b, b.send(b.peer, "four"), "four")
			setSession(t, b, alice, nil)
			if err := os.WriteFile(filepath.Join(b.dir, storeDir, sessionFile(alice)), old, 0o600); err != nil {
				t.Fatal(err)
			}
			b.restart()
			if _, err := os.Stat(filepath.Join(b.dir, storeDir, sessionFile(alice))); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the old session file is still there after Open: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kd := newKeyDir(t)
			a, b := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir())
			b.recv(a, a.send(b, "one"), "one")
			a.recv(b, b.send(a, "two"), "two")
			b.peer = a
			tt.damage(t, b)

			b.fails(a, a.send(b, "lost"))
			fetched := kd.fetchCount(bob)
			r := b.send(a, "new session")
			if kindOf(r) != kindPreKey || kd.fetchCount(bob) != fetched+1 {
				t.Fatalf("bob's next message is of kind %d after %d fetches; want a new session from a fresh bundle", kindOf(r), kd.fetchCount(bob)-fetched)
			}
			a.recv(b, r, "new session")
			b.recv(a, a.send(b, "back to normal"), "back to normal")
			a.recv(b, b.send(a, "both ways"), "both ways")
			if sessionBytes(t, b, alice) == nil {
				t.Fatal("the rebuilt session was not written")
			}
		})
	}
}

// A message that fails (tampered with) changes nothing: the genuine message
// still opens, and the conversation goes on.
func TestTamperedMessage(t *testing.T) {
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprint("prekey message ", first), func(t *testing.T) {
			kd := newKeyDir(t)
			a, b := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir())
			if !first {
				b.recv(a, a.send(b, "one"), "one")
				a.recv(b, b.send(a, "two"), "two")
			}
			m := a.send(b, "genuine")
			opened := false // a change the MAC does not cover (the registration id of a prekey message)
			for i := envelopeHeader; i < len(m); i++ {
				bad := slices.Clone(m)
				bad[i] ^= 0x20
				got, err := b.s.Open(context.Background(), alice, bad)
				switch {
				case err == nil && string(got) == "genuine" && !opened:
					opened = true
				case err == nil:
					t.Fatalf("tampered byte %d opened as %q", i, got)
				case !errors.Is(err, ErrUndecryptable):
					t.Fatalf("tampered byte %d: %v", i, err)
				}
			}
			if len(b.notices()) != 0 {
				t.Fatalf("a tampered message raised notices: %v", b.notices())
			}
			if opened {
				b.fails(a, m) // it was read already
			} else {
				b.recv(a, m, "genuine")
			}
			a.recv(b, b.send(a, "reply"), "reply")
			b.recv(a, a.send(b, "on and on"), "on and on")
		})
	}
}

func TestIdentityChange(t *testing.T) {
	ctx := context.Background()
	kd := newKeyDir(t)
	a, b := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir())
	b.recv(a, a.send(b, "one"), "one")
	a.recv(b, b.send(a, "two"), "two")
	before, err := a.s.SafetyNumber(ctx, bob.Phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.s.Verify(bob.Phone, before); err != nil || !a.s.Verified(bob.Phone) {
		t.Fatalf("Verify: %v; verified %v", err, a.s.Verified(bob.Phone))
	}

	// Bob's device is set up anew: new identity, new key store. The server
	// keeps the identity of a device; Maintain says so clearly.
	nb := &party{t: t, kd: kd, addr: bob, dir: t.TempDir(), clock: newFakeClock()}
	nb.start()
	if _, err := nb.s.Maintain(ctx); kontor.KindOf(err) != kontor.Conflict {
		t.Fatalf("Maintain with another identity: %v, want a conflict", err)
	}
	kd.forget(bob) // registered again
	if _, err := nb.s.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	// Alice's old session does not reach the new device...
	nb.fails(a, a.send(nb, "to the old bob"))
	// ...until the new device writes: alice hears of the changed key.
	a.recv(nb, nb.send(a, "I'm back"), "I'm back")
	want := Notice{Peer: bob.Phone, DeviceID: 1, Kind: KeyChanged, WasVerified: true, TS: a.clock.Now().UnixMilli()}
	if got := a.notices(); len(got) != 1 || got[0] != want {
		t.Fatalf("told %+v, want %+v", got, want)
	}
	if got := a.s.Notices(bob.Phone); len(got) != 1 || got[0] != want {
		t.Fatalf("Notices = %+v, want %+v", got, want)
	}
	if !strings.Contains(want.String(), "no longer verified") {
		t.Fatalf("notice text %q", want.String())
	}
	if a.s.Verified(bob.Phone) {
		t.Fatal("bob is still verified after his key changed")
	}
	after, err := a.s.SafetyNumber(ctx, bob.Phone)
	if err != nil || after == before {
		t.Fatalf("safety number %s after the change, %s before (%v)", after, before, err)
	}
	nb.recv(a, a.send(nb, "welcome back"), "welcome back")

	// It all survives a restart.
	a.restart()
	if got := a.s.Notices(""); len(got) != 1 || got[0] != want || a.s.Verified(bob.Phone) {
		t.Fatalf("after a restart: notices %+v, verified %v", got, a.s.Verified(bob.Phone))
	}

	// A verified peer who adds a device is unverified until checked again;
	// an unverified one adding a device raises no notice.
	if err := a.s.Verify(bob.Phone, after); err != nil {
		t.Fatal(err)
	}
	b2 := kd.join(t, bob2, t.TempDir())
	a.recv(b2, b2.send(a, "from bob's tablet"), "from bob's tablet")
	if got := a.s.Notices(bob.Phone); len(got) != 2 || got[1].Kind != NewDevice || !got[1].WasVerified || got[1].DeviceID != 2 {
		t.Fatalf("notices %+v; want a new device notice", got)
	}
	if a.s.Verified(bob.Phone) {
		t.Fatal("bob is still verified with a new device")
	}
	c := kd.join(t, carol, "")
	c2 := kd.join(t, wire.DeviceAddress{Phone: carol.Phone, DeviceID: 2}, "")
	a.recv(c, c.send(a, "c1"), "c1")
	a.recv(c2, c2.send(a, "c2"), "c2")
	if got := a.s.Notices(carol.Phone); len(got) != 0 {
		t.Fatalf("notices for an unverified peer's devices: %+v", got)
	}
}

func TestBadBundle(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(b *wire.DeviceBundle)
		want   string
	}{
		{"bad signature", func(b *wire.DeviceBundle) { b.SignedPreKey.Signature[5] ^= 1 }, "signature"},
		{"signature of another key", func(b *wire.DeviceBundle) { b.SignedPreKey.PublicKey[7] ^= 1 }, "signature"},
		{"short identity key", func(b *wire.DeviceBundle) { b.IdentityKey = b.IdentityKey[:20] }, "identity key"},
		{"bad key type", func(b *wire.DeviceBundle) { b.IdentityKey[0] = 7 }, "identity key"},
		{"short signature", func(b *wire.DeviceBundle) { b.SignedPreKey.Signature = b.SignedPreKey.Signature[:10] }, "signature"},
		{"short one-time prekey", func(b *wire.DeviceBundle) { b.PreKey.PublicKey = nil }, "one-time prekey"},
		{"one-time prekey id 0", func(b *wire.DeviceBundle) { b.PreKey.ID = 0 }, "one-time prekey"},
		{"another device", func(b *wire.DeviceBundle) { b.DeviceID = 9 }, "no keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kd := newKeyDir(t)
			a, b := kd.join(t, alice, ""), kd.join(t, bob, "")
			kd.set(func(kd *keyDir) { kd.tamper = tt.tamper })
			_, err := a.s.Seal(context.Background(), bob, []byte("x"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Seal with a bad bundle: %v, want an error about %q", err, tt.want)
			}
			if a.s.knownIdentity(bob) != nil {
				t.Fatal("a bad bundle's identity was recorded")
			}
			kd.set(func(kd *keyDir) { kd.tamper = nil })
			b.recv(a, a.send(b, "with a good bundle"), "with a good bundle")
		})
	}
	t.Run("no keys at all", func(t *testing.T) {
		kd := newKeyDir(t)
		a := kd.join(t, alice, "")
		_, err := a.s.Seal(context.Background(), carol, []byte("x"))
		if err == nil || !strings.Contains(err.Error(), "keys") {
			t.Fatalf("Seal for a device without keys: %v", err)
		}
	})
}

func TestBadPayloads(t *testing.T) {
	kd := newKeyDir(t)
	a, b := kd.join(t, alice, ""), kd.join(t, bob, "")
	good := a.send(b, "good")
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"empty", nil, "not end-to-end encrypted"},
		{"plain content", []byte(`{"type":"text","text":"hi"}`), "not end-to-end encrypted"},
		{"newer envelope", append([]byte{2}, good[1:]...), "newer version"},
		{"unknown kind", append([]byte{1, 9}, good[2:]...), "damaged"},
		{"header only", good[:2], "not end-to-end encrypted"},
		{"prekey kind, one byte", []byte{1, kindPreKey, 0x33}, "damaged"},
		{"session kind, one byte", []byte{1, kindWhisper, 0x33}, "damaged"},
		{"prekey kind, no version", []byte{1, kindPreKey, 0}, "damaged"},
		{"truncated", good[:len(good)/2], "damaged"},
		{"session kind without a session", append([]byte{1, kindWhisper}, good[2:]...), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.fails(a, tt.payload)
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
	b.recv(a, good, "good")
	var de *DecryptError
	if err := b.fails(a, good); !errors.As(err, &de) || de.From != alice {
		t.Fatalf("error %v is not a DecryptError from alice", err)
	}
}

func FuzzOpen(f *testing.F) {
	kd := newKeyDir(f)
	a, b := kd.join(f, alice, ""), kd.join(f, bob, "")
	first := a.send(b, "first")
	f.Add(first)
	b.recv(a, first, "first")
	r := b.send(a, "reply")
	a.recv(b, r, "reply")
	f.Add(a.send(b, "second"))
	f.Add([]byte{1, kindPreKey, 0x33, 0x08})
	f.Add([]byte{1, kindWhisper, 0x33, 0x0a, 0x21, 0x05})
	f.Fuzz(func(t *testing.T, payload []byte) {
		plain, err := b.s.Open(context.Background(), alice, payload)
		if err != nil && !errors.Is(err, ErrUndecryptable) {
			t.Fatalf("error %v does not match ErrUndecryptable", err)
		}
		_ = plain
	})
}

func TestConcurrentUse(t *testing.T) {
	kd := newKeyDir(t)
	a, b := kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir())
	ctx := context.Background()
	type msg struct {
		payload []byte
		text    string
	}
	var mu sync.Mutex
	var toB, toA []msg
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 15 {
				text := fmt.Sprintf("a%d-%d", g, i)
				p, err := a.s.Seal(ctx, bob, []byte(text))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				toB = append(toB, msg{p, text})
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		for i := range 15 {
			text := fmt.Sprintf("b-%d", i)
			p, err := b.s.Seal(ctx, alice, []byte(text))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			toA = append(toA, msg{p, text})
			mu.Unlock()
		}
	})
	wg.Go(func() { _, _ = b.s.Maintain(ctx) })
	wg.Wait()
	if t.Failed() {
		return
	}
	open := func(s *Sealer, from wire.DeviceAddress, ms []msg) {
		for _, m := range ms {
			got, err := s.Open(ctx, from, m.payload)
			if err != nil || string(got) != m.text {
				t.Errorf("opened %q, %v; want %q", got, err, m.text)
			}
		}
	}
	// Each side opens in two goroutines at once, while sealing more.
	wg.Go(func() { open(b.s, alice, toB[:len(toB)/2]) })
	wg.Go(func() { open(b.s, alice, toB[len(toB)/2:]) })
	wg.Go(func() { open(a.s, bob, toA) })
	wg.Go(func() {
		for range 10 {
			if _, err := a.s.Seal(ctx, bob, []byte("more")); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
}

func TestLibsignalLoggerReplaced(t *testing.T) {
	if _, ok := logger.Logger.(quiet); !ok {
		t.Fatalf("libsignal's logger is %T, want the quiet one", logger.Logger)
	}
}

func TestPadding(t *testing.T) {
	for _, n := range []int{0, 1, padBlock - 1, padBlock, 3*padBlock + 7} {
		plain := []byte(strings.Repeat("\x00", n)) // zeros in the message itself survive
		b := pad(plain)
		if len(b)%padBlock != 0 || len(b) <= n {
			t.Fatalf("pad(%d bytes) is %d bytes", n, len(b))
		}
		got, err := unpad(b)
		if err != nil || !slices.Equal(got, plain) {
			t.Fatalf("unpad(pad(%d bytes)) = %d bytes, %v", n, len(got), err)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0}, {1, 2, 3}, {0x80, 1}} {
		if _, err := unpad(bad); err == nil {
			t.Fatalf("unpad(%x) worked", bad)
		}
	}
}

// TestKeptSessionsBounded: a sealer keeps at most keptSessions parsed
// sessions, those of the devices it kept last, and keeping one again does
// not take a second place.
func TestKeptSessionsBounded(t *testing.T) {
	kd := newKeyDir(t)
	x := kd.join(t, alice, "")
	r := record.NewSession(x.s.ser.Session, x.s.ser.State)
	devs := make([]*device, keptSessions+100)
	for i := range devs {
		devs[i] = &device{}
		x.s.keepSession(devs[i], r)
		x.s.keepSession(devs[i], r)
	}
	for i, d := range devs {
		if kept, want := d.session.Load() != nil, i >= 100; kept != want {
			t.Fatalf("device %d: kept %v, want %v", i, kept, want)
		}
	}
}
