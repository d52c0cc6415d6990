package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// storages are the kinds of Storage a profile is tested on: a directory
// (made as Register makes it) and memory. The IndexedDB one is tested in a
// browser (internal/web).
var storages = []struct {
	name string
	make func(t *testing.T, a Account) Storage
}{
	{"dir", func(t *testing.T, a Account) Storage {
		dir := filepath.Join(t.TempDir(), "profile")
		if err := createProfile(dir, a); err != nil {
			t.Fatal(err)
		}
		return &DirStorage{Dir: dir}
	}},
	{"mem", func(t *testing.T, a Account) Storage {
		st := &MemStorage{}
		if err := createIn(st, a); err != nil {
			t.Fatal(err)
		}
		if err := createIn(st, a); err == nil || !strings.Contains(err.Error(), "already holds device 1") {
			t.Fatalf("a second account in one storage: %v", err)
		}
		return st
	}},
}

// forEachStorage runs test on a new profile in each kind of Storage.
func forEachStorage(t *testing.T, test func(t *testing.T, st Storage)) {
	for _, s := range storages {
		t.Run(s.name, func(t *testing.T) {
			a := Account{Server: "http://127.0.0.1:1", DeviceCredentials: wire.DeviceCredentials{Phone: alice, DeviceID: 1, Credential: "kd_x"}}
			test(t, s.make(t, a))
		})
	}
}

