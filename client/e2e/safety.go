package e2e

import (
	"bytes"
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mau.fi/libsignal/fingerprint"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/session"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Signal's numeric fingerprint ("safety number"): version 0 of the hash
// input, 5200 iterations of SHA-512. libsignal (Go) has the display part
// but not the hashing; this follows libsignal-protocol-java's
// NumericFingerprintGenerator, multi-key form included.
const (
	fingerprintVersion    = 0
	fingerprintIterations = 5200
)

// ErrSafetyNumberMismatch means the safety number given to Verify is not
// the current one.
var ErrSafetyNumberMismatch = errors.New("e2e: that is not the current safety number")

// Fingerprint returns the 60-digit safety number between two parties, each
// named by a stable identifier (the E.164 number) and its identity keys
// (serialised public keys, in any order). Both parties compute the same
// number.
func Fingerprint(localID string, localKeys [][]byte, remoteID string, remoteKeys [][]byte) string {
	return fingerprint.NewDisplay(fingerprintHalf(localID, localKeys), fingerprintHalf(remoteID, remoteKeys)).DisplayText()
}

// fingerprintHalf is one party's 30 bytes: SHA-512 over the version (two
// bytes), the sorted keys and the identifier, then 5200 times over the last
// hash and the keys.
func fingerprintHalf(id string, keys [][]byte) []byte {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, bytes.Compare)
	pub := bytes.Join(sorted, nil)
	buf := []byte{fingerprintVersion >> 8, fingerprintVersion & 0xff}
	buf = append(append(buf, pub...), id...)
	h := sha512.New()
	for range fingerprintIterations {
		h.Reset()
		h.Write(buf)
		h.Write(pub)
		buf = h.Sum(buf[:0])
	}
	return buf[:30]
}

// FormatSafetyNumber groups a safety number in twelve blocks of five digits,
// as people compare them.
func FormatSafetyNumber(n string) string {
	var b strings.Builder
	for i := 0; i < len(n); i += 5 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n[i:min(i+5, len(n))])
	}
	return b.String()
}

// SafetyNumber returns the safety number of the conversation with peer: 60
// digits over the identity keys of this account's devices (this one, and the
// others this device has a session with) and of peer's devices known here.
// When no key of peer is known yet it fetches peer's bundles and starts
// sessions with its devices (the first message then needs no fetch).
//
// Each kontor device has its own identity key, so the number covers device
// sets: two people see the same number once each device knows the other
// side's devices, which holds after both have written to each other.
func (s *Sealer) SafetyNumber(ctx context.Context, peer kontor.Phone) (string, error) {
	if err := checkPeer(wire.DeviceAddress{Phone: peer, DeviceID: 1}); err != nil {
		return "", err
	}
	if peer == s.self.Phone {
		return "", errors.New("e2e: there is no safety number with one's own account")
	}
	if len(s.knownKeys(peer, 0)) == 0 {
		if err := s.learn(ctx, peer); err != nil {
			return "", err
		}
	}
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	n, _, err := s.safetyNumberLocked(peer)
	return n, err
}

// safetyNumberLocked computes the safety number with peer from the keys
// known; peersMu is held. It returns peer's keys too.
func (s *Sealer) safetyNumberLocked(peer kontor.Phone) (string, [][]byte, error) {
	p := s.peers.Peers[peer]
	if p == nil || len(p.Devices) == 0 {
		return "", nil, fmt.Errorf("e2e: no identity key of %s is known yet", peer)
	}
	remote := p.keys()
	local := [][]byte{s.identity.PublicKey().Serialize()}
	if own := s.peers.Peers[s.self.Phone]; own != nil {
		for id, k := range own.Devices {
			if id != s.self.DeviceID {
				local = append(local, k.Key)
			}
		}
	}
	return Fingerprint(string(s.self.Phone), local, string(peer), remote), remote, nil
}

// Verify marks peer verified: the person compared the safety number with
// peer's (in person, or over a channel they trust) and it matched. number is
// the safety number they compared (spaces allowed); if it is no longer the
// current one, Verify fails with ErrSafetyNumberMismatch. The verification
// holds until one of peer's identity keys changes or peer uses a new device.
func (s *Sealer) Verify(peer kontor.Phone, number string) error {
	number = strings.Join(strings.Fields(number), "")
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	cur, remote, err := s.safetyNumberLocked(peer)
	if err != nil {
		return err
	}
	if number != cur {
		return ErrSafetyNumberMismatch
	}
	s.peers.Peers[peer].Verified = remote
	return s.savePeersLocked()
}

// learn fetches the bundles of every device of peer and starts a session
// with each device that has none.
func (s *Sealer) learn(ctx context.Context, peer kontor.Phone) error {
	r, err := s.api.Bundles(ctx, peer, 0)
	if err != nil {
		return fmt.Errorf("e2e: fetching the keys of %s: %w", peer, err)
	}
	for _, db := range r.Devices {
		a := wire.DeviceAddress{Phone: peer, DeviceID: db.DeviceID}
		if checkPeer(a) != nil {
			continue
		}
		b, err := bundleOf(db)
		if err != nil {
			return fmt.Errorf("e2e: the key bundle of %s is not valid: %w", a, err)
		}
		d := s.device(a)
		d.mu.Lock()
		ns, err := s.start(ctx, a, d, b)
		d.mu.Unlock()
		s.tell(ns)
		if err != nil {
			return err
		}
	}
	return nil
}

// start begins a session from a bundle unless there is a good one; d.mu
// is held.
func (s *Sealer) start(ctx context.Context, a wire.DeviceAddress, d *device, b *prekey.Bundle) ([]Notice, error) {
	if err := s.loadDevice(a, d); err != nil {
		return nil, err
	}
	o := s.newOp(a, d)
	has, err := o.ContainsSession(ctx, o.addr)
	if err != nil || (has && !d.stale) {
		return nil, err
	}
	if err := session.NewBuilder(o, o, o, o, o.addr, s.ser).ProcessBundle(ctx, b); err != nil {
		return nil, fmt.Errorf("e2e: the key bundle of %s is not valid: %w", a, err)
	}
	return o.commit()
}
