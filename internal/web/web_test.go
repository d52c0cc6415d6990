package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestChatFiles(t *testing.T) {
	mux := http.NewServeMux()
	NewChat().Mount(mux, "/chat")
	tests := []struct {
		path, accept string
		code         int
		ctype, enc   string
		body         string // a piece of the body
	}{
		{"/chat", "", http.StatusMovedPermanently, "", "", ""},
		{"/chat/", "", 200, "text/html; charset=utf-8", "", `<label for="phone">`},
		{"/chat/index.html", "", 200, "text/html; charset=utf-8", "", "kontor chat"},
		{"/chat/chat.js", "", 200, "text/javascript; charset=utf-8", "", "kontor.onEvent"},
		{"/chat/chat.css", "", 200, "text/css; charset=utf-8", "", "@media (max-width: 700px)"},
		{"/chat/wasm_exec.js", "", 200, "text/javascript; charset=utf-8", "", "globalThis.Go = class"},
		{"/chat/kontor.wasm", "gzip, deflate, br", 200, "application/wasm", "gzip", "\x00asm"},
		{"/chat/kontor.wasm", "", 200, "application/wasm", "", "\x00asm"},
		{"/chat/kontor.wasm", "gzip;q=0", 200, "application/wasm", "", "\x00asm"},
		{"/chat/kontor.wasm.gz", "", 404, "", "", ""},
		{"/chat/nothing.js", "", 404, "", "", ""},
		{"/chat/../web.go", "", http.StatusTemporaryRedirect, "", "", ""}, // to /web.go, out of the chat,
	}
	for _, tc := range tests {
		t.Run(tc.path+" "+tc.accept, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tc.code {
				t.Fatalf("HTTP %d, want %d", res.StatusCode, tc.code)
			}
			if tc.code != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.enc {
				t.Errorf("Content-Encoding %q, want %q", got, tc.enc)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "http") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			body := rec.Body.Bytes()
			if tc.enc == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Contains(body, []byte(tc.body)) {
				t.Errorf("the body has no %q", tc.body)
			}
			// A second fetch with the ETag is answered 304.
			req.Header.Set("If-None-Match", res.Header.Get("ETag"))
			rec = httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotModified {
				t.Errorf("with If-None-Match: HTTP %d", rec.Code)
			}
		})
	}
}

// TestChatFetchesNothingElsewhere: the page names no other site.
func TestChatFetchesNothingElsewhere(t *testing.T) {
	for _, name := range []string{"index.html", "chat.js", "chat.css"} {
		b, err := chatFiles.ReadFile("chat/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s mentions %q", name, bad)
			}
		}
	}
}

// TestWasmUpToDate rebuilds the web chat's client and fails when the
// committed chat/kontor.wasm.gz or chat/wasm_exec.js differ from what the
// sources (and this Go) make: run go generate ./internal/web and commit.
func TestWasmUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("building the WebAssembly client takes a minute; skipped in -short")
	}
	cmd := exec.Command("go", "run", "./genwasm", "-check")
	cmd.Env = append(os.Environ(), "GOFLAGS=") // -race and the like are not for the wasm build
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}
