// Package media keeps attachments: opaque blobs a device uploads (already
// encrypted on the device with a fresh key per file; the key and the digest
// travel inside the end-to-end encrypted message, never here) for the
// devices of one conversation to download.
//
// A blob is uploaded for a conversation: the uploader names the person it
// is for. Only the devices of the uploader's account and of that person's
// account may download it. It is deleted once every one of those devices
// (except the uploader) has downloaded it whole, or when it expires
// (Retention after upload), whichever comes first.
//
// The bytes live behind Blobs (a directory by default, so that an object
// store can follow); what is known about each blob lives in the Store.
package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kontor-chat/kontor"
)

// Kind is what a blob is, which sets its size limit.
type Kind string

// The kinds of media and their limits.
const (
	Image    Kind = "image"
	Video    Kind = "video"
	Audio    Kind = "audio"
	Document Kind = "document"
	Sticker  Kind = "sticker"
)

// Limits is the largest blob of each kind, in bytes. The encrypted blob is
// a little larger than the file (a MAC and padding), so the limits allow
// for that: 5 MiB of image, 16 MiB of video or audio, 100 MiB of document.
var Limits = map[Kind]int64{
	Image:    5<<20 + overhead,
	Video:    16<<20 + overhead,
	Audio:    16<<20 + overhead,
	Document: 100<<20 + overhead,
	Sticker:  500<<10 + overhead,
}

// overhead is what encryption may add to a file: an IV, padding, a MAC.
const overhead = 64

// Blob is what the store knows about one upload.
type Blob struct {
	ID           string
	Kind         Kind
	Size         int64
	OwnerDevice  kontor.ID
	OwnerAccount kontor.ID
	ToAccount    kontor.ID
	Created      time.Time
	Expires      time.Time
	// Node names the node whose Blobs took the upload and keep the bytes
	// (Service.Node); "" when not known.
	Node string
}

// Store keeps blob records. Implemented by internal/store.
type Store interface {
	PutMedia(ctx context.Context, b Blob) error
	// Media returns a blob's record; kontor.NotFound when there is none.
	Media(ctx context.Context, id string) (Blob, error)
	// MarkFetched records that device downloaded the blob and returns
	// every device that has.
	MarkFetched(ctx context.Context, id string, device kontor.ID) ([]kontor.ID, error)
	// DeleteMedia removes a blob's record and its fetches.
	DeleteMedia(ctx context.Context, id string) error
	// ExpiredMedia returns up to limit ids of blobs that expired before t.
	ExpiredMedia(ctx context.Context, t time.Time, limit int) ([]string, error)
	// AccountDevices returns the ids of an account's current devices.
	AccountDevices(ctx context.Context, account kontor.ID) ([]kontor.ID, error)
	// AccountID returns the account of phone; kontor.NotFound when none.
	AccountID(ctx context.Context, phone kontor.Phone) (kontor.ID, error)
}

// Blobs holds the bytes.
type Blobs interface {
	// Put stores what r yields as blob id, refusing more than max bytes
	// (kontor.Invalid), and returns the size. Nothing is left behind on
	// failure.
	Put(ctx context.Context, id string, r io.Reader, max int64) (int64, error)
	// Open returns the bytes of blob id; kontor.NotFound when missing.
	Open(ctx context.Context, id string) (io.ReadCloser, error)
	// Delete removes blob id; a missing blob is no error.
	Delete(ctx context.Context, id string) error
}

// Located is Blobs that may keep a blob on another node (in a cluster):
// OpenOn opens blob id asking the node that keeps it first.
type Located interface {
	OpenOn(ctx context.Context, id, node string) (io.ReadCloser, error)
}

// Service is the media store.
type Service struct {
	store     Store
	blobs     Blobs
	clock     kontor.Clock
	log       *slog.Logger
	retention time.Duration
	// Node names this node in the records of its uploads (its number in
	// a cluster; "": none).
	Node string
}

// New returns the media store; blobs expire retention after upload.
func New(store Store, blobs Blobs, retention time.Duration, clock kontor.Clock, log *slog.Logger) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, blobs: blobs, clock: clock, log: log, retention: retention}
}

// Uploader is the device that uploads or downloads.
type Uploader struct {
	Device, Account kontor.ID
}

