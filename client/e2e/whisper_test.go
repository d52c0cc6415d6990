package e2e

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"

	libcipher "go.mau.fi/libsignal/cipher"
	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/message"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
)

// whisperInput is what a message of an established session is made of.
type whisperInput struct {
	counter, previous          uint32
	cipherKey, macKey, iv      []byte
	ratchet, sender, recipient [32]byte
	plain                      []byte
}

// whisperInputFrom spreads seed over the keys of an input (zeros where it
// is short).
func whisperInputFrom(seed []byte, counter, previous uint32, plain []byte) whisperInput {
	var b [32 + 32 + 16 + 3*32]byte
	copy(b[:], seed)
	in := whisperInput{counter: counter, previous: previous, cipherKey: b[0:32], macKey: b[32:64], iv: b[64:80], plain: plain}
	copy(in.ratchet[:], b[80:112])
	copy(in.sender[:], b[112:144])
	copy(in.recipient[:], b[144:176])
	return in
}

// libsignalWhisper is the payload as the sealer made it before
// whisperPayload: libsignal's EncryptCbc and NewSignalMessage, in an
// envelope.
func libsignalWhisper(t testing.TB, in whisperInput) []byte {
	t.Helper()
	body, err := libcipher.EncryptCbc(in.iv, in.cipherKey, pad(in.plain))
	if err != nil {
		t.Fatal(err)
	}
	sm, err := protocol.NewSignalMessage(protocol.CurrentVersion, in.counter, in.previous, in.macKey,
		ecc.NewDjbECPublicKey(in.ratchet), body, identity.NewKey(ecc.NewDjbECPublicKey(in.sender)),
		identity.NewKey(ecc.NewDjbECPublicKey(in.recipient)), serialize.NewProtoBufSerializer().SignalMessage)
	if err != nil {
		t.Fatal(err)
	}
	p, err := envelope(sm)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newWhisper(t testing.TB, in whisperInput) ([]byte, bool) {
	t.Helper()
	keys := message.NewKeys(in.cipherKey, in.macKey, in.iv, in.counter)
	p, ok, err := whisperPayload(protocol.CurrentVersion, in.counter, in.previous, keys, ecc.NewDjbECPublicKey(in.ratchet),
		ecc.NewDjbECPublicKey(in.sender), ecc.NewDjbECPublicKey(in.recipient), in.plain)
	if err != nil {
		t.Fatal(err)
	}
	return p, ok
}

// TestWhisperPayload: whisperPayload writes what libsignal does, byte for
// byte, for plaintexts around the padding's steps and counters around
// varints' lengths; the payload opens as libsignal's message does.
func TestWhisperPayload(t *testing.T) {
	seed := make([]byte, 176)
	_, _ = rand.Read(seed)
	tests := []struct {
		name              string
		counter, previous uint32
		plainLen          int
	}{
		{"empty", 0, 0, 0},
		{"short", 1, 0, 20},
		{"one below a pad step", 127, 128, padBlock - 1},
		{"a pad step", 128, 127, padBlock},
		{"one above a pad step", 16383, 16384, padBlock + 1},
		{"long", 1 << 21, 1<<28 - 1, 5000},
		{"largest counters", ^uint32(0), ^uint32(0), 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := []byte(strings.Repeat("x", tt.plainLen))
			in := whisperInputFrom(seed, tt.counter, tt.previous, plain)
			got, ok := newWhisper(t, in)
			if !ok {
				t.Fatal("whisperPayload declined a version 3 message with Djb keys")
			}
			if want := libsignalWhisper(t, in); !bytes.Equal(got, want) {
				t.Fatalf("payload\n%x, libsignal's\n%x", got, want)
			}
			if len(got) != cap(got) {
				t.Errorf("payload of %d bytes in a buffer of %d", len(got), cap(got))
			}
			kind, body, err := openEnvelope(got)
			if err != nil || kind != kindWhisper {
				t.Fatalf("openEnvelope: kind %d, %v", kind, err)
			}
			sm, err := protocol.NewSignalMessageFromBytes(body, serialize.NewProtoBufSerializer().SignalMessage)
			if err != nil {
				t.Fatal(err)
			}
			if sm.Counter() != tt.counter {
				t.Errorf("counter %d, want %d", sm.Counter(), tt.counter)
			}
			if err := sm.VerifyMac(protocol.CurrentVersion, identity.NewKey(ecc.NewDjbECPublicKey(in.sender)),
				identity.NewKey(ecc.NewDjbECPublicKey(in.recipient)), in.macKey); err != nil {
				t.Errorf("libsignal does not verify the MAC: %v", err)
			}
			plainBack, err := libcipher.DecryptCbc(in.iv, in.cipherKey, sm.Body())
			if err != nil {
				t.Fatal(err)
			}
			if back, err := unpad(plainBack); err != nil || !bytes.Equal(back, plain) {
				t.Errorf("decrypted %q, %v", back, err)
			}
		})
	}
}

