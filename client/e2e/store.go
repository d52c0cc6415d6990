package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/state/record"

	"github.com/kontor-chat/kontor/wire"
)

// A stored session of one peer device is storedVersion, a byte of flags
// (storedStale), and the session record (sessionCodec). Earlier versions
// stored sessionRecord, JSON; it is still read.
const (
	storedVersion = 2
	// storedStale: decryption failed in a way a new session mends; the
	// next Seal fetches a fresh bundle. The old states stay for messages
	// in flight.
	storedStale = 1
)

// sessionRecord is how earlier versions stored a session.
type sessionRecord struct {
	Record json.RawMessage `json:"record"` // libsignal's record, JSON
	Stale  bool            `json:"stale,omitempty"`
}

// parseStored splits a stored session into the record and its stale flag.
func parseStored(b []byte) (rec []byte, stale bool, ok bool) {
	if len(b) > 0 && b[0] == '{' {
		var r sessionRecord
		if err := json.Unmarshal(b, &r); err != nil || len(r.Record) == 0 {
			return nil, false, false
		}
		return r.Record, r.Stale, true
	}
	if len(b) < 3 || b[0] != storedVersion || b[1]&^storedStale != 0 {
		return nil, false, false
	}
	return b[2:], b[1]&storedStale != 0, true
}

// errDamaged marks a session file that cannot be read.
var errDamaged = errors.New("the stored session is damaged")

// loadDevice reads the session of a device into d once; d.mu is held. A
// damaged file is moved aside, and the device is treated as one without a
// session.
func (s *Sealer) loadDevice(a wire.DeviceAddress, d *device) error {
	if d.loaded {
		return nil
	}
	b, err := s.files.read(sessionFile(a))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if raw, stale, ok := parseStored(b); ok {
			if rec, err := s.sessionOf(raw); err == nil && usable(rec) {
				d.rec, d.stale = raw, stale
				s.keepSession(d, rec)
				break
			}
		}
		s.log.Warn("a stored session is damaged; a new one will be made", "peer", string(a.Phone), "peer_device", a.DeviceID)
		if err := s.files.moveAside(sessionFile(a)); err != nil {
			return err
		}
	}
	d.loaded = true
	return nil
}

// saveDevice writes the session of a device; d.mu is held.
func (s *Sealer) saveDevice(a wire.DeviceAddress, d *device) error {
	if d.rec == nil {
		return s.files.remove(sessionFile(a))
	}
	b := make([]byte, 2, 2+len(d.rec))
	b[0] = storedVersion
	if d.stale {
		b[1] = storedStale
	}
	return s.files.write(sessionFile(a), append(b, d.rec...))
}

// sessionOf parses a serialised session record. libsignal panics on some
// malformed records; that is an error here.
func (s *Sealer) sessionOf(b []byte) (r *record.Session, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%w: %v", errDamaged, p)
		}
	}()
	r, err = record.NewSessionFromBytes(b, s.ser.Session, s.ser.State)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDamaged, err)
	}
	return r, nil
}

// usable tells whether a session record read from a file can encrypt.
func usable(r *record.Session) bool {
	st := r.SessionState()
	return st.HasSenderChain() && st.Version() == protocol.CurrentVersion && st.RemoteIdentityKey() != nil
}

// op is the protocol store libsignal sees during one Seal or Open with one
// peer device. Writes are staged and reach the key store only through
// commit, when the whole operation succeeded: a message that fails to
// decrypt changes nothing (libsignal saves the sender's identity key before
// it checks the message, and alters session states in place before it
// checks the MAC). The device's mu is held for the op's life.
type op struct {
	s    *Sealer
	peer wire.DeviceAddress
	addr *protocol.SignalAddress
	dev  *device

	rec     []byte // staged session record
	recSet  bool
	stored  *record.Session // what rec was serialised from
	keep    bool            // commit keeps stored as the device's parsed session (Seal)
	ident   []byte          // staged identity key of the peer device
	preKey  uint32          // one-time prekey a message used, to remove
	usedKey bool
}

func (s *Sealer) newOp(a wire.DeviceAddress, d *device) *op {
	return &op{s: s, peer: a, addr: protocol.NewSignalAddress(string(a.Phone), uint32(a.DeviceID)), dev: d}
}

// commit writes what the operation staged: the session, the peer's
// identity key (which may raise a notice) and the removal of a used
// one-time prekey.
func (o *op) commit() ([]Notice, error) {
	if o.recSet {
		o.dev.rec, o.dev.stale = o.rec, false
		o.dev.session.Store(nil)
		if o.keep && o.stored != nil {
			o.s.keepSession(o.dev, o.stored)
		}
		if err := o.s.saveDevice(o.peer, o.dev); err != nil {
			return nil, err
		}
	}
	var ns []Notice
	if o.ident != nil {
		n, err := o.s.saveIdentity(o.peer, o.ident)
		if err != nil {
			return nil, err
		}
		if n != nil {
			ns = append(ns, *n)
		}
	}
	if o.usedKey {
		if err := o.s.usePreKey(o.preKey); err != nil {
			return ns, err
		}
	}
	return ns, nil
}

