// Package config is the one reader of kontor's flags and environment: it
// holds the server's Config, its defaults and its validation.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/netguard"
	"github.com/kontor-chat/kontor/internal/realip"
)

// Config is the configuration of `kontor serve`.
type Config struct {
	DataDir    string        // --data, KONTOR_DATA
	HTTPAddr   string        // --http, KONTOR_HTTP
	DB         string        // --db, KONTOR_DB: "" = SQLite in DataDir, or postgres://…
	NATS       string        // --nats, KONTOR_NATS: "" = embedded, or nats://…
	Dev        bool          // --dev, KONTOR_DEV
	SMSURL     string        // --sms-url, KONTOR_SMS_URL
	SMSToken   string        // KONTOR_SMS_TOKEN (environment only: a secret)
	MessageTTL time.Duration // --message-ttl, KONTOR_MESSAGE_TTL
	Node       int           // --node, KONTOR_NODE: -1 = random
	LogLevel   string        // --log-level, KONTOR_LOG_LEVEL
	LogFormat  string        // --log-format, KONTOR_LOG_FORMAT: text or json
	DebugAddr  string        // --debug-addr, KONTOR_DEBUG_ADDR: "" = none; serves /debug/pprof
	// SendDeadline bounds how long a hosted endpoint's Business API send
	// waits for the platform to take the message; past it the message is
	// withdrawn and the send answers 131016 (--send-deadline,
	// KONTOR_SEND_DEADLINE).
	SendDeadline time.Duration
	// EndpointMinBackoff and EndpointMaxBackoff bound the hosted endpoints'
	// devices' waits between reconnects and between retries of a send
	// (0: the client's defaults, 0.5 s doubling up to 30 s). No flag:
	// tests set them.
	EndpointMinBackoff, EndpointMaxBackoff time.Duration
	// OperatorName is who runs this platform, as hosted businesses' chats
	// tell people (--operator-name, KONTOR_OPERATOR_NAME).
	OperatorName string
	// OrderHold is how long an unpaid order holds its stock
	// (--order-hold, KONTOR_ORDER_HOLD).
	OrderHold time.Duration
	// QualityEvery is how often business numbers' quality ratings and
	// messaging-limit tiers are evaluated (--quality-every,
	// KONTOR_QUALITY_EVERY).
	QualityEvery time.Duration
	// Payments is the provider new payments go to: "sandbox" (the
	// default without a Stripe key) or "stripe" (--payments,
	// KONTOR_PAYMENTS).
	Payments string
	// StripeKey is Stripe's secret API key (--stripe-key,
	// KONTOR_STRIPE_KEY; prefer the environment for secrets).
	StripeKey string
	// StripeURL is Stripe's API base (--stripe-url, KONTOR_STRIPE_URL).
	StripeURL string
	// StripeWebhookSecret verifies Stripe's webhook calls
	// (--stripe-webhook-secret, KONTOR_STRIPE_WEBHOOK_SECRET).
	StripeWebhookSecret string
	// SandboxDelay is how long the sandbox's pending test cards stay
	// pending (--sandbox-delay, KONTOR_SANDBOX_DELAY).
	SandboxDelay time.Duration
	// SandboxSecret signs the sandbox's webhook calls
	// (KONTOR_SANDBOX_SECRET only; by default one is kept in
	// DataDir/sandbox.secret).
	SandboxSecret string
	// BillingRules picks which messages are charged (--billing-rules,
	// KONTOR_BILLING_RULES): "" for the July 2025 rules alone, "shipped"
	// for both shipped sets (the October 2026 set in force from
	// 2026-10-01), or the path of a JSON file of rule sets.
	BillingRules string
	// TrustedProxies are the reverse proxies (comma-separated addresses
	// or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto are
	// believed (--trusted-proxies, KONTOR_TRUSTED_PROXIES): rate limits
	// and sign-in lockouts then count the client they name, and the
	// console and Business API hand out https links when they say so.
	// Empty trusts none.
	TrustedProxies string
	// AllowNetworks lists the networks (comma-separated CIDRs or single
	// addresses) that URLs a business chooses may reach besides public
	// addresses: media links, webhook URLs and their handshake
	// (--allow-networks, KONTOR_ALLOW_NETWORKS). Empty: public addresses
	// only (internal/netguard). Flags makes it DevNetworks under --dev
	// unless --allow-networks (or its environment twin) is given.
	AllowNetworks string
	// allowNetworksSet says that --allow-networks or its environment twin
	// gave AllowNetworks, so --dev leaves it as it is.
	allowNetworksSet bool
	// OperatorToken comes from KONTOR_OPERATOR_TOKEN only; when empty the
	// server keeps one in DataDir/operator.token.
	OperatorToken string
	// DirectoryCache is how long a node keeps the access tokens, numbers,
	// businesses, app secrets and partners' grants the Business API reads
	// on every call (--directory-cache, KONTOR_DIRECTORY_CACHE; 0 turns
	// the cache off).
	// A change made on this node applies here at once and on other nodes
	// when the bus tells them; this bounds it when the bus loses the hint.
	DirectoryCache time.Duration
	// EndpointLease is how long a node of a cluster holds a hosted
	// endpoint without renewing it (0: 20s; --endpoint-lease,
	// KONTOR_ENDPOINT_LEASE): when a node dies, another takes its hosted
	// endpoints over after at most this long. Renewed every quarter of it.
	EndpointLease time.Duration
	// Clock tells the server the time: nil for the system clock. No flag
	// sets it; tests do (kontortest.WithClock), to move time on.
	Clock kontor.Clock
}

