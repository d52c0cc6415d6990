package endpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/wire"
)

// The inbox log is what the business console shows of a number's chats:
// the endpoint writes it where it writes its records and webhooks (the
// platform's store for a hosted endpoint, the local store of a
// self-hosted one), so the console reads the same log in both places.

// Statuses of a sent message in the inbox, in the order they move.
const (
	InboxSent      = "sent"
	InboxDelivered = "delivered"
	InboxRead      = "read"
	InboxFailed    = "failed"
)

// InboxMessage is one message of a conversation as the console shows it.
type InboxMessage struct {
	Number   kontor.ID
	ID       kontor.ID
	Peer     kontor.Phone
	Outgoing bool
	Type     string // the Cloud API type: text, image, template, …
	Text     string // what the message says, or a summary of it
	// JSON is the message in the Cloud API's words: the webhook's message
	// object (inbound) or the send request's body (outgoing).
	JSON   []byte
	At     time.Time
	Status string // outgoing: sent, delivered, read or failed; inbound: ""
	// Times a sent message was delivered, read or failed (zero: not yet).
	Delivered, Read, Failed time.Time
	// ProfileName is the person's name as their profile gives it, when
	// known.
	ProfileName string
}

// InboxStatus is news of a sent message: delivered, read or failed.
type InboxStatus struct {
	Number kontor.ID
	ID     kontor.ID
	Status string
	At     time.Time
}

// InboxMarkRead is the business marking a person's messages read (the
// Business API's mark-as-read): those until Upto count as read.
type InboxMarkRead struct {
	Number kontor.ID
	Peer   kontor.Phone
	Upto   time.Time
}

// InboxWrites are the inbox entries of a batch of the endpoint's work.
type InboxWrites struct {
	Messages []InboxMessage
	Statuses []InboxStatus
	Reads    []InboxMarkRead
}

func (w InboxWrites) empty() bool {
	return len(w.Messages) == 0 && len(w.Statuses) == 0 && len(w.Reads) == 0
}

// InboxStore keeps the inbox log (implemented by internal/store). A
// message already there is left alone; statuses only move forward (sent,
// delivered, read; failed only before read).
type InboxStore interface {
	PutInbox(ctx context.Context, w InboxWrites) error
}

// maxInboxText bounds the display text of one message.
const maxInboxText = 4096

// Summary says what content is, for the inbox: its Cloud API type and a
// text a person can read in a list.
func Summary(c wire.Content) (typ, text string) {
	typ = c.Type
	switch c.Type {
	case wire.ContentText:
		text = c.Text
	case wire.ContentImage, wire.ContentVideo, wire.ContentAudio, wire.ContentDocument, wire.ContentSticker:
		text = "[" + c.Type + "]"
		if c.Media != nil && c.Media.FileName != "" {
			text += " " + c.Media.FileName
		}
		if c.Text != "" {
			text += " " + c.Text
		}
	case wire.ContentLocation:
		text = "[location]"
		if c.Location != nil {
			text += fmt.Sprintf(" %s %s (%.5f, %.5f)", c.Location.Name, c.Location.Address, c.Location.Latitude, c.Location.Longitude)
		}
	case wire.ContentContacts:
		names := make([]string, 0, len(c.Contacts))
		for _, ct := range c.Contacts {
			names = append(names, ct.Name)
		}
		text = "[contacts] " + strings.Join(names, ", ")
	case wire.ContentReaction:
		if c.Reaction != nil {
			if c.Reaction.Emoji == "" {
				text = "[reaction removed]"
			} else {
				text = "[reaction] " + c.Reaction.Emoji
			}
		}
	case wire.ContentInteractive:
		if c.Interactive != nil {
			text = c.Interactive.Body
			var opts []string
			for _, b := range c.Interactive.Buttons {
				opts = append(opts, b.Title)
			}
			if len(opts) > 0 {
				text += " [" + strings.Join(opts, " | ") + "]"
			}
		}
	case wire.ContentInteractiveReply:
		typ = "interactive"
		if c.InteractiveReply != nil {
			text = c.InteractiveReply.Title
			if typ := c.InteractiveReply.Type; typ == "quick_reply" {
				return "button", text
			}
		}
	case wire.ContentTemplate:
		if c.Template != nil {
			var parts []string
			if h := c.Template.Header; h != nil && h.Text != "" {
				parts = append(parts, h.Text)
			}
			if c.Template.Body != "" {
				parts = append(parts, c.Template.Body)
			}
			if c.Template.Footer != "" {
				parts = append(parts, c.Template.Footer)
			}
			text = strings.Join(parts, "\n")
			if text == "" {
				text = "[template " + c.Template.Name + "]"
			}
		}
	case wire.ContentOrder:
		n := 0
		if c.Order != nil {
			for _, it := range c.Order.Items {
				n += it.Quantity
			}
		}
		text = fmt.Sprintf("[order] %d item(s)", n)
		if c.Text != "" {
			text += " " + c.Text
		}
	default:
		text = "[" + c.Type + "]"
		if c.Text != "" {
			text += " " + c.Text
		}
	}
	return typ, clip(strings.TrimSpace(text), maxInboxText)
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// inboxStatus is the inbox's word for a receipt's status.
func inboxStatus(s string) string {
	switch s {
	case wire.StatusDelivered:
		return InboxDelivered
	case wire.StatusRead:
		return InboxRead
	case wire.StatusFailed:
		return InboxFailed
	}
	return ""
}

// logInbound adds a person's message to the inbox log of w.
func (e *Endpoint) logInbound(m client.Message, wm cloudapi.WebhookMessage, ts time.Time, w *writes) {
	typ, text := wm.Type, ""
	if m.Problem != "" {
		text = "The message could not be decrypted: " + m.Problem
	} else {
		typ, text = Summary(m.Content)
	}
	body, err := json.Marshal(wm)
	if err != nil {
		e.log.Error("encoding a message for the inbox", "err", err)
		return
	}
	w.inbox.Messages = append(w.inbox.Messages, InboxMessage{Number: e.cfg.Number, ID: m.ID, Peer: m.Peer,
		Type: typ, Text: text, JSON: body, At: ts})
}
