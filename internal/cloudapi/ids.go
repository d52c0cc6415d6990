package cloudapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/kontor-chat/kontor"
)

// Message ids look like the public ones: "wamid." and URL-safe base64
// (unpadded) of some bytes. The bytes start with a 4-byte tag that says
// how to read the rest:
//
//   - "kon\x01" + the 8-byte big-endian kontor.ID of a message: MessageID
//     and ParseMessageID map kontor's message ids to and from wamids, so
//     no table is needed (16 characters after the dot);
//   - "kon\x02" + 16 random bytes: NewMessageID, for ids that name no
//     kontor message (27 characters after the dot).
const wamidPrefix = "wamid."

var (
	tagKontor = [4]byte{'k', 'o', 'n', 1}
	tagRandom = [4]byte{'k', 'o', 'n', 2}
)

// NewMessageID returns a random message id, "wamid." + base64.
func NewMessageID() string {
	var b [20]byte
	copy(b[:], tagRandom[:])
	_, _ = rand.Read(b[4:])
	return wamidPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// MessageID returns the wamid of kontor message id: the same id always
// gives the same wamid, and ParseMessageID gives the id back.
func MessageID(id kontor.ID) string {
	var b [12]byte
	copy(b[:], tagKontor[:])
	binary.BigEndian.PutUint64(b[4:], uint64(id))
	out := make([]byte, 0, len(wamidPrefix)+16)
	return string(base64.RawURLEncoding.AppendEncode(append(out, wamidPrefix...), b[:]))
}

// ParseMessageID returns the kontor message id a wamid made by MessageID
// stands for; ok is false for any other string.
func ParseMessageID(wamid string) (id kontor.ID, ok bool) {
	s, found := strings.CutPrefix(wamid, wamidPrefix)
	if !found || len(s) != 16 {
		return 0, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 12 || [4]byte(b[:4]) != tagKontor {
		return 0, false
	}
	n := int64(binary.BigEndian.Uint64(b[4:]))
	if n <= 0 {
		return 0, false
	}
	return kontor.ID(n), true
}
