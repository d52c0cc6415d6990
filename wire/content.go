package wire

import (
	"encoding/json"
	"fmt"
)

// ContentVersion is the version of the content schema.
const ContentVersion = 1

// Content is what a person's message says. Devices put it, serialized, inside
// a payload; the server never reads it.
type Content struct {
	V    int    `json:"v"`
	Type string `json:"type"` // "text"
	Text string `json:"text,omitempty"`
	// ReplyTo is the id of the message this one answers.
	ReplyTo string `json:"reply_to,omitempty"`
}

// MaxText is the longest text a message may carry, in bytes.
const MaxText = 16 << 10

// EncodeContent serializes c.
func EncodeContent(c Content) ([]byte, error) {
	if c.V == 0 {
		c.V = ContentVersion
	}
	return json.Marshal(c)
}

// DecodeContent parses and checks a payload's content.
func DecodeContent(b []byte) (Content, error) {
	var c Content
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("content is not valid: %w", err)
	}
	if c.V < 1 {
		return c, fmt.Errorf("content has no version")
	}
	switch c.Type {
	case "text":
		if len(c.Text) > MaxText {
			return c, fmt.Errorf("text of %d bytes is over the limit of %d", len(c.Text), MaxText)
		}
	case "":
		return c, fmt.Errorf("content has no type")
	}
	return c, nil
}
