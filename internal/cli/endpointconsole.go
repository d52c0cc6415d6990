package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/realip"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/web/console"
)

// localBusinesses is the business store of a self-hosted endpoint's
// console: the business, its number and the profile come from the
// credentials and the data directory (as the endpoint's Business API
// serves them), the rest — apps, console users — from the local store.
type localBusinesses struct {
	*store.DB
	dir *localDirectory
	url string // the webhook URL the endpoint was started with
}

func (l localBusinesses) Business(ctx context.Context, id kontor.ID) (business.Business, error) {
	b, err := l.dir.Business(ctx, id)
	b.WebhookURL = l.url
	return b, err
}

func (l localBusinesses) Number(ctx context.Context, id kontor.ID) (business.Number, error) {
	return l.dir.Number(ctx, id)
}

func (l localBusinesses) NumberByPhone(ctx context.Context, p kontor.Phone) (business.Number, error) {
	if p != l.dir.cred.Device.Phone {
		return business.Number{}, kontor.Errorf(kontor.NotFound, "endpoint", "no phone number %s here", p)
	}
	return l.dir.Number(ctx, l.dir.cred.PhoneNumberID)
}

func (l localBusinesses) Numbers(ctx context.Context, b kontor.ID) ([]business.Number, error) {
	return l.dir.Numbers(ctx, b)
}

func (l localBusinesses) Profile(ctx context.Context, number kontor.ID) (business.Profile, error) {
	return l.dir.Profile(ctx, number)
}

func (l localBusinesses) PutProfile(ctx context.Context, number kontor.ID, p business.Profile) error {
	return l.dir.PutProfile(ctx, number, p)
}

func (l localBusinesses) SetWebhook(context.Context, kontor.ID, string, string) error {
	return kontor.Errorf(kontor.Invalid, "endpoint", "This endpoint sends its webhooks to the URL it was started with (--webhook-url).")
}

// ensureBusiness writes the business of the credentials into the local
// store when it is not there yet: its number, its app and the access token
// (as a hash), the rows console users belong to.
func ensureBusiness(ctx context.Context, db *store.DB, cred endpointCredentials, name string, tokenID kontor.ID) error {
	_, err := db.Business(ctx, cred.WABAID)
	if err == nil || kontor.KindOf(err) != kontor.NotFound {
		return err
	}
	now := time.Now()
	h := sha256.Sum256([]byte(cred.AccessToken))
	err = db.CreateBusiness(ctx,
		business.Business{ID: cred.WABAID, Name: name, SelfHosted: true, Created: now},
		business.Number{ID: cred.PhoneNumberID, Business: cred.WABAID, Phone: cred.Device.Phone, Account: cred.Device.Account,
			VerifiedName: name, Quality: "GREEN", Tier: "TIER_250", MPS: business.DefaultMPS, Created: now},
		business.App{ID: cred.AppID, Business: cred.WABAID, Secret: cred.AppSecret, Created: now},
		business.Token{ID: tokenID, Hash: h[:], Business: cred.WABAID, Scopes: business.ScopeMessaging | business.ScopeManagement,
			Label: "the credentials file", Created: now})
	if kontor.KindOf(err) == kontor.Conflict {
		return nil // another process wrote it first
	}
	return err
}

// newEndpointConsole mounts the console of a self-hosted endpoint on mux:
// the parts that work from the endpoint's own store (console.EndpointParts),
// the inbox answering through e with the platform's templates tmpls. It returns the console's sign-in service,
// whose expired sessions and links the endpoint prunes.
func newEndpointConsole(mux *http.ServeMux, db *store.DB, dir *localDirectory, hooks console.Outbox, hookURL, platform string, proxies realip.Proxies,
	e *endpoint.Endpoint, tmpls console.Templates, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger) (*consoleauth.Service, error) {
	staff := consoleauth.New(consoleauth.Config{}, db, ids, clock, log)
	biz := business.New(localBusinesses{DB: db, dir: dir, url: hookURL}, nil, ids, clock, log)
	con, err := console.New(console.Config{Auth: staff, Business: biz, Outbox: hooks, Clock: clock, Log: log,
		Parts: console.EndpointParts, Platform: strings.TrimRight(platform, "/") + "/console/", Proxies: proxies})
	if err != nil {
		return nil, fmt.Errorf("the console's pages: %w", err)
	}
	con.Mount(mux)
	number := dir.cred.PhoneNumberID
	console.NewInbox(con, console.InboxConfig{Inbox: inbox.New(db, ids, clock), Endpoint: func(_ context.Context, n kontor.ID) (console.Sender, bool) {
		return e, n == number
	}, Templates: tmpls}).Mount(mux)
	return staff, nil
}

