package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kontor-chat/kontor/wire"
)

// adminClient calls the admin API with the operator credential.
type adminClient struct {
	server string
	token  string
	http   *http.Client
}

// operatorToken reads the operator credential from KONTOR_OPERATOR_TOKEN or
// the data directory.
func operatorToken(getenv func(string) string, dataDir string) (string, error) {
	if t := getenv("KONTOR_OPERATOR_TOKEN"); t != "" {
		return t, nil
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "operator.token"))
	if err != nil {
		return "", fmt.Errorf("no operator credential: set KONTOR_OPERATOR_TOKEN or point --data at the server's data directory (%v)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (a *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.server, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the server: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		var ae wire.APIError
		if json.Unmarshal(b, &ae) == nil && ae.Error.Message != "" {
			return fmt.Errorf("%s: %s", ae.Error.Code, ae.Error.Message)
		}
		return fmt.Errorf("server answered %s", resp.Status)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func runAdmin(ctx context.Context, env Env) error {
	fs := flag.NewFlagSet("kontor admin", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	server := fs.String("server", envOr(env.Getenv, "KONTOR_SERVER", "http://127.0.0.1:8080"), "server URL (env KONTOR_SERVER)")
	data := fs.String("data", envOr(env.Getenv, "KONTOR_DATA", "./kontor-data"), "the server's data directory, for the operator credential (env KONTOR_DATA)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: kontor admin [--server URL] [--data DIR] COMMAND [flags]

Commands:
  account create --phone +E164 [--device-name N]   create an account directly; prints its device credentials
  stats                                            live figures of the node

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	args := fs.Args()
	if len(args) == 0 {
		fs.Usage()
		return errUsage
	}
	tok, err := operatorToken(env.Getenv, *data)
	if err != nil {
		return err
	}
	ac := &adminClient{server: *server, token: tok, http: &http.Client{Timeout: 60 * time.Second}}
	out := json.NewEncoder(env.Stdout)
	switch strings.Join(args[:min(2, len(args))], " ") {
	case "account create":
		sub := flag.NewFlagSet("kontor admin account create", flag.ContinueOnError)
		sub.SetOutput(env.Stderr)
		phone := sub.String("phone", "", "phone number, E.164")
		name := sub.String("device-name", "", "name of the primary device")
		if err := sub.Parse(args[2:]); err != nil {
			return errUsage
		}
		var creds wire.DeviceCredentials
		if err := ac.do(ctx, http.MethodPost, "/admin/v1/accounts", map[string]string{"phone": *phone, "device_name": *name}, &creds); err != nil {
			return err
		}
		return out.Encode(creds)
	}
	if args[0] == "stats" {
		var m map[string]any
		if err := ac.do(ctx, http.MethodGet, "/admin/v1/stats", nil, &m); err != nil {
			return err
		}
		return out.Encode(m)
	}
	fmt.Fprintf(env.Stderr, "kontor admin: unknown command %q\n", strings.Join(args, " "))
	fs.Usage()
	return errUsage
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
