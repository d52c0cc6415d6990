package consoleauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
)

// Role is what a console user is to the business.
type Role string

// The roles, from most to least trusted.
const (
	RoleOwner Role = "owner" // everything, and the only one who manages users
	RoleAdmin Role = "admin" // settings, tokens, webhooks, the app secret
	RoleAgent Role = "agent" // the day-to-day work: sees the profile and numbers
)

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleOwner, RoleAdmin, RoleAgent:
		return r, nil
	}
	return "", kontor.Errorf(kontor.Invalid, "consoleauth.ParseRole", "Choose a role: owner, admin or agent.")
}

// Action is something a role may or may not do.
type Action uint8

// The actions the console guards.
const (
	ViewSettings Action = iota // the business profile and the phone numbers
	EditSettings               // change the profile
	ViewWebhooks               // the webhook URL, verify token and the deliveries
	EditWebhooks               // change them, send a test event
	ManageTokens               // see, create and revoke API tokens
	RotateSecret               // rotate the app secret
	ManageUsers                // invite and remove users, change roles
	ViewCatalog                // the catalog, its products and the stock levels and history
	EditCatalog                // create, change and delete products, import and export feeds, set low-stock thresholds
	AdjustStock                // adjust a product's stock with a reason

	// The inbox.
	UseInbox           // read and answer conversations, assign them, write notes
	ManageQuickReplies // add and delete the business's quick replies

	// Orders and billing.
	HandleOrders // see orders, move them, send payment requests and order news
	RefundOrders // refund a paid order through the payment provider
	ViewBilling  // usage, credit balance and invoices
)

var allowed = map[Action][]Role{
	ViewSettings: {RoleOwner, RoleAdmin, RoleAgent},
	EditSettings: {RoleOwner, RoleAdmin},
	ViewWebhooks: {RoleOwner, RoleAdmin},
	EditWebhooks: {RoleOwner, RoleAdmin},
	ManageTokens: {RoleOwner, RoleAdmin},
	RotateSecret: {RoleOwner, RoleAdmin},
	ManageUsers:  {RoleOwner},
	ViewCatalog:  {RoleOwner, RoleAdmin, RoleAgent},
	EditCatalog:  {RoleOwner, RoleAdmin},
	AdjustStock:  {RoleOwner, RoleAdmin, RoleAgent},

	// Quick replies speak for the business: owners and admins keep them,
	// everyone uses them.
	UseInbox:           {RoleOwner, RoleAdmin, RoleAgent},
	ManageQuickReplies: {RoleOwner, RoleAdmin},

	// Orders and billing.
	HandleOrders: {RoleOwner, RoleAdmin, RoleAgent},
	RefundOrders: {RoleOwner, RoleAdmin},
	ViewBilling:  {RoleOwner, RoleAdmin},
}

// Can says whether role may do a.
func Can(role Role, a Action) bool {
	for _, r := range allowed[a] {
		if r == role {
			return true
		}
	}
	return false
}

// User is a person who signs in to the console of one business.
type User struct {
	ID       kontor.ID
	Business kontor.ID
	Email    string // lower case; unique on the platform
	Role     Role
	// PasswordHash is the PHC argon2id string; empty until the user
	// followed their set-password link.
	PasswordHash string
	Created      time.Time
}

// Session is a signed-in browser.
type Session struct {
	Hash    []byte // SHA-256 of the token in the cookie
	User    kontor.ID
	Created time.Time
	Seen    time.Time // last request (updated at most once a minute)
	Expires time.Time // the absolute end, however busy
}

// Invite is a single-use link: an invitation to become a user (User == 0),
// or a set-password link for an existing user.
type Invite struct {
	ID       kontor.ID
	Hash     []byte
	Business kontor.ID
	Email    string
	Role     Role
	User     kontor.ID // the user whose password the link sets; 0 for an invitation
	By       kontor.ID // who invited; 0 for the operator
	Created  time.Time
	Expires  time.Time
	Used     bool
}

