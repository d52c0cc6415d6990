package e2e

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/medium"

	"github.com/kontor-chat/kontor/wire"
)

// Key policy of Maintain.
const (
	// PreKeysTarget is how many one-time prekeys Maintain leaves on the
	// server when it replenishes.
	PreKeysTarget = 100
	// PreKeysLow is the count below which Maintain replenishes.
	PreKeysLow = 20
	// SignedPreKeyRotation is the age at which Maintain replaces the
	// signed prekey.
	SignedPreKeyRotation = 7 * 24 * time.Hour
	// SignedPreKeyGrace is how long a replaced signed prekey stays, for
	// sessions started from bundles fetched before the rotation.
	SignedPreKeyGrace = 30 * 24 * time.Hour
	// maxLocalPreKeys bounds the one-time prekeys kept on the device: keys
	// the server handed out but no message used yet stay until newer ones
	// push them out, oldest first.
	maxLocalPreKeys = 2 * wire.MaxPreKeysStored
	// maxKeyID is the largest prekey id: ids are 24-bit ("medium") numbers
	// in the protocol, and libsignal treats 0xFFFFFF as "none".
	maxKeyID = medium.MaxValue - 1
)

// keyState is prekeys.json: this device's one-time and signed prekeys,
// private halves included.
type keyState struct {
	// Accepted: the server took this device's identity with an upload.
	// Until then Maintain uploads everything, whatever the server says it
	// holds (which may be an earlier installation's keys).
	Accepted     bool           `json:"accepted,omitempty"`
	NextPreKeyID uint32         `json:"next_prekey_id"`
	NextSignedID uint32         `json:"next_signed_prekey_id"`
	PreKeys      []preKeyRecord `json:"prekeys"`        // oldest first
	Signed       []signedRecord `json:"signed_prekeys"` // oldest first; the last is current
}

type preKeyRecord struct {
	ID         uint32 `json:"id"`
	PublicKey  []byte `json:"public_key"`
	PrivateKey []byte `json:"private_key"`
	Uploaded   bool   `json:"uploaded,omitempty"`
}

type signedRecord struct {
	ID         uint32 `json:"id"`
	PublicKey  []byte `json:"public_key"`
	PrivateKey []byte `json:"private_key"`
	Signature  []byte `json:"signature"`
	Created    int64  `json:"created"`            // Unix ms
	Replaced   int64  `json:"replaced,omitempty"` // Unix ms; 0 while current
}

// loadKeys reads prekeys.json. A damaged file is moved aside and the
// device starts a new pool: Maintain uploads fresh keys, and messages made
// from the lost ones cannot be decrypted (the person is told, and the
// session is rebuilt).
func (s *Sealer) loadKeys() error {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	// Ids start at random points, so that a new installation's keys do not
	// reuse the ids of an earlier one's still on the server.
	s.keys = keyState{NextPreKeyID: randomID(), NextSignedID: randomID()}
	b, err := s.files.read(preKeysFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var k keyState
	if err := json.Unmarshal(b, &k); err != nil {
		s.log.Error("the prekeys file is damaged; starting a new pool", "err", err)
		return s.files.moveAside(preKeysFile)
	}
	k.NextPreKeyID = max(k.NextPreKeyID, 1)
	k.NextSignedID = max(k.NextSignedID, 1)
	s.keys = k
	return nil
}

// saveKeysLocked writes prekeys.json; keysMu is held.
func (s *Sealer) saveKeysLocked() error {
	b, err := json.Marshal(s.keys)
	if err != nil {
		return err
	}
	return s.files.write(preKeysFile, b)
}

// randomID returns a random key id in the lower half of the range.
func randomID() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return binary.BigEndian.Uint32(b[:])%(maxKeyID/2) + 1
}

// nextID returns id and advances it, wrapping within 1..maxKeyID.
func nextID(id *uint32) uint32 {
	v := *id
	if v < 1 || v > maxKeyID {
		v = 1
	}
	*id = v%maxKeyID + 1
	return v
}

