package e2etest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestWebChat drives the web chat in a real browser: Debian's chromium,
// through playwright-core (test/web/chat.mjs, pinned in its lockfile). A
// person registers in the browser with the one-time code and writes to
// Bob, a Go client with end-to-end encryption; Bob reads it and answers;
// the browser shows the answer and its own message's ticks going sent →
// delivered → read, and reads the answer, which Bob sees as read. After a
// reload the browser's profile (IndexedDB) still has the device, the keys
// and the conversation; a second tab of it is refused, saying why. A
// second browser links itself to Bob's account
// with a link code and gets what the first writes next. Then everything
// the server wrote is scanned for the messages' markers, as in
// TestNoPlaintextOnServer: the browser encrypts too. It runs on SQLite and
// on PostgreSQL (whose pg_dump the scan reads).
//
// With SCREENSHOTS=dir it keeps chat-register.png, chat-conversation.png
// and chat-phone.png there (docs/screenshots is where the docs show them).
//
// It needs node, npm and chromium; without them it is skipped, unless CI is
// set.
func TestWebChat(t *testing.T) {
	node := needNode(t)
	browser := needChromium(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "web"))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir)
	t.Run("sqlite", func(t *testing.T) { webChat(t, node, browser, dir, false) })
	t.Run("postgres", func(t *testing.T) { webChat(t, node, browser, dir, true) })
}

func webChat(t *testing.T, node, browser, dir string, pg bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := []string{"--log-level", "debug"}
	dbURL := ""
	if pg {
		dbURL = kontortest.PostgresURL(t)
		args = append(args, "--db", dbURL)
	}
	p := kontortest.StartProcess(t, "", args...)
	bob := register(ctx, t, p.URL, "bob", "+4915100000077", true)
	open(ctx, t, bob)
	const web = kontor.Phone("+4915100000066")
	marker := func(what string) string {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return "MARKER-" + what + "-" + hex.EncodeToString(b[:])
	}
	webMarker, bobMarker, webMarker2 := marker("web-to-bob"), marker("bob-to-web"), marker("web-to-bob-linked")
	webText, bobText, webText2 := "Grüße aus Köln! "+webMarker, "Danke, bis morgen. "+bobMarker, "Noch was: "+webMarker2
	lc, err := bob.c.API().LinkCode(ctx)
	if err != nil {
		t.Fatalf("bob's link code: %v", err)
	}
	shots := os.Getenv("SCREENSHOTS") // the pages are the same on both stores: taken once
	if pg {
		shots = ""
	} else if shots != "" {
		abs, err := filepath.Abs(shots)
		if err != nil {
			t.Fatal(err)
		}
		shots = abs
	}

	br := startBrowser(ctx, t, node, dir, map[string]string{
		"KONTOR_URL": p.URL, "WEB_PHONE": string(web), "PEER_PHONE": string(bob.c.Account().Phone),
		"WEB_TEXT": webText, "PEER_TEXT": bobText, "WEB_TEXT2": webText2, "LINK_CODE": lc.Code,
		"SCREENSHOTS": shots, "CHROMIUM": browser,
	})
	loaded := br.await(t, "loaded")
	t.Logf("the web chat loaded in %v ms; kontor.wasm: %v", loaded["load_ms"], loaded["wasm"])
	r := br.await(t, "refused")
	t.Logf("the page refused a bad number (%q) and a wrong code (%q)", r["phone"], r["code"])
	br.await(t, "registered")

	// Bob gets the browser's message, decrypted, reads it and answers.
	var got client.Message
	var sentID kontor.ID
	readByWeb := false
	for !readByWeb {
		select {
		case ev := <-bob.c.Events():
			switch ev := ev.(type) {
			case client.Message:
				if ev.Peer != web || got.ID != 0 {
					t.Fatalf("bob got an unexpected message %+v", ev)
				}
				if ev.Problem != "" || ev.Content.Text != webText {
					t.Fatalf("bob got %q (problem %q), want %q", ev.Content.Text, ev.Problem, webText)
				}
				got = ev
				if err := bob.c.Read(ctx, web); err != nil {
					t.Fatal(err)
				}
				if sentID, err = bob.c.Send(ctx, web, wire.Content{V: 1, Type: wire.ContentText, Text: bobText}); err != nil {
					t.Fatalf("bob answering: %v", err)
				}
			case client.Receipt:
				if ev.Status == client.StatusRead && slices.Contains(ev.IDs, sentID) && sentID != 0 {
					readByWeb = true
				}
			}
		case <-ctx.Done():
			t.Fatalf("bob: message %v, answer %v, read by the browser %v; the browser said:\n%s", got.ID, sentID, readByWeb, br.output())
		}
	}
	br.await(t, "sent")
	br.await(t, "received")
	br.await(t, "delivered")
	if l := br.await(t, "read"); l["label"] != "read" {
		t.Errorf("the read ticks are labelled %v", l["label"])
	}
	if l := br.await(t, "labels"); len(l["unlabelled"].([]any)) > 0 {
		t.Errorf("controls without a label: %v", l["unlabelled"])
	}
	n, err := bob.s.SafetyNumber(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	if got := br.await(t, "safety")["number"]; got != e2e.FormatSafetyNumber(n) {
		t.Errorf("the browser shows the safety number %v, Bob %s", got, e2e.FormatSafetyNumber(n))
	}
	files := br.await(t, "reloaded")["files"].([]any)
	for _, want := range []string{"device.json", "e2e/identity.json", "e2e/prekeys.json", "e2e/sessions/" + string(bob.c.Account().Phone) + ".1.json", "conversations/" + string(bob.c.Account().Phone) + ".jsonl"} {
		if !slices.Contains(files, any(want)) {
			t.Errorf("the browser's IndexedDB has no %s: %v", want, files)
		}
	}
	br.await(t, "second-tab")
	if me := br.await(t, "linked")["me"]; me != string(bob.c.Account().Phone)+" · device 2" {
		t.Errorf("the linked browser says it is %v", me)
	}
	br.await(t, "linked-received")
	if l := br.await(t, "signed-out"); len(l["files"].([]any)) > 0 {
		t.Errorf("after signing out the browser keeps %v", l["files"])
	}
	if ds, err := bob.c.API().AccountDevices(ctx, web); err == nil && len(ds.Devices) > 0 {
		t.Errorf("after signing out the browser's account still has devices %+v", ds.Devices)
	}
	if l := br.await(t, "done"); len(l["offsite"].([]any)) > 0 {
		t.Errorf("the page fetched from other sites: %v", l["offsite"])
	}
	br.wait(t)

	bob.c.Close()
	bob.s.Close()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	if found := scan(t, p, dbURL, []string{webMarker, bobMarker, webMarker2}, 0); len(found) > 0 {
		t.Fatalf("plaintext of the web chat on the server:\n%s", strings.Join(found, "\n"))
	}
}

// needChromium returns Debian's chromium, or skips (fails when CI is set).
func needChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing, but CI is set: the web chat's browser test must run in CI (.ci/run installs chromium)")
	}
	t.Skip("/usr/bin/chromium is missing: skipping the web chat's browser test (apt-get install chromium to run it)")
	return ""
}

