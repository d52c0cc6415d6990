package client

import (
	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Statuses of messages in the history. Outgoing messages go pending → sent →
// delivered → read, or end failed; incoming ones are received, then read
// once Client.Read marks them.
const (
	StatusPending   = "pending" // outgoing, in the outbox: not yet committed by the server
	StatusSent      = "sent"    // outgoing, committed by the server
	StatusDelivered = wire.StatusDelivered
	StatusRead      = wire.StatusRead
	StatusFailed    = wire.StatusFailed
	StatusReceived  = "received" // incoming, not yet read on this device
)

// rank orders statuses: a status only ever moves up. A failed receipt
// (an entry expired on one device) does not undo a delivery to another.
func rank(status string) int {
	switch status {
	case StatusPending:
		return 0
	case StatusSent, StatusReceived:
		return 1
	case StatusFailed:
		return 2
	case StatusDelivered:
		return 3
	case StatusRead:
		return 4
	}
	return -1
}

// Message is one message of a conversation, incoming or outgoing. It is
// also the Event for a message that arrived.
type Message struct {
	// ID is the server's id; 0 while the message waits in the outbox.
	ID kontor.ID `json:"id,omitempty"`
	// Ref is the send's ref for a message sent from this device.
	Ref string `json:"ref,omitempty"`
	// TS is the server's time in Unix ms (for a pending message, the local
	// time it was written).
	TS int64 `json:"ts"`
	// Peer is the other party: the conversation the message belongs to.
	Peer kontor.Phone `json:"peer"`
	// From and FromDevice say which device wrote it; for outgoing messages
	// that is this account (this or another of its devices).
	From       kontor.Phone `json:"from"`
	FromDevice int          `json:"from_device,omitempty"`
	Outgoing   bool         `json:"outgoing,omitempty"`
	Content    wire.Content `json:"content"`
	// Status is one of the Status constants.
	Status string `json:"status"`
	// Problem says why the content could not be read, or why a send failed.
	Problem string `json:"problem,omitempty"`
	// Note is the application's own data about a send of this device
	// (SendNoted), kept with it in the outbox while it is pending and
	// handed back in its Sent event; dropped once the send is answered.
	// Bytes, not JSON: base64 costs a send's write less than checking
	// JSON would (BenchmarkProfileSendNoted).
	Note []byte `json:"note,omitempty"`

	seq uint64 // order of arrival in this process, for the outbox
}

// Conversation summarizes the messages exchanged with one peer.
type Conversation struct {
	Peer   kontor.Phone
	Unread int     // incoming messages not yet read on this device
	Last   Message // the newest message
}