// newPreKeysLocked makes n one-time prekeys; keysMu is held. It does not
// use libsignal's keyhelper.GeneratePreKeys, whose count argument is in
// truth the last id.
func (s *Sealer) newPreKeysLocked(n int) error {
	for range n {
		kp, err := ecc.GenerateKeyPair()
		if err != nil {
			return fmt.Errorf("e2e: making a prekey: %w", err)
		}
		id := nextID(&s.keys.NextPreKeyID)
		// An id coming round again replaces the old key of that id.
		s.keys.PreKeys = slices.DeleteFunc(s.keys.PreKeys, func(p preKeyRecord) bool { return p.ID == id })
		priv := kp.PrivateKey().Serialize()
		s.keys.PreKeys = append(s.keys.PreKeys, preKeyRecord{ID: id, PublicKey: kp.PublicKey().Serialize(), PrivateKey: priv[:]})
	}
	if over := len(s.keys.PreKeys) - maxLocalPreKeys; over > 0 {
		s.keys.PreKeys = slices.Delete(s.keys.PreKeys, 0, over)
	}
	return nil
}

// newSignedPreKeyLocked makes a signed prekey and makes it current; keysMu
// is held.
func (s *Sealer) newSignedPreKeyLocked(now time.Time) error {
	kp, err := ecc.GenerateKeyPair()
	if err != nil {
		return fmt.Errorf("e2e: making a signed prekey: %w", err)
	}
	pub := kp.PublicKey().Serialize()
	sig := ecc.CalculateSignature(s.identity.PrivateKey(), pub)
	priv := kp.PrivateKey().Serialize()
	if n := len(s.keys.Signed); n > 0 {
		s.keys.Signed[n-1].Replaced = now.UnixMilli()
	}
	id := nextID(&s.keys.NextSignedID)
	s.keys.Signed = slices.DeleteFunc(s.keys.Signed, func(r signedRecord) bool { return r.ID == id })
	s.keys.Signed = append(s.keys.Signed, signedRecord{
		ID: id, PublicKey: pub, PrivateKey: priv[:], Signature: sig[:], Created: now.UnixMilli(),
	})
	return nil
}

// preKey returns the record of a one-time prekey; nil when there is none.
func (s *Sealer) preKey(id uint32) *record.PreKey {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	for _, p := range s.keys.PreKeys {
		if p.ID == id {
			kp, err := keyPairOf(p.PublicKey, p.PrivateKey)
			if err != nil {
				return nil
			}
			return record.NewPreKey(id, kp, s.ser.PreKeyRecord)
		}
	}
	return nil
}

// signedPreKey returns the record of a signed prekey; nil when there is
// none.
func (s *Sealer) signedPreKey(id uint32) *record.SignedPreKey {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	for _, r := range s.keys.Signed {
		if r.ID == id {
			kp, err := keyPairOf(r.PublicKey, r.PrivateKey)
			if err != nil || len(r.Signature) != wire.SignatureSize {
				return nil
			}
			return record.NewSignedPreKey(id, r.Created/1000, kp, [64]byte(r.Signature), s.ser.SignedPreKeyRecord)
		}
	}
	return nil
}

// usePreKey removes a one-time prekey that a message used.
func (s *Sealer) usePreKey(id uint32) error {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	n := len(s.keys.PreKeys)
	s.keys.PreKeys = slices.DeleteFunc(s.keys.PreKeys, func(p preKeyRecord) bool { return p.ID == id })
	if len(s.keys.PreKeys) == n {
		return nil
	}
	return s.saveKeysLocked()
}

// LocalPreKeys returns how many one-time prekeys the device holds, and how
// many of them were not uploaded yet.
func (s *Sealer) LocalPreKeys() (total, notUploaded int) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	for _, p := range s.keys.PreKeys {
		if !p.Uploaded {
			notUploaded++
		}
	}
	return len(s.keys.PreKeys), notUploaded
}

