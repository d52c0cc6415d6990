package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	status, b, err := a.send(ctx, method, path, "application/json", body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return answerError(status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// send makes an admin call and returns the answer's status and body,
// whatever the status.
func (a *adminClient) send(ctx context.Context, method, path, contentType string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.server, "/")+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("reaching the server: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// answerError is the error of a non-2xx admin answer.
func answerError(status int, b []byte) error {
	var ae wire.APIError
	if json.Unmarshal(b, &ae) == nil && ae.Error.Message != "" {
		return fmt.Errorf("%s: %s", ae.Error.Code, ae.Error.Message)
	}
	return fmt.Errorf("server answered HTTP %d", status)
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
  business create --name NAME --phone +E164 [--self-hosted] [--webhook-url URL --verify-token T]
                 create a business with its phone number, app and an access token;
                 prints waba_id, phone_number_id, app_id, app_secret, access_token
                 (and, when self-hosted, the endpoint's device credentials)
  business list                                    businesses and their numbers
  business webhook --business ID --webhook-url URL --verify-token T
                 change where a business's webhooks go (after the verification handshake)
  business number --id PHONE_NUMBER_ID [--mps N] [--tier TIER]
                 messages per second the number may send (default 80;
                                                   100000 or more lifts the limits, pair limit too, for load tests)
  prices import FILE [--effective 2026-12-01] [--label L]
                 a new price sheet version (CSV: market,category,currency,price; exact decimals)
  prices show [--at DATE]                          the sheet in effect (default: now)
  prices versions                                  every version, newest first
  prices rules show [--at DATE]                    the billing rules in force (default: now)
  prices rules import FILE                         add rule sets (JSON, as for --billing-rules) that start
                 on a later day than every set so far; every node uses them within 2 s
  webhook dead [--app ID]                          webhooks given up on after 7 days of retries
  webhook replay ID...                             send dead letters again
  token create (--business ID | --partner ID) [--scopes messaging,management] [--ttl 720h] [--label L]
  token list (--business ID | --partner ID)
  token revoke --id ID
  partner create --name NAME                       a solution provider
  partner grant --partner ID --business ID         let a partner manage a business
  partner ungrant --partner ID --business ID       take that away: the partner's tokens are refused for it
  catalog create --business WABA_ID [--name N]     a product catalog for a business; prints catalog_id
  catalog import --catalog ID FILE [--mode update|replace] [--format csv|tsv|xml]
                 import a product feed; prints the report (counts, and row, column and
                 reason of every bad row); update keeps products the feed does not name,
                 replace deletes them
  catalog export --catalog ID [--format csv|tsv|xml]   the catalog as a feed, on stdout
`+stockUsage+``+billingUsage+`
  console user create --business WABA_ID --email E [--role owner|admin|agent] [--password-stdin] [--base-url URL]
                 a user of the business console; prints a single-use set-password link
                 (valid 24 h), or sets the password read from stdin
  console user link --email E [--base-url URL]     a new set-password link for a user (lost password)
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
	if args[0] == "billing" {
		return adminBilling(ctx, env, ac, out, args)
	}
	if handled, err := adminConsole(ctx, env, ac, out, args); handled {
		return err
	}
	if handled, err := adminBusiness(ctx, env, ac, out, args); handled {
		return err
	}
	if handled, err := adminStock(ctx, env, ac, out, args); handled {
		return err
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

// adminBusiness runs the business, token and partner commands.
func adminBusiness(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, args []string) (bool, error) {
	if len(args) < 2 {
		return false, nil
	}
	name := "kontor admin " + args[0] + " " + args[1]
	sub := flag.NewFlagSet(name, flag.ContinueOnError)
	sub.SetOutput(env.Stderr)
	parse := func() error {
		if err := sub.Parse(args[2:]); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return errUsage
		}
		if sub.NArg() > 0 {
			fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", name, sub.Arg(0))
			return errUsage
		}
		return nil
	}
	var res any
	var err error
	switch args[0] + " " + args[1] {
	case "business create":
		bname := sub.String("name", "", "the business's name (its verified name)")
		phone := sub.String("phone", "", "the business phone number, E.164; it must not be registered yet")
		self := sub.Bool("self-hosted", false, "the business runs its endpoint itself (kontor endpoint): its keys never reach the platform")
		hook := sub.String("webhook-url", "", "where webhooks go")
		verify := sub.String("verify-token", "", "the token of the webhook verification handshake")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodPost, "/admin/v1/businesses", map[string]any{"name": *bname, "phone": *phone, "self_hosted": *self,
			"webhook_url": *hook, "verify_token": *verify}, &m)
		res = m
	case "business webhook":
		biz := sub.String("business", "", "the business (waba id)")
		hook := sub.String("webhook-url", "", "where webhooks go")
		verify := sub.String("verify-token", "", "the token of the webhook verification handshake")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodPost, "/admin/v1/businesses/"+*biz+"/webhook", map[string]any{"webhook_url": *hook, "verify_token": *verify}, &m)
		res = m
	case "business number":
		id := sub.String("id", "", "the phone-number id")
		mps := sub.Int("mps", 0, "messages per second")
		tier := sub.String("tier", "", "messaging limit: TIER_250, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED (or TIER_1K, TIER_50)")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		body := map[string]any{}
		if *mps != 0 {
			body["mps"] = *mps
		}
		if *tier != "" {
			body["tier"] = *tier
		}
		err = ac.do(ctx, http.MethodPost, "/admin/v1/numbers/"+*id, body, &m)
		res = m
	case "prices import":
		return true, pricesImport(ctx, env, ac, out, args[2:])
	case "prices show":
		at := sub.String("at", "", "a day or time (default: now)")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodGet, "/admin/v1/prices?at="+url.QueryEscape(*at), nil, &m)
		res = m
	case "prices rules":
		if len(args) >= 3 && args[2] == "import" {
			return true, rulesImport(ctx, env, ac, out, args[3:])
		}
		if len(args) < 3 || args[2] != "show" {
			fmt.Fprintln(env.Stderr, "kontor admin prices rules: give show [--at DATE], or import FILE")
			return true, errUsage
		}
		sub = flag.NewFlagSet("kontor admin prices rules show", flag.ContinueOnError)
		sub.SetOutput(env.Stderr)
		at := sub.String("at", "", "a day or time (default: now)")
		if err := sub.Parse(args[3:]); err != nil {
			if err == flag.ErrHelp {
				return true, err
			}
			return true, errUsage
		}
		if sub.NArg() > 0 {
			fmt.Fprintf(env.Stderr, "kontor admin prices rules show: unexpected argument %q\n", sub.Arg(0))
			return true, errUsage
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodGet, "/admin/v1/prices/rules?at="+url.QueryEscape(*at), nil, &m)
		res = m
	case "prices versions":
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodGet, "/admin/v1/prices/versions", nil, &m)
		res = m
	case "webhook dead":
		app := sub.String("app", "", "only this app's (app id)")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodGet, "/admin/v1/webhooks/dead?app_id="+*app, nil, &m)
		res = m
	case "webhook replay":
		if len(args) < 3 {
			fmt.Fprintln(env.Stderr, "kontor admin webhook replay: give the ids of the dead letters")
			return true, errUsage
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodPost, "/admin/v1/webhooks/replay", map[string]any{"ids": args[2:]}, &m)
		res = m
	case "business list":
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodGet, "/admin/v1/businesses", nil, &m)
		res = m
	case "token create":
		biz := sub.String("business", "", "the business (waba id) the token acts for")
		partner := sub.String("partner", "", "the partner the token acts for (every business that granted it access)")
		scopes := sub.String("scopes", "messaging,management", "what the token may do: messaging, management")
		ttl := sub.String("ttl", "", "lifetime such as 720h; empty: does not expire")
		label := sub.String("label", "", "a note on what the token is for")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		body := map[string]any{"scopes": *scopes, "ttl": *ttl, "label": *label}
		if *biz != "" {
			body["business_id"] = *biz
		}
		if *partner != "" {
			body["partner_id"] = *partner
		}
		err = ac.do(ctx, http.MethodPost, "/admin/v1/tokens", body, &m)
		res = m
	case "token list":
		biz := sub.String("business", "", "the business (waba id)")
		partner := sub.String("partner", "", "the partner id")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodGet, "/admin/v1/tokens?business_id="+*biz+"&partner_id="+*partner, nil, &m)
		res = m
	case "token revoke":
		id := sub.String("id", "", "the token's id")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodDelete, "/admin/v1/tokens/"+*id, nil, &m)
		res = m
	case "partner create":
		pname := sub.String("name", "", "the partner's name")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		err = ac.do(ctx, http.MethodPost, "/admin/v1/partners", map[string]any{"name": *pname}, &m)
		res = m
	case "catalog create":
		biz := sub.String("business", "", "the business (waba id) the catalog belongs to")
		cname := sub.String("name", "", "the catalog's name (default: the business's name and \"catalog\")")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		if *biz == "" {
			fmt.Fprintln(env.Stderr, "kontor admin catalog create: give --business WABA_ID")
			return true, errUsage
		}
		err = ac.do(ctx, http.MethodPost, "/admin/v1/catalogs", map[string]any{"business_id": *biz, "name": *cname}, &m)
		res = m
	case "catalog import":
		return true, catalogImport(ctx, env, ac, out, sub, args[2:])
	case "catalog export":
		return true, catalogExport(ctx, env, ac, sub, args[2:])
	case "partner grant", "partner ungrant":
		partner := sub.String("partner", "", "the partner id")
		biz := sub.String("business", "", "the business (waba id)")
		if err := parse(); err != nil {
			return true, err
		}
		var m map[string]any
		if args[1] == "grant" {
			err = ac.do(ctx, http.MethodPost, "/admin/v1/partners/"+url.PathEscape(*partner)+"/grants", map[string]any{"business_id": *biz}, &m)
		} else {
			err = ac.do(ctx, http.MethodDelete, "/admin/v1/partners/"+url.PathEscape(*partner)+"/grants/"+url.PathEscape(*biz), nil, &m)
		}
		res = m
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, out.Encode(res)
}