// Store keeps console users. Implemented by internal/store.
type Store interface {
	// Business returns a business (kontor.NotFound when there is none).
	Business(ctx context.Context, id kontor.ID) (business.Business, error)
	// CreateConsoleUser stores a new user, and inv (when not nil) in the
	// same transaction. kontor.Conflict when the email has a user.
	CreateConsoleUser(ctx context.Context, u User, inv *Invite) error
	ConsoleUser(ctx context.Context, id kontor.ID) (User, error)
	ConsoleUserByEmail(ctx context.Context, email string) (User, error)
	// ConsoleUsers lists a business's users, by email.
	ConsoleUsers(ctx context.Context, business kontor.ID) ([]User, error)
	// SetConsoleRole changes a user's role; kontor.Conflict when that
	// would leave the business without an owner.
	SetConsoleRole(ctx context.Context, id kontor.ID, role Role) error
	// DeleteConsoleUser deletes a user with their sessions and links;
	// kontor.Conflict when they are the business's last owner.
	DeleteConsoleUser(ctx context.Context, id kontor.ID) error

	// SetConsolePassword replaces a user's password hash and ends all
	// their sessions, in one transaction.
	SetConsolePassword(ctx context.Context, id kontor.ID, hash string) error

	PutConsoleSession(ctx context.Context, s Session) error
	// ConsoleSession returns a session by its hash (kontor.NotFound).
	ConsoleSession(ctx context.Context, hash []byte) (Session, error)
	TouchConsoleSession(ctx context.Context, hash []byte, seen time.Time) error
	DeleteConsoleSession(ctx context.Context, hash []byte) error
	// DeleteConsoleSessions ends every session of a user and says how many.
	DeleteConsoleSessions(ctx context.Context, user kontor.ID) (int, error)

	PutConsoleInvite(ctx context.Context, inv Invite) error
	// ConsoleInvite returns a link by its hash, used or not (kontor.NotFound).
	ConsoleInvite(ctx context.Context, hash []byte) (Invite, error)
	// ConsoleInvites lists a business's invitations that are neither used
	// nor expired at now, the newest first.
	ConsoleInvites(ctx context.Context, business kontor.ID, now time.Time) ([]Invite, error)
	// DeleteConsoleInvite withdraws a link of business (kontor.NotFound).
	DeleteConsoleInvite(ctx context.Context, business, id kontor.ID) error
	// RedeemConsoleInvite uses a link once, in one transaction: it must
	// exist, be unused and not expired at now (else kontor.NotFound).
	// A set-password link sets the user's password to u.PasswordHash and
	// ends their sessions; an invitation creates the user u.ID with the
	// invitation's business, email and role (kontor.Conflict when the
	// email has a user by now). It returns the user.
	RedeemConsoleInvite(ctx context.Context, hash []byte, now time.Time, u User) (User, error)

	// ConsoleLockedUntil returns the latest lock of the keys (zero: none).
	ConsoleLockedUntil(ctx context.Context, keys []string) (time.Time, error)
	// ConsoleFailure counts a failed sign-in of key at at, atomically: the
	// count starts again from one when its window began before
	// windowStart; when it reaches max, the key is locked until lockUntil
	// and the count starts again. It returns the key's lock (zero: none).
	ConsoleFailure(ctx context.Context, key string, at, windowStart time.Time, max int, lockUntil time.Time) (time.Time, error)
	// ClearConsoleFailures forgets key's failures.
	ClearConsoleFailures(ctx context.Context, key string) error
	// PruneConsole deletes sessions and links expired at now and failure
	// counts whose window and lock ended before staleBefore.
	PruneConsole(ctx context.Context, now, staleBefore time.Time) (int, error)
}