// Maintain keeps this device's keys in the server's key directory: on the
// first call it uploads the identity key, a signed prekey and
// PreKeysTarget one-time prekeys; later it replaces the signed prekey once
// it is older than SignedPreKeyRotation (the old one is kept for
// SignedPreKeyGrace), and tops the one-time prekeys up to PreKeysTarget
// when the server holds fewer than PreKeysLow. It returns the server's
// status afterwards.
//
// Call it after registering or linking, after each connect, and now and
// then (hourly, say) while connected. New keys are written to the device
// before they are uploaded, so a failed upload loses nothing: the next
// call uploads them.
func (s *Sealer) Maintain(ctx context.Context) (wire.KeysStatus, error) {
	s.maintainMu.Lock()
	defer s.maintainMu.Unlock()
	st, err := s.api.KeysStatus(ctx)
	if err != nil {
		return st, fmt.Errorf("e2e: asking for this device's key status: %w", err)
	}
	up, ids, err := s.planUpload(st)
	if err != nil {
		return st, err
	}
	if up.SignedPreKey == nil && len(ids) == 0 {
		return st, nil
	}
	// Each upload carries the identity (required the first time, checked
	// against the stored one later) and at most MaxPreKeysPerUpload keys.
	for first := true; first || len(up.PreKeys) > 0; first = false {
		part := up
		part.PreKeys = up.PreKeys[:min(len(up.PreKeys), wire.MaxPreKeysPerUpload)]
		up.PreKeys = up.PreKeys[len(part.PreKeys):]
		up.SignedPreKey = nil
		st, err = s.api.UploadKeys(ctx, part)
		if err != nil {
			return st, fmt.Errorf("e2e: uploading this device's keys: %w", err)
		}
		if err := s.markUploaded(part.PreKeys); err != nil {
			return st, err
		}
		s.log.Info("uploaded keys", "prekeys", len(part.PreKeys), "signed_prekey", part.SignedPreKey != nil, "server_prekeys", st.PreKeys)
	}
	return st, nil
}

// planUpload decides, from the server's status, what Maintain uploads,
// and makes and saves the new keys first.
func (s *Sealer) planUpload(st wire.KeysStatus) (wire.KeysUpload, []uint32, error) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if !s.keys.Accepted {
		st = wire.KeysStatus{}
	}
	now := s.clock.Now()
	changed := false
	n := len(s.keys.Signed)
	if n == 0 || now.Sub(time.UnixMilli(s.keys.Signed[n-1].Created)) >= SignedPreKeyRotation {
		if err := s.newSignedPreKeyLocked(now); err != nil {
			return wire.KeysUpload{}, nil, err
		}
		changed = true
	}
	// Old signed prekeys go once their grace is over; the current one stays.
	cur := s.keys.Signed[len(s.keys.Signed)-1]
	kept := slices.DeleteFunc(slices.Clone(s.keys.Signed[:len(s.keys.Signed)-1]), func(r signedRecord) bool {
		return now.Sub(time.UnixMilli(r.Replaced)) > SignedPreKeyGrace
	})
	if len(kept) != len(s.keys.Signed)-1 {
		s.keys.Signed = append(kept, cur)
		changed = true
	}
	pending := 0
	for _, p := range s.keys.PreKeys {
		if !p.Uploaded {
			pending++
		}
	}
	if st.PreKeys < PreKeysLow {
		if n := PreKeysTarget - st.PreKeys - pending; n > 0 {
			if err := s.newPreKeysLocked(n); err != nil {
				return wire.KeysUpload{}, nil, err
			}
			changed = true
		}
	}
	if changed {
		if err := s.saveKeysLocked(); err != nil {
			return wire.KeysUpload{}, nil, err
		}
	}
	up := wire.KeysUpload{IdentityKey: s.identity.PublicKey().Serialize(), RegistrationID: s.regID}
	if st.SignedPreKeyID != cur.ID {
		up.SignedPreKey = &wire.SignedPreKey{ID: cur.ID, PublicKey: cur.PublicKey, Signature: cur.Signature}
	}
	var ids []uint32
	for _, p := range s.keys.PreKeys {
		if !p.Uploaded {
			up.PreKeys = append(up.PreKeys, wire.PreKey{ID: p.ID, PublicKey: p.PublicKey})
			ids = append(ids, p.ID)
		}
	}
	return up, ids, nil
}

// markUploaded records that the server took the identity and holds these
// prekeys.
func (s *Sealer) markUploaded(keys []wire.PreKey) error {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if len(keys) == 0 && s.keys.Accepted {
		return nil
	}
	s.keys.Accepted = true
	done := map[uint32]bool{}
	for _, k := range keys {
		done[k.ID] = true
	}
	for i := range s.keys.PreKeys {
		if done[s.keys.PreKeys[i].ID] {
			s.keys.PreKeys[i].Uploaded = true
		}
	}
	return s.saveKeysLocked()
}
