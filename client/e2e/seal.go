package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"

	libcipher "go.mau.fi/libsignal/cipher"
	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/message"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/signalerror"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/optional"

	"github.com/kontor-chat/kontor/wire"
)

// The payload envelope: byte 0 is the envelope version, byte 1 the kind
// of message (libsignal's type numbers), the rest libsignal's serialised
// message (protocol buffers, as Signal's).
const (
	envelopeVersion = 1
	kindWhisper     = protocol.WHISPER_TYPE // a message of an established session
	kindPreKey      = protocol.PREKEY_TYPE  // a message that also starts a session (X3DH)
	envelopeHeader  = 2
)

// Plaintext is padded before encryption, as Signal does: a 0x80 byte, then
// zeros up to a multiple of padBlock, so that a payload's length tells only
// roughly how long the message is.
const padBlock = 160

func pad(plain []byte) []byte {
	n := (len(plain)/padBlock + 1) * padBlock
	b := make([]byte, n)
	copy(b, plain)
	b[len(plain)] = 0x80
	return b
}

var errBadPadding = errors.New("the decrypted message has no valid padding")

func unpad(b []byte) ([]byte, error) {
	i := len(b) - 1
	for i >= 0 && b[i] == 0 {
		i--
	}
	if i < 0 || b[i] != 0x80 {
		return nil, errBadPadding
	}
	return b[:i], nil
}

// Envelope errors.
var (
	errNotSealed  = errors.New("the payload is not end-to-end encrypted")
	errNewVersion = errors.New("the payload was made by a newer version of kontor")
	errBadKind    = errors.New("the payload is of an unknown kind")
)

// envelope wraps a libsignal message.
func envelope(m protocol.CiphertextMessage) ([]byte, error) {
	kind := byte(m.Type())
	if kind != kindWhisper && kind != kindPreKey {
		return nil, fmt.Errorf("e2e: libsignal made a message of type %d", kind)
	}
	body := m.Serialize()
	b := make([]byte, 0, envelopeHeader+len(body))
	return append(append(b, envelopeVersion, kind), body...), nil
}

// openEnvelope splits a payload into the kind and the libsignal message.
func openEnvelope(payload []byte) (kind byte, body []byte, err error) {
	if len(payload) < envelopeHeader+1 {
		return 0, nil, errNotSealed
	}
	switch v := payload[0]; {
	case v == envelopeVersion:
	case v == '{' || v == 0: // '{': plain JSON content, as the plain sealer writes it
		return 0, nil, errNotSealed
	default:
		return 0, nil, fmt.Errorf("%w (envelope version %d)", errNewVersion, v)
	}
	kind = payload[1]
	if kind != kindWhisper && kind != kindPreKey {
		return 0, nil, fmt.Errorf("%w (%d)", errBadKind, kind)
	}
	return kind, payload[envelopeHeader:], nil
}

// ErrUndecryptable is what every error of Open matches (errors.Is): the
// payload could not be decrypted. The client keeps such a message, with the
// error as its problem, so the person sees that a message came and could not
// be read.
var ErrUndecryptable = errors.New("the message could not be decrypted")

// DecryptError says why a payload from a device could not be decrypted.
type DecryptError struct {
	From   wire.DeviceAddress
	Reason string // for people: what happened and what follows
	Err    error  // the cause
}

// Error says that the message could not be decrypted, and why.
func (e *DecryptError) Error() string {
	return fmt.Sprintf("%s (from %s device %d): %s", ErrUndecryptable, e.From.Phone, e.From.DeviceID, e.Reason)
}

// Unwrap returns the cause.
func (e *DecryptError) Unwrap() error { return e.Err }

// Is matches ErrUndecryptable.
func (e *DecryptError) Is(target error) bool { return target == ErrUndecryptable }

// safely runs f, turning a panic into an error: libsignal indexes into
// malformed input without checking it.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("libsignal failed on malformed input: %v", p)
		}
	}()
	return f()
}

// Seal encrypts plaintext for the device to. Without a session with it (or
// when the session went stale) it first fetches the device's key bundle
// from the key directory and starts one (X3DH); the messages then carry
// what the device needs to start its side, until it answers.
func (s *Sealer) Seal(ctx context.Context, to wire.DeviceAddress, plaintext []byte) ([]byte, error) {
	if err := checkPeer(to); err != nil {
		return nil, err
	}
	if to == s.self {
		return nil, errors.New("e2e: a device does not seal for itself")
	}
	d := s.device(to)
	d.mu.Lock()
	ns, payload, err := s.seal(ctx, to, d, plaintext)
	d.mu.Unlock()
	s.tell(ns)
	return payload, err
}

