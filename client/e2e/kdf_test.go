package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"go.mau.fi/libsignal/kdf"
	"go.mau.fi/libsignal/keys/chain"
)

// TestChainStep: chainStep derives what libsignal's chain key does, for
// random keys and indexes, and hmacSHA256 is crypto/hmac's.
func TestChainStep(t *testing.T) {
	for i := range 200 {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		index := uint32(i * 7919)
		lib := chain.NewKey(kdf.DeriveSecrets, key, index)
		want, wantNext := lib.MessageKeys(), lib.NextKey()
		got, next, ok := chainStep(key, index)
		if !ok {
			t.Fatal("chainStep refused a 32-byte key")
		}
		if !bytes.Equal(got.CipherKey(), want.CipherKey()) || !bytes.Equal(got.MacKey(), want.MacKey()) ||
			!bytes.Equal(got.Iv(), want.Iv()) || got.Index() != want.Index() {
			t.Fatalf("message keys of %x/%d: %x %x %x %d, want %x %x %x %d", key, index,
				got.CipherKey(), got.MacKey(), got.Iv(), got.Index(), want.CipherKey(), want.MacKey(), want.Iv(), want.Index())
		}
		if !bytes.Equal(next.Key(), wantNext.Key()) || next.Index() != wantNext.Index() {
			t.Fatalf("next key of %x/%d: %x %d, want %x %d", key, index, next.Key(), next.Index(), wantNext.Key(), wantNext.Index())
		}
		// The next step from the derived key, as libsignal takes it.
		if a, b := next.MessageKeys(), wantNext.MessageKeys(); !bytes.Equal(a.CipherKey(), b.CipherKey()) {
			t.Fatalf("the chain goes on differently")
		}
	}
	for _, n := range []int{0, 1, 31, 32, 33, 64} {
		key := bytes.Repeat([]byte{0xa5}, n)
		msg := bytes.Repeat([]byte{7}, 40)
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		if got := hmacSHA256(key, msg[:10], msg[10:30], msg[30:]); !bytes.Equal(got[:], m.Sum(nil)) {
			t.Errorf("hmacSHA256 with a %d-byte key is not HMAC-SHA256", n)
		}
	}
	if _, _, ok := chainStep(make([]byte, 65), 0); ok {
		t.Error("chainStep took a key longer than a block")
	}
}
