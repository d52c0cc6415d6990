// Package business keeps the businesses on the platform: business accounts
// (whose id plays the WhatsApp Business Account id), their phone numbers,
// apps (whose secret signs webhooks), business profiles, access tokens, and
// solution providers (partners) that manage many businesses with one token.
//
// A business phone number is a kontor account like a person's; its primary
// device is the business endpoint, which holds the Signal keys. Creating a
// business registers that account (through Accounts) and hands the device
// credentials back: the platform keeps them for a hosted endpoint, the
// business keeps them for a self-hosted one.
//
// Quality (quality.go) rates each number GREEN, YELLOW or RED from the
// people who blocked or reported it, moves its messaging-limit tier up
// and down by kontor's written rule, and hands each change with its
// phone_number_quality_update webhooks to the store, which writes both in
// one transaction.
package business

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// Business is a business account.
type Business struct {
	ID          kontor.ID // the WABA id
	Name        string
	SelfHosted  bool   // its endpoint runs at the business, not here
	WebhookURL  string // where its webhooks go (hosted endpoints)
	VerifyToken string // for the GET verification handshake
	Created     time.Time
}

// Number is a business phone number.
type Number struct {
	ID           kontor.ID // the phone-number id
	Business     kontor.ID
	Phone        kontor.Phone
	Account      kontor.ID // its kontor account
	VerifiedName string
	Quality      string // GREEN, YELLOW, RED, UNKNOWN
	Tier         string // TIER_250 … TIER_UNLIMITED
	MPS          int    // messages per second it may send
	Created      time.Time
}

// App signs a business's webhooks with its secret.
type App struct {
	ID       kontor.ID
	Business kontor.ID
	Secret   string
	Created  time.Time
}

// Profile is a number's business profile.
type Profile struct {
	About       string   `json:"about,omitempty"`
	Address     string   `json:"address,omitempty"`
	Description string   `json:"description,omitempty"`
	Email       string   `json:"email,omitempty"`
	Websites    []string `json:"websites,omitempty"`
	Vertical    string   `json:"vertical,omitempty"`
	PictureURL  string   `json:"profile_picture_url,omitempty"`
}

// Scope is what a token may do.
type Scope uint8

// Scopes.
const (
	ScopeMessaging  Scope = 1 << iota // send messages, media, mark read
	ScopeManagement                   // templates, profile, numbers, webhooks, catalogs
)

// ParseScopes reads "messaging,management".
func ParseScopes(s string) (Scope, error) {
	var sc Scope
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case "messaging":
			sc |= ScopeMessaging
		case "management":
			sc |= ScopeManagement
		case "":
		default:
			return 0, fmt.Errorf("unknown scope %q (use messaging, management)", p)
		}
	}
	if sc == 0 {
		return 0, fmt.Errorf("give at least one scope: messaging, management")
	}
	return sc, nil
}

// Names lists the scopes.
func (s Scope) Names() []string {
	var out []string
	if s&ScopeMessaging != 0 {
		out = append(out, "messaging")
	}
	if s&ScopeManagement != 0 {
		out = append(out, "management")
	}
	return out
}

// Token is an access token: for one business, or for a partner (then it acts
// for every business that granted the partner access).
type Token struct {
	ID       kontor.ID
	Hash     []byte
	Business kontor.ID // 0 for a partner's token
	Partner  kontor.ID // 0 for a business's token
	Scopes   Scope
	Label    string
	Expires  time.Time // zero: never
	Revoked  bool
	Created  time.Time
}

// Partner is a solution provider.
type Partner struct {
	ID      kontor.ID
	Name    string
	Created time.Time
}

