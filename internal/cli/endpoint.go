package cli

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/realip"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/webhook"
	"github.com/kontor-chat/kontor/wire"
)

const endpointUsage = `Usage: kontor endpoint --platform URL --credentials FILE [--http ADDR] [--data DIR] [--webhook-url URL] [--console=false]
       kontor endpoint console user create|link --data DIR --email E …

Runs a self-hosted business endpoint: the business number's device, with its
Signal keys, at the business. It serves the same Business API as the platform
(Cloud API wire format) on --http, and delivers the webhooks itself: the
platform only ever carries ciphertext of this number's chats.

The business console of this number — sign-in, users, the inbox, profile,
numbers and webhooks — is served at /console/ of --http, from the
endpoint's own store; "kontor endpoint console user create" makes its
first owner. The catalog, orders and billing stay in the platform's console.

FILE is the JSON that "kontor admin business create --self-hosted" printed.

Flags:`

// endpointCredentials is what business create --self-hosted prints.
type endpointCredentials struct {
	WABAID        kontor.ID        `json:"waba_id"`
	PhoneNumberID kontor.ID        `json:"phone_number_id"`
	AppID         kontor.ID        `json:"app_id"`
	AppSecret     string           `json:"app_secret"`
	AccessToken   string           `json:"access_token"`
	Device        *business.Device `json:"device"`
}

