package wire

import "github.com/kontor-chat/kontor"

// The key directory (end-to-end encryption). Keys travel as standard base64
// of their libsignal serialisation: a public key is 33 bytes (type byte 0x05
// and 32 bytes of Curve25519), a signature 64 bytes. The server never sees a
// private key; it checks shapes and sizes, hands each one-time prekey out at
// most once, and otherwise stores what devices upload.

// Key limits.
const (
	// MaxPreKeysPerUpload is the most one-time prekeys one upload carries.
	MaxPreKeysPerUpload = 200
	// MaxPreKeysStored is the most one-time prekeys the server keeps per device.
	MaxPreKeysStored = 1000
	// PublicKeySize is the size of a serialised public key.
	PublicKeySize = 33
	// SignatureSize is the size of a signature.
	SignatureSize = 64
)

// PreKey is a one-time prekey.
type PreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"`
}

// SignedPreKey is a medium-term prekey signed with the identity key.
type SignedPreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"`
	Signature []byte `json:"signature"`
}

// KeysUpload is PUT /v1/keys: the calling device sets its keys. IdentityKey
// and RegistrationID are required on the first upload and must not change
// afterwards (a new identity is a new device: register or link again);
// SignedPreKey replaces the stored one when present; PreKeys are added to
// the pool (a prekey id already stored is replaced).
type KeysUpload struct {
	IdentityKey    []byte        `json:"identity_key,omitempty"`
	RegistrationID uint32        `json:"registration_id,omitempty"`
	SignedPreKey   *SignedPreKey `json:"signed_prekey,omitempty"`
	PreKeys        []PreKey      `json:"prekeys,omitempty"`
}

// KeysStatus answers PUT /v1/keys and GET /v1/keys: how many one-time prekeys
// the server still holds for the calling device, and the id of its signed
// prekey (0 when none).
type KeysStatus struct {
	PreKeys        int    `json:"prekeys"`
	SignedPreKeyID uint32 `json:"signed_prekey_id"`
}

// DeviceBundle is what a sender needs to start a session with one device.
// PreKey is absent when the device's pool is empty.
type DeviceBundle struct {
	DeviceID       int          `json:"device_id"`
	RegistrationID uint32       `json:"registration_id"`
	IdentityKey    []byte       `json:"identity_key"`
	SignedPreKey   SignedPreKey `json:"signed_prekey"`
	PreKey         *PreKey      `json:"prekey,omitempty"`
}

// BundlesResponse answers GET /v1/keys/{phone} (every current device that has
// uploaded keys) and GET /v1/keys/{phone}/{device_id} (that one device). Each
// one-time prekey in an answer is removed from the server.
type BundlesResponse struct {
	Phone   kontor.Phone   `json:"phone"`
	Devices []DeviceBundle `json:"devices"`
}
