package media_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/media"
	"github.com/kontor-chat/kontor/internal/store"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// mediaStore opens a SQLite store in a temporary directory with two accounts,
// 100 (+4915100000001, device 1000) and 101 (+4915100000002, device 1010),
// and a media directory there (DIR/media): the directory, the store, the
// Dir.
func mediaStore(t *testing.T) (string, *store.DB, *media.Dir) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	for i, p := range []kontor.Phone{"+4915100000001", "+4915100000002"} {
		id := kontor.ID(100 + i)
		if _, _, err := db.Register(context.Background(), identity.Account{ID: id, Phone: p, Created: now},
			identity.Device{ID: id * 10, AccountID: id, Num: 1, SecretHash: []byte{1}, Primary: true, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := media.NewDir(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, db, blobs
}

// TestExpiry: a blob nobody fetched is deleted, record and file, once its
// retention is over, and not before.
func TestExpiry(t *testing.T) {
	ctx := context.Background()
	dir, db, blobs := mediaStore(t)
	now := time.Now()
	c := &clock{t: now}
	svc := media.New(db, blobs, time.Hour, c, nil)
	ann := media.Uploader{Device: 1000, Account: 100}
	b, err := svc.Upload(ctx, ann, "document", "+4915100000002", strings.NewReader("contract"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "media", b.ID[:2], b.ID)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("blob file: %v", err)
	}
	c.t = now.Add(59 * time.Minute)
	if n, err := svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before expiry: %d %v", n, err)
	}
	rc, _, err := svc.Open(ctx, media.Uploader{Device: 1010, Account: 101}, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, []byte("contract")) {
		t.Fatalf("read %q", got)
	}
	c.t = now.Add(61 * time.Minute)
	if _, _, err := svc.Open(ctx, media.Uploader{Device: 1010, Account: 101}, b.ID); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("open after expiry: %v", err)
	}
	if n, err := svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after expiry: %d %v", n, err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("blob file still there: %v", err)
	}
	if _, err := db.Media(ctx, b.ID); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("record still there: %v", err)
	}
	// Nothing is left in the upload directory.
	if left, _ := os.ReadDir(filepath.Join(dir, "media", "tmp")); len(left) != 0 {
		t.Fatalf("left in tmp: %v", left)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"0123456789abcdef0123456789abcdef": true,
		"0123456789abcdef0123456789abcde":  false,
		"../../../../etc/passwd0123456789": false,
		"":                                 false,
		"0123456789abcdef0123456789abcdeg": false,
		"0123456789ABCDEF0123456789ABCDEF": false, // ids are written in lower case
	} {
		if got := media.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v", id, got)
		}
	}
}

