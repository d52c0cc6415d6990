package identity

import (
	"context"
	"time"

	"github.com/kontor-chat/kontor"
)

// Account is a person's (or, later, a business number's) registration.
type Account struct {
	ID      kontor.ID
	Phone   kontor.Phone
	Created time.Time
	// LastSeen is when a device of the account was last connected (zero if never).
	LastSeen time.Time
	// LastSeenPrivacy is who may see LastSeen: PrivacyEveryone or PrivacyNobody.
	LastSeenPrivacy string
}

// Who may see an account's last-seen time.
const (
	PrivacyEveryone = "everyone"
	PrivacyNobody   = "nobody"
)

// Device is one device of an account. Num is its number within the account:
// 1 for the first primary, then counting up; numbers are never reused within
// an account, so a peer never confuses a new device with an old one.
type Device struct {
	ID         kontor.ID // global id
	AccountID  kontor.ID
	Num        int
	Name       string
	SecretHash []byte // SHA-256 of the device secret
	Primary    bool
	Created    time.Time
	LastSeen   time.Time
}

// Code is a pending one-time registration code for a phone number.
type Code struct {
	Phone    kontor.Phone
	Hash     []byte // SHA-256 of phone and code
	Expires  time.Time
	Attempts int
	Created  time.Time
}

// Store is what identity needs from storage. Every method is one transaction.
// Methods return a *kontor.Error of kind NotFound when the thing asked for
// does not exist.
type Store interface {
	// PutCode stores c, replacing any pending code of the same phone.
	PutCode(ctx context.Context, c Code) error
	// Code returns the pending code of phone.
	Code(ctx context.Context, phone kontor.Phone) (Code, error)
	// AddCodeAttempt counts one failed try and returns the new count.
	AddCodeAttempt(ctx context.Context, phone kontor.Phone) (int, error)
	// DeleteCode removes the pending code of phone (no error if none).
	DeleteCode(ctx context.Context, phone kontor.Phone) error
	// LogCodeRequest records that ip asked for a code for phone at t and
	// returns how many requests phone and ip made since since (this one included).
	LogCodeRequest(ctx context.Context, phone kontor.Phone, ip string, t, since time.Time) (byPhone, byIP int, err error)
	// PruneCodes removes codes expired before t and request logs older than t.
	PruneCodes(ctx context.Context, t time.Time) error

	// Register makes a new account with primary as its only device, or, if
	// the phone has an account already, keeps the account and replaces all of
	// its devices by primary (the old devices and their queues are deleted).
	// It sets primary.Num (and primary.AccountID) and returns the account and
	// the stored device.
	Register(ctx context.Context, acct Account, primary Device) (Account, Device, error)
	// AccountByPhone returns the account of phone.
	AccountByPhone(ctx context.Context, phone kontor.Phone) (Account, error)
	// Devices returns the current devices of an account, by Num.
	Devices(ctx context.Context, account kontor.ID) ([]Device, error)
	// Device returns a device and its account.
	Device(ctx context.Context, id kontor.ID) (Device, Account, error)
	// AddDevice adds a linked device to d.AccountID, giving it the next Num.
	// It fails with kind Conflict when the account has max devices already.
	AddDevice(ctx context.Context, d Device, max int) (Device, error)
	// RemoveDevice deletes a device and its queued entries.
	RemoveDevice(ctx context.Context, id kontor.ID) error
	// DeleteAccount deletes an account, its devices and all their queued entries.
	DeleteAccount(ctx context.Context, account kontor.ID) error
	// SetLastSeen records when a device (and so its account) was last connected.
	SetLastSeen(ctx context.Context, device kontor.ID, t time.Time) error
	// SetPrivacy sets the account's LastSeenPrivacy.
	SetPrivacy(ctx context.Context, account kontor.ID, lastSeen string) error
	// Block keeps account from getting messages from phone; Unblock lifts
	// it; Blocked lists whom account blocked.
	Block(ctx context.Context, account kontor.ID, phone kontor.Phone, at time.Time) error
	Unblock(ctx context.Context, account kontor.ID, phone kontor.Phone) error
	Blocked(ctx context.Context, account kontor.ID) ([]kontor.Phone, error)

	// PutLinkCode stores a link code (by hash) for account until expires.
	PutLinkCode(ctx context.Context, hash []byte, account kontor.ID, expires time.Time) error
	// TakeLinkCode deletes the link code and returns its account; NotFound if
	// there is none or it expired before now.
	TakeLinkCode(ctx context.Context, hash []byte, now time.Time) (kontor.ID, error)

	// AddOperatorToken stores the hash of an operator credential.
	AddOperatorToken(ctx context.Context, hash []byte, created time.Time) error
	// OperatorToken reports whether hash is a stored operator credential.
	OperatorToken(ctx context.Context, hash []byte) (bool, error)
}