// Config sets the service's limits; zero fields take the defaults.
type Config struct {
	// SessionIdle ends a session not used for so long (default 12 h);
	// SessionMax ends every session that long after sign-in (7 days).
	SessionIdle, SessionMax time.Duration
	// InviteTTL is how long an invitation (default 72 h), and LinkTTL how
	// long a set-password link (24 h) can be used.
	InviteTTL, LinkTTL time.Duration
	// AccountFailures failed sign-ins to one email within Window (default
	// 5 in 15 min) lock that email for Lockout (15 min); IPFailures (20)
	// from one address lock the address (IPv6 addresses count per /64).
	AccountFailures, IPFailures int
	Window, Lockout             time.Duration
	// Params are the argon2id costs of new passwords.
	Params Params
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.SessionIdle, 12*time.Hour)
	def(&c.SessionMax, 7*24*time.Hour)
	def(&c.InviteTTL, 72*time.Hour)
	def(&c.LinkTTL, 24*time.Hour)
	def(&c.Window, 15*time.Minute)
	def(&c.Lockout, 15*time.Minute)
	if c.AccountFailures <= 0 {
		c.AccountFailures = 5
	}
	if c.IPFailures <= 0 {
		c.IPFailures = 20
	}
	if c.Params.Memory == 0 {
		c.Params = DefaultParams()
	}
}

// Service signs console users in and manages them.
type Service struct {
	cfg   Config
	store Store
	ids   *kontor.IDs
	clock kontor.Clock
	log   *slog.Logger

	dummyOnce sync.Once
	dummy     string // a hash to check against when the email has none
}

// New returns the service.
func New(cfg Config, store Store, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger) *Service {
	cfg.defaults()
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: store, ids: ids, clock: clock, log: log}
}

// Config returns the limits in force.
func (s *Service) Config() Config { return s.cfg }

// Errors the console must tell apart.
var (
	// ErrBadCredentials: the email or the password is wrong (which, is
	// not said).
	ErrBadCredentials = &kontor.Error{Kind: kontor.Unauthenticated, Op: "consoleauth.SignIn", Msg: "The email address or the password is not right."}
	// ErrSessionEnded: no session, or it expired or was ended.
	ErrSessionEnded = &kontor.Error{Kind: kontor.Unauthenticated, Op: "consoleauth.Authenticate", Msg: "Your session has ended. Please sign in again."}
	// ErrLinkInvalid: the link was used, expired, withdrawn or never made.
	ErrLinkInvalid = &kontor.Error{Kind: kontor.NotFound, Op: "consoleauth.Redeem", Msg: "This link cannot be used any more: it was used already, it expired or it was withdrawn. Ask for a new one."}
)

