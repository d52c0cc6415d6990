package e2e

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
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
	cipher.NewCBCEncrypter(block, keys.Iv()).CryptBlocks(ct, ct)

	mac := hmac.New(sha256.New, keys.MacKey())
	var k [ecc.KeySize]byte
	mac.Write(appendKey(k[:0], sender))
	mac.Write(appendKey(k[:0], receiver))
	mac.Write(b[envelopeHeader:])
	var sum [sha256.Size]byte
	return append(b, mac.Sum(sum[:0])[:protocol.MacLength]...), true, nil
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
