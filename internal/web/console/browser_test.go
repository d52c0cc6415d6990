package console_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestBrowser drives the console in Debian's Chromium with playwright-core
// (test/console-browser/console.mjs): sign-in with the keyboard, the skip
// link, a profile form with a problem and then saved, a token made and
// shown once, a test event delivered, every control labelled and no page
// wider than the screen, at 1280 × 900 and 390 × 844. It needs node (20 or
// newer), npm (for playwright-core, pinned in the lockfile) and chromium;
// without them it is skipped, unless CI is set. KONTOR_SHOTS=dir keeps
// full-page screenshots.
func TestBrowser(t *testing.T) {
	node, chrome := needBrowser(t)
	dir, err := filepath.Abs("../../../test/console-browser")
	if err != nil {
		t.Fatal(err)
	}
	npmInstall(t, dir)

	s := kontortest.Start(t)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer hook.Close()
	var biz struct {
		WABA string `json:"waba_id"`
	}
	if code := s.Call(t, "POST", "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen Berta", "phone": "+4930123456",
		"webhook_url": hook.URL + "/hook"}, &biz); code != 200 {
		t.Fatalf("creating the business: HTTP %d", code)
	}
	const pw = "tulips and roses in spring"
	runCLI(t, s, pw+"\n", "admin", "--server", s.URL, "console", "user", "create", "--business", biz.WABA,
		"--email", "berta@blumen.example", "--role", "owner", "--password-stdin")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runScript(t, ctx, node, dir, "console.mjs", 60, "BASE="+s.URL, "EMAIL=berta@blumen.example", "PASSWORD="+pw, "CHROMIUM="+chrome)
}

// runScript runs a playwright script of test/console-browser with env
// (and SHOTS from KONTOR_SHOTS). The script prints one JSON line per
// check ({"step","ok","detail"}) and "done" at its end: a failed check
// fails the test, and so does a script that ends before "done" or after
// fewer than min checks.
func runScript(t *testing.T, ctx context.Context, node, dir, script string, min int, env ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), "SHOTS="+os.Getenv("KONTOR_SHOTS"))
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, checks := false, 0
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Step   string `json:"step"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Logf("%s: %s", script, sc.Text())
			continue
		}
		if !l.OK {
			t.Errorf("browser: %s: %s", l.Step, l.Detail)
			continue
		}
		checks++
		done = done || l.Step == "done"
	}
	if err := cmd.Wait(); err != nil || !done {
		t.Fatalf("%s ended (%v) after %d checks without finishing\n%s", script, err, checks, stderr.String())
	}
	if checks < min {
		t.Fatalf("only %d checks ran", checks)
	}
}

func needBrowser(t *testing.T) (node, chrome string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s, but CI is set: the browser test must run in CI (.ci/run installs chromium, nodejs and npm)", why)
		}
		t.Skipf("%s: skipping the browser test", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		missing("npm is not on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0])
	if err != nil || major < 20 {
		missing("node is older than 20 (playwright-core needs 20)")
	}
	for _, c := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return node, p
		}
	}
	missing("chromium is not on PATH")
	return "", ""
}

// npmInstall installs the locked playwright-core unless node_modules holds
// it for this lockfile already (.ci/run installs it before the tests).
func npmInstall(t *testing.T, dir string) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(lock)
	want := hex.EncodeToString(h[:])
	stamp := filepath.Join(dir, "node_modules", ".kontor-lockfile-sha256")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == want {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
		t.Skipf("npm ci in %s failed (is the npm registry reachable?): skipping the browser test: %v\n%s", dir, err, out)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}