// LockedError is returned while sign-ins are locked.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "consoleauth: sign-in locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Locked returns the kontor error of a lock that ends at until.
func locked(until, now time.Time) error {
	mins := int((until.Sub(now) + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	word := "minutes"
	if mins == 1 {
		word = "minute"
	}
	return &kontor.Error{Kind: kontor.RateLimited, Op: "consoleauth.SignIn",
		Msg: fmt.Sprintf("Too many failed sign-ins. Wait %d %s, then try again.", mins, word), Err: &LockedError{Until: until}}
}

// NormalizeEmail checks an email address and returns it in lower case.
func NormalizeEmail(s string) (string, error) {
	const op = "consoleauth.NormalizeEmail"
	s = strings.TrimSpace(s)
	if s == "" {
		return "", kontor.Errorf(kontor.Invalid, op, "Enter an email address.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", kontor.Errorf(kontor.Invalid, op, "%q is not an email address such as ana@example.com.", s)
	}
	return strings.ToLower(s), nil
}

// token prefixes, so that a leaked value says what it is.
const (
	sessionPrefix = "kcs_"
	linkPrefix    = "kcl_"
)

func newToken(prefix string) (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	t := prefix + base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte("kontor-console-token\x00" + t))
	return h[:]
}

// validToken says whether t can be one of ours (before any lookup).
func validToken(t, prefix string) bool {
	return strings.HasPrefix(t, prefix) && len(t) == len(prefix)+43
}

// CreateUser is what the operator gives to make a user.
type CreateUser struct {
	Business kontor.ID
	Email    string
	Role     string
	// Password, when not empty, is set at once; otherwise the answer
	// holds a set-password link's token.
	Password string
}

// Create makes a user for the operator: with the password given, or with a
// single-use set-password link (its token is returned, once).
func (s *Service) Create(ctx context.Context, r CreateUser) (User, string, error) {
	const op = "consoleauth.Create"
	email, err := NormalizeEmail(r.Email)
	if err != nil {
		return User{}, "", err
	}
	role, err := ParseRole(r.Role)
	if err != nil {
		return User{}, "", err
	}
	if _, err := s.store.Business(ctx, r.Business); err != nil {
		return User{}, "", err
	}
	now := s.clock.Now()
	u := User{ID: s.ids.Next(), Business: r.Business, Email: email, Role: role, Created: now}
	var inv *Invite
	var tok string
	if r.Password != "" {
		if msg := checkPassword(r.Password); msg != "" {
			return User{}, "", kontor.Errorf(kontor.Invalid, op, "%s", msg)
		}
		u.PasswordHash = HashPassword(r.Password, s.cfg.Params)
	} else {
		var h []byte
		tok, h = newToken(linkPrefix)
		inv = &Invite{ID: s.ids.Next(), Hash: h, Business: r.Business, Email: email, Role: role, User: u.ID, Created: now, Expires: now.Add(s.cfg.LinkTTL)}
	}
	if err := s.store.CreateConsoleUser(ctx, u, inv); err != nil {
		return User{}, "", err
	}
	s.log.Info("console user created", "business", u.Business, "user", u.ID, "role", u.Role)
	return u, tok, nil
}

// ResetLink makes a single-use set-password link for the user of email
// (the operator's way back in for an owner who lost their password). The
// user's sessions end when it is used.
func (s *Service) ResetLink(ctx context.Context, email string) (Invite, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return Invite{}, "", err
	}
	u, err := s.store.ConsoleUserByEmail(ctx, email)
	if err != nil {
		return Invite{}, "", err
	}
	now := s.clock.Now()
	tok, h := newToken(linkPrefix)
	inv := Invite{ID: s.ids.Next(), Hash: h, Business: u.Business, Email: u.Email, Role: u.Role, User: u.ID, Created: now, Expires: now.Add(s.cfg.LinkTTL)}
	if err := s.store.PutConsoleInvite(ctx, inv); err != nil {
		return Invite{}, "", err
	}
	return inv, tok, nil
}

// ipKey is the lockout key of a client address: the address, or its /64
// for IPv6 (one host usually has a whole /64).
func ipKey(ip string) string {
	p := net.ParseIP(ip)
	switch {
	case p == nil:
		return "ip:" + ip
	case p.To4() != nil:
		return "ip:" + p.To4().String()
	default:
		return "ip:" + p.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}

func accountKey(email string) string { return "email:" + email }

// SignIn checks an email and password from a client at ip and starts a
// session; it returns the session's token (for the cookie) and the user.
// Every failure but a lock is ErrBadCredentials, whether the email is
// unknown, has no password yet, or the password is wrong; each costs one
// argon2id check. Failures count per email and per address; at the limit,
// sign-ins are locked (a *kontor.Error of kind RateLimited).
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (string, User, error) {
	now := s.clock.Now()
	norm, nerr := NormalizeEmail(email)
	if nerr != nil {
		norm = strings.ToLower(strings.TrimSpace(email))
		if len(norm) > 254 {
			norm = norm[:254]
		}
	}
	acct, addr := accountKey(norm), ipKey(ip)
	until, err := s.store.ConsoleLockedUntil(ctx, []string{acct, addr})
	if err != nil {
		return "", User{}, err
	}
	if now.Before(until) {
		return "", User{}, locked(until, now)
	}
	var u User
	found := false
	if nerr == nil {
		u, err = s.store.ConsoleUserByEmail(ctx, norm)
		switch {
		case err == nil:
			found = u.PasswordHash != ""
		case kontor.KindOf(err) != kontor.NotFound:
			return "", User{}, err
		}
	}
	hash := u.PasswordHash
	if !found {
		hash = s.dummyHash()
	}
	pw := password
	if len(pw) > MaxPassword {
		pw = pw[:MaxPassword] // still checked, never matches a stored one (they are at most that)
		found = false
	}
	ok := VerifyPassword(pw, hash) && found
	if !ok {
		return "", User{}, s.failed(ctx, now, acct, addr)
	}
	if err := s.store.ClearConsoleFailures(ctx, acct); err != nil {
		return "", User{}, err
	}
	tok, h := newToken(sessionPrefix)
	sess := Session{Hash: h, User: u.ID, Created: now, Seen: now, Expires: now.Add(s.cfg.SessionMax)}
	if err := s.store.PutConsoleSession(ctx, sess); err != nil {
		return "", User{}, err
	}
	s.log.Info("console sign-in", "business", u.Business, "user", u.ID)
	return tok, u, nil
}

// ChangePassword sets a new password for u, who must give the current one
// (a wrong one counts as a failed sign-in, and the lockout applies). Every
// session of u ends; the answer is a new session's token for this browser.
func (s *Service) ChangePassword(ctx context.Context, u User, current, next, ip string) (string, error) {
	const op = "consoleauth.ChangePassword"
	now := s.clock.Now()
	acct, addr := accountKey(u.Email), ipKey(ip)
	until, err := s.store.ConsoleLockedUntil(ctx, []string{acct, addr})
	if err != nil {
		return "", err
	}
	if now.Before(until) {
		return "", locked(until, now)
	}
	if len(current) > MaxPassword || !VerifyPassword(current, u.PasswordHash) {
		if err := s.failed(ctx, now, acct, addr); kontor.KindOf(err) == kontor.RateLimited {
			return "", err
		} else if err != ErrBadCredentials {
			return "", err
		}
		return "", kontor.Errorf(kontor.Invalid, op, "The current password is not right.")
	}
	if msg := checkPassword(next); msg != "" {
		return "", kontor.Errorf(kontor.Invalid, op, "%s", msg)
	}
	if next == current {
		return "", kontor.Errorf(kontor.Invalid, op, "The new password is the current one. Choose another.")
	}
	if err := s.store.SetConsolePassword(ctx, u.ID, HashPassword(next, s.cfg.Params)); err != nil {
		return "", err
	}
	tok, h := newToken(sessionPrefix)
	if err := s.store.PutConsoleSession(ctx, Session{Hash: h, User: u.ID, Created: now, Seen: now, Expires: now.Add(s.cfg.SessionMax)}); err != nil {
		return "", err
	}
	s.log.Info("console password changed", "business", u.Business, "user", u.ID)
	return tok, nil
}

// failed counts a failed sign-in against both keys.
func (s *Service) failed(ctx context.Context, now time.Time, acct, addr string) error {
	var lock time.Time
	for _, k := range []struct {
		key string
		max int
	}{{acct, s.cfg.AccountFailures}, {addr, s.cfg.IPFailures}} {
		l, err := s.store.ConsoleFailure(ctx, k.key, now, now.Add(-s.cfg.Window), k.max, now.Add(s.cfg.Lockout))
		if err != nil {
			return err
		}
		if l.After(lock) {
			lock = l
		}
	}
	if now.Before(lock) {
		s.log.Warn("console sign-ins locked after repeated failures", "until", lock)
		return locked(lock, now)
	}
	return ErrBadCredentials
}

// dummyHash is checked when an email has no password, so that such a
// sign-in costs what a wrong password costs.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		s.dummy = HashPassword(base64.RawURLEncoding.EncodeToString(b), s.cfg.Params)
	})
	return s.dummy
}

