package cloudapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Webhook field names (Change.Field).
const (
	FieldMessages               = "messages"
	FieldTemplateStatusUpdate   = "message_template_status_update"
	FieldPhoneNumberQuality     = "phone_number_quality_update"
	FieldAccountUpdate          = "account_update"
	ObjectWhatsAppBusinessAcct  = "whatsapp_business_account"
	SignatureHeader             = "X-Hub-Signature-256"
	LegacySignatureHeader       = "X-Hub-Signature"
	webhookMessagingProductName = "whatsapp"
)

// Message statuses (Status.Status).
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
	StatusPlayed    = "played"
)

// Notification is the body of every webhook POST:
// {"object":"whatsapp_business_account","entry":[{"id":WABA,"changes":[{"field","value"}]}]}.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is the changes of one business account (ID is its WABA id). Time
// (Unix seconds) is set for fields other than messages.
type Entry struct {
	ID      string   `json:"id"`
	Time    int64    `json:"time,omitempty"`
	Changes []Change `json:"changes"`
}

// Change is one change: Value is a MessagesValue for field "messages", a
// TemplateStatusUpdate for "message_template_status_update". Decoded, it is
// whatever encoding/json makes of it (a map).
type Change struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// MessagesNotification wraps v for the business account wabaID.
func MessagesNotification(wabaID string, v MessagesValue) Notification {
	if v.MessagingProduct == "" {
		v.MessagingProduct = webhookMessagingProductName
	}
	return Notification{Object: ObjectWhatsAppBusinessAcct,
		Entry: []Entry{{ID: wabaID, Changes: []Change{{Field: FieldMessages, Value: v}}}}}
}

// TemplateStatusNotification wraps u for the business account wabaID, at t.
func TemplateStatusNotification(wabaID string, t time.Time, u TemplateStatusUpdate) Notification {
	return Notification{Object: ObjectWhatsAppBusinessAcct,
		Entry: []Entry{{ID: wabaID, Time: t.Unix(), Changes: []Change{{Field: FieldTemplateStatusUpdate, Value: u}}}}}
}

// MessagesValue is the value of a "messages" change: messages people sent
// (with their Contacts), or statuses of messages the business sent, or
// errors not tied to one message.
type MessagesValue struct {
	MessagingProduct string           `json:"messaging_product"`
	Metadata         Metadata         `json:"metadata"`
	Contacts         []WebhookContact `json:"contacts,omitempty"`
	Messages         []WebhookMessage `json:"messages,omitempty"`
	Statuses         []Status         `json:"statuses,omitempty"`
	Errors           []WebhookError   `json:"errors,omitempty"`
}

// Metadata names the business number a change is about.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"` // digits
	PhoneNumberID      string `json:"phone_number_id"`
}

// WebhookContact is a person who sent a message: their profile name and
// number (digits, without "+").
type WebhookContact struct {
	Profile Profile `json:"profile"`
	WaID    string  `json:"wa_id"`
}

// Profile is a person's public profile.
type Profile struct {
	Name string `json:"name"`
}

// Status reports what became of a message the business sent.
type Status struct {
	ID                    string         `json:"id"`
	Status                string         `json:"status"`    // sent, delivered, read, failed, played
	Timestamp             string         `json:"timestamp"` // Unix seconds
	RecipientID           string         `json:"recipient_id"`
	Conversation          *Conversation  `json:"conversation,omitempty"`
	Pricing               *Pricing       `json:"pricing,omitempty"`
	Errors                []WebhookError `json:"errors,omitempty"`
	BizOpaqueCallbackData string         `json:"biz_opaque_callback_data,omitempty"`
	// Type is "payment" for a payment status, with Payment; empty for
	// a message's status.
	Type    string         `json:"type,omitempty"`
	Payment *PaymentStatus `json:"payment,omitempty"`
}

// Conversation is the conversation (pricing window) a message belongs to.
type Conversation struct {
	ID                  string             `json:"id"`
	ExpirationTimestamp string             `json:"expiration_timestamp,omitempty"`
	Origin              ConversationOrigin `json:"origin"`
}

// ConversationOrigin says the category that opened a conversation.
type ConversationOrigin struct {
	Type string `json:"type"` // marketing, utility, authentication, service, referral_conversion
}

