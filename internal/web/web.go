package web

//go:generate go run ./genwasm

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed chat
var chatFiles embed.FS

// The Content-Security-Policy of every page: only this origin, and
// WebAssembly compilation for the chat's client.
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Chat serves the web chat under prefix (as "/chat"): prefix itself
// redirects to prefix+"/", which is the page.
type Chat struct {
	files fs.FS
	etags map[string]string // file name → strong ETag; fixed by NewChat

	once sync.Once
	wasm []byte // kontor.wasm, decompressed, for the rare client without gzip
	err  error
}

// NewChat returns the web chat's handler.
func NewChat() *Chat {
	sub, err := fs.Sub(chatFiles, "chat")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	c := &Chat{files: sub, etags: map[string]string{}}
	_ = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := fs.ReadFile(sub, name); err == nil {
				c.etags[name] = etag(b)
			}
		}
		return nil
	})
	return c
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// Mount registers the chat under prefix on mux.
func (c *Chat) Mount(mux *http.ServeMux, prefix string) {
	mux.Handle("GET "+prefix, http.RedirectHandler(prefix+"/", http.StatusMovedPermanently))
	mux.Handle("GET "+prefix+"/", http.StripPrefix(prefix, c))
}

// ServeHTTP serves one file of the chat; the path is relative to the
// prefix.
func (c *Chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" || name == "." {
		name = "index.html"
	}
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache") // revalidate: a new binary brings new files
	if name == "kontor.wasm" {
		c.serveWasm(w, r)
		return
	}
	b, err := fs.ReadFile(c.files, name)
	if err != nil || strings.HasSuffix(name, ".gz") {
		http.Error(w, "no such page in the web chat", http.StatusNotFound)
		return
	}
	h.Set("Content-Type", contentType(name))
	serve(w, r, b, c.etags[name])
}

// serveWasm serves the client gzip-compressed (every browser takes it),
// or decompressed.
func (c *Chat) serveWasm(w http.ResponseWriter, r *http.Request) {
	gz, err := fs.ReadFile(c.files, "kontor.wasm.gz")
	if err != nil {
		http.Error(w, "this binary was built without the web chat's client (run go generate ./internal/web)", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/wasm")
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		serve(w, r, gz, c.etags["kontor.wasm.gz"])
		return
	}
	c.once.Do(func() { c.wasm, c.err = gunzip(gz) })
	if c.err != nil {
		http.Error(w, "the embedded web chat client is damaged: "+c.err.Error(), http.StatusInternalServerError)
		return
	}
	// Another representation, so another tag: the compressed one's, marked.
	serve(w, r, c.wasm, strings.TrimSuffix(c.etags["kontor.wasm.gz"], `"`)+`-identity"`)
}

// serve writes b with its strong ETag, answering If-None-Match and Range.
func serve(w http.ResponseWriter, r *http.Request, b []byte, tag string) {
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	return out, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".webmanifest":
		return "application/manifest+json"
	}
	return "application/octet-stream"
}
