package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
)

// TestEndpointConsoleUsers: kontor endpoint console user create and link
// on an endpoint's data directory, and what they refuse, in words. (The
// console itself is driven in e2etest.TestSelfHostedConsole.)
func TestEndpointConsoleUsers(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "endpoint")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(cred, []byte(`{"waba_id":"1001","phone_number_id":"1002","app_id":"1003","app_secret":"s3cret","access_token":"kat_x",
		"device":{"account_id":"1004","phone":"+4930999999","device_id":1,"credential":"c"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	kontor := func(stdin string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := cli.RunEnv(ctx, cli.Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string { return map[string]string{"KONTOR_HTTP": "127.0.0.1:8091"}[k] }})
		return out.String(), errb.String(), code
	}
	create := []string{"endpoint", "console", "user", "create", "--data", data}

	// Refused, with what to do.
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no subcommand", "", []string{"endpoint", "console"}, "Usage: kontor endpoint console user create"},
		{"no email", "", create, "Usage: kontor endpoint console user create"},
		{"endpoint never ran", "", append(create, "--email", "a@b.example"), "start it once, or give --credentials"},
		{"no data directory", "", []string{"endpoint", "console", "user", "create", "--data", filepath.Join(dir, "nothing"), "--email", "a@b.example"}, "data directory"},
		{"bad credentials", "", append(create, "--email", "a@b.example", "--credentials", data), "reading the credentials"},
		{"bad email", "", append(create, "--email", "not an email", "--credentials", cred), "email"},
		{"bad role", "", append(create, "--email", "a@b.example", "--role", "boss", "--credentials", cred), "role"},
		{"empty stdin", "", append(create, "--email", "a@b.example", "--password-stdin", "--credentials", cred), "no password on stdin"},
		{"short password", "short\n", append(create, "--email", "a@b.example", "--password-stdin", "--credentials", cred), "12 characters"},
		{"unknown email", "", []string{"endpoint", "console", "user", "link", "--data", data, "--email", "nobody@b.example"}, "There is no such user"},
	} {
		out, errs, code := kontor(c.stdin, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want an error with %q", c.name, code, out, errs, c.want)
		}
	}

	// The first owner: the business written from the credentials, a link
	// on the endpoint's address (KONTOR_HTTP).
	out, errs, code := kontor("", append(create, "--email", "Owner@Eigen.example", "--credentials", cred)...)
	if code != 0 || !strings.Contains(out, `"business_id": "1001"`) || !strings.Contains(out, `"role": "owner"`) ||
		!strings.Contains(out, `"set_password_url": "http://127.0.0.1:8091/console/link?token=kcl_`) {
		t.Fatalf("create: exit %d %s %s", code, out, errs)
	}
	// Later users need no credentials: the business is in the store.
	out, errs, code = kontor("a long enough password\n", append(create, "--email", "agent@eigen.example", "--role", "agent", "--password-stdin")...)
	if code != 0 || strings.Contains(out, "set_password_url") || !strings.Contains(out, `"role": "agent"`) {
		t.Fatalf("create --password-stdin: exit %d %s %s", code, out, errs)
	}
	if _, errs, code = kontor("", append(create, "--email", "owner@eigen.example")...); code == 0 || !strings.Contains(errs, "already has a console account") {
		t.Errorf("the same email twice: exit %d %q", code, errs)
	}
	out, errs, code = kontor("", "endpoint", "console", "user", "link", "--data", data, "--email", "owner@eigen.example", "--base-url", "https://kontor.eigen.example/")
	if code != 0 || !strings.Contains(out, `"set_password_url": "https://kontor.eigen.example/console/link?token=kcl_`) || !strings.Contains(out, `"email": "owner@eigen.example"`) {
		t.Fatalf("link: exit %d %s %s", code, out, errs)
	}
}
