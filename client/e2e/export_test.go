package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestProfileFiles: a profile directory read as files for another
// storage: the client's files as they are, the key store's files, the
// session journal as one file per live record (the last put wins, a
// deleted one is gone, a record in the journal beats an old session file,
// a torn end is cut off), and no locks, temporary files, journal or
// skipped directories.
func TestProfileFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("device.json", `{"phone":"+4930123"}`)
	write("state.json", `{"v":1}`)
	write("lock", "")
	write(".device.json.tmp123", "half")
	write("conversations/+4915100000001.jsonl", "a\nb\n")
	write("e2e/identity.json", "id")
	write("e2e/lock", "")
	write("e2e/sessions/+4915100000003.1.json", "old file") // an earlier version's file
	write("e2e/sessions/+4915100000004.1.json", "only a file")
	write("media/123", "plaintext media")
	j, err := openJournal(filepath.Join(dir, "e2e", journalFile), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		name, data string
		del        bool
	}{
		{name: "sessions/+4915100000001.1.json", data: "s1 v1"},
		{name: "sessions/+4915100000001.1.json", data: "s1 v2"},
		{name: "sessions/+4915100000002.1.json", data: "s2"},
		{name: "sessions/+4915100000002.1.json", del: true},
		{name: "sessions/+4915100000003.1.json", data: "journal"},
	} {
		if op.del {
			err = j.del(op.name)
		} else {
			err = j.put(op.name, []byte(op.data))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "e2e", journalFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := journalRecord(opPut, "sessions/+4915100000005.1.json", []byte("torn"))
	_, _ = f.Write(torn[:len(torn)-2])
	f.Close()

	got, err := ProfileFiles(dir, "media")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"device.json":                        `{"phone":"+4930123"}`,
		"state.json":                         `{"v":1}`,
		"conversations/+4915100000001.jsonl": "a\nb\n",
		"e2e/identity.json":                  "id",
		"e2e/sessions/+4915100000001.1.json": "s1 v2",
		"e2e/sessions/+4915100000003.1.json": "journal",
		"e2e/sessions/+4915100000004.1.json": "only a file",
	}
	for name, w := range want {
		if b, ok := got[name]; !ok || !bytes.Equal(b, []byte(w)) {
			t.Errorf("%s: %q (present %v), want %q", name, b, ok, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
}
