// Package keys is the key directory of end-to-end encryption: each device's
// identity key, signed prekey and pool of one-time prekeys, as the devices
// upload them. It hands out key bundles so that a sender can start a Signal
// session with every device of a person, each one-time prekey at most once
// (also under concurrent fetches on several nodes: the store takes it in
// one statement that skips rows another transaction holds).
//
// The directory never sees a private key. It checks shapes and sizes; the
// signature of a signed prekey is checked by the device that uses it, which
// trusts the identity key it pins rather than the server.
package keys

import (
	"context"
	"errors"
	"sync"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Keys is what a device has uploaded.
type Keys struct {
	IdentityKey    []byte
	RegistrationID uint32
	SignedPreKey   *wire.SignedPreKey // nil until uploaded
}

// Store keeps the directory. Implemented by internal/store.
type Store interface {
	// PutKeys applies an upload for device in one transaction: it sets the
	// identity key and registration id if the device has none, refuses a
	// different one (kontor.Conflict), replaces the signed prekey when
	// given, adds (or replaces by id) the one-time prekeys, and refuses the
	// upload if the pool would exceed max (kontor.Invalid). It returns the
	// device's status afterwards.
	PutKeys(ctx context.Context, device kontor.ID, up wire.KeysUpload, max int) (wire.KeysStatus, error)
	// KeyStatus returns a device's status; zero when it has no keys.
	KeyStatus(ctx context.Context, device kontor.ID) (wire.KeysStatus, error)
	// TakeBundles returns the bundles of phone's current devices that have
	// an identity key and a signed prekey (only device num when num > 0),
	// taking one one-time prekey from each device's pool. The phone's
	// account missing is kontor.NotFound.
	TakeBundles(ctx context.Context, phone kontor.Phone, num int) ([]wire.DeviceBundle, error)
}

// FetchLimit is how many bundle fetches one device may make per minute, so
// that nobody can drain another person's one-time prekeys. It is counted
// per node.
const FetchLimit = 120

// Service is the key directory.
type Service struct {
	store Store
	clock kontor.Clock

	mu      sync.Mutex
	window  int64             // the minute counted in fetches
	fetches map[kontor.ID]int // per requesting device in window
}

// New returns the directory over store; clock nil means the system clock.
func New(store Store, clock kontor.Clock) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Service{store: store, clock: clock, fetches: map[kontor.ID]int{}}
}

// allow counts one fetch by requester and says whether it is within the limit.
func (s *Service) allow(requester kontor.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.clock.Now().Unix() / 60; w != s.window {
		s.window = w
		clear(s.fetches)
	}
	s.fetches[requester]++
	return s.fetches[requester] <= FetchLimit
}

// ErrIdentityChanged: an upload names another identity key than the one the
// device has. A new identity needs a new device (register or link again).
var ErrIdentityChanged = errors.New("keys: the device's identity key cannot change")

// Upload stores keys the device uploads.
func (s *Service) Upload(ctx context.Context, device kontor.ID, up wire.KeysUpload) (wire.KeysStatus, error) {
	const op = "keys.Upload"
	if err := check(up); err != nil {
		return wire.KeysStatus{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error()}
	}
	return s.store.PutKeys(ctx, device, up, wire.MaxPreKeysStored)
}

// Status says how many one-time prekeys the directory holds for device.
func (s *Service) Status(ctx context.Context, device kontor.ID) (wire.KeysStatus, error) {
	return s.store.KeyStatus(ctx, device)
}

// Bundles returns phone's bundles (every current device with keys, or only
// device num when num > 0), using up one one-time prekey of each, for the
// device requester.
func (s *Service) Bundles(ctx context.Context, requester kontor.ID, phone string, num int) (wire.BundlesResponse, error) {
	const op = "keys.Bundles"
	if !s.allow(requester) {
		return wire.BundlesResponse{}, kontor.Errorf(kontor.RateLimited, op, "more than %d key fetches in a minute; wait a little", FetchLimit)
	}
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return wire.BundlesResponse{}, err
	}
	if num < 0 || num > 1<<20 {
		return wire.BundlesResponse{}, kontor.Errorf(kontor.Invalid, op, "device id %d is not a device number", num)
	}
	bs, err := s.store.TakeBundles(ctx, p, num)
	if err != nil {
		return wire.BundlesResponse{}, err
	}
	if num > 0 && len(bs) == 0 {
		return wire.BundlesResponse{}, kontor.Errorf(kontor.NotFound, op, "%s has no device %d with keys", p, num)
	}
	if bs == nil {
		bs = []wire.DeviceBundle{}
	}
	return wire.BundlesResponse{Phone: p, Devices: bs}, nil
}

// check validates the shapes of an upload.
func check(up wire.KeysUpload) error {
	if up.IdentityKey != nil {
		if err := publicKey("identity_key", up.IdentityKey); err != nil {
			return err
		}
		if up.RegistrationID == 0 || up.RegistrationID > 16380 {
			return errors.New("registration_id must be 1 to 16380 with an identity_key")
		}
	} else if up.RegistrationID != 0 {
		return errors.New("registration_id comes only with identity_key")
	}
	if spk := up.SignedPreKey; spk != nil {
		if err := keyID("signed_prekey.id", spk.ID); err != nil {
			return err
		}
		if err := publicKey("signed_prekey.public_key", spk.PublicKey); err != nil {
			return err
		}
		if len(spk.Signature) != wire.SignatureSize {
			return errors.New("signed_prekey.signature must be 64 bytes")
		}
	}
	if len(up.PreKeys) > wire.MaxPreKeysPerUpload {
		return errors.New("at most 200 prekeys per upload")
	}
	seen := make(map[uint32]bool, len(up.PreKeys))
	for _, pk := range up.PreKeys {
		if err := keyID("prekeys[].id", pk.ID); err != nil {
			return err
		}
		if seen[pk.ID] {
			return errors.New("prekeys[].id repeats within the upload")
		}
		seen[pk.ID] = true
		if err := publicKey("prekeys[].public_key", pk.PublicKey); err != nil {
			return err
		}
	}
	if up.IdentityKey == nil && up.SignedPreKey == nil && len(up.PreKeys) == 0 {
		return errors.New("the upload is empty: send identity_key, signed_prekey or prekeys")
	}
	return nil
}

func publicKey(field string, b []byte) error {
	if len(b) != wire.PublicKeySize || b[0] != 0x05 {
		return errors.New(field + " must be a 33-byte Curve25519 public key (type byte 0x05)")
	}
	return nil
}

// keyID checks a prekey id: libsignal keeps them in 24 bits.
func keyID(field string, id uint32) error {
	if id == 0 || id >= 1<<24 {
		return errors.New(field + " must be 1 to 16777215")
	}
	return nil
}