// Authenticate returns the session of a cookie's token and its user, fresh
// from the store (a changed role applies at once).
func (s *Service) Authenticate(ctx context.Context, token string) (Session, User, error) {
	if !validToken(token, sessionPrefix) {
		return Session{}, User{}, ErrSessionEnded
	}
	h := hashToken(token)
	sess, err := s.store.ConsoleSession(ctx, h)
	if kontor.KindOf(err) == kontor.NotFound {
		return Session{}, User{}, ErrSessionEnded
	}
	if err != nil {
		return Session{}, User{}, err
	}
	now := s.clock.Now()
	if !now.Before(sess.Expires) || !now.Before(sess.Seen.Add(s.cfg.SessionIdle)) {
		_ = s.store.DeleteConsoleSession(ctx, h)
		return Session{}, User{}, ErrSessionEnded
	}
	u, err := s.store.ConsoleUser(ctx, sess.User)
	if kontor.KindOf(err) == kontor.NotFound {
		return Session{}, User{}, ErrSessionEnded
	}
	if err != nil {
		return Session{}, User{}, err
	}
	if now.Sub(sess.Seen) >= time.Minute {
		if err := s.store.TouchConsoleSession(ctx, h, now); err != nil {
			return Session{}, User{}, err
		}
		sess.Seen = now
	}
	return sess, u, nil
}