func (o *op) check(a *protocol.SignalAddress) error {
	if a == nil || a.Name() != o.addr.Name() || a.DeviceID() != o.addr.DeviceID() {
		return fmt.Errorf("e2e: libsignal asked about %v while working with %s", a, o.peer)
	}
	return nil
}

// The identity key store.

func (o *op) GetIdentityKeyPair() *identity.KeyPair { return o.s.identity }

func (o *op) GetLocalRegistrationID() uint32 { return o.s.regID }

func (o *op) SaveIdentity(_ context.Context, a *protocol.SignalAddress, k *identity.Key) error {
	if err := o.check(a); err != nil {
		return err
	}
	o.ident = k.Serialize()
	return nil
}

// IsTrustedIdentity trusts every key: a changed key does not stop the
// conversation (as in Signal); commit records a notice and drops the
// verification instead.
func (o *op) IsTrustedIdentity(_ context.Context, a *protocol.SignalAddress, k *identity.Key) (bool, error) {
	if err := o.check(a); err != nil {
		return false, err
	}
	return k != nil, nil
}

// The one-time prekey store.

func (o *op) LoadPreKey(_ context.Context, id uint32) (*record.PreKey, error) {
	if o.usedKey && o.preKey == id {
		return nil, nil
	}
	return o.s.preKey(id), nil
}

func (o *op) StorePreKey(context.Context, uint32, *record.PreKey) error {
	return errors.New("e2e: prekeys are made by Maintain")
}

func (o *op) ContainsPreKey(_ context.Context, id uint32) (bool, error) {
	r, _ := o.LoadPreKey(context.Background(), id)
	return r != nil, nil
}

func (o *op) RemovePreKey(_ context.Context, id uint32) error {
	o.preKey, o.usedKey = id, true
	return nil
}

// The signed prekey store.

func (o *op) LoadSignedPreKey(_ context.Context, id uint32) (*record.SignedPreKey, error) {
	return o.s.signedPreKey(id), nil
}

func (o *op) LoadSignedPreKeys(context.Context) ([]*record.SignedPreKey, error) {
	o.s.keysMu.Lock()
	var ids []uint32
	for _, r := range o.s.keys.Signed {
		ids = append(ids, r.ID)
	}
	o.s.keysMu.Unlock()
	var rs []*record.SignedPreKey
	for _, id := range ids {
		if r := o.s.signedPreKey(id); r != nil {
			rs = append(rs, r)
		}
	}
	return rs, nil
}

func (o *op) StoreSignedPreKey(context.Context, uint32, *record.SignedPreKey) error {
	return errors.New("e2e: signed prekeys are made by Maintain")
}

func (o *op) ContainsSignedPreKey(_ context.Context, id uint32) (bool, error) {
	return o.s.signedPreKey(id) != nil, nil
}

func (o *op) RemoveSignedPreKey(context.Context, uint32) error {
	return errors.New("e2e: signed prekeys are removed by Maintain")
}

// The session store.

func (o *op) current() []byte {
	if o.recSet {
		return o.rec
	}
	return o.dev.rec
}

// LoadSession returns a fresh copy of the session each time, so changes
// libsignal makes to a record it then abandons are lost with it.
func (o *op) LoadSession(_ context.Context, a *protocol.SignalAddress) (*record.Session, error) {
	if err := o.check(a); err != nil {
		return nil, err
	}
	b := o.current()
	if b == nil {
		return record.NewSession(o.s.ser.Session, o.s.ser.State), nil
	}
	return o.s.sessionOf(b)
}

func (o *op) GetSubDeviceSessions(context.Context, string) ([]uint32, error) {
	return nil, errors.New("e2e: not supported")
}

func (o *op) StoreSession(_ context.Context, a *protocol.SignalAddress, r *record.Session) error {
	if err := o.check(a); err != nil {
		return err
	}
	o.rec, o.recSet, o.stored = r.Serialize(), true, r
	return nil
}

// ContainsSession tells whether there is a session. Every record stored
// here can encrypt: only records of completed operations are stored (both
// ways of starting a session set the sending chain), and loadDevice checks
// the record read from the file.
func (o *op) ContainsSession(_ context.Context, a *protocol.SignalAddress) (bool, error) {
	if err := o.check(a); err != nil {
		return false, err
	}
	return o.current() != nil, nil
}

func (o *op) DeleteSession(_ context.Context, a *protocol.SignalAddress) error {
	if err := o.check(a); err != nil {
		return err
	}
	o.rec, o.recSet, o.stored = nil, true, nil
	return nil
}

func (o *op) DeleteAllSessions(context.Context) error {
	return errors.New("e2e: not supported")
}
