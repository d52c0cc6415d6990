package client

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStorage checks what profile and key store rely on, on every kind of
// Storage that runs outside a browser.
func TestStorage(t *testing.T) {
	kinds := map[string]func(t *testing.T) Storage{
		"dir": func(t *testing.T) Storage { return &DirStorage{Dir: filepath.Join(t.TempDir(), "p")} },
		"mem": func(*testing.T) Storage { return &MemStorage{} },
	}
	for name, mk := range kinds {
		t.Run(name, func(t *testing.T) {
			st := mk(t)
			if _, err := st.ReadFile("device.json"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("reading a missing file: %v", err)
			}
			if names, err := st.List("conversations"); err != nil || len(names) != 0 {
				t.Fatalf("listing a missing directory: %v %v", names, err)
			}
			steps := []struct {
				do   func() error
				file string
				want string // "" means missing
			}{
				{func() error { return st.WriteFile("a.json", []byte("1")) }, "a.json", "1"},
				{func() error { return st.WriteFile("a.json", []byte("22")) }, "a.json", "22"},
				{func() error { return st.AppendFile("c/x.jsonl", []byte("l1\n")) }, "c/x.jsonl", "l1\n"},
				{func() error { return st.AppendFile("c/x.jsonl", []byte("l2\n")) }, "c/x.jsonl", "l1\nl2\n"},
				{func() error { return st.WriteFile("c/x.jsonl", []byte("l1\n")) }, "c/x.jsonl", "l1\n"},
				{func() error { return st.AppendFile("c/x.jsonl", []byte("l3\n")) }, "c/x.jsonl", "l1\nl3\n"},
				{func() error { return st.WriteFile("e2e/sessions/+1.1.json", []byte("s")) }, "e2e/sessions/+1.1.json", "s"},
				{func() error { return st.Remove("e2e/sessions/+1.1.json") }, "e2e/sessions/+1.1.json", ""},
				{func() error { return st.Remove("e2e/sessions/+1.1.json") }, "e2e/sessions/+1.1.json", ""},
				{func() error { return st.AppendFile("c/y.jsonl", []byte("y")) }, "c/y.jsonl", "y"},
			}
			for i, s := range steps {
				if err := s.do(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				b, err := st.ReadFile(s.file)
				if s.want == "" {
					if !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("step %d: %s = %q, %v; want missing", i, s.file, b, err)
					}
				} else if string(b) != s.want || err != nil {
					t.Fatalf("step %d: %s = %q, %v; want %q", i, s.file, b, err, s.want)
				}
			}
			if names, err := st.List("c"); err != nil || !slices.Equal(names, []string{"x.jsonl", "y.jsonl"}) {
				t.Errorf("List(c) = %v, %v", names, err)
			}
			if names, err := st.List(""); err != nil || !slices.Equal(names, []string{"a.json"}) {
				t.Errorf("List() = %v, %v", names, err)
			}
			unlock, err := st.Lock("lock")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Lock("e2e/lock"); err != nil {
				t.Errorf("a second, different lock: %v", err)
			}
			if _, err := st.Lock("lock"); !errors.Is(err, ErrProfileInUse) {
				t.Errorf("taking a held lock: %v", err)
			}
			unlock()
			if u, err := st.Lock("lock"); err != nil {
				t.Errorf("taking a released lock: %v", err)
			} else {
				u()
			}
		})
	}
	d := &DirStorage{Dir: t.TempDir()}
	for _, bad := range []string{"", "../x", "/etc/passwd", "a//b", "a/../../b"} {
		if err := d.WriteFile(bad, nil); err == nil {
			t.Errorf("WriteFile(%q) worked", bad)
		}
	}
}

// A device registered, linked and run in a Storage rather than a directory
// (as the web chat does with IndexedDB) keeps its account and history there
// across a restart, and holds the storage's lock while open.
func TestClientInStorage(t *testing.T) {
	fs := newFakeServer(t)
	ctx := context.Background()
	st := &MemStorage{}
	fs.set(func(fs *fakeServer) { fs.codes[alice] = "123456" })
	a, err := RegisterIn(ctx, st, Registration{Server: fs.URL, Phone: alice, Code: "123456", DeviceName: "browser"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAccount(st); err != nil || got != a {
		t.Fatalf("ReadAccount = %+v, %v; want %+v", got, err, a)
	}
	if _, err := RegisterIn(ctx, st, Registration{Server: fs.URL, Phone: alice, Code: "123456"}); err == nil || !strings.Contains(err.Error(), "already holds device") {
		t.Fatalf("registering into a used storage: %v", err)
	}
	lc, err := a.API(nil).LinkCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	linked := &MemStorage{}
	if l, err := LinkIn(ctx, linked, Registration{Server: fs.URL, Phone: alice, Code: lc.Code}); err != nil || l.DeviceID != 2 {
		t.Fatalf("LinkIn = %+v, %v", l, err)
	}
	if _, err := ReadAccount(&MemStorage{}); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("ReadAccount of an empty storage: %v", err)
	}

	opts := fastOptions()
	opts.Storage = st
	c, err := Open(ctx, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	tc := newTestClient(t, c)
	if _, err := Open(ctx, "", opts); !errors.Is(err, ErrProfileInUse) {
		t.Fatalf("a second Open of the storage: %v", err)
	}
	b := openMem(t, fs.account(bob, 1)[0], fastOptions())
	id, err := tc.Send(ctx, bob, text("aus dem Speicher"))
	if err != nil {
		t.Fatal(err)
	}
	if m := next[Message](t, b); m.ID != id {
		t.Fatalf("bob got %+v", m)
	}
	next[Receipt](t, tc)
	eventually(t, "delivered", func() bool { h := tc.History(bob, 0); return len(h) == 1 && h[0].Status == StatusDelivered })
	_ = tc.Close()

	c, err = Open(ctx, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h := c.History(bob, 0); len(h) != 1 || h[0].ID != id || h[0].Status != StatusDelivered || h[0].Content.Text != "aus dem Speicher" {
		t.Fatalf("history after reopening: %+v", h)
	}
	if c.Account() != a {
		t.Fatalf("reopened as %+v", c.Account())
	}
}