// Store keeps businesses. Implemented by internal/store.
type Store interface {
	// CreateBusiness stores a new business with its first number, app and
	// token in one transaction.
	CreateBusiness(ctx context.Context, b Business, n Number, a App, t Token) error
	Business(ctx context.Context, id kontor.ID) (Business, error)
	Businesses(ctx context.Context) ([]Business, error)
	Number(ctx context.Context, id kontor.ID) (Number, error)
	NumberByPhone(ctx context.Context, p kontor.Phone) (Number, error)
	Numbers(ctx context.Context, business kontor.ID) ([]Number, error)
	Apps(ctx context.Context, business kontor.ID) ([]App, error)
	AppSecret(ctx context.Context, app kontor.ID) (string, error)
	// SetAppSecret replaces an app's secret.
	SetAppSecret(ctx context.Context, app kontor.ID, secret string) error
	SetNumberMPS(ctx context.Context, number kontor.ID, mps int) error
	SetNumberTier(ctx context.Context, number kontor.ID, tier string) error
	PutToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	Tokens(ctx context.Context, business, partner kontor.ID) ([]Token, error)
	RevokeToken(ctx context.Context, id kontor.ID) error
	CreatePartner(ctx context.Context, p Partner) error
	Partner(ctx context.Context, id kontor.ID) (Partner, error)
	Grant(ctx context.Context, partner, business kontor.ID) error
	// Ungrant takes the access away; kontor.NotFound when there was none.
	Ungrant(ctx context.Context, partner, business kontor.ID) error
	Granted(ctx context.Context, partner, business kontor.ID) (bool, error)
	Profile(ctx context.Context, number kontor.ID) (Profile, error)
	PutProfile(ctx context.Context, number kontor.ID, p Profile) error
	SetWebhook(ctx context.Context, business kontor.ID, url, verifyToken string) error
}

// Accounts registers the kontor account of a business number.
type Accounts interface {
	// RegisterDirect makes the account of phone (which must not exist yet)
	// and returns its primary device's credential.
	RegisterDirect(ctx context.Context, phone, deviceName string) (Device, error)
}

// Device is a registered business device.
type Device struct {
	Account    kontor.ID    `json:"account_id"`
	Phone      kontor.Phone `json:"phone"`
	DeviceID   int          `json:"device_id"`
	Credential string       `json:"credential"`
}

// Service manages businesses.
type Service struct {
	store    Store
	accounts Accounts
	ids      *kontor.IDs
	clock    kontor.Clock
	log      *slog.Logger
	verify   Verifier
	address  func(url string) error // SetAddressCheck; nil: none
	quality  *Quality               // SetQuality; nil: SetTier writes the tier alone
}

// Verifier runs the webhook verification handshake against url with
// token: the public GET with hub.mode, hub.verify_token and hub.challenge,
// which the receiver must answer with the challenge.
type Verifier func(ctx context.Context, url, token string) error

// SetVerifier sets how webhook URLs are verified (none by default).
func (s *Service) SetVerifier(v Verifier) { s.verify = v }

// SetAddressCheck sets how a webhook URL's host is checked when it is set:
// check refuses an address the platform will not deliver to (a private IP
// literal; internal/netguard), with an error in words for the business.
// Names are checked when they are dialed. None by default.
func (s *Service) SetAddressCheck(check func(url string) error) { s.address = check }

// checkReachable refuses a webhook URL whose address the platform will not
// deliver to, then runs the handshake when a verify token is given.
func (s *Service) checkReachable(ctx context.Context, op, url, token string) error {
	if url != "" && s.address != nil {
		if err := s.address(url); err != nil {
			return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: fmt.Sprintf("webhook URL %q is refused: %v", url, err), Err: err}
		}
	}
	if url == "" || token == "" || s.verify == nil {
		return nil
	}
	if err := s.verify(ctx, url, token); err != nil {
		return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "the webhook URL did not pass the verification handshake: " + err.Error()}
	}
	return nil
}

// SetWebhook changes where a business's webhooks go, after the handshake.
func (s *Service) SetWebhook(ctx context.Context, business kontor.ID, url, token string) error {
	const op = "business.SetWebhook"
	if err := checkWebhook(url, token); err != nil {
		return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error()}
	}
	if _, err := s.store.Business(ctx, business); err != nil {
		return err
	}
	if err := s.checkReachable(ctx, op, url, token); err != nil {
		return err
	}
	return s.store.SetWebhook(ctx, business, url, token)
}