// Another version, or a key of another type, takes libsignal's way.
func TestWhisperPayloadDeclines(t *testing.T) {
	in := whisperInputFrom(nil, 1, 0, []byte("hi"))
	keys := message.NewKeys(in.cipherKey, in.macKey, in.iv, 1)
	djbKey := ecc.NewDjbECPublicKey(in.ratchet)
	tests := []struct {
		name                       string
		version                    int
		ratchet, sender, recipient ecc.ECPublicKeyable
	}{
		{"version 2", 2, djbKey, djbKey, djbKey},
		{"version 4", 4, djbKey, djbKey, djbKey},
		{"no ratchet key", 3, nil, djbKey, djbKey},
		{"other ratchet key", 3, otherKey{}, djbKey, djbKey},
		{"other sender key", 3, djbKey, otherKey{}, djbKey},
		{"other recipient key", 3, djbKey, djbKey, otherKey{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := whisperPayload(tt.version, 1, 0, keys, tt.ratchet, tt.sender, tt.recipient, in.plain)
			if ok || p != nil || err != nil {
				t.Errorf("whisperPayload = %x, %v, %v; want it to decline", p, ok, err)
			}
		})
	}
}

type otherKey struct{}

func (otherKey) Serialize() []byte   { return []byte{9} }
func (otherKey) Type() int           { return 9 }
func (otherKey) PublicKey() [32]byte { return [32]byte{} }

// FuzzWhisperPayload compares whisperPayload with libsignal's way.
func FuzzWhisperPayload(f *testing.F) {
	f.Add([]byte("keys"), uint32(0), uint32(0), []byte(`{"type":"text","text":"hello"}`))
	f.Add(bytes.Repeat([]byte{0xff}, 176), uint32(1<<31), uint32(300), bytes.Repeat([]byte{0}, 161))
	f.Fuzz(func(t *testing.T, seed []byte, counter, previous uint32, plain []byte) {
		in := whisperInputFrom(seed, counter, previous, plain)
		got, ok := newWhisper(t, in)
		if !ok {
			t.Fatal("declined")
		}
		if want := libsignalWhisper(t, in); !bytes.Equal(got, want) {
			t.Fatalf("payload\n%x, libsignal's\n%x", got, want)
		}
	})
}

func TestUvarintLen(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<32 - 1, 1<<64 - 1} {
		if got, want := uvarintLen(v), len(binary.AppendUvarint(nil, v)); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", v, got, want)
		}
	}
}

// TestCBCEncrypt holds cbcEncrypt to crypto/cipher's CBC encrypter.
func TestCBCEncrypt(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	iv := []byte("0123456789abcdef")
	for _, blocks := range []int{0, 1, 2, 7, 64} {
		plain := make([]byte, blocks*aes.BlockSize)
		for i := range plain {
			plain[i] = byte(i*31 + blocks)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, len(plain))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(want, plain)
		got := bytes.Clone(plain)
		cbcEncrypt(block, iv, got)
		if !bytes.Equal(got, want) {
			t.Errorf("%d blocks: cbcEncrypt = %x, crypto/cipher %x", blocks, got, want)
		}
	}
}

// TestMacSHA256 holds macSHA256 to crypto/hmac.
func TestMacSHA256(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
		a, b []byte
	}{
		{"mac key", bytes.Repeat([]byte{1}, 32), []byte("identities"), []byte("message")},
		{"empty parts", bytes.Repeat([]byte{2}, 32), nil, nil},
		{"block-long key", bytes.Repeat([]byte{3}, sha256.BlockSize), []byte("a"), bytes.Repeat([]byte("b"), 300)},
		{"longer key", bytes.Repeat([]byte{4}, sha256.BlockSize+1), []byte("a"), []byte("b")},
		{"empty key", nil, []byte("a"), []byte("b")},
	} {
		m := hmac.New(sha256.New, tc.key)
		m.Write(tc.a)
		m.Write(tc.b)
		want := m.Sum(nil)
		if got := macSHA256(tc.key, tc.a, tc.b); !bytes.Equal(got[:], want) {
			t.Errorf("%s: macSHA256 = %x, crypto/hmac %x", tc.name, got, want)
		}
	}
}
