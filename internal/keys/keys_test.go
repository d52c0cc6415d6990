package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/wire"
)

func key(b byte) []byte {
	k := make([]byte, wire.PublicKeySize)
	k[0], k[1] = 0x05, b
	return k
}

func TestCheck(t *testing.T) {
	spk := &wire.SignedPreKey{ID: 1, PublicKey: key(2), Signature: make([]byte, 64)}
	many := make([]wire.PreKey, wire.MaxPreKeysPerUpload+1)
	for i := range many {
		many[i] = wire.PreKey{ID: uint32(i + 1), PublicKey: key(3)}
	}
	for _, c := range []struct {
		name string
		up   wire.KeysUpload
		err  string // part of the message; "" = valid
	}{
		{"full", wire.KeysUpload{IdentityKey: key(1), RegistrationID: 7, SignedPreKey: spk, PreKeys: []wire.PreKey{{ID: 1, PublicKey: key(3)}}}, ""},
		{"prekeys only", wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 16777215, PublicKey: key(3)}}}, ""},
		{"signed prekey only", wire.KeysUpload{SignedPreKey: spk}, ""},
		{"empty", wire.KeysUpload{}, "empty"},
		{"identity without registration id", wire.KeysUpload{IdentityKey: key(1)}, "registration_id"},
		{"registration id too big", wire.KeysUpload{IdentityKey: key(1), RegistrationID: 16381}, "registration_id"},
		{"registration id alone", wire.KeysUpload{RegistrationID: 5, PreKeys: []wire.PreKey{{ID: 1, PublicKey: key(3)}}}, "registration_id"},
		{"identity key short", wire.KeysUpload{IdentityKey: key(1)[:32], RegistrationID: 1}, "identity_key"},
		{"identity key wrong type", wire.KeysUpload{IdentityKey: append([]byte{0x06}, key(1)[1:]...), RegistrationID: 1}, "identity_key"},
		{"signature short", wire.KeysUpload{SignedPreKey: &wire.SignedPreKey{ID: 1, PublicKey: key(2), Signature: make([]byte, 63)}}, "signature"},
		{"signed prekey id 0", wire.KeysUpload{SignedPreKey: &wire.SignedPreKey{PublicKey: key(2), Signature: make([]byte, 64)}}, "signed_prekey.id"},
		{"prekey id 0", wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 0, PublicKey: key(3)}}}, "prekeys[].id"},
		{"prekey id 2^24", wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 1 << 24, PublicKey: key(3)}}}, "prekeys[].id"},
		{"prekey id twice", wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 4, PublicKey: key(3)}, {ID: 4, PublicKey: key(4)}}}, "repeats"},
		{"prekey bad key", wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 4, PublicKey: nil}}}, "prekeys[].public_key"},
		{"too many prekeys", wire.KeysUpload{PreKeys: many}, "at most 200"},
	} {
		err := check(c.up)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got %v, want an error about %q", c.name, err, c.err)
		}
	}
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestFetchLimit(t *testing.T) {
	c := &clock{t: time.Unix(6000, 0)}
	s := New(nil, c)
	for i := range FetchLimit {
		if !s.allow(1) {
			t.Fatalf("fetch %d refused", i+1)
		}
	}
	if s.allow(1) {
		t.Fatal("fetch over the limit allowed")
	}
	if !s.allow(2) {
		t.Fatal("another device is limited too")
	}
	c.t = c.t.Add(time.Minute)
	if !s.allow(1) {
		t.Fatal("the next minute is still limited")
	}
}