// New returns the service.
func New(store Store, accounts Accounts, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, accounts: accounts, ids: ids, clock: clock, log: log}
}

// CreateRequest describes a new business.
type CreateRequest struct {
	Name        string       `json:"name"`
	Phone       kontor.Phone `json:"phone"`
	SelfHosted  bool         `json:"self_hosted,omitempty"`
	WebhookURL  string       `json:"webhook_url,omitempty"`
	VerifyToken string       `json:"verify_token,omitempty"`
}

// Created is what creating a business hands back, once: the secrets are not
// shown again.
type Created struct {
	WABAID        kontor.ID `json:"waba_id"`
	PhoneNumberID kontor.ID `json:"phone_number_id"`
	AppID         kontor.ID `json:"app_id"`
	AppSecret     string    `json:"app_secret"`
	AccessToken   string    `json:"access_token"`
	SelfHosted    bool      `json:"self_hosted"`
	// Device is the business number's device: a self-hosted endpoint
	// needs it (kontor endpoint --credentials); for a hosted one the
	// platform keeps it and it is not returned.
	Device *Device `json:"device,omitempty"`
}

// Create makes a business with its number, app and a token with both
// scopes that never expires.
func (s *Service) Create(ctx context.Context, r CreateRequest) (Created, error) {
	const op = "business.Create"
	name := strings.TrimSpace(r.Name)
	if name == "" || len(name) > 256 {
		return Created{}, kontor.Errorf(kontor.Invalid, op, "a business needs a name of at most 256 bytes")
	}
	phone, err := kontor.ParsePhone(string(r.Phone))
	if err != nil {
		return Created{}, err
	}
	if err := checkWebhook(r.WebhookURL, r.VerifyToken); err != nil {
		return Created{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error()}
	}
	if err := s.checkReachable(ctx, op, r.WebhookURL, r.VerifyToken); err != nil {
		return Created{}, err
	}
	dev, err := s.accounts.RegisterDirect(ctx, string(phone), "business endpoint")
	if err != nil {
		return Created{}, err
	}
	now := s.clock.Now()
	b := Business{ID: s.ids.Next(), Name: name, SelfHosted: r.SelfHosted, WebhookURL: r.WebhookURL, VerifyToken: r.VerifyToken, Created: now}
	n := Number{ID: s.ids.Next(), Business: b.ID, Phone: phone, Account: dev.Account, VerifiedName: name,
		Quality: "GREEN", Tier: "TIER_250", MPS: DefaultMPS, Created: now}
	a := App{ID: s.ids.Next(), Business: b.ID, Secret: appSecret(), Created: now}
	plain, t := s.newToken(b.ID, 0, ScopeMessaging|ScopeManagement, "created with the business", time.Time{})
	if err := s.store.CreateBusiness(ctx, b, n, a, t); err != nil {
		return Created{}, err
	}
	s.log.Info("business created", "waba", b.ID, "number", n.ID, "phone", phone, "self_hosted", b.SelfHosted)
	out := Created{WABAID: b.ID, PhoneNumberID: n.ID, AppID: a.ID, AppSecret: a.Secret, AccessToken: plain, SelfHosted: b.SelfHosted, Device: &dev}
	return out, nil
}

// DefaultMPS is a number's throughput unless configured: the public default.
const DefaultMPS = 80

func checkWebhook(u, verify string) error {
	if u == "" {
		if verify != "" {
			return fmt.Errorf("a verify token needs a webhook URL")
		}
		return nil
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return fmt.Errorf("webhook URL %q is not an http(s) URL", u)
	}
	if len(verify) > 256 {
		return fmt.Errorf("the verify token is longer than 256 bytes")
	}
	return nil
}