// DevNetworks is what URLs a business chooses may reach besides public
// addresses under --dev when --allow-networks is not given: loopback, for
// a developer's webhook receiver and media server on the same machine.
const DevNetworks = "127.0.0.0/8,::1/128"

// Defaults returns the zero-configuration setup: one node, SQLite and an
// embedded NATS in ./kontor-data, listening on loopback.
func Defaults() Config {
	return Config{
		DataDir:      "./kontor-data",
		HTTPAddr:     "127.0.0.1:8080",
		MessageTTL:   30 * 24 * time.Hour,
		SendDeadline: 10 * time.Second,
		Node:         -1,
		LogLevel:     "info",
		LogFormat:    "text",
		StripeURL:    "https://api.stripe.com",
		SandboxDelay: 5 * time.Second,
		OrderHold:    30 * time.Minute,
		QualityEvery: 15 * time.Minute,

		DirectoryCache: 2 * time.Second,
		EndpointLease:  20 * time.Second,
	}
}

// Flags registers the serve flags on fs, with their environment twins read
// through getenv as defaults. Call Validate after fs.Parse.
func (c *Config) Flags(fs *flag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+env+")")
	}
	str(&c.DataDir, "data", "KONTOR_DATA", "data directory")
	str(&c.HTTPAddr, "http", "KONTOR_HTTP", "address to listen on for HTTP and WebSocket")
	str(&c.DB, "db", "KONTOR_DB", "database: empty for SQLite in the data directory, or postgres://…")
	str(&c.NATS, "nats", "KONTOR_NATS", "NATS: empty for an embedded server, or nats://host:port of a cluster")
	str(&c.SMSURL, "sms-url", "KONTOR_SMS_URL", "SMS gateway URL that one-time codes are POSTed to")
	str(&c.LogLevel, "log-level", "KONTOR_LOG_LEVEL", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "KONTOR_LOG_FORMAT", "text or json")
	str(&c.OperatorName, "operator-name", "KONTOR_OPERATOR_NAME", "who runs this platform: people chatting with a hosted business are told that this operator's service manages the chat")
	str(&c.DebugAddr, "debug-addr", "KONTOR_DEBUG_ADDR", "address for Go's /debug/pprof profiles; empty for none (keep it on loopback)")
	str(&c.Payments, "payments", "KONTOR_PAYMENTS", "payment provider for new payments: sandbox or stripe (default: stripe when --stripe-key is set, else sandbox)")
	str(&c.StripeKey, "stripe-key", "KONTOR_STRIPE_KEY", "Stripe secret API key (sk_test_… or sk_live_…); prefer the environment variable")
	str(&c.BillingRules, "billing-rules", "KONTOR_BILLING_RULES", "which messages are charged: empty for the July 2025 rules, shipped for both shipped sets (October 2026 rules from 2026-10-01), or a JSON file of rule sets (docs/billing.md)")
	str(&c.TrustedProxies, "trusted-proxies", "KONTOR_TRUSTED_PROXIES", "reverse proxies in front of kontor (comma-separated addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto are believed; empty for none")
	str(&c.StripeURL, "stripe-url", "KONTOR_STRIPE_URL", "Stripe API base URL")
	if v := getenv("KONTOR_ALLOW_NETWORKS"); v != "" {
		c.AllowNetworks, c.allowNetworksSet = v, true
	}
	fs.Func("allow-networks", "networks (comma-separated `CIDRs`, e.g. 10.8.0.0/16,fd00::/8) that media links and webhook URLs chosen by businesses may reach besides public addresses; empty: public only (not given: public only, and loopback with --dev) (env KONTOR_ALLOW_NETWORKS)", func(v string) error {
		c.AllowNetworks, c.allowNetworksSet = v, true
		return nil
	})
	str(&c.StripeWebhookSecret, "stripe-webhook-secret", "KONTOR_STRIPE_WEBHOOK_SECRET", "signing secret (whsec_…) of the Stripe webhook endpoint /v1/payments/webhook/stripe")
	if v := getenv("KONTOR_SANDBOX_DELAY"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.SandboxDelay = d
		}
	}
	fs.DurationVar(&c.SandboxDelay, "sandbox-delay", c.SandboxDelay, "how long the sandbox's pending test cards stay pending (env KONTOR_SANDBOX_DELAY)")
	c.SandboxSecret = getenv("KONTOR_SANDBOX_SECRET")
	if v := getenv("KONTOR_ORDER_HOLD"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.OrderHold = d
		}
	}
	fs.DurationVar(&c.OrderHold, "order-hold", c.OrderHold, "how long an unpaid order holds its stock before it expires (env KONTOR_ORDER_HOLD)")
	if v := getenv("KONTOR_QUALITY_EVERY"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.QualityEvery = d
		}
	}
	fs.DurationVar(&c.QualityEvery, "quality-every", c.QualityEvery, "how often business numbers' quality ratings and messaging limits are evaluated (env KONTOR_QUALITY_EVERY)")
	if v := getenv("KONTOR_DIRECTORY_CACHE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.DirectoryCache = d
		}
	}
	fs.DurationVar(&c.DirectoryCache, "directory-cache", c.DirectoryCache, "how long another node may still accept a revoked token or a partner's grant taken away, or use a changed number or webhook URL if the bus loses the change's hint; 0 reads them from the database on every call (env KONTOR_DIRECTORY_CACHE)")
	if v := getenv("KONTOR_ENDPOINT_LEASE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.EndpointLease = d
		}
	}
	fs.DurationVar(&c.EndpointLease, "endpoint-lease", c.EndpointLease, "in a cluster, how long a node holds a hosted business endpoint without renewing; another node takes the endpoints of a dead node over after at most this long (env KONTOR_ENDPOINT_LEASE)")
	if v := getenv("KONTOR_DEV"); v != "" {
		dev, _ := strconv.ParseBool(v)
		c.setDev(dev)
	}
	fs.BoolFunc("dev", "development mode: one-time codes go to the log and GET /dev/otp (loopback only), and media links and webhook URLs may reach loopback ("+DevNetworks+") unless --allow-networks is given (env KONTOR_DEV)", func(v string) error {
		dev, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		c.setDev(dev)
		return nil
	})
	if v := getenv("KONTOR_MESSAGE_TTL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.MessageTTL = d
		}
	}
	if v := getenv("KONTOR_SEND_DEADLINE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.SendDeadline = d
		}
	}
	fs.DurationVar(&c.SendDeadline, "send-deadline", c.SendDeadline, "how long a hosted business number's Business API send waits for the platform to take the message before it is withdrawn and answered 131016 (env KONTOR_SEND_DEADLINE)")
	fs.DurationVar(&c.MessageTTL, "message-ttl", c.MessageTTL, "how long undelivered messages wait before they fail (env KONTOR_MESSAGE_TTL)")
	if v := getenv("KONTOR_NODE"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			c.Node = n
		}
	}
	fs.IntVar(&c.Node, "node", c.Node, "this node's number 0-1023, distinct per cluster node; -1 picks one at random (env KONTOR_NODE)")
	c.SMSToken = getenv("KONTOR_SMS_TOKEN")
	c.OperatorToken = getenv("KONTOR_OPERATOR_TOKEN")
}

