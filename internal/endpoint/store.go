package endpoint

import (
	"context"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
)

// Contact is what an endpoint remembers of a person it chats with.
type Contact struct {
	Peer        kontor.Phone
	LastInbound time.Time // the person's last message: opens the 24-hour window
	NoticeSent  bool      // the hosted-service notice went out in this conversation
	// EntryPoint: the person's latest referral and the free entry-point
	// window it opened, if any.
	EntryPoint billing.EntryPoint
}

// MediaRecord is a file the business uploaded or a person sent, kept at
// the endpoint (decrypted) under a Cloud API media id.
type MediaRecord struct {
	ID       kontor.ID
	Number   kontor.ID
	MimeType string
	SHA256   string // hex
	Size     int64
	FileName string
	Created  time.Time
	Expires  time.Time
}

// MessageRecord is a message an endpoint sent (for its statuses) or got
// (to mark it read).
type MessageRecord struct {
	Number   kontor.ID
	ID       kontor.ID
	Peer     kontor.Phone
	Outgoing bool
	Category string // pricing category of a sent message
	Callback string // biz_opaque_callback_data, echoed in statuses
	Created  time.Time
	// Initiated: sent outside the person's 24-hour window (a template that
	// opens a conversation); the messaging limit counts these.
	Initiated bool
	// EntryPoint: sent inside a free entry-point window (free).
	EntryPoint bool
}

// Store keeps an endpoint's state: the platform's store for hosted
// endpoints, a local one for self-hosted endpoints. Implemented by
// internal/store.
type Store interface {
	// Contact returns what is known of peer; a zero Contact when nothing.
	Contact(ctx context.Context, number kontor.ID, peer kontor.Phone) (Contact, error)
	// NoteReferral records that peer's message with a referral (an ad, a
	// click-to-chat link) came at t, starting a new entry-point window.
	NoteReferral(ctx context.Context, number kontor.ID, peer kontor.Phone, t time.Time) error
	// OpenEntryPoint marks the window of peer's referral at referral
	// opened at at, unless it is opened already, and reports whether this
	// call opened it.
	OpenEntryPoint(ctx context.Context, number kontor.ID, peer kontor.Phone, referral, at time.Time) (bool, error)
	// ClaimNotice marks the hosted-service notice sent to peer and reports
	// whether this call was the first to do so.
	ClaimNotice(ctx context.Context, number kontor.ID, peer kontor.Phone) (bool, error)
	PutEndpointMedia(ctx context.Context, m MediaRecord) error
	// EndpointMedia returns a record; kontor.NotFound when none (or expired).
	EndpointMedia(ctx context.Context, number, id kontor.ID) (MediaRecord, error)
	DeleteEndpointMedia(ctx context.Context, number, id kontor.ID) error
	// MediaNumber returns the number holding media id.
	MediaNumber(ctx context.Context, id kontor.ID) (kontor.ID, error)
	// PutMessages records messages in one transaction; a record already
	// there is left alone. A message a person sent (not Outgoing) also
	// notes when they wrote (Contact.LastInbound: the latest counts), and
	// so does BatchStore.PutEndpointBatch.
	PutMessages(ctx context.Context, msgs []MessageRecord) error
	// Message returns a record; kontor.NotFound when none.
	Message(ctx context.Context, number, id kontor.ID) (MessageRecord, error)
	// Reach counts the people the number's initiated messages went to
	// since a time, and says whether peer is among them.
	Reach(ctx context.Context, number kontor.ID, peer kontor.Phone, since time.Time) (int, bool, error)
	// InboxStore keeps the inbox log the console shows (inbox.go).
	InboxStore
}
