package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// Sentinel errors the transports tell apart.
var (
	ErrBadCode       = errors.New("identity: wrong or expired code")
	ErrTooManyTries  = errors.New("identity: too many tries")
	ErrBadCredential = errors.New("identity: bad credential")
)

// Limits of registration.
const (
	CodeTTL          = 10 * time.Minute
	CodeMaxTries     = 5
	LinkCodeTTL      = 10 * time.Minute
	MaxDevices       = 5
	codeWindow       = time.Hour
	maxCodesPerPhone = 5  // code requests per phone per codeWindow
	maxCodesPerIP    = 20 // code requests per client address per codeWindow
)

// CodeSender delivers a one-time code to a phone number (an SMS gateway, or
// the development sender that logs it).
type CodeSender interface {
	SendCode(ctx context.Context, phone kontor.Phone, code string) error
}

// Notifier is told when an account's devices change, so caches elsewhere
// (and on other nodes) can be refreshed. It is a hint; it may be lost.
type Notifier interface {
	DevicesChanged(account kontor.ID)
	// DeviceRemoved is told that a device is gone, so its connections close.
	DeviceRemoved(device kontor.ID)
}

// Service is the identity logic.
type Service struct {
	store  Store
	sender CodeSender
	notify Notifier
	ids    *kontor.IDs
	clock  kontor.Clock
	log    *slog.Logger
}

// New returns a Service. notify may be nil.
func New(store Store, sender CodeSender, notify Notifier, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger) *Service {
	if notify == nil {
		notify = nopNotifier{}
	}
	return &Service{store: store, sender: sender, notify: notify, ids: ids, clock: clock, log: log}
}

type nopNotifier struct{}

func (nopNotifier) DevicesChanged(kontor.ID) {}
func (nopNotifier) DeviceRemoved(kontor.ID)  {}

