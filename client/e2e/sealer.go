package e2e

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
)

// ErrInUse means another process has the key store open.
var ErrInUse = errors.New("e2e: the key store is in use by another process")

// Options configure a Sealer. The zero value works.
type Options struct {
	// Logger receives the sealer's logs; none when nil.
	Logger *slog.Logger
	// Clock tells the time for key rotation and notices; the wall clock
	// when nil.
	Clock kontor.Clock
	// NoSync writes the key store without fsync: a crash of the process
	// loses nothing, a crash of the machine may lose the last session
	// states (see client.Options.NoSync). For hosted business endpoints.
	NoSync bool
	// OnNotice, when set, is called with every new Notice after it is
	// recorded, with no lock held, on the goroutine that sealed or opened
	// the message that revealed it. It must return promptly.
	OnNotice func(Notice)
}

// Sealer is the end-to-end client.Sealer of one device: it encrypts and
// decrypts payloads with the Signal protocol and keeps its keys and
// sessions in the profile directory. All methods are safe for concurrent
// use. See the package documentation for the model.
type Sealer struct {
	self     wire.DeviceAddress
	api      *client.API
	log      *slog.Logger
	clock    kontor.Clock
	onNotice func(Notice)
	files    storage
	ser      *serialize.Serializer
	unlock   func()
	close    sync.Once

	// This device's identity; fixed once opened.
	identity *identity.KeyPair
	regID    uint32

	mu   sync.Mutex // leaf: guards devs (the map, not the entries) and kept
	devs map[wire.DeviceAddress]*device
	// kept are the devices whose parsed session is kept (device.session),
	// a ring: the oldest makes room for the next.
	kept     [keptSessions]*device
	keptNext int

	maintainMu sync.Mutex // one Maintain at a time; taken before keysMu

	keysMu sync.Mutex // leaf: guards keys and the prekeys file
	keys   keyState

	peersMu sync.Mutex // leaf: guards peers and the peers file
	peers   peerState
}

// device is the protocol state with one peer device. mu serialises every
// operation with that device: libsignal has no locking of its own.
type device struct {
	mu     sync.Mutex
	loaded bool
	rec    []byte // the serialised libsignal session record; nil when there is none
	// session is rec parsed, kept between Seals so that each does not
	// parse the record again; nil when not at hand. Only keepSession sets
	// it, from the record a Seal just stored; whatever else changes rec
	// drops it. The holder of mu reads it and clears it; keepSession
	// stores it and evicts it with Sealer.mu held (hence atomic).
	session atomic.Pointer[record.Session]
	kept    bool // in Sealer.kept; guarded by Sealer.mu
	stale   bool // the next Seal starts a new session from a fresh bundle
}

// Open opens (creating on first use) the key store of the device self in
// the profile directory dir, under dir/e2e, and returns its Sealer. api
// acts as self: Seal fetches peers' bundles with it and Maintain uploads
// keys with it. With dir empty the sealer keeps its state in memory (tests,
// load generators).
//
// A new key store has an identity but no prekeys on the server yet: call
// Maintain once the device is registered, and again after each connect.
// Only one process at a time may open a key store (ErrInUse); Close
// releases it.
func Open(dir string, api *client.API, self wire.DeviceAddress, opts Options) (*Sealer, error) {
	if dir == "" {
		return open(newMem(), api, self, opts)
	}
	if err := makeDirs(filepath.Join(dir, storeDir)); err != nil {
		return nil, err
	}
	return OpenStorage(&client.DirStorage{Dir: dir, NoSync: opts.NoSync}, api, self, opts)
}

// OpenStorage is Open with the profile in st (the web chat's IndexedDB):
// the key store is kept under "e2e/" of st. Options.NoSync is st's
// business.
func OpenStorage(st client.Storage, api *client.API, self wire.DeviceAddress, opts Options) (*Sealer, error) {
	if st == nil {
		return nil, errors.New("e2e: OpenStorage needs a storage")
	}
	return open(&profileFiles{st: st}, api, self, opts)
}

func open(files storage, api *client.API, self wire.DeviceAddress, opts Options) (*Sealer, error) {
	if p, err := kontor.ParsePhone(string(self.Phone)); err != nil || p != self.Phone || self.DeviceID < 1 {
		return nil, fmt.Errorf("e2e: %q device %d is not a device address", self.Phone, self.DeviceID)
	}
	if api == nil {
		return nil, errors.New("e2e: Open needs the device API")
	}
	s := &Sealer{
		self: self, api: api, log: opts.Logger, clock: opts.Clock, onNotice: opts.OnNotice,
		ser: serialize.NewProtoBufSerializer(), unlock: func() {}, files: files,
		devs: map[wire.DeviceAddress]*device{},
	}
	s.ser.Session = sessionCodec{}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = kontor.SystemClock{}
	}
	if pf, ok := files.(*profileFiles); ok {
		unlock, err := pf.lock()
		if err != nil {
			return nil, err
		}
		if err := pf.openJournal(s.log); err != nil {
			unlock()
			return nil, err
		}
		s.unlock = func() { _ = pf.close(); unlock() }
	}
	if err := s.load(); err != nil {
		s.unlock()
		return nil, err
	}
	return s, nil
}

// OpenProfile opens the key store of the device whose client profile is in
// dir (see client.LoadAccount), acting through an API client made with hc
// (nil for the default).
func OpenProfile(dir string, hc *http.Client, opts Options) (*Sealer, error) {
	a, err := client.LoadAccount(dir)
	if err != nil {
		return nil, err
	}
	return Open(dir, a.API(hc), wire.DeviceAddress{Phone: a.Phone, DeviceID: a.DeviceID}, opts)
}