// Pricing says how a message is charged.
type Pricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`  // PMP (CBP before July 2025)
	Category     string `json:"category"`       // marketing, utility, authentication, service
	Type         string `json:"type,omitempty"` // regular, free_customer_service, free_entry_point
}

// WebhookError is an error inside a webhook (a failed status, an
// unsupported message, value.errors). Make one with (*Error).WebhookError.
type WebhookError struct {
	Code      int               `json:"code"`
	Title     string            `json:"title"`
	Message   string            `json:"message,omitempty"`
	ErrorData *WebhookErrorData `json:"error_data,omitempty"`
	Href      string            `json:"href,omitempty"`
}

// WebhookErrorData holds the details of a WebhookError.
type WebhookErrorData struct {
	Details string `json:"details"`
}

// TemplateStatusUpdate is the value of a "message_template_status_update"
// change.
type TemplateStatusUpdate struct {
	Event                   string `json:"event"` // APPROVED, REJECTED, PAUSED, DISABLED, …
	MessageTemplateID       int64  `json:"message_template_id"`
	MessageTemplateName     string `json:"message_template_name"`
	MessageTemplateLanguage string `json:"message_template_language"`
	Reason                  string `json:"reason"` // NONE, INCORRECT_CATEGORY, …
	MessageTemplateCategory string `json:"message_template_category,omitempty"`
}

// Timestamp writes t as webhooks do: Unix seconds in a string.
func Timestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// EncodeWebhook serializes a webhook body as the public service does, so
// that every SDK's signature check passes: compact JSON, "<", ">" and "&"
// as themselves, and every character outside U+0000–U+007E written as a
// lowercase \uXXXX escape (characters beyond U+FFFF as a surrogate pair).
// The output is pure ASCII; sign exactly these bytes.
func EncodeWebhook(v any) ([]byte, error) {
	if n, ok := v.(Notification); ok {
		if b, ok := appendNotification(make([]byte, 0, 512), n); ok {
			return b, nil
		}
	}
	return encodeWebhookJSON(v)
}

// encodeWebhookJSON is EncodeWebhook by encoding/json.
func encodeWebhookJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return asciiJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// asciiJSON rewrites the valid JSON b (as encoding/json writes it: valid
// UTF-8, every byte outside a string ASCII) with non-ASCII characters and
// DEL escaped.
func asciiJSON(b []byte) []byte {
	n := 0
	for _, c := range b {
		if c >= 0x7f {
			n++
		}
	}
	if n == 0 {
		return b
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, len(b)+5*n)
	esc := func(u uint16) {
		out = append(out, '\\', 'u', hexdigits[u>>12], hexdigits[u>>8&0xf], hexdigits[u>>4&0xf], hexdigits[u&0xf])
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x7f {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			esc(uint16(r1))
			esc(uint16(r2))
			continue
		}
		esc(uint16(r)) // DEL, BMP characters, and U+FFFD for a stray byte
	}
	return out
}

// Sign returns the X-Hub-Signature-256 header value of body:
// "sha256=" + lowercase hex HMAC-SHA256 under the app secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SignSHA1 returns the legacy X-Hub-Signature header value of body:
// "sha1=" + hex HMAC-SHA1 (some SDKs still read it).
func SignSHA1(secret, body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// CheckSignature says whether header is Sign(secret, body), comparing in
// constant time.
func CheckSignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

// VerifyChallenge answers the GET handshake of a webhook callback: when
// hub.mode is "subscribe" and hub.verify_token equals verifyToken (not
// empty), it returns hub.challenge, to be written as the 200 body; else
// ok is false (answer 403).
func VerifyChallenge(query url.Values, verifyToken string) (challenge string, ok bool) {
	challenge = query.Get("hub.challenge")
	if query.Get("hub.mode") != "subscribe" || verifyToken == "" || challenge == "" ||
		subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	return challenge, true
}

// ChallengeURL returns callback with the handshake query added
// (hub.mode=subscribe, hub.verify_token, hub.challenge), for the sender's
// side of the handshake.
func ChallengeURL(callback, verifyToken, challenge string) (string, error) {
	u, err := url.Parse(callback)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