// browserScript is test/web/chat.mjs running.
type browserScript struct {
	cmd   *exec.Cmd
	lines chan map[string]any // closed at the end of its output
	mu    sync.Mutex
	out   strings.Builder
}

func startBrowser(ctx context.Context, t *testing.T, node, dir string, env map[string]string) *browserScript {
	t.Helper()
	b := &browserScript{lines: make(chan map[string]any, 100)}
	b.cmd = exec.CommandContext(ctx, node, "chat.mjs")
	b.cmd.Dir = dir
	b.cmd.Env = os.Environ()
	for k, v := range env {
		b.cmd.Env = append(b.cmd.Env, k+"="+v)
	}
	b.cmd.Stderr = b
	b.cmd.WaitDelay = 10 * time.Second
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
			_ = b.cmd.Wait()
		}
	})
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			_, _ = b.Write([]byte(sc.Text() + "\n"))
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil && l["step"] != nil {
				b.lines <- l
			}
		}
	}()
	return b
}

// Write keeps the script's output for the test's log.
func (b *browserScript) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *browserScript) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// await returns the script's next line, which must be step.
func (b *browserScript) await(t *testing.T, step string) map[string]any {
	t.Helper()
	l, ok := <-b.lines
	if !ok {
		t.Fatalf("the browser script ended before %q:\n%s", step, b.output())
	}
	if l["step"] != step {
		t.Fatalf("the browser script said %v where %q was due:\n%s", l, step, b.output())
	}
	return l
}

// wait waits for the script to end well.
func (b *browserScript) wait(t *testing.T) {
	t.Helper()
	for range b.lines {
	}
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("the browser script: %v\n%s", err, b.output())
	}
}