// pruneConsole deletes expired console sessions and links every hour
// until ctx ends.
func pruneConsole(ctx context.Context, staff *consoleauth.Service, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := staff.Prune(ctx); err != nil && ctx.Err() == nil {
				log.Warn("pruning console sessions failed", "err", err)
			}
		}
	}
}

const endpointConsoleUsage = `Usage: kontor endpoint console user create --data DIR --email E [--role owner|admin|agent] [--password-stdin] [--base-url URL] [--credentials FILE]
       kontor endpoint console user link --data DIR --email E [--base-url URL]

Makes a user of the console a self-hosted endpoint serves at /console/ (the
first owner; owners invite the rest there), or a new set-password link for
a user who lost their password. The user is kept in the endpoint's own
store in DIR, not on the platform. It prints the user and, without
--password-stdin, a set-password link that works once, for 24 hours.
The endpoint may be running.`

// runEndpointConsole runs kontor endpoint console user create|link.
func runEndpointConsole(ctx context.Context, env Env, args []string) error {
	if len(args) < 3 || args[0] != "console" || args[1] != "user" || (args[2] != "create" && args[2] != "link") {
		fmt.Fprintln(env.Stderr, endpointConsoleUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("kontor endpoint console user "+args[2], flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	data := fs.String("data", envOr(env.Getenv, "KONTOR_DATA", "./kontor-endpoint"), "the endpoint's data directory (env KONTOR_DATA)")
	addr := envOr(env.Getenv, "KONTOR_HTTP", "127.0.0.1:8090")
	base := fs.String("base-url", "http://"+addr, "the console's address as users' browsers reach it, for the link (default: the endpoint's --http)")
	email := fs.String("email", "", "the user's email address (they sign in with it)")
	var role, credFile *string
	var stdin *bool
	if args[2] == "create" {
		role = fs.String("role", "owner", "owner, admin or agent")
		stdin = fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of printing a set-password link")
		credFile = fs.String("credentials", env.Getenv("KONTOR_CREDENTIALS"), "the credentials file, when the endpoint has not run on DIR yet (env KONTOR_CREDENTIALS)")
	}
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, endpointConsoleUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[3:]); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if *email == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("the endpoint's data directory: %w", err)
	}
	log := slog.New(slog.DiscardHandler)
	db, err := store.Open(ctx, store.Config{DataDir: *data, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()
	clock := kontor.SystemClock{}
	ids := kontor.NewIDs(clock, 0)
	staff := consoleauth.New(consoleauth.Config{}, db, ids, clock, log)
	var (
		u        consoleauth.User
		tok      string
		expires  time.Time
		password string
	)
	if args[2] == "create" {
		biz, err := localBusiness(ctx, db, *credFile, ids)
		if err != nil {
			return err
		}
		if *stdin {
			line, err := bufio.NewReader(env.Stdin).ReadString('\n')
			if password = strings.TrimRight(line, "\r\n"); password == "" {
				return fmt.Errorf("--password-stdin: no password on stdin (%v)", err)
			}
		}
		if u, tok, err = staff.Create(ctx, consoleauth.CreateUser{Business: biz, Email: *email, Role: *role, Password: password}); err != nil {
			return err
		}
		expires = clock.Now().Add(staff.Config().LinkTTL)
	} else {
		inv, t, err := staff.ResetLink(ctx, *email)
		if err != nil {
			return err
		}
		u = consoleauth.User{ID: inv.User, Business: inv.Business, Email: inv.Email, Role: inv.Role}
		tok, expires = t, inv.Expires
	}
	o := map[string]any{"user_id": u.ID.String(), "business_id": u.Business.String(), "email": u.Email, "role": string(u.Role)}
	if tok != "" {
		o["set_password_url"] = strings.TrimRight(*base, "/") + "/console/link?token=" + url.QueryEscape(tok)
		o["link_expires"] = expires.UTC().Format(time.RFC3339)
	}
	out := json.NewEncoder(env.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(o)
}

// localBusiness is the business of the endpoint's store in DIR: the one
// the endpoint wrote on its start, or the credentials' (written now).
func localBusiness(ctx context.Context, db *store.DB, credFile string, ids *kontor.IDs) (kontor.ID, error) {
	if credFile != "" {
		cred, err := readCredentials(credFile)
		if err != nil {
			return 0, err
		}
		return cred.WABAID, ensureBusiness(ctx, db, cred, "", ids.Next())
	}
	bs, err := db.Businesses(ctx)
	if err != nil {
		return 0, err
	}
	switch len(bs) {
	case 1:
		return bs[0].ID, nil
	case 0:
		return 0, errors.New("the endpoint has not run on this data directory yet: start it once, or give --credentials")
	}
	return 0, fmt.Errorf("the data directory holds %d businesses, not the one of a self-hosted endpoint", len(bs))
}
