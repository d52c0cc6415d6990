package e2e

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"

	"go.mau.fi/libsignal/keys/chain"
	"go.mau.fi/libsignal/keys/message"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/optional"
)

// sessionCodec serialises libsignal session records in a compact binary
// form. libsignal's own serializers (even the "protobuf" one) write session
// records as JSON with base64 keys; parsing and writing that JSON was about
// 40 % of the time of a Seal or an Open (go test -bench OneWay), since
// each message parses the record and writes it back. Records written by
// earlier versions (JSON) are still read.
//
// The form: codecMagic, codecVersion, then the session state and the
// earlier states. Byte strings are a uvarint of length+1 (0 for nil) and
// the bytes; numbers are uvarints; an optional part is a byte 0 (absent)
// or 1 (present) and the part.
type sessionCodec struct{}

const (
	codecMagic   = 0xb5 // never '{': JSON records start with it
	codecVersion = 1
	// maxStates bounds the earlier states a record may name, and maxList
	// the chains and message keys of a state, against damaged input.
	maxStates = 1000
	maxList   = 100000
)

var errBadRecord = errors.New("the session record is damaged")

// recScratch holds the buffers Serialize writes into before it copies
// the record out at its size: a record is a few hundred bytes, and a
// buffer made for the largest common one (or grown by append) was most
// of a Seal's allocated bytes.
var recScratch = sync.Pool{New: func() any { return &recWriter{b: make([]byte, 0, 1024)} }}

// Serialize writes s.
func (sessionCodec) Serialize(s *record.SessionStructure) []byte {
	w := recScratch.Get().(*recWriter)
	defer func() {
		if cap(w.b) <= 64<<10 {
			w.b = w.b[:0]
			recScratch.Put(w)
		}
	}()
	w.b = w.b[:0]
	w.b = append(w.b, codecMagic, codecVersion)
	w.opt(s.SessionState != nil)
	if s.SessionState != nil {
		w.state(s.SessionState)
	}
	w.uint(uint64(len(s.PreviousStates)))
	for _, st := range s.PreviousStates {
		w.opt(st != nil)
		if st != nil {
			w.state(st)
		}
	}
	return bytes.Clone(w.b)
}

// Deserialize reads a record written by Serialize, or by libsignal's JSON
// serializer.
func (sessionCodec) Deserialize(b []byte) (*record.SessionStructure, error) {
	if len(b) > 0 && b[0] == '{' {
		var s record.SessionStructure
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		return &s, nil
	}
	if len(b) < 2 || b[0] != codecMagic || b[1] != codecVersion {
		return nil, errBadRecord
	}
	r := &recReader{b: b[2:]}
	s := &record.SessionStructure{}
	if r.opt() {
		s.SessionState = r.state()
	}
	n := r.count(maxStates)
	for range n {
		var st *record.StateStructure
		if r.opt() {
			st = r.state()
		}
		if r.err != nil {
			break
		}
		s.PreviousStates = append(s.PreviousStates, st)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadRecord
	}
	if r.err != nil {
		return nil, r.err
	}
	if s.PreviousStates == nil {
		s.PreviousStates = []*record.StateStructure{}
	}
	return s, nil
}

type recWriter struct{ b []byte }

