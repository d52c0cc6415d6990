package cloudapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// WebhookMessage is one item of value.messages: a message a person sent to
// the business. Type names the field that holds it.
type WebhookMessage struct {
	From        string              `json:"from"` // digits, without "+"
	ID          string              `json:"id"`
	Timestamp   string              `json:"timestamp"` // Unix seconds
	Type        string              `json:"type"`
	Context     *MessageContext     `json:"context,omitempty"`
	Text        *Text               `json:"text,omitempty"`
	Image       *WebhookMedia       `json:"image,omitempty"`
	Video       *WebhookMedia       `json:"video,omitempty"`
	Audio       *WebhookMedia       `json:"audio,omitempty"`
	Document    *WebhookMedia       `json:"document,omitempty"`
	Sticker     *WebhookMedia       `json:"sticker,omitempty"`
	Location    *Location           `json:"location,omitempty"`
	Contacts    []Contact           `json:"contacts,omitempty"`
	Reaction    *WebhookReaction    `json:"reaction,omitempty"`
	Interactive *WebhookInteractive `json:"interactive,omitempty"`
	Button      *WebhookButton      `json:"button,omitempty"`
	Order       *WebhookOrder       `json:"order,omitempty"`
	System      *WebhookSystem      `json:"system,omitempty"`
	Unsupported *WebhookUnsupported `json:"unsupported,omitempty"`
	// Referral: the person came from an ad or a post (click-to-chat); the
	// public webhook's referral object, whose fields wire.Referral has
	// under the same names.
	Referral *wire.Referral `json:"referral,omitempty"`
	Errors   []WebhookError `json:"errors,omitempty"`
}

// MessageContext is set on a reply: ID is the message answered. From is the
// number (digits) of who wrote that message; InboundMessage leaves it to
// the caller, who knows.
type MessageContext struct {
	From                string           `json:"from,omitempty"`
	ID                  string           `json:"id"`
	Forwarded           bool             `json:"forwarded,omitempty"`
	FrequentlyForwarded bool             `json:"frequently_forwarded,omitempty"`
	ReferredProduct     *ReferredProduct `json:"referred_product,omitempty"`
}

// ReferredProduct is the product a person asks about.
type ReferredProduct struct {
	CatalogID         string `json:"catalog_id"`
	ProductRetailerID string `json:"product_retailer_id"`
}

// WebhookMedia is an attachment a person sent; ID is the media id for
// GET /{version}/{media-id}.
type WebhookMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    *bool  `json:"voice,omitempty"`    // audio
	Animated *bool  `json:"animated,omitempty"` // sticker
	URL      string `json:"url,omitempty"`
}

// WebhookReaction is a reaction a person put on (or, without Emoji, took
// off) the business's message MessageID.
type WebhookReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji,omitempty"`
}

// WebhookInteractive is a person's answer to an interactive message.
type WebhookInteractive struct {
	Type        string       `json:"type"` // button_reply, list_reply
	ButtonReply *ButtonReply `json:"button_reply,omitempty"`
	ListReply   *ListReply   `json:"list_reply,omitempty"`
}

// ListReply is the row a person picked from a list.
type ListReply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// WebhookButton is a tap on a template's quick-reply button.
type WebhookButton struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

// WebhookOrder is a cart a person sent. OrderID (a kontor extension) is
// the platform's order, with its stock reserved, when the person placed it
// before sending: the reference_id of the business's payment request and
// order news for it.
type WebhookOrder struct {
	CatalogID    string             `json:"catalog_id"`
	Text         string             `json:"text,omitempty"`
	ProductItems []WebhookOrderItem `json:"product_items"`
	OrderID      string             `json:"order_id,omitempty"`
}

// WebhookOrderItem is a line of a WebhookOrder; ItemPrice is the price of
// one item in major units (7.99), as the public webhooks write it.
type WebhookOrderItem struct {
	ProductRetailerID string      `json:"product_retailer_id"`
	Quantity          int         `json:"quantity"`
	ItemPrice         json.Number `json:"item_price"`
	Currency          string      `json:"currency"`
}

// WebhookSystem is a system message (a person changed number, …).
type WebhookSystem struct {
	Body string `json:"body"`
	WaID string `json:"wa_id,omitempty"`
	Type string `json:"type"`
}

// WebhookUnsupported names the kind of a message the API cannot pass on.
type WebhookUnsupported struct {
	Type string `json:"type"`
}

// MediaNamer makes an attachment a person sent downloadable by the
// business. The endpoint implements it: it records the attachment (and its
// key) under a media id that GET /{version}/{media-id} serves decrypted, and
// returns that id and the SHA-256 of the file as that call reports it.
type MediaNamer interface {
	NameMedia(ctx context.Context, kind string, m wire.Media) (id, sha256 string, err error)
}

