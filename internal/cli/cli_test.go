package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// run runs a kontor command line and returns its stdout; a non-zero exit
// fails the test with stderr.
func run(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := cli.RunEnv(ctx, cli.Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 0 {
		t.Fatalf("kontor %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// lines decodes one JSON object per line.
func lines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// TestClientCommands is the scripted client of the messaging core:
// register two people against a --dev server, send, receive (acking), and
// see the delivered and read receipts — everything end-to-end encrypted.
func TestClientCommands(t *testing.T) {
	s := kontortest.Start(t)
	dir := t.TempDir()
	ann, ben := filepath.Join(dir, "ann"), filepath.Join(dir, "ben")
	env := map[string]string{}
	reg := lines(t, run(t, env, "client", "register", "--server", s.URL, "--phone", "+4915100000001", "--profile", ann))
	if len(reg) != 1 || reg[0]["phone"] != "+4915100000001" || reg[0]["device_id"] != float64(1) {
		t.Fatalf("register: %v", reg)
	}
	run(t, env, "client", "register", "--server", s.URL, "--phone", "+4915100000002", "--profile", ben)
	sent := lines(t, run(t, env, "client", "send", "--profile", ann, "--to", "+4915100000002", "grüß dich"))
	if len(sent) != 1 || sent[0]["status"] != "sent" || sent[0]["id"] == "" {
		t.Fatalf("send: %v", sent)
	}
	got := lines(t, run(t, env, "client", "recv", "--profile", ben, "--wait", "2s", "--count", "1"))
	if len(got) != 1 || got[0]["text"] != "grüß dich" || got[0]["from"] != "+4915100000001" || got[0]["id"] != sent[0]["id"] || got[0]["type"] != "text" {
		t.Fatalf("recv: %v", got)
	}
	// Received and acked: a second recv gets nothing again.
	if again := lines(t, run(t, env, "client", "recv", "--profile", ben, "--wait", "500ms")); len(again) != 0 {
		t.Fatalf("recv again: %v", again)
	}
	rc := lines(t, run(t, env, "client", "receipts", "--profile", ann, "--wait", "1s", "--count", "1"))
	if len(rc) != 1 || rc[0]["status"] != "delivered" || rc[0]["by"] != "+4915100000002" || rc[0]["id"] != sent[0]["id"] {
		t.Fatalf("receipts: %v", rc)
	}
	sn := lines(t, run(t, env, "client", "safety-number", "--profile", ann, "--peer", "+4915100000002"))
	sn2 := lines(t, run(t, env, "client", "safety-number", "--profile", ben, "--peer", "+4915100000001"))
	if len(sn) != 1 || len(sn[0]["safety_number"].(string)) != 60 || sn[0]["safety_number"] != sn2[0]["safety_number"] {
		t.Fatalf("safety numbers: %v %v", sn, sn2)
	}
	run(t, env, "client", "verify", "--profile", ann, "--peer", "+4915100000002", sn[0]["safety_number"].(string))

	// The operator's side.
	adm := map[string]string{"KONTOR_OPERATOR_TOKEN": s.Token}
	biz := lines(t, run(t, adm, "admin", "--server", s.URL, "business", "create", "--name", "Blumen Anna", "--phone", "+4930123456"))
	if len(biz) != 1 || biz[0]["waba_id"] == "" || biz[0]["access_token"] == "" {
		t.Fatalf("business create: %v", biz)
	}
	tok := lines(t, run(t, adm, "admin", "--server", s.URL, "token", "create", "--business", biz[0]["waba_id"].(string), "--scopes", "messaging"))
	if len(tok) != 1 || tok[0]["access_token"] == "" {
		t.Fatalf("token create: %v", tok)
	}
	waba := biz[0]["waba_id"].(string)
	p := lines(t, run(t, adm, "admin", "--server", s.URL, "partner", "create", "--name", "Agentur"))
	if len(p) != 1 || p[0]["partner_id"] == "" {
		t.Fatalf("partner create: %v", p)
	}
	pid := p[0]["partner_id"].(string)
	for _, verb := range []string{"grant", "ungrant"} {
		if out := lines(t, run(t, adm, "admin", "--server", s.URL, "partner", verb, "--partner", pid, "--business", waba)); len(out) != 1 || out[0]["success"] != true {
			t.Fatalf("partner %s: %v", verb, out)
		}
	}
	var errb bytes.Buffer
	code := cli.RunEnv(context.Background(), cli.Env{Args: []string{"admin", "--server", s.URL, "partner", "ungrant", "--partner", pid, "--business", waba},
		Stdout: io.Discard, Stderr: &errb, Getenv: func(k string) string { return adm[k] }})
	if code == 0 || !strings.Contains(errb.String(), "no access") {
		t.Fatalf("a second ungrant: exit %d %q", code, errb.String())
	}
	stats := lines(t, run(t, adm, "admin", "--server", s.URL, "stats"))
	if len(stats) != 1 || stats[0]["store"] != "sqlite" {
		t.Fatalf("stats: %v", stats)
	}
}

// TestUsage: unknown commands and missing flags are usage errors (exit 2).
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"nonsense"}, {"client"}, {"client", "send", "--to", "+4915100000001"}, {"serve", "--http", "nohost"}} {
		var out, errb bytes.Buffer
		code := cli.RunEnv(context.Background(), cli.Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code == 0 || errb.Len() == 0 {
			t.Errorf("kontor %s: exit %d, stderr %q", strings.Join(args, " "), code, errb.String())
		}
	}
}