// CSRFToken is the token every form of the session must send back.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("kontor console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF says, in constant time, whether got is the session's token.
func CheckCSRF(sessionToken, got string) bool {
	return sessionToken != "" && hmac.Equal([]byte(CSRFToken(sessionToken)), []byte(got))
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if !validToken(token, sessionPrefix) {
		return nil
	}
	return s.store.DeleteConsoleSession(ctx, hashToken(token))
}

// SignOutEverywhere ends every session of the user, this one too.
func (s *Service) SignOutEverywhere(ctx context.Context, u User) (int, error) {
	n, err := s.store.DeleteConsoleSessions(ctx, u.ID)
	if err == nil {
		s.log.Info("console user signed out everywhere", "user", u.ID, "sessions", n)
	}
	return n, err
}

// forbid is the error of an action the role may not do.
func forbid(op string, u User) error {
	return kontor.Errorf(kontor.Forbidden, op, "Your role (%s) does not allow this. Ask an owner of the business.", u.Role)
}

// Allow returns a Forbidden error unless u may do a.
func Allow(u User, a Action) error {
	if !Can(u.Role, a) {
		return forbid("consoleauth.Allow", u)
	}
	return nil
}

// Invite makes an invitation for email to join the actor's business with
// role; only owners invite. The token goes into the link, once.
func (s *Service) Invite(ctx context.Context, actor User, email, role string) (Invite, string, error) {
	const op = "consoleauth.Invite"
	if !Can(actor.Role, ManageUsers) {
		return Invite{}, "", forbid(op, actor)
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return Invite{}, "", err
	}
	r, err := ParseRole(role)
	if err != nil {
		return Invite{}, "", err
	}
	if _, err := s.store.ConsoleUserByEmail(ctx, email); err == nil {
		return Invite{}, "", kontor.Errorf(kontor.Conflict, op, "%s already has a console account. A person can belong to one business only.", email)
	} else if kontor.KindOf(err) != kontor.NotFound {
		return Invite{}, "", err
	}
	now := s.clock.Now()
	tok, h := newToken(linkPrefix)
	inv := Invite{ID: s.ids.Next(), Hash: h, Business: actor.Business, Email: email, Role: r, By: actor.ID, Created: now, Expires: now.Add(s.cfg.InviteTTL)}
	if err := s.store.PutConsoleInvite(ctx, inv); err != nil {
		return Invite{}, "", err
	}
	s.log.Info("console invitation", "business", inv.Business, "by", actor.ID, "role", r)
	return inv, tok, nil
}

// Invites lists the open invitations of the actor's business (owners only).
func (s *Service) Invites(ctx context.Context, actor User) ([]Invite, error) {
	if !Can(actor.Role, ManageUsers) {
		return nil, forbid("consoleauth.Invites", actor)
	}
	all, err := s.store.ConsoleInvites(ctx, actor.Business, s.clock.Now())
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, i := range all {
		if i.User == 0 {
			out = append(out, i)
		}
	}
	return out, nil
}