// TestOrphans: a sweep deletes the blob files whose record is gone once
// they are older than the grace, and unfinished uploads as old, and leaves
// the files with a record, younger files and names that are no blob's; a
// small batch sweeps the directory in turns, starting again at its end.
func TestOrphans(t *testing.T) {
	ctx := context.Background()
	dir, db, blobs := mediaStore(t)
	now := time.Now()
	root := filepath.Join(dir, "media")
	svc := media.New(db, blobs, time.Hour, nil, nil)
	old := now.Add(-2 * time.Hour)
	upload := func(what string, age time.Time, record bool) string {
		t.Helper()
		b, err := svc.Upload(ctx, media.Uploader{Device: 1000, Account: 100}, "document", "+4915100000001", strings.NewReader(what))
		if err != nil {
			t.Fatal(err)
		}
		if !record {
			if err := db.DeleteMedia(ctx, b.ID); err != nil { // as a node that missed the delete hint
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(filepath.Join(root, b.ID[:2], b.ID), age, age); err != nil {
			t.Fatal(err)
		}
		return b.ID
	}
	exists := func(path ...string) bool {
		_, err := os.Stat(filepath.Join(append([]string{root}, path...)...))
		return err == nil
	}
	kept := upload("kept", old, true)
	orphan := upload("orphan", old, false)
	young := upload("young orphan", now, false)
	junk := filepath.Join(kept[:2], "notes.txt")
	if err := os.WriteFile(filepath.Join(root, junk), []byte("not a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, age := range map[string]time.Time{"stale.upload": old, "fresh.upload": now} {
		p := filepath.Join(root, "tmp", name)
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
	}

	o := media.NewOrphans(blobs, db, nil, nil)
	if n, err := o.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want the orphan and the stale upload", n, err)
	}
	for _, c := range []struct {
		path []string
		want bool
	}{
		{[]string{kept[:2], kept}, true},
		{[]string{orphan[:2], orphan}, false},
		{[]string{young[:2], young}, true},
		{[]string{junk}, true},
		{[]string{"tmp", "stale.upload"}, false},
		{[]string{"tmp", "fresh.upload"}, true},
	} {
		if got := exists(c.path...); got != c.want {
			t.Errorf("after the sweep %s is there: %v, want %v", filepath.Join(c.path...), got, c.want)
		}
	}
	if n, err := o.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a second Sweep = %d, %v; want nothing", n, err)
	}

	// Batches of 2 over the kept and young files and three more orphans:
	// the turns look at two files each in id order and start again.
	more := []string{upload("o1", old, false), upload("o2", old, false), upload("o3", old, false)}
	all := append([]string{kept, young}, more...)
	slices.Sort(all)
	files, err := blobs.List("", 10)
	if err != nil || len(files) != 5 {
		t.Fatalf("List = %v, %v; want 5 files", files, err)
	}
	for i, f := range files {
		if f.ID != all[i] {
			t.Fatalf("List in order: %v; want %v", files, all)
		}
	}
	if files, err := blobs.List(all[1], 2); err != nil || len(files) != 2 || files[0].ID != all[2] || files[1].ID != all[3] {
		t.Fatalf("List(after %s, 2) = %v, %v", all[1], files, err)
	}
	o = media.NewOrphans(blobs, db, nil, nil)
	o.Batch = 2
	for turn, part := range [][]string{all[0:2], all[2:4], all[4:]} { // the last turn reaches the end
		want := 0
		for _, id := range part {
			if slices.Contains(more, id) {
				want++
			}
		}
		if n, err := o.Sweep(ctx); err != nil || n != want {
			t.Fatalf("turn %d over %v: %d, %v; want %d", turn, part, n, err, want)
		}
	}
	if files, _ := blobs.List("", 10); len(files) != 2 {
		t.Fatalf("left: %v; want the kept and the young file", files)
	}
}

// located is a Dir that says which node it was asked to open a blob on.
type located struct {
	*media.Dir
	asked []string
}

func (l *located) OpenOn(ctx context.Context, id, node string) (io.ReadCloser, error) {
	l.asked = append(l.asked, node)
	return l.Dir.Open(ctx, id)
}

// TestOpenOnNode: an upload's record names the node that took it, and
// opening it asks Blobs that can for that node.
func TestOpenOnNode(t *testing.T) {
	ctx := context.Background()
	_, db, d := mediaStore(t)
	blobs := &located{Dir: d}
	svc := media.New(db, blobs, time.Hour, nil, nil)
	svc.Node = "7"
	me := media.Uploader{Device: 1000, Account: 100}
	b, err := svc.Upload(ctx, me, "image", "+4915100000001", strings.NewReader("pixels"))
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := db.Media(ctx, b.ID); err != nil || rec.Node != "7" || b.Node != "7" {
		t.Fatalf("the record names node %q (%v), the blob %q; want 7", rec.Node, err, b.Node)
	}
	rc, _, err := svc.Open(ctx, me, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "pixels" || !slices.Equal(blobs.asked, []string{"7"}) {
		t.Fatalf("Open read %q asking nodes %v; want pixels from node 7", got, blobs.asked)
	}
}
