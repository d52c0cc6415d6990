package client

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
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
