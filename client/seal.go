package client

import (
	"context"

	"github.com/kontor-chat/kontor/wire"
)

// Sealer turns content into the payload for one device and back. The plain
// sealer (the messaging core) writes the content as it is; the end-to-end
// sealer (package client/e2e) encrypts it with the Signal protocol.
//
// Seal and Open are called for one peer device at a time; a Sealer does its
// own locking.
type Sealer interface {
	// Seal returns the payload of plaintext for the device to.
	Seal(ctx context.Context, to wire.DeviceAddress, plaintext []byte) ([]byte, error)
	// Open returns the plaintext of a payload that came from the device from.
	Open(ctx context.Context, from wire.DeviceAddress, payload []byte) ([]byte, error)
}

// PlainSealer passes content through unchanged: no end-to-end encryption.
type PlainSealer struct{}

// Seal returns plaintext.
func (PlainSealer) Seal(_ context.Context, _ wire.DeviceAddress, plaintext []byte) ([]byte, error) {
	return plaintext, nil
}

// Open returns payload.
func (PlainSealer) Open(_ context.Context, _ wire.DeviceAddress, payload []byte) ([]byte, error) {
	return payload, nil
}
