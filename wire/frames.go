package wire

import (
	"encoding/json"
	"fmt"

	"github.com/kontor-chat/kontor"
)

// Version is the device protocol version this package speaks.
const Version = 1

// Changelog lists the protocol versions, newest first.
var Changelog = []struct {
	Version      int
	Date, Change string
}{
	{1, "2026-11-24", "first version: hello/welcome, send/sent, msg, receipt, ack, read, typing, watch/presence, error"},
}

// Limits of the protocol.
const (
	MaxPayload   = 64 << 10 // bytes of one device's payload, decoded
	MaxFrame     = 1 << 20  // bytes of one frame as sent
	MaxDevices   = 5        // devices per account: one primary and 4 linked
	MaxAckIDs    = 1000     // ids in one ack or read frame
	MaxRefLength = 64       // bytes of a send's ref
)

// Frame types. Client to server: hello, send, ack, read, typing, watch, ping.
// Server to client: welcome, sent, msg, receipt, typing, presence, error, pong.
const (
	THello    = "hello"
	TWelcome  = "welcome"
	TSend     = "send"
	TSent     = "sent"
	TMsg      = "msg"
	TReceipt  = "receipt"
	TAck      = "ack"
	TRead     = "read"
	TTyping   = "typing"
	TWatch    = "watch"
	TPresence = "presence"
	TError    = "error"
	TPing     = "ping"
	TPong     = "pong"
)

// Frame is every frame of the device protocol: one JSON object per WebSocket
// text message, told apart by Type. Each type uses the fields its doc in
// docs/protocol.md lists; the others stay empty and are left out.
type Frame struct {
	Type string `json:"type"`
	// Ref is chosen by the client on send (unique per device, at most 64 bytes)
	// and echoed on the sent or error frame that answers it. A send repeated
	// with the same ref is committed once and answered with the first id.
	Ref string `json:"ref,omitempty"`

	// hello / welcome
	V          int    `json:"v,omitempty"`
	Credential string `json:"credential,omitempty"`

	// sent / msg / receipt: the server's id for the message or entry
	ID kontor.ID `json:"id,omitempty"`
	// TS is the server's time in Unix milliseconds.
	TS int64 `json:"ts,omitempty"`

	// send: recipient; msg: for a sync copy, the person the sender wrote to;
	// typing (client to server), read: the peer.
	To kontor.Phone `json:"to,omitempty"`
	// msg, typing, presence: who
	From       kontor.Phone `json:"from,omitempty"`
	FromDevice int          `json:"from_device,omitempty"`

	// send: one payload per current device of the recipient, and one per other
	// current device of the sender (Sync) so those stay in step.
	Payloads []Payload `json:"payloads,omitempty"`
	Sync     []Payload `json:"sync,omitempty"`

	// msg: the payload for this device.
	Body []byte `json:"body,omitempty"`

	// receipt: status of the messages in IDs, by whom
	Status   string       `json:"status,omitempty"`
	IDs      []kontor.ID  `json:"ids,omitempty"`
	By       kontor.Phone `json:"by,omitempty"`
	ByDevice int          `json:"by_device,omitempty"`

	// typing
	On bool `json:"on,omitempty"`

	// watch
	Phones []kontor.Phone `json:"phones,omitempty"`
	// presence: Online, or LastSeen (Unix ms; 0 when hidden or never)
	Online   bool  `json:"online,omitempty"`
	LastSeen int64 `json:"last_seen,omitempty"`

	// welcome: who this device is
	Phone    kontor.Phone `json:"phone,omitempty"`
	DeviceID int          `json:"device_id,omitempty"`

	// error
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Missing []DeviceAddress `json:"missing,omitempty"`
	Stale   []DeviceAddress `json:"stale,omitempty"`
}

// Payload is the opaque body for one device. With end-to-end encryption it is
// ciphertext; the server never looks inside.
type Payload struct {
	DeviceID int    `json:"device_id"`
	Body     []byte `json:"body"`
}

// DeviceAddress names one device of one account.
type DeviceAddress struct {
	Phone    kontor.Phone `json:"phone"`
	DeviceID int          `json:"device_id"`
}

func (a DeviceAddress) String() string { return fmt.Sprintf("%s:%d", a.Phone, a.DeviceID) }