func (w *recWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

func (w *recWriter) bytes(v []byte) {
	if v == nil {
		w.uint(0)
		return
	}
	w.uint(uint64(len(v)) + 1)
	w.b = append(w.b, v...)
}

func (w *recWriter) opt(present bool) {
	if present {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *recWriter) optUint32(v *optional.Uint32) {
	switch {
	case v == nil:
		w.b = append(w.b, 0)
	case v.IsEmpty:
		w.b = append(w.b, 1)
	default:
		w.b = append(w.b, 2)
		w.uint(uint64(v.Value))
	}
}

func (w *recWriter) state(s *record.StateStructure) {
	w.bytes(s.LocalIdentityPublic)
	w.uint(uint64(s.LocalRegistrationID))
	w.opt(s.NeedsRefresh)
	w.opt(s.PendingKeyExchange != nil)
	if p := s.PendingKeyExchange; p != nil {
		w.uint(uint64(p.Sequence))
		for _, k := range [][]byte{p.LocalBaseKeyPublic, p.LocalBaseKeyPrivate, p.LocalRatchetKeyPublic, p.LocalRatchetKeyPrivate,
			p.LocalIdentityKeyPublic, p.LocalIdentityKeyPrivate} {
			w.bytes(k)
		}
	}
	w.opt(s.PendingPreKey != nil)
	if p := s.PendingPreKey; p != nil {
		w.optUint32(p.PreKeyID)
		w.uint(uint64(p.SignedPreKeyID))
		w.bytes(p.BaseKey)
	}
	w.uint(uint64(s.PreviousCounter))
	w.uint(uint64(len(s.ReceiverChains)))
	for _, c := range s.ReceiverChains {
		w.opt(c != nil)
		if c != nil {
			w.chain(c)
		}
	}
	w.bytes(s.RemoteIdentityPublic)
	w.uint(uint64(s.RemoteRegistrationID))
	w.bytes(s.RootKey)
	w.bytes(s.SenderBaseKey)
	w.opt(s.SenderChain != nil)
	if s.SenderChain != nil {
		w.chain(s.SenderChain)
	}
	w.uint(uint64(s.SessionVersion))
}

func (w *recWriter) chain(c *record.ChainStructure) {
	w.bytes(c.SenderRatchetKeyPublic)
	w.bytes(c.SenderRatchetKeyPrivate)
	w.opt(c.ChainKey != nil)
	if c.ChainKey != nil {
		w.bytes(c.ChainKey.Key)
		w.uint(uint64(c.ChainKey.Index))
	}
	w.uint(uint64(len(c.MessageKeys)))
	for _, k := range c.MessageKeys {
		w.opt(k != nil)
		if k != nil {
			w.bytes(k.CipherKey)
			w.bytes(k.MacKey)
			w.bytes(k.IV)
			w.uint(uint64(k.Index))
		}
	}
}

// recReader reads what recWriter wrote; the first problem sticks in err
// and every read after it returns zero values.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) uint32() uint32 {
	v := r.uint()
	if v > 1<<32-1 {
		r.err = errBadRecord
		return 0
	}
	return uint32(v)
}

func (r *recReader) count(limit int) int {
	v := r.uint()
	if v > uint64(limit) {
		r.err = errBadRecord
		return 0
	}
	return int(v)
}

func (r *recReader) bytes() []byte {
	n := r.uint()
	if r.err != nil || n == 0 {
		return nil
	}
	n--
	if n > uint64(len(r.b)) {
		r.err = errBadRecord
		return nil
	}
	v := make([]byte, n)
	copy(v, r.b)
	r.b = r.b[n:]
	return v
}

func (r *recReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errBadRecord
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *recReader) opt() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.err = errBadRecord
	return false
}

func (r *recReader) optUint32() *optional.Uint32 {
	switch r.byte() {
	case 0:
		return nil
	case 1:
		return optional.NewEmptyUint32()
	case 2:
		return optional.NewOptionalUint32(r.uint32())
	}
	r.err = errBadRecord
	return nil
}

func (r *recReader) state() *record.StateStructure {
	s := &record.StateStructure{}
	s.LocalIdentityPublic = r.bytes()
	s.LocalRegistrationID = r.uint32()
	s.NeedsRefresh = r.opt()
	if r.opt() {
		p := &record.PendingKeyExchangeStructure{Sequence: r.uint32()}
		for _, k := range []*[]byte{&p.LocalBaseKeyPublic, &p.LocalBaseKeyPrivate, &p.LocalRatchetKeyPublic, &p.LocalRatchetKeyPrivate,
			&p.LocalIdentityKeyPublic, &p.LocalIdentityKeyPrivate} {
			*k = r.bytes()
		}
		s.PendingKeyExchange = p
	}
	if r.opt() {
		s.PendingPreKey = &record.PendingPreKeyStructure{PreKeyID: r.optUint32(), SignedPreKeyID: r.uint32(), BaseKey: r.bytes()}
	}
	s.PreviousCounter = r.uint32()
	n := r.count(maxList)
	for i := 0; i < n && r.err == nil; i++ {
		var c *record.ChainStructure
		if r.opt() {
			c = r.chain()
		}
		s.ReceiverChains = append(s.ReceiverChains, c)
	}
	s.RemoteIdentityPublic = r.bytes()
	s.RemoteRegistrationID = r.uint32()
	s.RootKey = r.bytes()
	s.SenderBaseKey = r.bytes()
	if r.opt() {
		s.SenderChain = r.chain()
	}
	v := r.uint()
	if v > 1<<16 {
		r.err = errBadRecord
	}
	s.SessionVersion = int(v)
	return s
}

func (r *recReader) chain() *record.ChainStructure {
	c := &record.ChainStructure{SenderRatchetKeyPublic: r.bytes(), SenderRatchetKeyPrivate: r.bytes()}
	if r.opt() {
		c.ChainKey = &chain.KeyStructure{Key: r.bytes(), Index: r.uint32()}
	}
	n := r.count(maxList)
	for i := 0; i < n && r.err == nil; i++ {
		var k *message.KeysStructure
		if r.opt() {
			k = &message.KeysStructure{CipherKey: r.bytes(), MacKey: r.bytes(), IV: r.bytes(), Index: r.uint32()}
		}
		c.MessageKeys = append(c.MessageKeys, k)
	}
	return c
}
