package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/endpoint"
)

// TestSweepEndpointMedia: the housekeeping sweep deletes a hosted
// endpoint's expired media, its record and its file in the endpoint's
// media directory, and leaves media that expire later; batches of the
// store's sweep follow each other until one is short.
func TestSweepEndpointMedia(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir, cfg.HTTPAddr = t.TempDir(), "127.0.0.1:0"
	s, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.closeAll)
	now := time.Now() // EndpointMedia reads the wall clock
	ids := kontor.NewIDs(nil, 1)
	number := ids.Next()
	dir := filepath.Join(s.endpointDir(number), "media")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	put := func(expires time.Time) kontor.ID {
		id := ids.Next()
		if err := s.db.PutEndpointMedia(ctx, endpoint.MediaRecord{ID: id, Number: number, MimeType: "image/png", SHA256: "ab", Size: 2,
			Created: expires.Add(-30 * 24 * time.Hour), Expires: expires}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id.String()), []byte("hi"), 0o600); err != nil {
			t.Fatal(err)
		}
		return id
	}
	var expired []kontor.ID
	for i := range endpointMediaBatch + 2 { // more than one batch
		expired = append(expired, put(now.Add(-time.Duration(i+1)*time.Minute)))
	}
	live := put(now.Add(time.Hour))
	if err := os.Remove(filepath.Join(dir, expired[0].String())); err != nil { // a file gone already is no error
		t.Fatal(err)
	}

	n, err := s.sweepEndpointMedia(ctx, now)
	if err != nil || n != len(expired) {
		t.Fatalf("sweep = %d, %v; want %d", n, err, len(expired))
	}
	for _, id := range expired {
		if _, err := os.Stat(filepath.Join(dir, id.String())); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("expired media %s: file %v", id, err)
		}
		if _, err := s.db.MediaNumber(ctx, id); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("expired media %s: record %v", id, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, live.String())); err != nil {
		t.Errorf("live media: file %v", err)
	}
	if _, err := s.db.EndpointMedia(ctx, number, live); err != nil {
		t.Errorf("live media: record %v", err)
	}
	if n, err := s.sweepEndpointMedia(ctx, now); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; want 0", n, err)
	}
}
