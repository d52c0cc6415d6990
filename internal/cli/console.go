package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminConsole runs `kontor admin console user create|link`.
func adminConsole(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, args []string) (bool, error) {
	if len(args) < 3 || args[0] != "console" || args[1] != "user" {
		return false, nil
	}
	name := "kontor admin console user " + args[2]
	sub := flag.NewFlagSet(name, flag.ContinueOnError)
	sub.SetOutput(env.Stderr)
	base := sub.String("base-url", ac.server, "the console's address as users' browsers reach it, for the link (default: --server)")
	var body map[string]any
	var path string
	switch args[2] {
	case "create":
		biz := sub.String("business", "", "the business (waba id) the user belongs to")
		email := sub.String("email", "", "the user's email address (they sign in with it)")
		role := sub.String("role", "owner", "owner, admin or agent")
		stdin := sub.Bool("password-stdin", false, "read the password from the first line of stdin instead of printing a set-password link")
		if err := sub.Parse(args[3:]); err != nil || sub.NArg() > 0 || *biz == "" || *email == "" {
			if err == flag.ErrHelp {
				return true, err
			}
			fmt.Fprintf(env.Stderr, "usage: %s --business WABA_ID --email E [--role owner|admin|agent] [--password-stdin] [--base-url URL]\n", name)
			return true, errUsage
		}
		body = map[string]any{"business_id": *biz, "email": *email, "role": *role}
		if *stdin {
			line, err := bufio.NewReader(env.Stdin).ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				return true, fmt.Errorf("--password-stdin: no password on stdin (%v)", err)
			}
			body["password"] = line
		}
		path = "/admin/v1/console/users"
	case "link":
		email := sub.String("email", "", "the user's email address")
		if err := sub.Parse(args[3:]); err != nil || sub.NArg() > 0 || *email == "" {
			if err == flag.ErrHelp {
				return true, err
			}
			fmt.Fprintf(env.Stderr, "usage: %s --email E [--base-url URL]\n", name)
			return true, errUsage
		}
		body = map[string]any{"email": *email}
		path = "/admin/v1/console/links"
	default:
		return false, nil
	}
	var res struct {
		ID          string `json:"user_id"`
		Business    string `json:"business_id"`
		Email       string `json:"email"`
		Role        string `json:"role"`
		LinkToken   string `json:"link_token"`
		LinkExpires int64  `json:"link_expires"`
	}
	if err := ac.do(ctx, http.MethodPost, path, body, &res); err != nil {
		return true, err
	}
	o := map[string]any{"user_id": res.ID, "business_id": res.Business, "email": res.Email, "role": res.Role}
	if res.LinkToken != "" {
		o["set_password_url"] = strings.TrimRight(*base, "/") + "/console/link?token=" + url.QueryEscape(res.LinkToken)
		o["link_expires"] = time.Unix(res.LinkExpires, 0).UTC().Format(time.RFC3339)
	}
	return true, out.Encode(o)
}