// TokenRequest asks for a token: for a business or for a partner.
type TokenRequest struct {
	Business kontor.ID `json:"business_id,omitempty"`
	Partner  kontor.ID `json:"partner_id,omitempty"`
	Scopes   string    `json:"scopes"` // "messaging,management"
	TTL      string    `json:"ttl,omitempty"`
	Label    string    `json:"label,omitempty"`
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID       kontor.ID `json:"id"`
	Business kontor.ID `json:"business_id,omitempty"`
	Partner  kontor.ID `json:"partner_id,omitempty"`
	Scopes   []string  `json:"scopes"`
	Label    string    `json:"label,omitempty"`
	Expires  int64     `json:"expires,omitempty"` // Unix s; 0 never
	Revoked  bool      `json:"revoked,omitempty"`
	Created  int64     `json:"created"`
	// Token is the secret, only when the token was just made.
	Token string `json:"access_token,omitempty"`
}

// Info describes t.
func Info(t Token) TokenInfo {
	i := TokenInfo{ID: t.ID, Business: t.Business, Partner: t.Partner, Scopes: t.Scopes.Names(), Label: t.Label, Revoked: t.Revoked, Created: t.Created.Unix()}
	if !t.Expires.IsZero() {
		i.Expires = t.Expires.Unix()
	}
	return i
}

// CreateToken makes a token.
func (s *Service) CreateToken(ctx context.Context, r TokenRequest) (TokenInfo, error) {
	const op = "business.CreateToken"
	if (r.Business == 0) == (r.Partner == 0) {
		return TokenInfo{}, kontor.Errorf(kontor.Invalid, op, "a token is for a business or for a partner: give one of business_id, partner_id")
	}
	sc, err := ParseScopes(r.Scopes)
	if err != nil {
		return TokenInfo{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error()}
	}
	var exp time.Time
	if r.TTL != "" {
		d, err := time.ParseDuration(r.TTL)
		if err != nil || d <= 0 {
			return TokenInfo{}, kontor.Errorf(kontor.Invalid, op, "ttl %q is not a positive duration such as 720h", r.TTL)
		}
		exp = s.clock.Now().Add(d)
	}
	if r.Business != 0 {
		if _, err := s.store.Business(ctx, r.Business); err != nil {
			return TokenInfo{}, err
		}
	} else if _, err := s.store.Partner(ctx, r.Partner); err != nil {
		return TokenInfo{}, err
	}
	plain, t := s.newToken(r.Business, r.Partner, sc, r.Label, exp)
	if err := s.store.PutToken(ctx, t); err != nil {
		return TokenInfo{}, err
	}
	i := Info(t)
	i.Token = plain
	return i, nil
}

// Tokens lists a business's or a partner's tokens.
func (s *Service) Tokens(ctx context.Context, business, partner kontor.ID) ([]TokenInfo, error) {
	ts, err := s.store.Tokens(ctx, business, partner)
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, Info(t))
	}
	return out, nil
}

// RevokeToken revokes a token for good.
func (s *Service) RevokeToken(ctx context.Context, id kontor.ID) error {
	return s.store.RevokeToken(ctx, id)
}

// CreatePartner makes a solution provider.
func (s *Service) CreatePartner(ctx context.Context, name string) (Partner, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 256 {
		return Partner{}, kontor.Errorf(kontor.Invalid, "business.CreatePartner", "a partner needs a name of at most 256 bytes")
	}
	p := Partner{ID: s.ids.Next(), Name: name, Created: s.clock.Now()}
	return p, s.store.CreatePartner(ctx, p)
}

// Grant gives a partner access to a business.
func (s *Service) Grant(ctx context.Context, partner, business kontor.ID) error {
	if _, err := s.store.Partner(ctx, partner); err != nil {
		return err
	}
	if _, err := s.store.Business(ctx, business); err != nil {
		return err
	}
	return s.store.Grant(ctx, partner, business)
}

// Ungrant takes a partner's access to a business away: the partner's
// tokens are refused for it from the next call on (on other nodes, when
// the directory hint arrives, within --directory-cache).
func (s *Service) Ungrant(ctx context.Context, partner, business kontor.ID) error {
	if _, err := s.store.Partner(ctx, partner); err != nil {
		return err
	}
	return s.store.Ungrant(ctx, partner, business)
}