// Close releases the key store. Close the client that uses the sealer
// first; the sealer must not be used afterwards. Close always returns nil.
func (s *Sealer) Close() error {
	s.close.Do(func() { s.unlock() })
	return nil
}

// Self returns the device this sealer acts as.
func (s *Sealer) Self() wire.DeviceAddress { return s.self }

// RegistrationID returns this device's registration id.
func (s *Sealer) RegistrationID() uint32 { return s.regID }

// IdentityKey returns this device's public identity key (33 bytes).
func (s *Sealer) IdentityKey() []byte { return s.identity.PublicKey().Serialize() }

// identityRecord is identity.json.
type identityRecord struct {
	Phone          kontor.Phone `json:"phone"`
	DeviceID       int          `json:"device_id"`
	RegistrationID uint32       `json:"registration_id"`
	PublicKey      []byte       `json:"public_key"`  // 33 bytes
	PrivateKey     []byte       `json:"private_key"` // 32 bytes
	Created        int64        `json:"created"`     // Unix ms
}

// load reads the key store, creating the identity on first use.
func (s *Sealer) load() error {
	b, err := s.files.read(identityFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := s.createIdentity(); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		var r identityRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("e2e: the key store's %s is damaged (this device must be linked or registered again): %w", identityFile, err)
		}
		if r.Phone != s.self.Phone || r.DeviceID != s.self.DeviceID {
			return fmt.Errorf("e2e: the key store belongs to %s device %d, not %s", r.Phone, r.DeviceID, s.self)
		}
		kp, err := keyPairOf(r.PublicKey, r.PrivateKey)
		if err != nil || r.RegistrationID == 0 {
			return fmt.Errorf("e2e: the key store's %s is damaged (this device must be linked or registered again)", identityFile)
		}
		s.identity = identity.NewKeyPair(identity.NewKey(kp.PublicKey()), kp.PrivateKey())
		s.regID = r.RegistrationID
	}
	if err := s.loadKeys(); err != nil {
		return err
	}
	return s.loadPeers()
}

// createIdentity makes this device's identity key pair and registration id.
func (s *Sealer) createIdentity() error {
	kp, err := ecc.GenerateKeyPair()
	if err != nil {
		return fmt.Errorf("e2e: making the identity key: %w", err)
	}
	priv := kp.PrivateKey().Serialize()
	r := identityRecord{
		Phone: s.self.Phone, DeviceID: s.self.DeviceID, RegistrationID: newRegistrationID(),
		PublicKey: kp.PublicKey().Serialize(), PrivateKey: priv[:], Created: s.clock.Now().UnixMilli(),
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := s.files.write(identityFile, b); err != nil {
		return err
	}
	s.identity = identity.NewKeyPair(identity.NewKey(kp.PublicKey()), kp.PrivateKey())
	s.regID = r.RegistrationID
	return nil
}

// newRegistrationID returns a random registration id in 1..16380, the range
// Signal uses. (libsignal's keyhelper returns any uint32, 0 included.)
func newRegistrationID() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return binary.BigEndian.Uint32(b[:])%16380 + 1
}

// keyPairOf rebuilds a key pair from a serialised public key (33 bytes) and
// private key (32 bytes).
func keyPairOf(pub, priv []byte) (*ecc.ECKeyPair, error) {
	p, err := publicKeyOf(pub)
	if err != nil {
		return nil, err
	}
	if len(priv) != 32 {
		return nil, errors.New("a private key must be 32 bytes")
	}
	return ecc.NewECKeyPair(p, ecc.NewDjbECPrivateKey([32]byte(priv))), nil
}

// publicKeyOf parses a serialised public key: type byte 0x05 and 32 bytes.
func publicKeyOf(b []byte) (ecc.ECPublicKeyable, error) {
	if len(b) != wire.PublicKeySize || b[0] != ecc.DjbType {
		return nil, fmt.Errorf("a public key must be %d bytes starting with 0x05", wire.PublicKeySize)
	}
	return ecc.NewDjbECPublicKey([32]byte(b[1:])), nil
}

// device returns the entry of a peer device, made on first use.
func (s *Sealer) device(a wire.DeviceAddress) *device {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[a]
	if d == nil {
		d = &device{}
		s.devs[a] = d
	}
	return d
}

// keptSessions bounds the parsed sessions a sealer keeps (device.session):
// about 1 KB each, next to the serialised record (about 400 bytes) it
// keeps for every peer device. A hosted business endpoint seals for
// every customer's devices.
const keptSessions = 512

// keepSession keeps r as the parsed session of d; d.mu is held.
func (s *Sealer) keepSession(d *device, r *record.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !d.kept {
		if old := s.kept[s.keptNext]; old != nil {
			old.session.Store(nil)
			old.kept = false
		}
		s.kept[s.keptNext], d.kept = d, true
		s.keptNext = (s.keptNext + 1) % keptSessions
	}
	d.session.Store(r)
}

// checkPeer refuses an address that names no device, before it becomes a
// file name.
func checkPeer(a wire.DeviceAddress) error {
	if p, err := kontor.ParsePhone(string(a.Phone)); err != nil || p != a.Phone || a.DeviceID < 1 {
		return fmt.Errorf("e2e: %q device %d is not a device address", a.Phone, a.DeviceID)
	}
	return nil
}

// tell hands new notices to OnNotice; no lock may be held.
func (s *Sealer) tell(ns []Notice) {
	if s.onNotice == nil {
		return
	}
	for _, n := range ns {
		s.onNotice(n)
	}
}

var _ client.Sealer = (*Sealer)(nil)
