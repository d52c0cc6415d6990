package e2e

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/message"
	"go.mau.fi/libsignal/protocol"
)

// whisperPayload returns the payload (envelope and all) of a message of an
// established session: what envelope writes for libsignal's
// cipher.EncryptCbc and protocol.NewSignalMessage of plain (padded by pad),
// byte for byte, written into one buffer. libsignal pads and encrypts into
// new slices, serialises the message's protocol buffer twice (once for the
// MAC, once for the wire) and each key once per use: about a third of a
// Seal's allocations. TestWhisperPayload and FuzzWhisperPayload hold it to
// libsignal's.
//
// The message: version byte ('3': libsignal writes strconv.Itoa of the
// version, which is also the version in both halves of the byte), the
// SignalMessage protocol buffer (ratchetKey = 1, counter = 2,
// previousCounter = 3, ciphertext = 4, in that order, as protobuf-go
// writes them), then the first 8 bytes of HMAC-SHA256 under the MAC key of
// the sender's and receiver's identity keys and the two parts before.
//
// ok is false when libsignal's path must be taken: another message
// version, or a key of another type than libsignal's only one (Djb).
func whisperPayload(version int, counter, previousCounter uint32, keys *message.Keys,
	ratchet, sender, receiver ecc.ECPublicKeyable, plain []byte) (payload []byte, ok bool, err error) {
	if version != protocol.CurrentVersion || !djb(ratchet) || !djb(sender) || !djb(receiver) {
		return nil, false, nil
	}
	block, err := aes.NewCipher(keys.CipherKey())
	if err != nil {
		return nil, true, err
	}
	padded := (len(plain)/padBlock + 1) * padBlock         // pad
	ctLen := padded + aes.BlockSize - padded%aes.BlockSize // then PKCS #7, as libsignal's EncryptCbc
	size := envelopeHeader + 1 +
		2 + ecc.KeySize +
		1 + uvarintLen(uint64(counter)) +
		1 + uvarintLen(uint64(previousCounter)) +
		1 + uvarintLen(uint64(ctLen)) + ctLen +
		protocol.MacLength
	b := make([]byte, 0, size)
	b = append(b, envelopeVersion, kindWhisper, '0'+byte(version))
	b = append(b, 1<<3|2, byte(ecc.KeySize)) // field 1, bytes
	b = appendKey(b, ratchet)
	b = append(b, 2<<3) // field 2, varint (wire type 0)
	b = binary.AppendUvarint(b, uint64(counter))
	b = append(b, 3<<3) // field 3, varint (wire type 0)
	b = binary.AppendUvarint(b, uint64(previousCounter))
	b = append(b, 4<<3|2) // field 4, bytes
	b = binary.AppendUvarint(b, uint64(ctLen))
	ct := b[len(b) : len(b)+ctLen]
	b = b[:len(b)+ctLen]
	copy(ct, plain) // the rest of ct is zeros (make)
	ct[len(plain)] = 0x80
	for i := padded; i < ctLen; i++ {
		ct[i] = byte(ctLen - padded)
	}
	cbcEncrypt(block, keys.Iv(), ct)

	var k [2 * ecc.KeySize]byte
	ids := appendKey(appendKey(k[:0], sender), receiver)
	sum := macSHA256(keys.MacKey(), ids, b[envelopeHeader:])
	return append(b, sum[:protocol.MacLength]...), true, nil
}

// cbcEncrypt encrypts b (whole blocks) in place in CBC mode from iv: what
// cipher.NewCBCEncrypter(block, iv).CryptBlocks(b, b) does, without the
// encrypter (a copy of the expanded key on the heap, per message).
func cbcEncrypt(block cipher.Block, iv, b []byte) {
	prev := iv
	for i := 0; i+aes.BlockSize <= len(b); i += aes.BlockSize {
		blk := b[i : i+aes.BlockSize]
		subtle.XORBytes(blk, blk, prev)
		block.Encrypt(blk, blk)
		prev = blk
	}
}

// macSHA256 returns HMAC-SHA256 under key of a and b written one after the
// other, with one digest where hmac.New makes two and its pads on the
// heap. A key longer than a block (never: MAC keys are 32 bytes) takes
// hmac.New.
func macSHA256(key, a, b []byte) [sha256.Size]byte {
	var sum [sha256.Size]byte
	if len(key) > sha256.BlockSize {
		m := hmac.New(sha256.New, key)
		m.Write(a)
		m.Write(b)
		m.Sum(sum[:0])
		return sum
	}
	var pad [sha256.BlockSize]byte
	for i := range pad {
		var c byte
		if i < len(key) {
			c = key[i]
		}
		pad[i] = c ^ 0x36
	}
	h := sha256.New()
	h.Write(pad[:])
	h.Write(a)
	h.Write(b)
	var inner [sha256.Size]byte
	h.Sum(inner[:0])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:])
	h.Write(inner[:])
	h.Sum(sum[:0])
	return sum
}

// djb reports whether k is a key libsignal serialises as its type byte
// and its 32 bytes.
func djb(k ecc.ECPublicKeyable) bool { return k != nil && k.Type() == ecc.DjbType }

// appendKey appends what k.Serialize returns, without its allocation.
func appendKey(b []byte, k ecc.ECPublicKeyable) []byte {
	pk := k.PublicKey()
	return append(append(b, ecc.DjbType), pk[:]...)
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
