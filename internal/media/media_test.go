package media_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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

// TestExpiry: a blob nobody fetched is deleted, record and file, once its
// retention is over, and not before.
func TestExpiry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	for i, p := range []kontor.Phone{"+4915100000001", "+4915100000002"} {
		id := kontor.ID(100 + i)
		if _, _, err := db.Register(ctx, identity.Account{ID: id, Phone: p, Created: now},
			identity.Device{ID: id * 10, AccountID: id, Num: 1, SecretHash: []byte{1}, Primary: true, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := media.NewDir(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
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
	} {
		if got := media.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v", id, got)
		}
	}
}