// Receipt statuses.
const (
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Error codes of error frames.
const (
	ErrBadFrame         = "bad_frame"         // not JSON, unknown type, missing or bad field
	ErrTooLarge         = "too_large"         // a payload over MaxPayload or a frame over MaxFrame
	ErrUnknownRecipient = "unknown_recipient" // no account with that number
	ErrDevicesMismatch  = "devices_mismatch"  // payloads do not cover exactly the current devices; see Missing and Stale
	ErrUnauthenticated  = "unauthenticated"   // no, bad, expired or revoked credential
	ErrRateLimited      = "rate_limited"      // too many frames; slow down
	ErrUnsupported      = "unsupported_version"
	ErrUnavailable      = "unavailable" // the server is shutting down; reconnect
	ErrInternal         = "internal"
)

// DecodeFrame parses one frame and checks the limits that do not depend on
// server state: a known type, the fields that type needs, payload sizes.
func DecodeFrame(b []byte) (*Frame, error) {
	if len(b) > MaxFrame {
		return nil, &FrameError{Code: ErrTooLarge, Msg: fmt.Sprintf("frame of %d bytes is over the limit of %d", len(b), MaxFrame)}
	}
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, &FrameError{Code: ErrBadFrame, Msg: "frame is not a valid JSON object: " + err.Error()}
	}
	if err := f.Check(); err != nil {
		return &f, err
	}
	return &f, nil
}

// FrameError is a problem with a frame, carrying the error code to answer with.
type FrameError struct {
	Code string
	Msg  string
}

func (e *FrameError) Error() string { return e.Code + ": " + e.Msg }

func bad(format string, args ...any) error {
	return &FrameError{Code: ErrBadFrame, Msg: fmt.Sprintf(format, args...)}
}

// Check validates a client-to-server frame's fields for its type.
func (f *Frame) Check() error {
	switch f.Type {
	case THello:
		if f.Credential == "" {
			return &FrameError{Code: ErrUnauthenticated, Msg: "hello needs a credential"}
		}
	case TSend:
		if f.Ref == "" || len(f.Ref) > MaxRefLength {
			return bad("send needs a ref of 1 to %d bytes", MaxRefLength)
		}
		if _, err := kontor.ParsePhone(string(f.To)); err != nil {
			return &FrameError{Code: ErrBadFrame, Msg: kontor.MessageOf(err)}
		}
		if len(f.Payloads) == 0 {
			return bad("send needs at least one payload")
		}
		if len(f.Payloads) > MaxDevices || len(f.Sync) > MaxDevices {
			return bad("send has more payloads than an account has devices (%d)", MaxDevices)
		}
		for _, list := range [][]Payload{f.Payloads, f.Sync} {
			seen := map[int]bool{}
			for _, p := range list {
				if p.DeviceID < 1 {
					return bad("payload device_id must be at least 1")
				}
				if seen[p.DeviceID] {
					return bad("two payloads for device %d", p.DeviceID)
				}
				seen[p.DeviceID] = true
				if len(p.Body) == 0 {
					return bad("payload for device %d is empty", p.DeviceID)
				}
				if len(p.Body) > MaxPayload {
					return &FrameError{Code: ErrTooLarge, Msg: fmt.Sprintf("payload for device %d is %d bytes, over the limit of %d", p.DeviceID, len(p.Body), MaxPayload)}
				}
			}
		}
	case TAck:
		if len(f.IDs) == 0 || len(f.IDs) > MaxAckIDs {
			return bad("ack needs 1 to %d ids", MaxAckIDs)
		}
	case TRead:
		if len(f.IDs) == 0 || len(f.IDs) > MaxAckIDs {
			return bad("read needs 1 to %d ids", MaxAckIDs)
		}
		if _, err := kontor.ParsePhone(string(f.To)); err != nil {
			return &FrameError{Code: ErrBadFrame, Msg: kontor.MessageOf(err)}
		}
	case TTyping:
		if _, err := kontor.ParsePhone(string(f.To)); err != nil {
			return &FrameError{Code: ErrBadFrame, Msg: kontor.MessageOf(err)}
		}
	case TWatch:
		if len(f.Phones) > 256 {
			return bad("watch takes at most 256 numbers")
		}
		for _, p := range f.Phones {
			if _, err := kontor.ParsePhone(string(p)); err != nil {
				return &FrameError{Code: ErrBadFrame, Msg: kontor.MessageOf(err)}
			}
		}
	case TPing:
	case "":
		return bad("frame has no type")
	default:
		return bad("unknown frame type %q", f.Type)
	}
	return nil
}