// RequestCode makes a one-time code for phone and sends it. ip is the client
// address, for rate limiting.
func (s *Service) RequestCode(ctx context.Context, phone string, ip string) (time.Duration, error) {
	const op = "identity.RequestCode"
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	byPhone, byIP, err := s.store.LogCodeRequest(ctx, p, ip, now, now.Add(-codeWindow))
	if err != nil {
		return 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	if byPhone > maxCodesPerPhone {
		return 0, kontor.Errorf(kontor.RateLimited, op, "too many codes asked for %s; try again within the hour", p)
	}
	if byIP > maxCodesPerIP {
		return 0, kontor.Errorf(kontor.RateLimited, op, "too many codes asked from this address; try again within the hour")
	}
	code := randomDigits(6)
	c := Code{Phone: p, Hash: codeHash(p, code), Expires: now.Add(CodeTTL), Created: now}
	if err := s.store.PutCode(ctx, c); err != nil {
		return 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	if err := s.sender.SendCode(ctx, p, code); err != nil {
		return 0, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the code could not be sent; try again later", Err: err}
	}
	return CodeTTL, nil
}

// Verify checks code for phone and registers the number: a new account, or
// the existing one moved to this new primary device (its other devices are
// signed out). It returns the device credentials.
func (s *Service) Verify(ctx context.Context, phone, code, deviceName string) (Credentials, error) {
	const op = "identity.Verify"
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return Credentials{}, err
	}
	c, err := s.store.Code(ctx, p)
	if kontor.KindOf(err) == kontor.NotFound {
		return Credentials{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "no code is pending for this number; ask for one first", Err: ErrBadCode}
	}
	if err != nil {
		return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	now := s.clock.Now()
	if now.After(c.Expires) {
		_ = s.store.DeleteCode(ctx, p)
		return Credentials{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "the code has expired; ask for a new one", Err: ErrBadCode}
	}
	if c.Attempts >= CodeMaxTries {
		return Credentials{}, &kontor.Error{Kind: kontor.RateLimited, Op: op, Msg: "too many wrong codes; ask for a new one", Err: ErrTooManyTries}
	}
	if subtle.ConstantTimeCompare(c.Hash, codeHash(p, strings.TrimSpace(code))) != 1 {
		n, err := s.store.AddCodeAttempt(ctx, p)
		if err != nil {
			return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
		}
		if n >= CodeMaxTries {
			_ = s.store.DeleteCode(ctx, p)
			return Credentials{}, &kontor.Error{Kind: kontor.RateLimited, Op: op, Msg: "too many wrong codes; ask for a new one", Err: ErrTooManyTries}
		}
		return Credentials{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: fmt.Sprintf("wrong code; %d tries left", CodeMaxTries-n), Err: ErrBadCode}
	}
	if err := s.store.DeleteCode(ctx, p); err != nil {
		return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	return s.register(ctx, p, deviceName)
}

// RegisterDirect registers phone without a code. It is for operators (and the
// load generator, through the admin API).
func (s *Service) RegisterDirect(ctx context.Context, phone, deviceName string) (Credentials, error) {
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return Credentials{}, err
	}
	return s.register(ctx, p, deviceName)
}

func (s *Service) register(ctx context.Context, p kontor.Phone, deviceName string) (Credentials, error) {
	const op = "identity.register"
	now := s.clock.Now()
	secret := randomSecret()
	d := Device{ID: s.ids.Next(), Name: clip(deviceName, 64), SecretHash: secretHash(secret), Primary: true, Created: now}
	old, oldErr := s.store.AccountByPhone(ctx, p)
	var oldDevices []Device
	if oldErr == nil {
		oldDevices, _ = s.store.Devices(ctx, old.ID)
	}
	acct, d, err := s.store.Register(ctx, Account{ID: s.ids.Next(), Phone: p, Created: now, LastSeenPrivacy: PrivacyEveryone}, d)
	if err != nil {
		return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	for _, od := range oldDevices {
		s.notify.DeviceRemoved(od.ID)
	}
	s.notify.DevicesChanged(acct.ID)
	s.log.Info("registered", "phone", string(p), "account", acct.ID, "device", d.Num)
	return Credentials{Phone: p, DeviceNum: d.Num, Credential: credential(d.ID, secret)}, nil
}

// Credentials is what a device keeps to act as itself.
type Credentials struct {
	Phone      kontor.Phone
	DeviceNum  int
	Credential string
}

// Authenticate checks a device credential and returns the device and its account.
func (s *Service) Authenticate(ctx context.Context, cred string) (Device, Account, error) {
	const op = "identity.Authenticate"
	fail := &kontor.Error{Kind: kontor.Unauthenticated, Op: op, Msg: "the credential is not valid (revoked, deleted or malformed)", Err: ErrBadCredential}
	id, secret, ok := parseCredential(cred)
	if !ok {
		return Device{}, Account{}, fail
	}
	d, a, err := s.store.Device(ctx, id)
	if kontor.KindOf(err) == kontor.NotFound {
		return Device{}, Account{}, fail
	}
	if err != nil {
		return Device{}, Account{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	if subtle.ConstantTimeCompare(d.SecretHash, secretHash(secret)) != 1 {
		return Device{}, Account{}, fail
	}
	return d, a, nil
}

// LinkCode makes a one-time code with which a new device joins the account
// of the primary device d.
func (s *Service) LinkCode(ctx context.Context, d Device) (string, time.Duration, error) {
	const op = "identity.LinkCode"
	if !d.Primary {
		return "", 0, kontor.Errorf(kontor.Forbidden, op, "only the primary device can link new devices")
	}
	code := randomDigits(3) + "-" + randomDigits(3) + "-" + randomDigits(3)
	if err := s.store.PutLinkCode(ctx, linkHash(code), d.AccountID, s.clock.Now().Add(LinkCodeTTL)); err != nil {
		return "", 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	return code, LinkCodeTTL, nil
}

// Link adds a new device to the account of phone with a link code from its
// primary device.
func (s *Service) Link(ctx context.Context, phone, code, deviceName string) (Credentials, error) {
	const op = "identity.Link"
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return Credentials{}, err
	}
	acct, err := s.store.AccountByPhone(ctx, p)
	if kontor.KindOf(err) == kontor.NotFound {
		return Credentials{}, kontor.Errorf(kontor.Invalid, op, "the link code is wrong or expired")
	}
	if err != nil {
		return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	accountID, err := s.store.TakeLinkCode(ctx, linkHash(strings.TrimSpace(code)), s.clock.Now())
	if kontor.KindOf(err) == kontor.NotFound || (err == nil && accountID != acct.ID) {
		return Credentials{}, kontor.Errorf(kontor.Invalid, op, "the link code is wrong or expired")
	}
	if err != nil {
		return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	secret := randomSecret()
	d := Device{ID: s.ids.Next(), AccountID: acct.ID, Name: clip(deviceName, 64), SecretHash: secretHash(secret), Created: s.clock.Now()}
	d, err = s.store.AddDevice(ctx, d, MaxDevices)
	if kontor.KindOf(err) == kontor.Conflict {
		return Credentials{}, kontor.Errorf(kontor.Conflict, op, "the account has %d devices already; remove one first", MaxDevices)
	}
	if err != nil {
		return Credentials{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	s.notify.DevicesChanged(acct.ID)
	s.log.Info("device linked", "phone", string(p), "device", d.Num)
	return Credentials{Phone: p, DeviceNum: d.Num, Credential: credential(d.ID, secret)}, nil
}

// Devices returns the current devices of the account of phone.
func (s *Service) Devices(ctx context.Context, phone string) (Account, []Device, error) {
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return Account{}, nil, err
	}
	a, err := s.store.AccountByPhone(ctx, p)
	if kontor.KindOf(err) == kontor.NotFound {
		return Account{}, nil, kontor.Errorf(kontor.NotFound, "identity.Devices", "no account has the number %s", p)
	}
	if err != nil {
		return Account{}, nil, err
	}
	ds, err := s.store.Devices(ctx, a.ID)
	return a, ds, err
}

// RemoveDevice signs out device num of the account of by. A primary device may
// remove any other device; any device may remove itself. Removing the
// primary itself deletes nothing else: use DeleteAccount for that.
func (s *Service) RemoveDevice(ctx context.Context, by Device, num int) error {
	const op = "identity.RemoveDevice"
	if num != by.Num && !by.Primary {
		return kontor.Errorf(kontor.Forbidden, op, "only the primary device can remove other devices")
	}
	ds, err := s.store.Devices(ctx, by.AccountID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Num == num {
			if err := s.store.RemoveDevice(ctx, d.ID); err != nil {
				return err
			}
			s.notify.DeviceRemoved(d.ID)
			s.notify.DevicesChanged(by.AccountID)
			return nil
		}
	}
	return kontor.Errorf(kontor.NotFound, op, "the account has no device %d", num)
}

// DeleteAccount deletes the account of device by, all its devices and all
// messages queued for them.
func (s *Service) DeleteAccount(ctx context.Context, by Device) error {
	ds, _ := s.store.Devices(ctx, by.AccountID)
	if err := s.store.DeleteAccount(ctx, by.AccountID); err != nil {
		return err
	}
	for _, d := range ds {
		s.notify.DeviceRemoved(d.ID)
	}
	s.notify.DevicesChanged(by.AccountID)
	return nil
}

// SetLastSeenPrivacy sets who may see when the account was last online.
func (s *Service) SetLastSeenPrivacy(ctx context.Context, by Device, who string) error {
	if who != PrivacyEveryone && who != PrivacyNobody {
		return kontor.Errorf(kontor.Invalid, "identity.SetLastSeenPrivacy", "last_seen must be %q or %q", PrivacyEveryone, PrivacyNobody)
	}
	return s.store.SetPrivacy(ctx, by.AccountID, who)
}

// Block stops messages from phone reaching the account of by: the sender
// is not told (its message stays at one tick, as on other messengers).
func (s *Service) Block(ctx context.Context, by Device, phone string) error {
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return err
	}
	if err := s.store.Block(ctx, by.AccountID, p, s.clock.Now()); err != nil {
		return err
	}
	s.notify.DevicesChanged(by.AccountID) // routers reload the account, blocks included
	return nil
}

// Unblock lets messages from phone reach the account of by again.
func (s *Service) Unblock(ctx context.Context, by Device, phone string) error {
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return err
	}
	if err := s.store.Unblock(ctx, by.AccountID, p); err != nil {
		return err
	}
	s.notify.DevicesChanged(by.AccountID)
	return nil
}

// Blocked lists the numbers the account of by blocked.
func (s *Service) Blocked(ctx context.Context, by Device) ([]kontor.Phone, error) {
	return s.store.Blocked(ctx, by.AccountID)
}

// Seen records that device d was connected at t.
func (s *Service) Seen(ctx context.Context, d kontor.ID, t time.Time) error {
	return s.store.SetLastSeen(ctx, d, t)
}

// Account returns the account of phone.
func (s *Service) Account(ctx context.Context, phone kontor.Phone) (Account, error) {
	return s.store.AccountByPhone(ctx, phone)
}

// EnsureOperatorToken stores the hash of an operator token.
func (s *Service) EnsureOperatorToken(ctx context.Context, token string) error {
	ok, err := s.store.OperatorToken(ctx, tokenHash(token))
	if err != nil || ok {
		return err
	}
	return s.store.AddOperatorToken(ctx, tokenHash(token), s.clock.Now())
}

// Operator checks an operator token.
func (s *Service) Operator(ctx context.Context, token string) error {
	const op = "identity.Operator"
	if token == "" {
		return kontor.Errorf(kontor.Unauthenticated, op, "an operator token is required")
	}
	ok, err := s.store.OperatorToken(ctx, tokenHash(token))
	if err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	if !ok {
		return kontor.Errorf(kontor.Unauthenticated, op, "the operator token is not valid")
	}
	return nil
}

// Prune removes expired codes and old request logs.
func (s *Service) Prune(ctx context.Context) error {
	return s.store.PruneCodes(ctx, s.clock.Now().Add(-codeWindow))
}

// NewOperatorToken returns a fresh random operator token.
func NewOperatorToken() string { return "kop_" + randomSecret() }

// credential is "kd_" + device id + "_" + secret.
func credential(id kontor.ID, secret string) string {
	return "kd_" + id.String() + "_" + secret
}

func parseCredential(s string) (kontor.ID, string, bool) {
	rest, ok := strings.CutPrefix(s, "kd_")
	if !ok {
		return 0, "", false
	}
	idPart, secret, ok := strings.Cut(rest, "_")
	if !ok || len(secret) < 20 {
		return 0, "", false
	}
	n, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || n <= 0 {
		return 0, "", false
	}
	return kontor.ID(n), secret, true
}

func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// randomDigits returns n uniformly random decimal digits.
func randomDigits(n int) string {
	out := make([]byte, n)
	for i := range out {
		for {
			var b [1]byte
			_, _ = rand.Read(b[:])
			if b[0] < 250 { // 250 = 25*10: no modulo bias
				out[i] = '0' + b[0]%10
				break
			}
		}
	}
	return string(out)
}

func codeHash(p kontor.Phone, code string) []byte {
	h := sha256.Sum256([]byte("kontor-otp\x00" + string(p) + "\x00" + code))
	return h[:]
}

func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte("kontor-device\x00" + secret))
	return h[:]
}

func linkHash(code string) []byte {
	h := sha256.Sum256([]byte("kontor-link\x00" + code))
	return h[:]
}

func tokenHash(t string) []byte {
	h := sha256.Sum256([]byte("kontor-operator\x00" + t))
	return h[:]
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
