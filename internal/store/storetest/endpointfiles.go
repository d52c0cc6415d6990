package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/store"
)

// claimEndpoint leases number's endpoint to holder at now for a minute, failing
// the test unless it gets it.
func (e *env) claimEndpoint(number kontor.ID, holder string, now time.Time) store.EndpointLease {
	e.t.Helper()
	l, _, ok, err := e.db.ClaimEndpoint(e.ctx, number, holder, now, now.Add(time.Minute))
	if err != nil || !ok {
		e.t.Fatalf("%s claims %s: %v %v", holder, number, ok, err)
	}
	return l
}

// testEndpointStorage: a hosted endpoint's profile in the store behaves
// as a client.Storage: round trips, appends in pieces, replaces, lists
// the files directly in a directory (exactly, whatever LIKE does with
// case, "_" and "%"), removes, reports a missing file as fs.ErrNotExist,
// and locks.
func testEndpointStorage(t *testing.T, e *env) {
	number := e.ids.Next()
	st := e.db.EndpointStorage(e.claimEndpoint(number, "node-a", t0))
	var _ client.Storage = st
	other := e.db.EndpointStorage(e.claimEndpoint(e.ids.Next(), "node-a", t0)) // another endpoint's files stay apart
	if err := other.WriteFile("device.json", []byte("other")); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		do   func() error
	}{
		{"write", func() error { return st.WriteFile("device.json", []byte(`{"phone":"+4930123"}`)) }},
		{"append to a new file", func() error { return st.AppendFile("conversations/+4915100000001.jsonl", []byte("line 1\n")) }},
		{"append again", func() error { return st.AppendFile("conversations/+4915100000001.jsonl", []byte("line 2\n")) }},
		{"append to another", func() error { return st.AppendFile("conversations/+4915100000002.jsonl", []byte("x\n")) }},
		{"a name LIKE would match", func() error { return st.WriteFile("conversationsX/a", []byte("no")) }},
		{"a name in upper case", func() error { return st.WriteFile("Conversations/b", []byte("no")) }},
		{"a deeper file", func() error { return st.WriteFile("conversations/deep/c", []byte("no")) }},
		{"key store", func() error { return st.WriteFile("e2e/sessions/+4915100000001.1.json", []byte{0, 1, 2, 0}) }},
		{"empty file", func() error { return st.WriteFile("e2e/empty", nil) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	reads := []struct {
		name string
		want []byte // nil: missing
	}{
		{"device.json", []byte(`{"phone":"+4930123"}`)},
		{"conversations/+4915100000001.jsonl", []byte("line 1\nline 2\n")},
		{"conversations/+4915100000002.jsonl", []byte("x\n")},
		{"e2e/sessions/+4915100000001.1.json", []byte{0, 1, 2, 0}},
		{"e2e/empty", []byte{}},
		{"e2e/none", nil},
	}
	for _, r := range reads {
		b, err := st.ReadFile(r.name)
		switch {
		case r.want == nil && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("read %s: %q %v, want fs.ErrNotExist", r.name, b, err)
		case r.want != nil && (err != nil || !bytes.Equal(b, r.want) || b == nil):
			t.Errorf("read %s: %q %v, want %q", r.name, b, err, r.want)
		}
	}
	lists := []struct {
		dir  string
		want []string
	}{
		{"", []string{"device.json"}},
		{"conversations", []string{"+4915100000001.jsonl", "+4915100000002.jsonl"}},
		{"e2e/sessions", []string{"+4915100000001.1.json"}},
		{"nothing", nil},
	}
	for _, l := range lists {
		got, err := st.List(l.dir)
		if err != nil || !slices.Equal(got, l.want) {
			t.Errorf("list %q: %q %v, want %q", l.dir, got, err, l.want)
		}
	}
	// A write replaces every appended piece; a removed file is missing;
	// removing a missing one is no error.
	if err := st.WriteFile("conversations/+4915100000001.jsonl", []byte("compact\n")); err != nil {
		t.Fatal(err)
	}
	if b, err := st.ReadFile("conversations/+4915100000001.jsonl"); err != nil || string(b) != "compact\n" {
		t.Fatalf("after rewrite: %q %v", b, err)
	}
	if err := st.AppendFile("conversations/+4915100000001.jsonl", []byte("more\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := st.ReadFile("conversations/+4915100000001.jsonl"); string(b) != "compact\nmore\n" {
		t.Fatalf("append after rewrite: %q", b)
	}
	for range 2 {
		if err := st.Remove("conversations/+4915100000002.jsonl"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.ReadFile("conversations/+4915100000002.jsonl"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removed file: %v", err)
	}
	if b, _ := other.ReadFile("device.json"); string(b) != "other" {
		t.Fatalf("the other endpoint's file: %q", b)
	}
	for _, bad := range []string{"", "/abs", "../up", "a//b"} {
		if err := st.WriteFile(bad, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) took a bad name", bad)
		}
	}
	unlock, err := st.Lock("lock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lock("lock"); !errors.Is(err, client.ErrProfileInUse) {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	if unlock, err = st.Lock("lock"); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}

// testEndpointLeases: one holder at a time; an expired lease is taken
// over with a higher epoch and the old holder's writes, appends and
// removes are refused (ErrLeaseLost, OnLost once) and change nothing; the
// old holder's renewal fails, the new one's works; a released lease is
// free at once; a holder takes its own lease back; the free list, the
// load and dropping.
func testEndpointLeases(t *testing.T, e *env) {
	number := e.ids.Next()
	a := e.claimEndpoint(number, "node-a", t0)
	if a.Epoch != 1 || a.Holder != "node-a" || !a.Expires.Equal(t0.Add(time.Minute)) {
		t.Fatalf("first lease: %+v", a)
	}
	if _, _, ok, err := e.db.ClaimEndpoint(e.ctx, number, "node-b", t0.Add(30*time.Second), t0.Add(90*time.Second)); err != nil || ok {
		t.Fatalf("a live lease was claimed: %v %v", ok, err)
	}
	old := e.db.EndpointStorage(a)
	var lost atomic.Int32
	lostc := make(chan struct{}, 4)
	old.OnLost = func() { lost.Add(1); lostc <- struct{}{} }
	if err := old.WriteFile("e2e/sessions/+4915100000001.1.json", []byte("state 1")); err != nil {
		t.Fatal(err)
	}
	if err := old.AppendFile("conversations/+4915100000001.jsonl", []byte("a\n")); err != nil {
		t.Fatal(err)
	}
	// The old holder is paused past its lease; node-b takes over.
	now := t0.Add(2 * time.Minute)
	b, prev, ok, err := e.db.ClaimEndpoint(e.ctx, number, "node-b", now, now.Add(time.Minute))
	if err != nil || !ok || b.Epoch != 2 || prev.Holder != "node-a" || prev.Epoch != 1 {
		t.Fatalf("takeover: %+v (prev %+v) %v %v", b, prev, ok, err)
	}
	stale := []struct {
		name string
		do   func() error
	}{
		{"write", func() error { return old.WriteFile("e2e/sessions/+4915100000001.1.json", []byte("stale")) }},
		{"append", func() error { return old.AppendFile("conversations/+4915100000001.jsonl", []byte("stale\n")) }},
		{"remove", func() error { return old.Remove("conversations/+4915100000001.jsonl") }},
		{"write many", func() error {
			return e.db.WriteEndpointFiles(e.ctx, a, map[string][]byte{"device.json": []byte("stale")})
		}},
	}
	for _, s := range stale {
		if err := s.do(); !errors.Is(err, store.ErrLeaseLost) || kontor.KindOf(err) != kontor.Conflict {
			t.Errorf("a stale holder's %s: %v, want ErrLeaseLost (Conflict)", s.name, err)
		}
	}
	select {
	case <-lostc:
	case <-time.After(10 * time.Second):
		t.Fatal("OnLost was not called")
	}
	time.Sleep(10 * time.Millisecond)
	if n := lost.Load(); n != 1 {
		t.Fatalf("OnLost called %d times", n)
	}
	cur := e.db.EndpointStorage(b)
	if got, _ := cur.ReadFile("e2e/sessions/+4915100000001.1.json"); string(got) != "state 1" {
		t.Fatalf("session after stale writes: %q", got)
	}
	if got, _ := cur.ReadFile("conversations/+4915100000001.jsonl"); string(got) != "a\n" {
		t.Fatalf("conversation after stale writes: %q", got)
	}
	if _, err := e.db.EndpointFile(e.ctx, number, "device.json"); !errors.Is(err, fs.ErrNotExist) || kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("a stale WriteEndpointFiles left a file: %v", err)
	}
	if err := cur.WriteFile("e2e/sessions/+4915100000001.1.json", []byte("state 2")); err != nil {
		t.Fatalf("the new holder's write: %v", err)
	}

	// Renewals: the old holder's fails, the new holder's works.
	kept, err := e.db.RenewEndpoints(e.ctx, "node-a", map[kontor.ID]int64{number: 1}, now, now.Add(time.Minute))
	if err != nil || kept[number] {
		t.Fatalf("stale renewal: %v %v", kept, err)
	}
	kept, err = e.db.RenewEndpoints(e.ctx, "node-b", map[kontor.ID]int64{number: 2}, now.Add(time.Second), now.Add(2*time.Minute))
	if err != nil || !kept[number] {
		t.Fatalf("renewal: %v %v", kept, err)
	}
	// The same holder at an old epoch (it claimed again since) is fenced too.
	if kept, _ := e.db.RenewEndpoints(e.ctx, "node-b", map[kontor.ID]int64{number: 1}, now, now.Add(time.Minute)); kept[number] {
		t.Fatal("a renewal at an old epoch")
	}
	// Renewed until now+2m: not claimable at now+90s.
	if _, _, ok, _ := e.db.ClaimEndpoint(e.ctx, number, "node-c", now.Add(90*time.Second), now.Add(3*time.Minute)); ok {
		t.Fatal("a renewed lease was claimed")
	}

	// Free list: nothing expired at now+90s except for node-b itself.
	free, err := e.db.FreeEndpoints(e.ctx, "node-c", now.Add(90*time.Second), 10)
	if err != nil || len(free) != 0 {
		t.Fatalf("free for node-c: %+v %v", free, err)
	}
	free, err = e.db.FreeEndpoints(e.ctx, "node-b", now.Add(90*time.Second), 10)
	if err != nil || len(free) != 1 || free[0].Number != number || free[0].Epoch != 2 {
		t.Fatalf("free for node-b (its own): %+v %v", free, err)
	}
	// node-b restarts and takes its own lease back at once, with a new epoch.
	b3 := e.claimEndpoint(number, "node-b", now.Add(2*time.Second))
	if b3.Epoch != 3 {
		t.Fatalf("own lease again: %+v", b3)
	}
	// Released: free at once for anyone, listed first.
	if err := e.db.ReleaseEndpoint(e.ctx, b); err != nil { // an old epoch: no effect
		t.Fatal(err)
	}
	if _, _, ok, _ := e.db.ClaimEndpoint(e.ctx, number, "node-c", now.Add(3*time.Second), now.Add(time.Minute)); ok {
		t.Fatal("a release at an old epoch gave the lease up")
	}
	if err := e.db.ReleaseEndpoint(e.ctx, b3); err != nil {
		t.Fatal(err)
	}
	free, err = e.db.FreeEndpoints(e.ctx, "node-c", now.Add(3*time.Second), 10)
	if err != nil || len(free) != 1 || free[0].Holder != "node-b" {
		t.Fatalf("free after release: %+v %v", free, err)
	}
	c := e.claimEndpoint(number, "node-c", now.Add(3*time.Second))
	if c.Epoch != 4 {
		t.Fatalf("after release: %+v", c)
	}
	if got, _ := e.db.EndpointStorage(c).ReadFile("e2e/sessions/+4915100000001.1.json"); string(got) != "state 2" {
		t.Fatalf("node-c reads %q", got)
	}

	// Load: endpoints over live nodes.
	e.claimEndpoint(e.ids.Next(), "node-c", now)
	if _, err := e.db.ClaimNode(e.ctx, "host-1", 1, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ClaimNode(e.ctx, "host-2", 2, now.Add(-time.Hour), now.Add(-time.Minute)); err != nil { // expired
		t.Fatal(err)
	}
	if eps, nodes, err := e.db.EndpointLoad(e.ctx, now); err != nil || eps != 2 || nodes != 1 {
		t.Fatalf("load: %d endpoints, %d nodes, %v", eps, nodes, err)
	}
	if err := e.db.DropEndpoint(e.ctx, number); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.EndpointFile(e.ctx, number, "e2e/sessions/+4915100000001.1.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dropped endpoint's file: %v", err)
	}
	if eps, _, _ := e.db.EndpointLoad(e.ctx, now); eps != 1 {
		t.Fatalf("after drop: %d endpoints", eps)
	}
}

// testEndpointFencingRace: a holder writing as fast as it can while
// another node takes over: once the takeover committed and the new
// holder read the file, no write of the old holder lands any more (on
// PostgreSQL the fence locks the lease row; without that lock a write
// whose check ran before the takeover commits after it).
func testEndpointFencingRace(t *testing.T, e *env) {
	const name = "e2e/sessions/+4915100000001.1.json"
	for round := range 3 {
		number := e.ids.Next()
		old := e.db.EndpointStorage(e.claimEndpoint(number, "node-a", t0))
		if err := old.WriteFile(name, []byte("0")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var accepted atomic.Int64
		stop := make(chan struct{})
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := old.WriteFile(name, fmt.Appendf(nil, "a %d %d", w, i)); err == nil {
						accepted.Add(1)
					} else if !errors.Is(err, store.ErrLeaseLost) {
						t.Errorf("old holder's write: %v", err)
						return
					}
				}
			}()
		}
		for accepted.Load() < 5 {
			time.Sleep(time.Millisecond)
		}
		now := t0.Add(2 * time.Minute)
		b, _, ok, err := e.db.ClaimEndpoint(e.ctx, number, "node-b", now, now.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("takeover: %v %v", ok, err)
		}
		first, err := e.db.EndpointStorage(b).ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // let the old holder try on
		close(stop)
		wg.Wait()
		if last, _ := e.db.EndpointStorage(b).ReadFile(name); !bytes.Equal(first, last) {
			t.Fatalf("round %d: the old holder wrote %q after the takeover (the new holder had read %q)", round, last, first)
		}
	}
}

// failingReader gives some bytes, then an error.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("the upload broke off")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// testEndpointBlobs: a hosted endpoint's media files in the store: sizes
// around the row size round-trip, an empty file too; a file is its
// number's only; a reader's error keeps nothing; delete; dropping the
// endpoint deletes its files.
func testEndpointBlobs(t *testing.T, e *env) {
	number, other := e.ids.Next(), e.ids.Next()
	sizes := []int{0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 2<<20 + 12345}
	ids := make([]kontor.ID, len(sizes))
	for i, size := range sizes {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(j*7 + i)
		}
		ids[i] = e.ids.Next()
		n, err := e.db.PutEndpointBlob(e.ctx, number, ids[i], bytes.NewReader(data))
		if err != nil || n != int64(size) {
			t.Fatalf("put %d bytes: %d %v", size, n, err)
		}
		rc, err := e.db.OpenEndpointBlob(e.ctx, number, ids[i])
		if err != nil {
			t.Fatalf("open %d bytes: %v", size, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes read back as %d (%v)", size, len(got), err)
		}
	}
	if _, err := e.db.OpenEndpointBlob(e.ctx, other, ids[1]); !errors.Is(err, fs.ErrNotExist) || kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("another number's file: %v", err)
	}
	broken := e.ids.Next()
	if _, err := e.db.PutEndpointBlob(e.ctx, number, broken, &failingReader{n: 3 << 20}); err == nil {
		t.Fatal("a broken upload was kept")
	}
	if _, err := e.db.OpenEndpointBlob(e.ctx, number, broken); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a broken upload left %v", err)
	}
	for range 2 {
		if err := e.db.DeleteEndpointBlob(e.ctx, number, ids[2]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.OpenEndpointBlob(e.ctx, number, ids[2]); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("deleted file: %v", err)
	}
	if err := e.db.DropEndpoint(e.ctx, number); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.OpenEndpointBlob(e.ctx, number, ids[5]); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a dropped endpoint's file: %v", err)
	}
}

// testEndpointMediaExpiry: the sweep of endpoint media deletes the records
// that expired by its time, and the files of those kept in endpoint_blobs,
// at most limit a call, oldest first and, of two that expire at once, the
// lower id first (the order every node's sweep takes them in); media that
// expire later, and their files, stay; a third sweep finds nothing more
// (another node's sweep deletes nothing twice).
func testEndpointMediaExpiry(t *testing.T, e *env) {
	number, other := e.ids.Next(), e.ids.Next()
	type file struct {
		number kontor.ID
		id     kontor.ID
		expiry time.Duration // from t0
	}
	var files []file
	for i, d := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, -time.Hour, 0, time.Millisecond, time.Hour} {
		n := number
		if i == 1 {
			n = other
		}
		f := file{n, e.ids.Next(), d}
		files = append(files, f)
		if err := e.db.PutEndpointMedia(e.ctx, endpoint.MediaRecord{ID: f.id, Number: n, MimeType: "image/png", SHA256: "ab", Size: 5,
			Created: t0.Add(d - 30*24*time.Hour), Expires: t0.Add(d)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.PutEndpointBlob(e.ctx, n, f.id, bytes.NewReader([]byte("hello"))); err != nil {
			t.Fatal(err)
		}
	}
	// A file whose record is gone already is not the sweep's (an
	// upload whose record is about to be written, say).
	loose := e.ids.Next()
	if _, err := e.db.PutEndpointBlob(e.ctx, number, loose, bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	want := func(some []file) []store.ExpiredEndpointMedia {
		var out []store.ExpiredEndpointMedia
		for _, f := range some {
			out = append(out, store.ExpiredEndpointMedia{Number: f.number, ID: f.id})
		}
		return out
	}
	got, err := e.db.ExpireEndpointMedia(e.ctx, t0, 3)
	if err != nil || !slices.Equal(got, want(files[:3])) {
		t.Fatalf("first sweep (limit 3) = %v, %v; want %v", got, err, want(files[:3]))
	}
	got, err = e.db.ExpireEndpointMedia(e.ctx, t0, 3)
	if err != nil || !slices.Equal(got, want(files[3:5])) {
		t.Fatalf("second sweep = %v, %v; want %v", got, err, want(files[3:5]))
	}
	if got, err := e.db.ExpireEndpointMedia(e.ctx, t0, 3); err != nil || len(got) != 0 {
		t.Fatalf("third sweep = %v, %v; want none", got, err)
	}
	for i, f := range files {
		rc, err := e.db.OpenEndpointBlob(e.ctx, f.number, f.id)
		if rc != nil {
			rc.Close()
		}
		gone := i < 5
		if gone != errors.Is(err, fs.ErrNotExist) {
			t.Errorf("file %d (expires at t0%+v): open = %v; want gone %v", i, f.expiry, err, gone)
		}
		if _, err := e.db.MediaNumber(e.ctx, f.id); gone != (kontor.KindOf(err) == kontor.NotFound) {
			t.Errorf("record %d (expires at t0%+v): %v; want gone %v", i, f.expiry, err, gone)
		}
	}
	rc, err := e.db.OpenEndpointBlob(e.ctx, number, loose)
	if err != nil {
		t.Fatalf("a file without a record: %v", err)
	}
	rc.Close()
}

// testClock: the database's clock reads as this machine's (the tests run
// the database here, or on a machine kept in time), to well within the
// second that separates a skewed node's from it; two reads do not go back.
func testClock(t *testing.T, e *env) {
	before := time.Now().Add(-time.Second)
	first, err := e.db.Clock(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.db.Clock(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	if first.Before(before) || second.After(after) || second.Before(first) {
		t.Fatalf("the database's clock read %s then %s, between %s and %s", first, second, before, after)
	}
}
