package commerce

import (
	"bytes"
	"strings"
	"testing"
)

// Small files whose first bytes are what each kind starts with.
var (
	pngHead  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	jpegHead = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	webpHead = []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")
	gifHead  = []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
)

func TestCheckImage(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string // the type, or "" for refused
		msg  string // part of the refusal
	}{
		{"png", pngHead, "image/png", ""},
		{"jpeg", jpegHead, "image/jpeg", ""},
		{"webp", webpHead, "image/webp", ""},
		{"gif", gifHead, "", "GIF picture"},
		{"text", []byte("hello, this is not a picture"), "", "The file is text"},
		{"html named .png", []byte("<html><script>alert(1)</script>"), "", "use a JPEG, PNG or WebP picture"},
		{"pdf", []byte("%PDF-1.7\n"), "", "a file of another kind"},
		{"empty", nil, "", "empty"},
		{"too large", append(bytes.Clone(pngHead), make([]byte, MaxImage)...), "", "at most 5 MB"},
		{"just at the limit", append(bytes.Clone(pngHead), make([]byte, MaxImage-len(pngHead))...), "image/png", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckImage(tc.data)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("CheckImage = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("CheckImage = %q, %v; want an error with %q", got, err, tc.msg)
			}
		})
	}
}

func TestPlatformImage(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		base, address string
		ok            bool
	}{
		{"https://k.example", "https://k.example/catalog-images/" + id, true},
		{"http://127.0.0.1:8080", ImageURL("http://127.0.0.1:8080", id), true},
		{"https://k.example", "https://other.example/catalog-images/" + id, false},
		{"https://k.example", "http://k.example/catalog-images/" + id, false},
		{"https://k.example", "https://k.example/catalog-images/" + strings.ToUpper(id), false},
		{"https://k.example", "https://k.example/catalog-images/../console/" + id, false},
		{"https://k.example", "https://k.example/catalog-images/" + id + "?x=1", false},
		{"https://k.example", "https://k.example/images/" + id, false},
		{"https://k.example", "", false},
	} {
		got, ok := PlatformImage(tc.base, tc.address)
		if ok != tc.ok || (ok && got != id) {
			t.Errorf("PlatformImage(%q, %q) = %q, %v; want ok %v", tc.base, tc.address, got, ok, tc.ok)
		}
	}
	if n, err := NewImageID(); err != nil || !ValidImageID(n) {
		t.Errorf("NewImageID = %q, %v; want a valid id", n, err)
	}
}