// Caller is who an access token acts for.
type Caller struct {
	Token Token
}

// Authenticate checks an access token: known, not revoked, not expired.
func (s *Service) Authenticate(ctx context.Context, token string) (Caller, error) {
	const op = "business.Authenticate"
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return Caller{}, kontor.Errorf(kontor.Unauthenticated, op, "invalid OAuth access token")
	}
	t, err := s.store.TokenByHash(ctx, tokenHash(token))
	if kontor.KindOf(err) == kontor.NotFound {
		return Caller{}, kontor.Errorf(kontor.Unauthenticated, op, "invalid OAuth access token")
	}
	if err != nil {
		return Caller{}, err
	}
	if t.Revoked {
		return Caller{}, kontor.Errorf(kontor.Unauthenticated, op, "the access token was revoked")
	}
	if !t.Expires.IsZero() && !s.clock.Now().Before(t.Expires) {
		return Caller{}, kontor.Errorf(kontor.Unauthenticated, op, "the access token has expired")
	}
	return Caller{Token: t}, nil
}

// Allowed says whether the caller may act with scope on business.
func (s *Service) Allowed(ctx context.Context, c Caller, business kontor.ID, scope Scope) error {
	const op = "business.Allowed"
	if c.Token.Scopes&scope != scope {
		return kontor.Errorf(kontor.Forbidden, op, "the access token lacks the %s permission", strings.Join(scope.Names(), " and "))
	}
	if c.Token.Business != 0 {
		if c.Token.Business != business {
			return kontor.Errorf(kontor.Forbidden, op, "the access token is not for this business")
		}
		return nil
	}
	ok, err := s.store.Granted(ctx, c.Token.Partner, business)
	if err != nil {
		return err
	}
	if !ok {
		return kontor.Errorf(kontor.Forbidden, op, "the business has not granted this partner access")
	}
	return nil
}

// Store returns the store, for the API's reads.
func (s *Service) Store() Store { return s.store }

const tokenPrefix = "ktk_"

func (s *Service) newToken(business, partner kontor.ID, sc Scope, label string, exp time.Time) (string, Token) {
	plain := tokenPrefix + secret(32)
	return plain, Token{ID: s.ids.Next(), Hash: tokenHash(plain), Business: business, Partner: partner, Scopes: sc,
		Label: label, Expires: exp, Created: s.clock.Now()}
}

func tokenHash(t string) []byte {
	h := sha256.Sum256([]byte("kontor-business-token\x00" + t))
	return h[:]
}

// secret returns n random bytes, encoded for URLs and headers.
func secret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// appSecret is 128 random bits in hex, the shape of the public app secrets.
func appSecret() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// SetThroughput sets how many messages per second a number may send (the
// public default is 80, upgraded numbers 1,000); operators lift it for
// load tests.
func (s *Service) SetThroughput(ctx context.Context, number kontor.ID, mps int) error {
	if mps < 1 || mps > 1_000_000 {
		return kontor.Errorf(kontor.Invalid, "business.SetThroughput", "mps must be 1 to 1000000")
	}
	return s.store.SetNumberMPS(ctx, number, mps)
}

// tiers are the messaging-limit tiers a number can have.
var tiers = map[string]bool{"TIER_50": true, "TIER_250": true, "TIER_1K": true, "TIER_2K": true, "TIER_10K": true, "TIER_100K": true, "TIER_UNLIMITED": true}

// SetTier sets a number's messaging limit: how many people its
// business-initiated messages may reach in a moving 24 hours.
func (s *Service) SetTier(ctx context.Context, number kontor.ID, tier string) error {
	if !tiers[tier] {
		return kontor.Errorf(kontor.Invalid, "business.SetTier", "tier must be one of TIER_50, TIER_250, TIER_1K, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED")
	}
	if s.quality != nil {
		return s.quality.SetTier(ctx, number, tier)
	}
	return s.store.SetNumberTier(ctx, number, tier)
}