func mustOpenProfile(t *testing.T, st Storage) *profile {
	t.Helper()
	p, err := openProfile(st, "test", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProfilePersistence(t *testing.T) { forEachStorage(t, testProfilePersistence) }

func testProfilePersistence(t *testing.T, st Storage) {
	p := mustOpenProfile(t, st)
	if _, err := openProfile(st, "test", nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	steps := []change{
		{bob, record{Msg: &Message{ID: 10, TS: 1, From: bob, FromDevice: 1, Content: text("hi"), Status: StatusReceived}}},
		{bob, record{Msg: &Message{Ref: "r1", TS: 2, From: alice, FromDevice: 1, Outgoing: true, Content: text("yo"), Status: StatusPending}}},
		{bob, record{Msg: &Message{Ref: "r2", TS: 3, From: alice, FromDevice: 1, Outgoing: true, Content: text("later"), Status: StatusPending}}},
		{bob, record{Ref: "r1", ID: 11, TS: 4, Status: StatusSent}},
		{bob, record{IDs: []kontor.ID{11}, Status: StatusRead, Frame: 12}},
		{bob, record{IDs: []kontor.ID{11}, Status: StatusDelivered, Frame: 13}},   // late: never goes down
		{carol, record{IDs: []kontor.ID{99}, Status: StatusDelivered, Frame: 14}}, // receipt before the id is known
		{carol, record{Msg: &Message{Ref: "r3", TS: 5, From: alice, FromDevice: 1, Outgoing: true, Content: text("c"), Status: StatusPending}}},
		{carol, record{Ref: "r3", ID: 99, TS: 6, Status: StatusSent}},
		{bob, record{Msg: &Message{ID: 10, TS: 1, From: bob, FromDevice: 1, Content: text("hi again?"), Status: StatusReceived}}}, // duplicate
	}
	for _, s := range steps {
		if err := p.write([]change{s}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.markRead(bob, nil); err != nil {
		t.Fatal(err)
	}
	p.setDevices(bob, []int{1, 3})
	check := func(p *profile) {
		t.Helper()
		h := p.history(bob, 0)
		got := make([]string, len(h))
		for i, m := range h {
			got[i] = m.Content.Text + ":" + m.Status
		}
		if want := []string{"hi:read", "yo:read", "later:pending"}; !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		if c := p.history(carol, 0); len(c) != 1 || c[0].Status != StatusDelivered || c[0].ID != 99 {
			t.Errorf("carol %+v", c)
		}
		if ob := p.outbox(nil); len(ob) != 1 || ob[0].Ref != "r2" {
			t.Errorf("outbox %+v", ob)
		}
		for _, id := range []kontor.ID{10, 11, 12, 13, 14, 99} {
			if !p.seenID(id) {
				t.Errorf("id %v not seen", id)
			}
		}
		if p.seenID(15) {
			t.Error("id 15 seen")
		}
		if r := p.reads(); !slices.Equal(r[bob], []kontor.ID{10}) {
			t.Errorf("reads %v", r)
		}
		if d, _ := p.devices(bob); !slices.Equal(d, []int{1, 3}) {
			t.Errorf("devices %v", d)
		}
		cs := p.conversations()
		if len(cs) != 2 || cs[0].Peer != carol || cs[1].Unread != 0 {
			t.Errorf("conversations %+v", cs)
		}
	}
	check(p)
	p.close()
	p = mustOpenProfile(t, st)
	check(p)
	p.readsSent(bob, []kontor.ID{10})
	p.close()

	if d, ok := st.(*DirStorage); ok {
		for _, f := range []string{stateFile, filepath.Join(convDir, bob+convExt), accountFile} {
			checkMode(t, filepath.Join(d.Dir, f), 0o600)
		}
		checkMode(t, filepath.Join(d.Dir, convDir), 0o700)
	}
	p = mustOpenProfile(t, st)
	defer p.close()
	if r := p.reads(); len(r) != 0 {
		t.Errorf("reads after sent: %v", r)
	}
}

// A crash in the middle of an append leaves a torn last line: it is cut off
// on open, and appends after it stay readable.
func TestProfileTornLog(t *testing.T) { forEachStorage(t, testProfileTornLog) }

func testProfileTornLog(t *testing.T, st Storage) {
	p := mustOpenProfile(t, st)
	if err := p.write([]change{{bob, record{Msg: &Message{ID: 10, From: bob, FromDevice: 1, Content: text("a"), Status: StatusReceived}}}}); err != nil {
		t.Fatal(err)
	}
	p.close()
	if err := st.AppendFile(logName(bob), []byte(`{"msg":{"id":"11","from":"+49151`)); err != nil {
		t.Fatal(err)
	}

	p = mustOpenProfile(t, st)
	if err := p.write([]change{{bob, record{Msg: &Message{ID: 12, From: bob, FromDevice: 1, Content: text("b"), Status: StatusReceived}}}}); err != nil {
		t.Fatal(err)
	}
	p.close()
	p = mustOpenProfile(t, st)
	defer p.close()
	h := p.history(bob, 0)
	if len(h) != 2 || h[0].ID != 10 || h[1].ID != 12 {
		t.Fatalf("history %+v", h)
	}
}

// A log of many status changes is rewritten compactly on open, keeping the
// statuses and the receipt ids needed to drop redelivered receipts.
func TestProfileCompaction(t *testing.T) { forEachStorage(t, testProfileCompaction) }

func testProfileCompaction(t *testing.T, st Storage) {
	p := mustOpenProfile(t, st)
	var cs []change
	cs = append(cs, change{bob, record{Msg: &Message{Ref: "r", From: alice, FromDevice: 1, Outgoing: true, Content: text("x"), Status: StatusPending}}})
	cs = append(cs, change{bob, record{Ref: "r", ID: 5, Status: StatusSent}})
	for i := range 3000 {
		cs = append(cs, change{bob, record{IDs: []kontor.ID{5}, Status: StatusDelivered, Frame: kontor.ID(100 + i)}})
	}
	if err := p.write(cs); err != nil {
		t.Fatal(err)
	}
	p.close()
	before, _ := st.ReadFile(logName(bob))
	p = mustOpenProfile(t, st)
	p.close()
	after, _ := st.ReadFile(logName(bob))
	if len(after) >= len(before)/2 {
		t.Fatalf("log not compacted: %d → %d bytes", len(before), len(after))
	}
	p = mustOpenProfile(t, st)
	defer p.close()
	if h := p.history(bob, 0); len(h) != 1 || h[0].Status != StatusDelivered || h[0].ID != 5 {
		t.Fatalf("history %+v", h)
	}
	if !p.seenID(3099) || p.seenID(99) {
		t.Fatal("newest receipt ids not kept")
	}
}

func TestIDSetForgetsOldest(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []kontor.ID{1, 2, 3, 2, 4} {
		s.add(id)
	}
	for id, want := range map[kontor.ID]bool{1: false, 2: true, 3: true, 4: true} {
		if s.has(id) != want {
			t.Errorf("has(%v) = %v", id, !want)
		}
	}
}

// In a directory (a LocalStorage) the conversation logs stay open for the
// next append, at most maxOpenLogs of them; in another Storage appends go
// through AppendFile. Either way every record is there after a reopen.
func TestProfileKeptOpenLogs(t *testing.T) { forEachStorage(t, testProfileKeptOpenLogs) }

func testProfileKeptOpenLogs(t *testing.T, st Storage) {
	_, local := st.(LocalStorage)
	p := mustOpenProfile(t, st)
	peers := make([]kontor.Phone, maxOpenLogs+6)
	for i := range peers {
		peers[i] = kontor.Phone(fmt.Sprintf("+49151%08d", i+1))
	}
	for round := range 2 {
		for i, peer := range peers {
			id := kontor.ID(1 + round*len(peers) + i)
			if err := p.write([]change{{peer, record{Msg: &Message{ID: id, From: peer, FromDevice: 1, Content: text("m"), Status: StatusReceived}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.mu.Lock()
	open := len(p.logs)
	p.mu.Unlock()
	switch {
	case local && (open == 0 || open > maxOpenLogs):
		t.Fatalf("%d logs open in a directory, want 1 to %d", open, maxOpenLogs)
	case !local && open != 0:
		t.Fatalf("%d logs open in a Storage that is not a directory", open)
	}
	p.close()
	p = mustOpenProfile(t, st)
	defer p.close()
	for i, peer := range peers {
		h := p.history(peer, 0)
		if len(h) != 2 || h[0].ID != kontor.ID(1+i) || h[1].ID != kontor.ID(1+len(peers)+i) {
			t.Fatalf("history with %s: %+v", peer, h)
		}
	}
}

// TestProfileLogBytes checks what writes of one change, of several to one
// conversation and of several to two append to the logs: each record's
// JSON and a newline, in order, in every Storage (a directory reuses one
// buffer and encoder for writes to one conversation).
func TestProfileLogBytes(t *testing.T) { forEachStorage(t, testProfileLogBytes) }

func testProfileLogBytes(t *testing.T, st Storage) {
	const bob, carol = kontor.Phone("+4915100000002"), kontor.Phone("+4915100000003")
	msg := func(id kontor.ID, from kontor.Phone, body string) record {
		return record{Msg: &Message{ID: id, From: from, FromDevice: 1, Content: text(body), Status: StatusReceived}}
	}
	writes := [][]change{
		{{bob, msg(1, bob, "one")}},
		{{bob, msg(2, bob, strings.Repeat("long <&> ", 2000))}, {bob, record{ID: 2, Status: StatusRead, Frame: 7}}},
		{{carol, msg(3, carol, "three")}, {bob, msg(4, bob, "four")}, {carol, record{IDs: []kontor.ID{3}, Status: StatusRead}}},
		{{bob, msg(5, bob, "five")}},
	}
	want := map[kontor.Phone][]byte{}
	p := mustOpenProfile(t, st)
	for _, w := range writes {
		for _, c := range w {
			b, err := json.Marshal(&c.rec)
			if err != nil {
				t.Fatal(err)
			}
			want[c.peer] = append(append(want[c.peer], b...), '\n')
		}
		if err := p.write(w); err != nil {
			t.Fatal(err)
		}
	}
	p.close()
	for peer, w := range want {
		got, err := st.ReadFile(logName(peer))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, w) {
			t.Errorf("log of %s:\n%s\nwant\n%s", peer, got, w)
		}
	}
}
