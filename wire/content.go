package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// ContentVersion is the version of the content schema. Version 1 added
// kinds over time without breaking older readers: a reader shows a kind it
// does not know as "unsupported message" (it never drops it).
const ContentVersion = 1

// Content kinds.
const (
	ContentText     = "text"
	ContentReaction = "reaction"
	ContentImage    = "image"
	ContentVideo    = "video"
	ContentAudio    = "audio"
	ContentDocument = "document"
	ContentSticker  = "sticker"
	ContentLocation = "location"
	ContentContacts = "contacts"
)

// Content is what a person's message says. Devices put it, serialized, inside
// a payload (encrypted end to end); the server never reads it. Type says
// which of the optional parts is set; docs/protocol.md lists them.
type Content struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	// ReplyTo is the id of the message this one answers.
	ReplyTo string `json:"reply_to,omitempty"`

	Reaction *Reaction `json:"reaction,omitempty"`
	// Media is set for image, video, audio, document and sticker; Text is
	// then the caption.
	Media    *Media    `json:"media,omitempty"`
	Location *Location `json:"location,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
}

// Reaction is an emoji on an earlier message; an empty Emoji removes it.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// Media points at an encrypted blob on the server and carries what opens it.
// The blob is AES-256-GCM of the file under Key with a random 12-byte nonce
// in front; Digest is the SHA-256 of the blob as stored.
type Media struct {
	ID       string `json:"id"` // the blob id from POST /v1/media
	MimeType string `json:"mime_type,omitempty"`
	FileName string `json:"file_name,omitempty"`
	Size     int64  `json:"size"`   // of the file, before encryption
	Key      []byte `json:"key"`    // 32 bytes
	Digest   []byte `json:"digest"` // 32 bytes
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Seconds  int    `json:"seconds,omitempty"` // audio and video
}

// Location is a point on the map.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// Contact is a shared address-book entry.
type Contact struct {
	Name   string         `json:"name"`
	Phones []ContactPhone `json:"phones,omitempty"`
	Emails []string       `json:"emails,omitempty"`
}

// ContactPhone is one number of a Contact.
type ContactPhone struct {
	Phone string `json:"phone"`
	Type  string `json:"type,omitempty"` // e.g. CELL, WORK
}

// Limits of content.
const (
	MaxText     = 16 << 10 // bytes of text or caption
	MaxContacts = 20
)

// EncodeContent serializes c.
func EncodeContent(c Content) ([]byte, error) {
	if c.V == 0 {
		c.V = ContentVersion
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// DecodeContent parses and checks a payload's content. A kind this version
// does not know is returned without error: the reader shows it as
// unsupported.
func DecodeContent(b []byte) (Content, error) {
	var c Content
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("content is not valid: %w", err)
	}
	if c.V < 1 {
		return c, fmt.Errorf("content has no version")
	}
	return c, c.Check()
}

// Known says whether this version knows the kind of c.
func (c Content) Known() bool {
	switch c.Type {
	case ContentText, ContentReaction, ContentImage, ContentVideo, ContentAudio, ContentDocument, ContentSticker, ContentLocation, ContentContacts:
		return true
	}
	return false
}

// Check says what is wrong with c, if anything.
func (c Content) Check() error {
	if c.Type == "" {
		return fmt.Errorf("content has no type")
	}
	if len(c.Text) > MaxText {
		return fmt.Errorf("text of %d bytes is over the limit of %d", len(c.Text), MaxText)
	}
	if !utf8.ValidString(c.Text) {
		return fmt.Errorf("text is not valid UTF-8")
	}
	switch c.Type {
	case ContentText:
		if c.Text == "" {
			return fmt.Errorf("a text message has no text")
		}
	case ContentReaction:
		if c.Reaction == nil || c.Reaction.MessageID == "" || len(c.Reaction.Emoji) > 64 {
			return fmt.Errorf("a reaction needs the message_id it is on and at most one emoji")
		}
	case ContentImage, ContentVideo, ContentAudio, ContentDocument, ContentSticker:
		m := c.Media
		if m == nil || m.ID == "" || len(m.Key) != 32 || len(m.Digest) != 32 || m.Size < 0 {
			return fmt.Errorf("%s content needs media with id, a 32-byte key and a 32-byte digest", c.Type)
		}
	case ContentLocation:
		l := c.Location
		if l == nil || math.IsNaN(l.Latitude) || math.IsNaN(l.Longitude) || math.Abs(l.Latitude) > 90 || math.Abs(l.Longitude) > 180 {
			return fmt.Errorf("a location needs a latitude within ±90 and a longitude within ±180")
		}
	case ContentContacts:
		if len(c.Contacts) == 0 || len(c.Contacts) > MaxContacts {
			return fmt.Errorf("contacts content carries 1 to %d contacts", MaxContacts)
		}
		for _, ct := range c.Contacts {
			if ct.Name == "" {
				return fmt.Errorf("a contact needs a name")
			}
		}
	}
	return nil
}
