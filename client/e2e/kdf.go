package e2e

import (
	"crypto/sha256"

	"go.mau.fi/libsignal/kdf"
	"go.mau.fi/libsignal/keys/chain"
	"go.mau.fi/libsignal/keys/message"
)

// chainStep derives from a sending chain's key (key, index) the message
// keys of that step and the chain's next key: what libsignal's
// chain.Key.MessageKeys and NextKey compute (the Signal protocol's
// symmetric ratchet: HMAC-SHA256 of the chain key with the seeds 1 and 2,
// HKDF-SHA256 of the first into 80 bytes of cipher key, MAC key and IV),
// with the HMACs written over stack buffers: libsignal makes five HMACs
// on the heap for each message. TestChainStep holds it to libsignal's.
// ok is false for a key longer than an HMAC block (never in a session).
func chainStep(key []byte, index uint32) (keys *message.Keys, next *chain.Key, ok bool) {
	if len(key) > sha256.BlockSize {
		return nil, nil, false
	}
	seed := hmacSHA256(key, []byte{1}, nil, nil)
	nextKey := hmacSHA256(key, []byte{2}, nil, nil)
	// HKDF (RFC 5869) with no salt: a hash length of zeros.
	var zeros [sha256.Size]byte
	prk := hmacSHA256(zeros[:], seed[:], nil, nil)
	info := []byte(message.KdfSalt)
	var okm [3 * sha256.Size]byte
	t1 := hmacSHA256(prk[:], nil, info, []byte{1})
	t2 := hmacSHA256(prk[:], t1[:], info, []byte{2})
	t3 := hmacSHA256(prk[:], t2[:], info, []byte{3})
	copy(okm[:], t1[:])
	copy(okm[32:], t2[:])
	copy(okm[64:], t3[:])
	material := okm[:message.DerivedSecretsSize:message.DerivedSecretsSize]
	keys = message.NewKeys(material[:32:32], material[32:64:64], material[64:80:80], index)
	return keys, chain.NewKey(kdf.DeriveSecrets, nextKey[:], index+1), true
}

// hmacSHA256 returns HMAC-SHA256 under key (at most a block) of a, b and
// c written one after the other (together at most 96 bytes).
func hmacSHA256(key, a, b, c []byte) [sha256.Size]byte {
	var inner [sha256.BlockSize + 96]byte
	var outer [sha256.BlockSize + sha256.Size]byte
	for i := range sha256.BlockSize {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		inner[i], outer[i] = k^0x36, k^0x5c
	}
	n := sha256.BlockSize
	n += copy(inner[n:], a)
	n += copy(inner[n:], b)
	n += copy(inner[n:], c)
	sum := sha256.Sum256(inner[:n])
	copy(outer[sha256.BlockSize:], sum[:])
	return sha256.Sum256(outer[:])
}