// WithdrawInvite withdraws an invitation of the actor's business.
func (s *Service) WithdrawInvite(ctx context.Context, actor User, id kontor.ID) error {
	if !Can(actor.Role, ManageUsers) {
		return forbid("consoleauth.WithdrawInvite", actor)
	}
	return s.store.DeleteConsoleInvite(ctx, actor.Business, id)
}

// Link returns the open link of token, to show whom it is for.
func (s *Service) Link(ctx context.Context, token string) (Invite, error) {
	if !validToken(token, linkPrefix) {
		return Invite{}, ErrLinkInvalid
	}
	inv, err := s.store.ConsoleInvite(ctx, hashToken(token))
	if kontor.KindOf(err) == kontor.NotFound || (err == nil && (inv.Used || !s.clock.Now().Before(inv.Expires))) {
		return Invite{}, ErrLinkInvalid
	}
	return inv, err
}

// Redeem uses a link once: it sets the password of the link's user, or
// creates the invited user with it.
func (s *Service) Redeem(ctx context.Context, token, password string) (User, error) {
	const op = "consoleauth.Redeem"
	if !validToken(token, linkPrefix) {
		return User{}, ErrLinkInvalid
	}
	if msg := checkPassword(password); msg != "" {
		return User{}, kontor.Errorf(kontor.Invalid, op, "%s", msg)
	}
	now := s.clock.Now()
	u := User{ID: s.ids.Next(), PasswordHash: HashPassword(password, s.cfg.Params), Created: now}
	got, err := s.store.RedeemConsoleInvite(ctx, hashToken(token), now, u)
	if kontor.KindOf(err) == kontor.NotFound {
		return User{}, ErrLinkInvalid
	}
	if err != nil {
		return User{}, err
	}
	s.log.Info("console link used", "business", got.Business, "user", got.ID)
	return got, nil
}

// Users lists the actor's colleagues (owners only).
func (s *Service) Users(ctx context.Context, actor User) ([]User, error) {
	if !Can(actor.Role, ManageUsers) {
		return nil, forbid("consoleauth.Users", actor)
	}
	return s.store.ConsoleUsers(ctx, actor.Business)
}

// Colleagues lists the users of the actor's business, for anyone who
// may assign conversations to them (every role).
func (s *Service) Colleagues(ctx context.Context, actor User) ([]User, error) {
	if !Can(actor.Role, UseInbox) {
		return nil, forbid("consoleauth.Colleagues", actor)
	}
	return s.store.ConsoleUsers(ctx, actor.Business)
}

// colleague returns user id if it belongs to the actor's business; a user
// of another business is NotFound, as if it did not exist.
func (s *Service) colleague(ctx context.Context, op string, actor User, id kontor.ID) (User, error) {
	if !Can(actor.Role, ManageUsers) {
		return User{}, forbid(op, actor)
	}
	u, err := s.store.ConsoleUser(ctx, id)
	if err == nil && u.Business != actor.Business {
		err = kontor.Errorf(kontor.NotFound, op, "There is no such user.")
	}
	return u, err
}

// SetRole changes a colleague's role (owners only; a business keeps at
// least one owner).
func (s *Service) SetRole(ctx context.Context, actor User, id kontor.ID, role string) error {
	const op = "consoleauth.SetRole"
	r, err := ParseRole(role)
	if err != nil {
		return err
	}
	if _, err := s.colleague(ctx, op, actor, id); err != nil {
		return err
	}
	return s.store.SetConsoleRole(ctx, id, r)
}

// Remove deletes a colleague and ends their sessions (owners only; not the
// last owner).
func (s *Service) Remove(ctx context.Context, actor User, id kontor.ID) error {
	const op = "consoleauth.Remove"
	if _, err := s.colleague(ctx, op, actor, id); err != nil {
		return err
	}
	return s.store.DeleteConsoleUser(ctx, id)
}

// Prune deletes expired sessions, links and old failure counts.
func (s *Service) Prune(ctx context.Context) (int, error) {
	now := s.clock.Now()
	return s.store.PruneConsole(ctx, now, now.Add(-s.cfg.Window-s.cfg.Lockout))
}