func runEndpoint(ctx context.Context, env Env) error {
	if len(env.Args) > 0 && env.Args[0] == "console" {
		return runEndpointConsole(ctx, env, env.Args)
	}
	fs := flag.NewFlagSet("kontor endpoint", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	platform := fs.String("platform", env.Getenv("KONTOR_PLATFORM"), "the platform's base URL (env KONTOR_PLATFORM)")
	credFile := fs.String("credentials", env.Getenv("KONTOR_CREDENTIALS"), "the credentials file (env KONTOR_CREDENTIALS)")
	addr := fs.String("http", envOr(env.Getenv, "KONTOR_HTTP", "127.0.0.1:8090"), "where to serve the Business API (env KONTOR_HTTP)")
	data := fs.String("data", envOr(env.Getenv, "KONTOR_DATA", "./kontor-endpoint"), "data directory: keys, state, media, webhook outbox (env KONTOR_DATA)")
	deadline := endpoint.DefaultSendDeadline
	if d, err := time.ParseDuration(env.Getenv("KONTOR_SEND_DEADLINE")); err == nil {
		deadline = d
	}
	sendDeadline := fs.Duration("send-deadline", deadline, "how long a Business API send waits for the platform to take the message before it is withdrawn and answered 131016 (env KONTOR_SEND_DEADLINE)")
	hookURL := fs.String("webhook-url", env.Getenv("KONTOR_WEBHOOK_URL"), "where webhooks go (env KONTOR_WEBHOOK_URL)")
	name := fs.String("name", "", "the business's verified name, as GET /{phone-number-id} shows it (default: the platform's)")
	withConsole := fs.Bool("console", true, "serve the business console at /console/ of --http")
	trusted := fs.String("trusted-proxies", env.Getenv("KONTOR_TRUSTED_PROXIES"), "reverse proxies in front of the endpoint (comma-separated addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto the console and the Business API believe; empty for none (env KONTOR_TRUSTED_PROXIES)")
	level := fs.String("log-level", envOr(env.Getenv, "KONTOR_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, endpointUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if *platform == "" || *credFile == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	proxies, err := realip.Parse(*trusted)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	cred, err := readCredentials(*credFile)
	if err != nil {
		return err
	}
	log := newLogger(env.Stderr, *level, "text")
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	profile := filepath.Join(*data, "profile")
	if _, err := client.LoadAccount(profile); errors.Is(err, client.ErrNoProfile) {
		a := client.Account{Server: strings.TrimRight(*platform, "/"), DeviceCredentials: wire.DeviceCredentials{
			Phone: cred.Device.Phone, DeviceID: cred.Device.DeviceID, Credential: cred.Device.Credential}}
		if err := client.CreateProfile(profile, a); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{DataDir: *data, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()
	clock := kontor.SystemClock{}
	ids := kontor.NewIDs(clock, 0)
	hooks := webhook.New(webhook.Config{}, db, staticSecret{app: cred.AppID, secret: cred.AppSecret}, nil, clock, log)
	hooks.Start()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hooks.Close(sctx)
	}()
	mac := hmac.New(sha256.New, []byte(cred.AppSecret))
	mac.Write([]byte("kontor media download URLs"))
	url := *hookURL
	// The business's templates are kept on the platform: ask its API.
	tmpls := &bizapi.PlatformTemplates{Base: *platform, Token: cred.AccessToken, WABA: cred.WABAID, CacheFor: 30 * time.Second}
	cfg := endpoint.Config{WABA: cred.WABAID, Number: cred.PhoneNumberID, App: cred.AppID, Phone: cred.Device.Phone,
		MediaDir: filepath.Join(*data, "media"), URLKey: mac.Sum(nil), Template: tmpls.Lookup, SendDeadline: *sendDeadline,
		// Orders are kept on the platform too: payment requests and order
		// news change them there.
		Orders:     &bizapi.PlatformOrders{Base: *platform, Token: cred.AccessToken},
		WebhookURL: func(context.Context) string { return url }}
	// Deliveries are charged, and credit checked, on the platform.
	meter := &bizapi.PlatformMeter{Base: *platform, Token: cred.AccessToken, Number: cred.PhoneNumberID}
	cfg.Report, cfg.Credit = meter, meter.Credit
	e, err := endpoint.Open(ctx, profile, cfg, db, hooks, ids, clock, log)
	if err != nil {
		return err
	}
	defer e.Close()
	if *name == "" {
		*name = platformName(ctx, *platform, cred)
	}
	dir := &localDirectory{cred: cred, name: *name, dir: *data}
	api := &bizapi.API{Dir: dir, Auth: tokenAuth{token: cred.AccessToken, business: cred.WABAID}, Endpoints: single{number: cred.PhoneNumberID, e: e, db: db}, Log: log, Proxies: proxies}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var h http.Handler = api
	if *withConsole {
		if err := ensureBusiness(ctx, db, cred, *name, ids.Next()); err != nil {
			return fmt.Errorf("the console's business: %w", err)
		}
		mux := http.NewServeMux()
		staff, err := newEndpointConsole(mux, db, dir, hooks, url, *platform, proxies, e, tmpls, ids, clock, log)
		if err != nil {
			return err
		}
		pctx, stop := context.WithCancel(ctx)
		pruned := make(chan struct{})
		go func() { defer close(pruned); pruneConsole(pctx, staff, log) }()
		defer func() { stop(); <-pruned }()
		stopIndex := inbox.StartIndexer(pctx, db, log) // the inbox's search index
		defer stopIndex()
		mux.Handle("/", api)
		h = mux
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("business endpoint is serving", "addr", ln.Addr().String(), "console", *withConsole, "number", cred.Device.Phone, "platform", *platform)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// readCredentials reads the file business create --self-hosted printed.
func readCredentials(file string) (endpointCredentials, error) {
	var cred endpointCredentials
	b, err := os.ReadFile(file)
	if err != nil {
		return cred, fmt.Errorf("reading the credentials: %w", err)
	}
	if err := json.Unmarshal(b, &cred); err != nil || cred.Device == nil || cred.PhoneNumberID == 0 || cred.AccessToken == "" {
		return cred, fmt.Errorf("%s is not the output of kontor admin business create --self-hosted (%v)", file, err)
	}
	return cred, nil
}

// staticSecret is the one app secret of a self-hosted endpoint.
type staticSecret struct {
	app    kontor.ID
	secret string
}

func (s staticSecret) AppSecret(_ context.Context, app kontor.ID) (string, error) {
	if app != s.app {
		return "", kontor.Errorf(kontor.NotFound, "endpoint", "no app %s", app)
	}
	return s.secret, nil
}

// tokenAuth accepts the access token of the credentials file.
type tokenAuth struct {
	token    string
	business kontor.ID
}

func (a tokenAuth) Check(_ context.Context, token string, b kontor.ID, _ business.Scope) error {
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.token)) != 1 {
		return kontor.Errorf(kontor.Unauthenticated, "endpoint", "invalid OAuth access token")
	}
	if b != a.business {
		return kontor.Errorf(kontor.Forbidden, "endpoint", "the access token is not for this business")
	}
	return nil
}

// single is the one endpoint a self-hosted endpoint serves.
type single struct {
	number kontor.ID
	e      *endpoint.Endpoint
	db     *store.DB
}

func (s single) Endpoint(number kontor.ID) (bizapi.Endpoint, bool) { return s.e, number == s.number }

func (s single) MediaOwner(ctx context.Context, id kontor.ID) (kontor.ID, bool) {
	n, err := s.db.MediaNumber(ctx, id)
	return n, err == nil
}

// localDirectory knows the one business and number of the credentials;
// the business profile is kept in the endpoint's data directory.
type localDirectory struct {
	cred endpointCredentials
	name string
	dir  string
	mu   sync.Mutex
}

func (d *localDirectory) Business(_ context.Context, id kontor.ID) (business.Business, error) {
	if id != d.cred.WABAID {
		return business.Business{}, kontor.Errorf(kontor.NotFound, "endpoint", "no business %s here", id)
	}
	return business.Business{ID: id, Name: d.name, SelfHosted: true}, nil
}

func (d *localDirectory) Number(_ context.Context, id kontor.ID) (business.Number, error) {
	if id != d.cred.PhoneNumberID {
		return business.Number{}, kontor.Errorf(kontor.NotFound, "endpoint", "no phone number %s here", id)
	}
	return business.Number{ID: id, Business: d.cred.WABAID, Phone: d.cred.Device.Phone, VerifiedName: d.name,
		Quality: "GREEN", Tier: "TIER_250", MPS: business.DefaultMPS}, nil
}

func (d *localDirectory) Numbers(ctx context.Context, b kontor.ID) ([]business.Number, error) {
	if b != d.cred.WABAID {
		return nil, kontor.Errorf(kontor.NotFound, "endpoint", "no business %s here", b)
	}
	n, _ := d.Number(ctx, d.cred.PhoneNumberID)
	return []business.Number{n}, nil
}

func (d *localDirectory) profilePath() string { return filepath.Join(d.dir, "business-profile.json") }

func (d *localDirectory) Profile(_ context.Context, number kontor.ID) (business.Profile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var p business.Profile
	b, err := os.ReadFile(d.profilePath())
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(b, &p)
}

func (d *localDirectory) PutProfile(_ context.Context, number kontor.ID, p business.Profile) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tmp := d.profilePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.profilePath())
}

// platformName asks the platform for the number's verified name; "" when
// it cannot be reached.
func platformName(ctx context.Context, platform string, cred endpointCredentials) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(platform, "/")+"/v21.0/"+cred.PhoneNumberID.String(), nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+cred.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var n struct {
		VerifiedName string `json:"verified_name"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&n) != nil {
		return ""
	}
	return n.VerifiedName
}
