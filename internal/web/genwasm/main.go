// Command genwasm builds the web chat's client: command chatwasm for
// GOOS=js GOARCH=wasm, gzip-compressed into chat/kontor.wasm.gz, with Go's
// wasm_exec.js (from this Go's GOROOT/lib/wasm) beside it. `go generate
// ./internal/web` runs it from internal/web.
//
// With -check it writes nothing: it builds to a temporary directory and
// fails when the committed files differ from what the sources make now
// (internal/web's TestWasmUpToDate runs it). The build is reproducible:
// -trimpath, no VCS stamp, and the gzip stream has no name or time.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	check := flag.Bool("check", false, "compare with the committed files instead of writing them")
	dir := flag.String("dir", "chat", "the directory of the web chat's files")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "genwasm:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	tmp, err := os.MkdirTemp("", "genwasm")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "kontor.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "github.com/kontor-chat/kontor/internal/web/chatwasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the client: %w", err)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("reading Go's wasm_exec.js: %w", err)
	}
	if check {
		return compare(dir, wasm, execJS)
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(wasm); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kontor.wasm.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), execJS, 0o644); err != nil {
		return err
	}
	fmt.Printf("genwasm: kontor.wasm %d bytes (sha256 %x), %d gzip-compressed\n", len(wasm), sha256.Sum256(wasm), gz.Len())
	return nil
}

// compare fails when the committed files are not what the sources build.
func compare(dir string, wasm, execJS []byte) error {
	var stale []string
	if b, err := os.ReadFile(filepath.Join(dir, "wasm_exec.js")); err != nil || !bytes.Equal(b, execJS) {
		stale = append(stale, "wasm_exec.js differs from this Go's lib/wasm/wasm_exec.js")
	}
	committed, err := readGzip(filepath.Join(dir, "kontor.wasm.gz"))
	switch {
	case err != nil:
		stale = append(stale, "kontor.wasm.gz: "+err.Error())
	case !bytes.Equal(committed, wasm):
		stale = append(stale, fmt.Sprintf("kontor.wasm.gz holds a client of %d bytes (sha256 %x), the sources build %d bytes (sha256 %x)",
			len(committed), sha256.Sum256(committed), len(wasm), sha256.Sum256(wasm)))
	}
	if len(stale) > 0 {
		return fmt.Errorf("the committed web chat client is stale; run go generate ./internal/web and commit internal/web/chat:\n  %s", strings.Join(stale, "\n  "))
	}
	fmt.Printf("genwasm: kontor.wasm.gz and wasm_exec.js are up to date (%d bytes, sha256 %x)\n", len(wasm), sha256.Sum256(wasm))
	return nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