// setDev turns development mode on or off, and with it loopback for the
// URLs a business chooses, unless --allow-networks said what they reach.
func (c *Config) setDev(dev bool) {
	c.Dev = dev
	if c.allowNetworksSet {
		return
	}
	c.AllowNetworks = ""
	if dev {
		c.AllowNetworks = DevNetworks
	}
}

// Validate checks the configuration and says what is wrong.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("--http %q is not host:port: %v", c.HTTPAddr, err))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") && !strings.HasPrefix(c.DB, "sqlite:") {
		errs = append(errs, fmt.Errorf("--db %q: use postgres://… or leave it empty for SQLite", c.DB))
	}
	if c.NATS != "" {
		for _, u := range strings.Split(c.NATS, ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || (pu.Scheme != "nats" && pu.Scheme != "tls") || pu.Host == "" {
				errs = append(errs, fmt.Errorf("--nats %q: use nats://host:port (comma-separated for several), or leave it empty for the embedded server", u))
			}
		}
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			errs = append(errs, fmt.Errorf("--debug-addr %q is not host:port: %v", c.DebugAddr, err))
		}
	}
	if c.SMSURL != "" {
		if pu, err := url.Parse(c.SMSURL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
			errs = append(errs, fmt.Errorf("--sms-url %q is not an http(s) URL", c.SMSURL))
		}
	}
	if _, err := realip.Parse(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxies: %v", err))
	}
	if _, err := netguard.ParseNetworks(c.AllowNetworks); err != nil {
		errs = append(errs, fmt.Errorf("--allow-networks: %v", err))
	}
	if c.MessageTTL < time.Minute {
		errs = append(errs, fmt.Errorf("--message-ttl %s is shorter than a minute", c.MessageTTL))
	}
	if c.SendDeadline < 100*time.Millisecond || c.SendDeadline > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--send-deadline %s is outside 100ms to 10m", c.SendDeadline))
	}
	if c.DirectoryCache < 0 || c.DirectoryCache > time.Hour {
		errs = append(errs, fmt.Errorf("--directory-cache %s is outside 0 to 1h", c.DirectoryCache))
	}
	if c.EndpointLease != 0 && (c.EndpointLease < 2*time.Second || c.EndpointLease > 10*time.Minute) {
		errs = append(errs, fmt.Errorf("--endpoint-lease %s is outside 2s to 10m", c.EndpointLease))
	}
	if c.Node < -1 || c.Node > 1023 {
		errs = append(errs, fmt.Errorf("--node %d is outside 0-1023 (or -1 for random)", c.Node))
	}
	switch c.Payments {
	case "", "sandbox":
	case "stripe":
		if c.StripeKey == "" {
			errs = append(errs, errors.New("--payments stripe needs --stripe-key (or KONTOR_STRIPE_KEY)"))
		}
	default:
		errs = append(errs, fmt.Errorf("--payments %q: use sandbox or stripe", c.Payments))
	}
	if c.StripeKey != "" && !strings.HasPrefix(c.StripeKey, "sk_") && !strings.HasPrefix(c.StripeKey, "rk_") {
		errs = append(errs, errors.New("--stripe-key is not a Stripe secret key (sk_… or rk_…)"))
	}
	if pu, err := url.Parse(c.StripeURL); c.StripeURL != "" && (err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "") {
		errs = append(errs, fmt.Errorf("--stripe-url %q is not an http(s) URL", c.StripeURL))
	}
	if c.SandboxDelay <= 0 || c.SandboxDelay > time.Hour {
		errs = append(errs, fmt.Errorf("--sandbox-delay %s: use a duration above 0 and at most 1h", c.SandboxDelay))
	}
	if c.OrderHold < time.Second || c.OrderHold > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("--order-hold %s: use 1s to 168h", c.OrderHold))
	}
	if c.QualityEvery < 10*time.Millisecond || c.QualityEvery > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--quality-every %s: use 10ms to 24h", c.QualityEvery))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: use text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}
