package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

func TestMedia(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx := context.Background()
		s := kontortest.Start(t, opts...)
		api := func(cred string) *client.API { return &client.API{Server: s.URL, Credential: cred} }
		ann := s.Account(t, "+4915100000001")
		bob := s.Account(t, "+4915100000002")
		bob2 := link(t, s, "+4915100000002", bob.Credential)
		eve := s.Account(t, "+4915100000003")

		file := bytes.Repeat([]byte("a picture "), 1000)
		blob, key, digest, err := client.SealAttachment(file)
		if err != nil {
			t.Fatal(err)
		}
		up, err := api(ann.Credential).UploadMedia(ctx, "image", bob.Phone, blob)
		if err != nil || up.ID == "" || up.Size != int64(len(blob)) || up.Kind != "image" || up.Expires == 0 {
			t.Fatalf("upload: %+v %v", up, err)
		}
		// Someone outside the conversation cannot tell it exists.
		if _, err := api(eve.Credential).DownloadMedia(ctx, up.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("stranger's download: %v", err)
		}
		// The uploader may fetch it again; that does not use it up.
		if got, err := api(ann.Credential).DownloadMedia(ctx, up.ID); err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("uploader's download: %v", err)
		}
		// Each of Bob's devices gets it; after the last one it is gone.
		for i, cred := range []string{bob.Credential, bob2} {
			got, err := api(cred).DownloadMedia(ctx, up.ID)
			if err != nil {
				t.Fatalf("bob's device %d: %v", i+1, err)
			}
			plain, err := client.OpenAttachment(got, key, digest)
			if err != nil || !bytes.Equal(plain, file) {
				t.Fatalf("bob's device %d: open: %v", i+1, err)
			}
		}
		if _, err := api(bob.Credential).DownloadMedia(ctx, up.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("download after everyone fetched it: %v", err)
		}

		for _, c := range []struct {
			name string
			kind string
			to   kontor.Phone
			body []byte
			want kontor.Kind
		}{
			{"unknown kind", "hologram", bob.Phone, blob, kontor.Invalid},
			{"bad phone", "image", "12345", blob, kontor.Invalid},
			{"unknown person", "image", "+4915199999999", blob, kontor.NotFound},
			{"empty", "image", bob.Phone, nil, kontor.Invalid},
			{"sticker over its limit", "sticker", bob.Phone, make([]byte, 600<<10), kontor.Invalid},
			{"image over its limit", "image", bob.Phone, make([]byte, 5<<20+65), kontor.Invalid},
		} {
			if _, err := api(ann.Credential).UploadMedia(ctx, c.kind, c.to, c.body); kontor.KindOf(err) != c.want {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if _, err := api("").UploadMedia(ctx, "image", bob.Phone, blob); kontor.KindOf(err) != kontor.Unauthenticated {
			t.Errorf("no credential: %v", err)
		}
		if _, err := api(bob.Credential).DownloadMedia(ctx, "../../etc/passwd"); kontor.KindOf(err) != kontor.NotFound {
			t.Errorf("path in id: %v", err)
		}
	})
}

func TestAttachmentTampering(t *testing.T) {
	blob, key, digest, err := client.SealAttachment([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(blob)
	bad[len(bad)-1] ^= 1
	if _, err := client.OpenAttachment(bad, key, digest); !errors.Is(err, client.ErrMediaDigest) {
		t.Fatalf("changed blob: %v", err)
	}
	otherKey := bytes.Clone(key)
	otherKey[0] ^= 1
	if _, err := client.OpenAttachment(blob, otherKey, digest); err == nil {
		t.Fatal("wrong key opened the blob")
	}
	if got, err := client.OpenAttachment(blob, key, digest); err != nil || string(got) != "hello" {
		t.Fatalf("open: %q %v", got, err)
	}
}