// Upload stores a blob of kind for the person to, from r.
func (s *Service) Upload(ctx context.Context, by Uploader, kind, to string, r io.Reader) (Blob, error) {
	const op = "media.Upload"
	limit, ok := Limits[Kind(kind)]
	if !ok {
		return Blob{}, kontor.Errorf(kontor.Invalid, op, "kind %q is not one of image, video, audio, document, sticker", kind)
	}
	phone, err := kontor.ParsePhone(to)
	if err != nil {
		return Blob{}, err
	}
	toAccount, err := s.store.AccountID(ctx, phone)
	if err != nil {
		return Blob{}, err
	}
	id, err := newID()
	if err != nil {
		return Blob{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	size, err := s.blobs.Put(ctx, id, r, limit)
	if err != nil {
		return Blob{}, err
	}
	if size == 0 {
		_ = s.blobs.Delete(ctx, id)
		return Blob{}, kontor.Errorf(kontor.Invalid, op, "the upload is empty")
	}
	now := s.clock.Now()
	b := Blob{ID: id, Kind: Kind(kind), Size: size, OwnerDevice: by.Device, OwnerAccount: by.Account, ToAccount: toAccount,
		Created: now, Expires: now.Add(s.retention), Node: s.Node}
	if err := s.store.PutMedia(ctx, b); err != nil {
		_ = s.blobs.Delete(ctx, id)
		return Blob{}, err
	}
	return b, nil
}

// Open returns the bytes of blob id for the device by, if it may have them.
// Call Fetched once they were all delivered.
func (s *Service) Open(ctx context.Context, by Uploader, id string) (io.ReadCloser, Blob, error) {
	const op = "media.Open"
	b, err := s.store.Media(ctx, id)
	if err != nil {
		return nil, Blob{}, err
	}
	// Someone outside the conversation learns nothing, not even that the
	// blob exists.
	if by.Account != b.OwnerAccount && by.Account != b.ToAccount {
		return nil, Blob{}, kontor.Errorf(kontor.NotFound, op, "no media %s", id)
	}
	if !b.Expires.After(s.clock.Now()) {
		return nil, Blob{}, kontor.Errorf(kontor.NotFound, op, "media %s has expired", id)
	}
	var rc io.ReadCloser
	if l, ok := s.blobs.(Located); ok && b.Node != "" {
		rc, err = l.OpenOn(ctx, id, b.Node)
	} else {
		rc, err = s.blobs.Open(ctx, id)
	}
	if err != nil {
		return nil, Blob{}, err
	}
	return rc, b, nil
}

// Fetched records that device by downloaded blob b whole, and deletes the
// blob when every device that it was for has.
func (s *Service) Fetched(ctx context.Context, by Uploader, b Blob) error {
	if by.Device == b.OwnerDevice {
		return nil
	}
	got, err := s.store.MarkFetched(ctx, b.ID, by.Device)
	if err != nil {
		return err
	}
	have := make(map[kontor.ID]bool, len(got))
	for _, d := range got {
		have[d] = true
	}
	for _, acct := range []kontor.ID{b.ToAccount, b.OwnerAccount} {
		devs, err := s.store.AccountDevices(ctx, acct)
		if err != nil {
			return err
		}
		for _, d := range devs {
			if d != b.OwnerDevice && !have[d] {
				return nil
			}
		}
	}
	return s.remove(ctx, b.ID)
}

func (s *Service) remove(ctx context.Context, id string) error {
	// The record goes first: a blob without a record is only garbage on
	// disk, a record without its blob would be a broken promise.
	if err := s.store.DeleteMedia(ctx, id); err != nil {
		return err
	}
	return s.blobs.Delete(ctx, id)
}

// Sweep deletes expired blobs and returns how many.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	for {
		ids, err := s.store.ExpiredMedia(ctx, s.clock.Now(), 500)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := s.remove(ctx, id); err != nil {
				return n, err
			}
			n++
		}
		if len(ids) < 500 {
			return n, nil
		}
	}
}

// newID returns a random blob id: 128 bits in hex.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ValidID says whether id could be a blob id (so it is safe as a file name).
func ValidID(id string) bool {
	return len(id) == 32 && isHex(id)
}

// isHex says whether s is lower-case hex, as ids are written.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

var errTooLarge = errors.New("media: too large")

// tooLarge is the error for a blob over its kind's limit.
func tooLarge(op string, max int64) error {
	return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: fmt.Sprintf("the upload is larger than %d bytes, the limit for its kind", max), Err: errTooLarge}
}