func (s *Sealer) seal(ctx context.Context, to wire.DeviceAddress, d *device, plaintext []byte) ([]Notice, []byte, error) {
	if err := s.loadDevice(to, d); err != nil {
		return nil, nil, err
	}
	o := s.newOp(to, d)
	builder := session.NewBuilder(o, o, o, o, o.addr, s.ser)
	has, err := o.ContainsSession(ctx, o.addr)
	if err != nil {
		return nil, nil, err
	}
	if !has || d.stale {
		b, err := s.fetchBundle(ctx, to)
		if err != nil {
			return nil, nil, err
		}
		if err := safely(func() error { return builder.ProcessBundle(ctx, b) }); err != nil {
			return nil, nil, fmt.Errorf("e2e: the key bundle of %s is not valid: %w", to, err)
		}
		s.log.Debug("started a session", "peer", string(to.Phone), "peer_device", to.DeviceID, "one_time_prekey", b.PreKey() != nil)
	}
	var payload []byte
	err = safely(func() (err error) {
		payload, err = s.encrypt(ctx, o, plaintext)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("e2e: encrypting for %s: %w", to, err)
	}
	o.keep = true
	ns, err := o.commit()
	if err != nil {
		return ns, nil, err
	}
	return ns, payload, nil
}

// encrypt pads and encrypts plaintext with the session staged in o, or
// else the device's, stages the session with its sending chain moved on
// and returns the payload. It is libsignal's Cipher.Encrypt, step for
// step, but for three costs of the library's: it builds a debug line (a
// formatted ciphertext and the caller's file and line) for every message;
// the session store must hand it a freshly parsed record each time, where
// encrypt takes the one the device keeps parsed (device.session) when
// nothing is staged; and a message of an established session is written
// straight into its payload (whisperPayload).
func (s *Sealer) encrypt(ctx context.Context, o *op, plaintext []byte) ([]byte, error) {
	rec := o.dev.session.Swap(nil) // changed in place below; commit keeps it again
	if rec == nil || o.recSet {
		var err error
		if rec, err = o.LoadSession(ctx, o.addr); err != nil {
			return nil, err
		}
	}
	state := rec.SessionState()
	chainKey := state.SenderChainKey()
	keys, nextKey, ok := chainStep(chainKey.Key(), chainKey.Index())
	if !ok {
		keys, nextKey = chainKey.MessageKeys(), chainKey.NextKey()
	}
	// Until the peer answers, messages also carry what it needs to start
	// its side of the session: those take libsignal's way.
	var payload []byte
	var err error
	written := false
	if !state.HasUnacknowledgedPreKeyMessage() && state.LocalIdentityKey() != nil && state.RemoteIdentityKey() != nil {
		payload, written, err = whisperPayload(state.Version(), chainKey.Index(), state.PreviousCounter(), keys,
			state.SenderRatchetKey(), state.LocalIdentityKey().PublicKey(), state.RemoteIdentityKey().PublicKey(), plaintext)
		if err != nil {
			return nil, err
		}
	}
	if !written {
		if payload, err = s.libsignalPayload(state, chainKey.Index(), keys, plaintext); err != nil {
			return nil, err
		}
	}
	state.SetSenderChainKey(nextKey)
	trusted, err := o.IsTrustedIdentity(ctx, o.addr, state.RemoteIdentityKey())
	if err != nil {
		return nil, err
	}
	if !trusted {
		return nil, signalerror.ErrUntrustedIdentity
	}
	if err := o.SaveIdentity(ctx, o.addr, state.RemoteIdentityKey()); err != nil {
		return nil, err
	}
	return payload, o.StoreSession(ctx, o.addr, rec)
}

// libsignalPayload is encrypt's payload by libsignal's own functions:
// padded, encrypted, a message made and put in its envelope.
func (s *Sealer) libsignalPayload(state *record.State, counter uint32, keys *message.Keys, plaintext []byte) ([]byte, error) {
	body, err := libcipher.EncryptCbc(keys.Iv(), keys.CipherKey(), pad(plaintext))
	if err != nil {
		return nil, err
	}
	var m protocol.CiphertextMessage
	sm, err := protocol.NewSignalMessage(state.Version(), counter, state.PreviousCounter(), keys.MacKey(),
		state.SenderRatchetKey(), body, state.LocalIdentityKey(), state.RemoteIdentityKey(), s.ser.SignalMessage)
	if err != nil {
		return nil, err
	}
	m = sm
	if state.HasUnacknowledgedPreKeyMessage() {
		items, err := state.UnackPreKeyMessageItems()
		if err != nil {
			return nil, err
		}
		if m, err = protocol.NewPreKeySignalMessage(state.Version(), state.LocalRegistrationID(), items.PreKeyID(),
			items.SignedPreKeyID(), items.BaseKey(), state.LocalIdentityKey(), sm,
			s.ser.PreKeySignalMessage, s.ser.SignalMessage); err != nil {
			return nil, err
		}
	}
	return envelope(m)
}

// fetchBundle fetches and checks the key bundle of one device.
func (s *Sealer) fetchBundle(ctx context.Context, to wire.DeviceAddress) (*prekey.Bundle, error) {
	r, err := s.api.Bundles(ctx, to.Phone, to.DeviceID)
	if err != nil {
		return nil, fmt.Errorf("e2e: fetching the keys of %s: %w", to, err)
	}
	if r.Phone != "" && r.Phone != to.Phone {
		return nil, fmt.Errorf("e2e: asked for the keys of %s, the server answered with %s's", to, r.Phone)
	}
	for _, db := range r.Devices {
		if db.DeviceID == to.DeviceID {
			b, err := bundleOf(db)
			if err != nil {
				return nil, fmt.Errorf("e2e: the key bundle of %s is not valid: %w", to, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("e2e: %s has no keys in the key directory (the device has not set up end-to-end encryption)", to)
}

// bundleOf turns a key directory bundle into libsignal's, checking sizes;
// the signature is checked when the bundle is processed.
func bundleOf(db wire.DeviceBundle) (*prekey.Bundle, error) {
	ik, err := publicKeyOf(db.IdentityKey)
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	spk, err := publicKeyOf(db.SignedPreKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signed prekey: %w", err)
	}
	if len(db.SignedPreKey.Signature) != wire.SignatureSize {
		return nil, fmt.Errorf("signed prekey: a signature must be %d bytes", wire.SignatureSize)
	}
	if db.SignedPreKey.ID > maxKeyID {
		return nil, fmt.Errorf("signed prekey id %d is out of range", db.SignedPreKey.ID)
	}
	id := optional.NewEmptyUint32()
	var pk ecc.ECPublicKeyable // an untyped nil when there is no one-time prekey
	if db.PreKey != nil {
		if db.PreKey.ID < 1 || db.PreKey.ID > maxKeyID {
			return nil, fmt.Errorf("one-time prekey id %d is out of range", db.PreKey.ID)
		}
		if pk, err = publicKeyOf(db.PreKey.PublicKey); err != nil {
			return nil, fmt.Errorf("one-time prekey: %w", err)
		}
		id = optional.NewOptionalUint32(db.PreKey.ID)
	}
	return prekey.NewBundle(db.RegistrationID, uint32(db.DeviceID), id, db.SignedPreKey.ID,
		pk, spk, [64]byte(db.SignedPreKey.Signature), identity.NewKey(ik)), nil
}

// Open decrypts a payload from the device from. A message that starts a
// session builds this side of it. Every error matches ErrUndecryptable;
// when a new session would mend the failure, the next Seal to that device
// starts one (its old states stay, for messages already on the way).
func (s *Sealer) Open(ctx context.Context, from wire.DeviceAddress, payload []byte) ([]byte, error) {
	fail := func(reason string, err error) ([]byte, error) {
		return nil, &DecryptError{From: from, Reason: reason, Err: err}
	}
	if err := checkPeer(from); err != nil {
		return fail("the sender is not a device", err)
	}
	kind, body, err := openEnvelope(payload)
	switch {
	case errors.Is(err, errNewVersion):
		return fail("it was encrypted by a newer version of kontor; update this app", err)
	case errors.Is(err, errNotSealed):
		return fail("it is not end-to-end encrypted (the sender's app may not support encryption)", err)
	case err != nil:
		return fail("it is damaged", err)
	}
	d := s.device(from)
	d.mu.Lock()
	ns, plain, err := s.open(ctx, from, d, kind, body)
	d.mu.Unlock()
	s.tell(ns)
	return plain, err
}

func (s *Sealer) open(ctx context.Context, from wire.DeviceAddress, d *device, kind byte, body []byte) ([]Notice, []byte, error) {
	if err := s.loadDevice(from, d); err != nil {
		return nil, nil, &DecryptError{From: from, Reason: "the session could not be read", Err: err}
	}
	o := s.newOp(from, d)
	builder := session.NewBuilder(o, o, o, o, o.addr, s.ser)
	cipher := session.NewCipher(builder, o.addr)
	var plain []byte
	var parsed bool
	err := safely(func() error {
		if kind == kindPreKey {
			m, err := protocol.NewPreKeySignalMessageFromBytes(body, s.ser.PreKeySignalMessage, s.ser.SignalMessage)
			if err != nil {
				return err
			}
			parsed = true
			rec, err := o.LoadSession(ctx, o.addr)
			if err != nil {
				return err
			}
			// Process starts this side of the session (archiving the
			// current state) unless it exists; it checks nothing about the
			// message itself, so nothing of it is kept unless the message
			// then decrypts.
			used, err := builder.Process(ctx, rec, m)
			if err != nil {
				return err
			}
			if plain, err = s.decrypt(ctx, o, cipher, rec.Serialize(), m.WhisperMessage()); err != nil {
				return err
			}
			if !used.IsEmpty {
				return o.RemovePreKey(ctx, used.Value)
			}
			return nil
		}
		m, err := protocol.NewSignalMessageFromBytes(body, s.ser.SignalMessage)
		if err != nil {
			return err
		}
		parsed = true
		b := o.current()
		if b == nil {
			return fmt.Errorf("%w %s", signalerror.ErrNoSessionForUser, from)
		}
		plain, err = s.decrypt(ctx, o, cipher, b, m)
		return err
	})
	if err != nil {
		return nil, nil, s.failed(from, d, parsed, err)
	}
	if plain, err = unpad(plain); err != nil {
		// Authentic (the MAC held) but not made by kontor's sealer: keep
		// nothing of it.
		return nil, nil, &DecryptError{From: from, Reason: "it was not made by a kontor app", Err: err}
	}
	ns, err := o.commit()
	if err != nil {
		return ns, nil, &DecryptError{From: from, Reason: "the session could not be saved", Err: err}
	}
	return ns, plain, nil
}

// maxArchivedStates is how many earlier states a session record keeps
// (libsignal's limit).
const maxArchivedStates = 40

// decrypt decrypts m with the session record rec (serialised): with its
// current state, else with the first earlier state that can, which then
// becomes current. Each try works on a fresh copy of the record, because
// libsignal changes a state in place before it checks the MAC: its own
// Cipher.Decrypt keeps states damaged by failed tries (and its promotion
// of an earlier state leaves a duplicate behind), which breaks sessions
// when both sides start one at once. The result is staged in o.
func (s *Sealer) decrypt(ctx context.Context, o *op, cipher *session.Cipher, rec []byte, m *protocol.SignalMessage) ([]byte, error) {
	var first error
	for i, n := 0, 1; i < n; i++ {
		r, err := s.sessionOf(rec)
		if err != nil {
			return nil, err
		}
		n = 1 + len(r.PreviousSessionStates())
		state := r.SessionState()
		if i > 0 {
			state = r.PreviousSessionStates()[i-1]
		}
		plain, _, err := cipher.DecryptWithState(ctx, state, m)
		if errors.Is(err, signalerror.ErrOldCounter) {
			return nil, err // the right state, and the message came before
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if i > 0 { // the state that worked becomes current
			st := r.Structure()
			promoted := st.PreviousStates[i-1]
			rest := slices.Delete(st.PreviousStates, i-1, i)
			prev := append([]*record.StateStructure{st.SessionState}, rest...)
			st = &record.SessionStructure{SessionState: promoted, PreviousStates: prev[:min(len(prev), maxArchivedStates)]}
			if r, err = record.NewSessionFromStructure(st, s.ser.Session, s.ser.State); err != nil {
				return nil, err
			}
		}
		// As libsignal does after a decryption: the session's identity key
		// is the peer's.
		if err := o.SaveIdentity(ctx, o.addr, r.SessionState().RemoteIdentityKey()); err != nil {
			return nil, err
		}
		return plain, o.StoreSession(ctx, o.addr, r)
	}
	return nil, fmt.Errorf("%w: %w", signalerror.ErrNoValidSessions, first)
}

// failed explains a failed decryption and marks the session stale when a
// new one would mend it; d.mu is held.
func (s *Sealer) failed(from wire.DeviceAddress, d *device, parsed bool, err error) error {
	e := &DecryptError{From: from, Err: err}
	stale := true
	switch {
	case !parsed:
		e.Reason, stale = "it is damaged", false
	case errors.Is(err, signalerror.ErrOldCounter):
		e.Reason, stale = "it was decrypted before (a duplicate, or a replay)", false
	case errors.Is(err, signalerror.ErrNoSessionForUser):
		e.Reason = "there is no session with the sender's device (lost or reset here); the next message to them starts a new one"
	case errors.Is(err, signalerror.ErrNoOneTimeKeyFound), errors.Is(err, signalerror.ErrNoSignedPreKey):
		e.Reason = "it was encrypted to a key this device no longer has; the next message to them starts a new session"
	case errors.Is(err, signalerror.ErrTooFarIntoFuture):
		e.Reason = "it is too far ahead of the session; the next message to them starts a new one"
	default:
		e.Reason = "it does not match the session with the sender's device (damaged, tampered with, or the session was reset); the next message to them starts a new session"
	}
	if stale && d.rec != nil && !d.stale {
		d.stale = true
		if werr := s.saveDevice(from, d); werr != nil {
			s.log.Error("recording a stale session", "peer", string(from.Phone), "peer_device", from.DeviceID, "err", werr)
		}
	}
	return e
}