// InboundMessage turns content a person sent into the webhook message the
// business receives. from is the person, id the message's wamid
// (MessageID of its kontor id), ts when it was sent. Content of a kind a
// business cannot receive (or this version does not know) becomes
// type "unsupported" with error 131051, never dropped. Ids in the content
// (replies, reactions) are kontor message ids and come out as wamids. The
// error is media's, or says the content is invalid.
func InboundMessage(ctx context.Context, from kontor.Phone, id string, ts time.Time, c wire.Content, media MediaNamer) (WebhookMessage, error) {
	m := WebhookMessage{From: from.Digits(), ID: id, Timestamp: Timestamp(ts), Type: c.Type}
	if err := c.Check(); err != nil {
		return m, fmt.Errorf("inbound content: %w", err)
	}
	if c.ReplyTo != "" {
		m.Context = &MessageContext{ID: wamidOf(c.ReplyTo)}
	}
	m.Referral = c.Referral
	switch c.Type {
	case wire.ContentText:
		m.Text = &Text{Body: c.Text}
	case wire.ContentImage, wire.ContentVideo, wire.ContentAudio, wire.ContentDocument, wire.ContentSticker:
		mid, sum, err := media.NameMedia(ctx, c.Type, *c.Media)
		if err != nil {
			return m, fmt.Errorf("inbound %s: %w", c.Type, err)
		}
		wm := &WebhookMedia{ID: mid, MimeType: c.Media.MimeType, SHA256: sum}
		switch c.Type {
		case wire.ContentImage:
			wm.Caption, m.Image = c.Text, wm
		case wire.ContentVideo:
			wm.Caption, m.Video = c.Text, wm
		case wire.ContentDocument:
			wm.Caption, wm.Filename, m.Document = c.Text, c.Media.FileName, wm
		case wire.ContentAudio:
			voice := c.Media.Voice
			wm.Voice, m.Audio = &voice, wm
		case wire.ContentSticker:
			animated := c.Media.Animated
			wm.Animated, m.Sticker = &animated, wm
		}
	case wire.ContentLocation:
		l := *c.Location
		m.Location = &Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
	case wire.ContentContacts:
		m.Contacts = contactsOut(c.Contacts)
	case wire.ContentReaction:
		m.Reaction = &WebhookReaction{MessageID: wamidOf(c.Reaction.MessageID), Emoji: c.Reaction.Emoji}
	case wire.ContentInteractiveReply:
		r := c.InteractiveReply
		switch r.Type {
		case wire.ChoiceButton:
			m.Interactive = &WebhookInteractive{Type: r.Type, ButtonReply: &ButtonReply{ID: r.ID, Title: r.Title}}
			m.Type = TypeInteractive
		case wire.ChoiceListRow:
			m.Interactive = &WebhookInteractive{Type: r.Type, ListReply: &ListReply{ID: r.ID, Title: r.Title, Description: r.Description}}
			m.Type = TypeInteractive
		case wire.ChoiceQuickReply:
			payload := r.ID
			if payload == "" {
				payload = r.Title
			}
			m.Button = &WebhookButton{Text: r.Title, Payload: payload}
			m.Type = "button"
		default:
			unsupported(&m, c.Type+"/"+r.Type)
		}
	case wire.ContentOrder:
		o := &WebhookOrder{CatalogID: c.Order.CatalogID, Text: c.Text, OrderID: c.Order.OrderID}
		for _, it := range c.Order.Items {
			o.ProductItems = append(o.ProductItems, WebhookOrderItem{ProductRetailerID: it.RetailerID, Quantity: it.Quantity,
				ItemPrice: MajorUnits(it.Price, it.Currency), Currency: it.Currency})
		}
		m.Order = o
	default:
		// Kinds only businesses send (interactive, template, business_notice)
		// and kinds this version does not know.
		unsupported(&m, c.Type)
	}
	return m, nil
}

// unsupported makes m an "unsupported" message with error 131051.
func unsupported(m *WebhookMessage, kind string) {
	m.Type = "unsupported"
	m.Unsupported = &WebhookUnsupported{Type: kind}
	m.Errors = []WebhookError{{Code: CodeUnsupportedType, Title: "Message type unknown", Message: "Message type unknown",
		ErrorData: &WebhookErrorData{Details: "Message type is currently not supported."}}}
}

// wamidOf returns the wamid of a kontor message id in content; a string
// that is not a kontor id is passed on as it is.
func wamidOf(s string) string {
	id, err := kontor.ParseID(s)
	if err != nil {
		return s
	}
	return MessageID(id)
}

func contactsOut(cs []wire.Contact) []Contact {
	out := make([]Contact, 0, len(cs))
	for _, c := range cs {
		o := Contact{Name: ContactName{FormattedName: c.Name}, Birthday: c.Birthday}
		if n := c.Names; n != nil {
			o.Name.FirstName, o.Name.LastName, o.Name.MiddleName, o.Name.Prefix, o.Name.Suffix = n.First, n.Last, n.Middle, n.Prefix, n.Suffix
		}
		if c.Org != nil {
			org := *c.Org
			o.Org = &org
		}
		for _, p := range c.Phones {
			o.Phones = append(o.Phones, ContactPhone{Phone: p.Phone, Type: p.Type, WaID: p.WaID})
		}
		for _, e := range c.Emails {
			o.Emails = append(o.Emails, ContactEmail{Email: e})
		}
		for _, u := range c.URLs {
			o.URLs = append(o.URLs, ContactURL{URL: u})
		}
		o.Addresses = append(o.Addresses, c.Addresses...)
		out = append(out, o)
	}
	return out
}

// currencyExponents are the ISO 4217 currencies whose minor unit is not a
// hundredth.
var currencyExponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// MinorExponent returns how many decimals the minor unit of currency has
// (2 unless ISO 4217 says otherwise).
func MinorExponent(currency string) int {
	if e, ok := currencyExponents[strings.ToUpper(currency)]; ok {
		return e
	}
	return 2
}

// MajorUnits writes an amount in minor units as a JSON number in major
// units, in the shortest form (1999 EUR → 19.99, 1000 EUR → 10, 500 JPY →
// 500), which is also how JavaScript prints it: SDKs that re-serialize the
// body keep the same bytes.
func MajorUnits(minor int64, currency string) json.Number {
	exp := MinorExponent(currency)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		whole, frac := s[:len(s)-exp], strings.TrimRight(s[len(s)-exp:], "0")
		s = whole
		if frac != "" {
			s += "." + frac
		}
	}
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}
