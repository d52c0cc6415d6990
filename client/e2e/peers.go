package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// maxNotices bounds the notices kept in the key store; older ones go.
const maxNotices = 500

// Kinds of Notice.
const (
	// KeyChanged: a known device of the peer now has another identity key
	// (reinstalled, or someone in between).
	KeyChanged = "key_changed"
	// NewDevice: a device of a verified peer that the verification did not
	// cover.
	NewDevice = "new_device"
)

// Notice tells that a peer's identity keys changed; the conversation with
// the peer should show it. A verified peer becomes unverified
// (WasVerified) until the safety number is checked again.
type Notice struct {
	Peer        kontor.Phone `json:"peer"`
	DeviceID    int          `json:"device_id"`
	Kind        string       `json:"kind"` // KeyChanged or NewDevice
	WasVerified bool         `json:"was_verified,omitempty"`
	TS          int64        `json:"ts"` // Unix ms
}

// String says what happened, for a conversation.
func (n Notice) String() string {
	s := fmt.Sprintf("the safety number with %s changed: ", n.Peer)
	if n.Kind == NewDevice {
		s += fmt.Sprintf("they use a new device (%d)", n.DeviceID)
	} else {
		s += fmt.Sprintf("device %d has a new identity key (reinstalled, or someone in between)", n.DeviceID)
	}
	if n.WasVerified {
		s += "; they are no longer verified until you compare the safety number again"
	}
	return s
}

// peerState is peers.json.
type peerState struct {
	Peers   map[kontor.Phone]*peerKeys `json:"peers"`
	Notices []Notice                   `json:"notices,omitempty"`
}

// peerKeys is what the device knows of one account's identity keys.
type peerKeys struct {
	Devices map[int]*knownKey `json:"devices"`
	// Verified holds the identity keys (sorted) that were current when the
	// safety number was checked; empty when not verified.
	Verified [][]byte `json:"verified,omitempty"`
}

type knownKey struct {
	Key     []byte `json:"key"`               // serialised public identity key
	First   int64  `json:"first_seen"`        // Unix ms
	Changed int64  `json:"changed,omitempty"` // Unix ms of the last change
}

func (p *peerKeys) keys() [][]byte {
	ks := make([][]byte, 0, len(p.Devices))
	for _, k := range p.Devices {
		ks = append(ks, k.Key)
	}
	slices.SortFunc(ks, bytes.Compare)
	return ks
}

func (p *peerKeys) verified() bool {
	return len(p.Verified) > 0 && slices.EqualFunc(p.Verified, p.keys(), bytes.Equal)
}

// loadPeers reads peers.json. A damaged file is moved aside: the device
// then trusts the keys it meets next anew (verifications and old notices
// are lost, which is logged).
func (s *Sealer) loadPeers() error {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	s.peers = peerState{Peers: map[kontor.Phone]*peerKeys{}}
	b, err := s.files.read(peersFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var p peerState
	if err := json.Unmarshal(b, &p); err != nil {
		s.log.Error("the peers file is damaged; verifications are lost", "err", err)
		return s.files.moveAside(peersFile)
	}
	if p.Peers == nil {
		p.Peers = map[kontor.Phone]*peerKeys{}
	}
	for _, pk := range p.Peers {
		if pk.Devices == nil {
			pk.Devices = map[int]*knownKey{}
		}
	}
	s.peers = p
	return nil
}

func (s *Sealer) savePeersLocked() error {
	b, err := json.Marshal(s.peers)
	if err != nil {
		return err
	}
	return s.files.write(peersFile, b)
}

// knownIdentity returns the identity key recorded for a device; nil when
// none.
func (s *Sealer) knownIdentity(a wire.DeviceAddress) []byte {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	if p := s.peers.Peers[a.Phone]; p != nil {
		if k := p.Devices[a.DeviceID]; k != nil {
			return k.Key
		}
	}
	return nil
}

// saveIdentity records the identity key of a device that a session now
// uses, and returns the notice it causes, if any.
func (s *Sealer) saveIdentity(a wire.DeviceAddress, key []byte) (*Notice, error) {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	p := s.peers.Peers[a.Phone]
	if p == nil {
		p = &peerKeys{Devices: map[int]*knownKey{}}
		s.peers.Peers[a.Phone] = p
	}
	now := s.clock.Now().UnixMilli()
	k := p.Devices[a.DeviceID]
	var n *Notice
	switch {
	case k == nil:
		if p.verified() {
			n = &Notice{Peer: a.Phone, DeviceID: a.DeviceID, Kind: NewDevice, WasVerified: true, TS: now}
		}
		p.Devices[a.DeviceID] = &knownKey{Key: slices.Clone(key), First: now}
	case !bytes.Equal(k.Key, key):
		n = &Notice{Peer: a.Phone, DeviceID: a.DeviceID, Kind: KeyChanged, WasVerified: p.verified(), TS: now}
		k.Key, k.Changed = slices.Clone(key), now
	default:
		return nil, nil
	}
	if n != nil {
		p.Verified = nil
		s.peers.Notices = append(s.peers.Notices, *n)
		if over := len(s.peers.Notices) - maxNotices; over > 0 {
			s.peers.Notices = slices.Delete(s.peers.Notices, 0, over)
		}
		s.log.Warn("a peer's identity key changed", "peer", string(a.Phone), "peer_device", a.DeviceID, "kind", n.Kind, "was_verified", n.WasVerified)
	}
	if err := s.savePeersLocked(); err != nil {
		return nil, err
	}
	return n, nil
}

// Notices returns the recorded notices about peer (every peer when peer is
// empty), oldest first.
func (s *Sealer) Notices(peer kontor.Phone) []Notice {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	var ns []Notice
	for _, n := range s.peers.Notices {
		if peer == "" || n.Peer == peer {
			ns = append(ns, n)
		}
	}
	return ns
}

// Verified tells whether peer is verified: its safety number was checked
// and none of its identity keys changed since, nor did a device join.
func (s *Sealer) Verified(peer kontor.Phone) bool {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	p := s.peers.Peers[peer]
	return p != nil && p.verified()
}

// Unverify clears the verification of peer.
func (s *Sealer) Unverify(peer kontor.Phone) error {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	p := s.peers.Peers[peer]
	if p == nil || len(p.Verified) == 0 {
		return nil
	}
	p.Verified = nil
	return s.savePeersLocked()
}

// knownKeys returns the identity keys known for the devices of phone,
// except the device skip (0 for none).
func (s *Sealer) knownKeys(phone kontor.Phone, skip int) [][]byte {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	p := s.peers.Peers[phone]
	if p == nil {
		return nil
	}
	var ks [][]byte
	for id, k := range p.Devices {
		if id != skip {
			ks = append(ks, k.Key)
		}
	}
	return ks
}
