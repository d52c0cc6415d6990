package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

// sessionBytes returns p's stored session record with peer (nil when
// none), read from the journal file as a restart would.
func sessionBytes(t *testing.T, p *party, peer wire.DeviceAddress) []byte {
	t.Helper()
	j, err := openJournal(filepath.Join(p.dir, storeDir, journalFile), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	b, err := j.get(sessionFile(peer))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setSession replaces p's stored session record with peer (nil removes
// it); p sees it after a restart.
func setSession(t *testing.T, p *party, peer wire.DeviceAddress, b []byte) {
	t.Helper()
	j, err := openJournal(filepath.Join(p.dir, storeDir, journalFile), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if b == nil {
		err = j.del(sessionFile(peer))
	} else {
		err = j.put(sessionFile(peer), b)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalFile)
	open := func() *journal {
		t.Helper()
		j, err := openJournal(path, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	want := func(j *journal, name, content string) {
		t.Helper()
		b, err := j.get(name)
		if content == "" {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s: %q, %v; want none", name, b, err)
			}
			return
		}
		if err != nil || string(b) != content {
			t.Fatalf("%s: %q, %v; want %q", name, b, err, content)
		}
	}
	j := open()
	for _, step := range []struct{ name, content string }{{"a", "one"}, {"b", "two"}, {"a", "three"}, {"c", "four"}, {"c", ""}} {
		var err error
		if step.content == "" {
			err = j.del(step.name)
		} else {
			err = j.put(step.name, []byte(step.content))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := j.del("never there"); err != nil {
		t.Fatal(err)
	}
	check := func(j *journal) {
		t.Helper()
		want(j, "a", "three")
		want(j, "b", "two")
		want(j, "c", "")
	}
	check(j)
	j.close()
	j = open()
	check(j)
	j.close()

	// A torn last record (a crash in the middle of an append) is cut off;
	// what came before stays, and appends go on after it.
	good, _ := os.ReadFile(path)
	torn := journalRecord(opPut, "a", []byte("torn"))
	for _, damage := range []struct {
		name string
		tail []byte
	}{
		{"cut short", torn[:len(torn)-2]},
		{"only part of the header", torn[:5]},
		{"bad checksum", append(append([]byte(nil), torn[:len(torn)-1]...), torn[len(torn)-1]^1)},
		{"impossible length", append([]byte{0xff, 0xff, 0xff, 0xff}, torn[4:]...)},
	} {
		t.Run(damage.name, func(t *testing.T) {
			if err := os.WriteFile(path, append(append([]byte(nil), good...), damage.tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			j := open()
			defer j.close()
			check(j)
			if info, _ := os.Stat(path); info.Size() != int64(len(good)) {
				t.Fatalf("the journal is %d bytes after repair, want %d", info.Size(), len(good))
			}
			if err := j.put("d", []byte("five")); err != nil {
				t.Fatal(err)
			}
			j.close()
			j = open()
			want(j, "d", "five")
			check(j)
		})
	}
}

func TestJournalCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalFile)
	j, err := openJournal(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	rec := bytes.Repeat([]byte("x"), 4000)
	const names = 10
	for i := range 4 * compactMin / len(rec) {
		rec[0] = byte(i)
		if err := j.put(fmt.Sprint("s", i%names), rec); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() >= compactMin {
		t.Fatalf("the journal is %d bytes after many rewrites of %d records; it should have been compacted", info.Size(), names)
	}
	j.close()
	j, err = openJournal(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := 4*compactMin/len(rec) - 1
	for i := last - names + 1; i <= last; i++ {
		b, err := j.get(fmt.Sprint("s", i%names))
		if err != nil || len(b) != len(rec) || b[0] != byte(i) {
			t.Fatalf("s%d after compaction: %d bytes starting %v, %v", i%names, len(b), b[:min(1, len(b))], err)
		}
	}
}
