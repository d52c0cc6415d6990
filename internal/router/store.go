package router

import (
	"context"

	"github.com/kontor-chat/kontor"
)

// EntryKind says what a queue entry carries.
type EntryKind uint8

// Entry kinds.
const (
	KindMessage EntryKind = 1 // a message from a person to this device's account
	KindSync    EntryKind = 2 // a copy of a message this account's other device sent
	KindReceipt EntryKind = 3 // a delivery, read or failed receipt for messages this account sent
)

// Entry is one item in a device's queue. It stays in the store until the
// device acknowledges it or it expires.
type Entry struct {
	Device      kontor.ID // the recipient device (global id)
	ID          kontor.ID // message id (the same for every device it went to) or receipt id
	Kind        EntryKind
	FromAccount kontor.ID    // who caused it: the sender, or for receipts the one who received/read
	From        kontor.Phone //
	FromDevice  int          // device number within FromAccount
	To          kontor.Phone // KindSync: the person the message was written to
	TS          int64        // server time, Unix ms
	Expires     int64        // Unix ms; after this the entry is dropped (messages: with a failed receipt)
	Body        []byte       // the payload (messages), or the encoded Receipt (receipts)
}

// DeviceRef is a current device of an account.
type DeviceRef struct {
	ID  kontor.ID // global id
	Num int
}

// Recipient is an account with its current devices, by Num.
type Recipient struct {
	Account kontor.ID
	Phone   kontor.Phone
	Devices []DeviceRef
	// Blocked are the numbers this account blocked: their messages are
	// not queued for it.
	Blocked []kontor.Phone
}

// Store is what the router needs from storage.
type Store interface {
	// Tx runs fn in one write transaction, committing when fn returns nil and
	// rolling back otherwise. The Tx must not be used after fn returns.
	Tx(ctx context.Context, fn func(Tx) error) error
	// Pull returns up to limit entries of device with id > after, by id.
	Pull(ctx context.Context, device kontor.ID, after kontor.ID, limit int) ([]Entry, error)
	// Recipient returns the account of phone with its current devices;
	// kind NotFound if there is none.
	Recipient(ctx context.Context, phone kontor.Phone) (Recipient, error)
	// RecipientByAccount is Recipient by account id.
	RecipientByAccount(ctx context.Context, account kontor.ID) (Recipient, error)
}

// Tx is a write transaction.
type Tx interface {
	// ClaimRef records that senderDevice's send ref became message id. When
	// the ref was claimed before, it returns the earlier id and fresh=false
	// and records nothing.
	ClaimRef(senderDevice kontor.ID, ref string, id kontor.ID, at int64) (existing kontor.ID, fresh bool, err error)
	// Insert adds entries (an entry whose (Device, ID) exists already is
	// skipped).
	Insert(entries []Entry) error
	// Delete removes the entries of device with the given ids and returns the
	// ones that existed, without their Body.
	Delete(device kontor.ID, ids []kontor.ID) ([]Entry, error)
	// Expire removes up to limit entries whose Expires is before now and
	// returns them, without their Body.
	Expire(now int64, limit int) ([]Entry, error)
	// Devices returns the current devices of an account (empty if it has none
	// or does not exist).
	Devices(account kontor.ID) ([]DeviceRef, error)
	// PruneRefs removes send refs claimed before t.
	PruneRefs(before int64) error
}
