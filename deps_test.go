package kontor_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencies keeps the imports pointing one way (docs/architecture.md):
// transport → domain → adapters; the shared words import only the standard
// library; nothing imports cmd/ or the server wiring except the cli.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("go list is slow; skipped in -short")
	}
	const mod = "github.com/kontor-chat/kontor"
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		imports[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")] = p.Imports
	}
	domain := []string{"internal/router", "internal/identity", "internal/endpoint", "internal/webhook", "internal/keys", "internal/media", "internal/business", "internal/templates",
		"internal/commerce", "internal/payments", "internal/billing", "internal/consoleauth", "internal/inbox"}
	adapters := []string{"internal/store", "internal/bus"}
	transport := []string{"internal/gateway", "internal/bizapi", "internal/web", "internal/web/console", "internal/adminapi"}
	drivers := []string{"database/sql", "github.com/jackc/pgx", "modernc.org/sqlite", "github.com/nats-io"}
	rules := []struct {
		pkgs []string
		deny []string // import path prefixes (module-relative for ours)
	}{
		{[]string{""}, []string{mod + "/", "github.com/", "golang.org/", "go.mau.fi/", "modernc.org/"}},
		{[]string{"wire"}, []string{mod + "/internal", mod + "/client", "github.com/coder", "github.com/jackc", "github.com/nats-io", "modernc.org/"}},
		{domain, append(append([]string{"net/http/httptest"}, drivers...), prefixed(mod, append(append([]string{}, adapters...), append(transport, "internal/server", "internal/cli", "cmd")...))...)},
		{adapters, prefixed(mod, append(append([]string{}, transport...), "internal/server", "internal/cli", "cmd"))},
		{transport, append(append([]string{}, drivers...), prefixed(mod, append(append([]string{}, adapters...), "internal/server", "internal/cli", "cmd"))...)},
		{[]string{"client"}, prefixed(mod, []string{"internal/", "cmd"})},
	}
	for _, r := range rules {
		for _, p := range r.pkgs {
			for _, imp := range imports[p] {
				for _, d := range r.deny {
					if under(imp, d) {
						t.Errorf("%s imports %s, which its layer must not (%s)", or(p, "kontor"), imp, d)
					}
				}
			}
		}
	}
	for p, imps := range imports {
		for _, imp := range imps {
			if (imp == mod+"/internal/server" && p != "internal/cli" && p != "internal/kontortest") || imp == mod+"/cmd/kontor" {
				t.Errorf("%s imports %s; only the cli (and kontortest) may", p, imp)
			}
		}
	}
}

func prefixed(mod string, rel []string) []string {
	out := make([]string, len(rel))
	for i, r := range rel {
		out[i] = mod + "/" + r
	}
	return out
}

func or(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// under says whether import path imp is d or inside it; a d ending in "/"
// is a plain prefix.
func under(imp, d string) bool {
	if strings.HasSuffix(d, "/") {
		return strings.HasPrefix(imp, d)
	}
	return imp == d || strings.HasPrefix(imp, d+"/")
}

// TestWebChatClientDeps keeps the web chat's WebAssembly client a device:
// built for the browser, it holds the client SDK and nothing of the
// server's (no internal package, no database or NATS driver).
func TestWebChatClientDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("go list is slow; skipped in -short")
	}
	const mod = "github.com/kontor-chat/kontor"
	cmd := exec.Command("go", "list", "-deps", "./internal/web/chatwasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, want := range []string{mod + "/client", mod + "/client/e2e", mod + "/client/idb", "syscall/js"} {
		if !slices.Contains(deps, want) {
			t.Errorf("the web chat's client does not import %s: is this the js/wasm build?", want)
		}
	}
	for _, d := range deps {
		if d == mod+"/internal/web/chatwasm" {
			continue
		}
		for _, deny := range []string{mod + "/internal/", mod + "/cmd", "database/sql", "github.com/jackc", "modernc.org/", "github.com/nats-io"} {
			if under(d, strings.TrimSuffix(deny, "/")) {
				t.Errorf("the web chat's client imports %s (%s): server code must not reach the browser", d, deny)
			}
		}
	}
}
