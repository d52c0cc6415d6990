package cloudapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/kontor-chat/kontor/wire"
	"strings"

	"github.com/kontor-chat/kontor"
)

// Message types of a send request (SendRequest.Type).
const (
	TypeText        = "text"
	TypeImage       = "image"
	TypeVideo       = "video"
	TypeAudio       = "audio"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeLocation    = "location"
	TypeContacts    = "contacts"
	TypeReaction    = "reaction"
	TypeInteractive = "interactive"
	TypeTemplate    = "template"
)

// Interactive message types (Interactive.Type).
const (
	InteractiveButton         = "button"
	InteractiveList           = "list"
	InteractiveCTAURL         = "cta_url"
	InteractiveProduct        = "product"
	InteractiveProductList    = "product_list"
	InteractiveCatalogMessage = "catalog_message"
	InteractiveOrderDetails   = "order_details"
	InteractiveOrderStatus    = "order_status"
)

// SendRequest is the body of POST /{version}/{phone-number-id}/messages:
// a message to a person, or, when Status is "read", marking a message the
// person sent read (MessageID, and optionally TypingIndicator).
//
// Exactly one of the type fields (Text … Template) is set, the one Type
// names. ParseSend fills in the defaults (Type "text", RecipientType
// "individual") and checks every rule; a SendRequest made by hand is not
// checked.
type SendRequest struct {
	MessagingProduct      string   `json:"messaging_product"`
	RecipientType         string   `json:"recipient_type,omitempty"`
	To                    string   `json:"to,omitempty"` // as sent; Phone() normalises it
	Type                  string   `json:"type,omitempty"`
	Context               *Context `json:"context,omitempty"`
	BizOpaqueCallbackData string   `json:"biz_opaque_callback_data,omitempty"`

	Text        *Text        `json:"text,omitempty"`
	Image       *MediaObject `json:"image,omitempty"`
	Video       *MediaObject `json:"video,omitempty"`
	Audio       *MediaObject `json:"audio,omitempty"`
	Document    *MediaObject `json:"document,omitempty"`
	Sticker     *MediaObject `json:"sticker,omitempty"`
	Location    *Location    `json:"location,omitempty"`
	Contacts    []Contact    `json:"contacts,omitempty"`
	Reaction    *Reaction    `json:"reaction,omitempty"`
	Interactive *Interactive `json:"interactive,omitempty"`
	Template    *Template    `json:"template,omitempty"`

	// Mark read.
	Status          string           `json:"status,omitempty"`
	MessageID       string           `json:"message_id,omitempty"`
	TypingIndicator *TypingIndicator `json:"typing_indicator,omitempty"`
}

// IsMarkRead says whether r marks a message read rather than sending one.
func (r SendRequest) IsMarkRead() bool { return r.Status == "read" }

// Phone returns the recipient as E.164 ("+" and digits); "" if To is not a
// phone number (ParseSend refuses such requests).
func (r SendRequest) Phone() kontor.Phone {
	p, err := parseTo(r.To)
	if err != nil {
		return ""
	}
	return p
}

// Media returns the media object of a media message (image, video, audio,
// document, sticker), nil for other types.
func (r SendRequest) Media() *MediaObject {
	switch r.Type {
	case TypeImage:
		return r.Image
	case TypeVideo:
		return r.Video
	case TypeAudio:
		return r.Audio
	case TypeDocument:
		return r.Document
	case TypeSticker:
		return r.Sticker
	}
	return nil
}

// parseTo reads a recipient: digits with an optional leading "+", spaces,
// dashes, dots and parentheses allowed; the country code is required.
func parseTo(s string) (kontor.Phone, error) {
	if len(s) > 0 && s[0] != '+' {
		s = "+" + s
	}
	return kontor.ParsePhone(s)
}

// Context makes a message a reply to MessageID (a wamid).
type Context struct {
	MessageID string `json:"message_id"`
}

// TypingIndicator shows "typing…" to the person until the business answers
// or 25 seconds pass; Type is "text".
type TypingIndicator struct {
	Type string `json:"type"`
}

// Text is a text message; in webhooks only Body is set.
type Text struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

// MediaObject is an image, video, audio, document or sticker to send: an
// uploaded media ID or a Link to fetch, exactly one. Caption is for image,
// video and document; Filename for document; Voice for audio.
type MediaObject struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
}

// Location is a place on the map. Latitude and longitude may arrive as
// numbers or as strings holding numbers; they are written as numbers.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`

	hasLatitude, hasLongitude bool // set by UnmarshalJSON
}

// UnmarshalJSON reads a location strictly (unknown keys are an error).
func (l *Location) UnmarshalJSON(b []byte) error {
	var raw struct {
		Latitude  json.RawMessage `json:"latitude"`
		Longitude json.RawMessage `json:"longitude"`
		Name      string          `json:"name"`
		Address   string          `json:"address"`
		URL       string          `json:"url"` // sent in webhooks; ignored
	}
	if err := strictUnmarshal(b, &raw); err != nil {
		return err
	}
	*l = Location{Name: raw.Name, Address: raw.Address}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		v    *float64
		has  *bool
	}{{"latitude", raw.Latitude, &l.Latitude, &l.hasLatitude}, {"longitude", raw.Longitude, &l.Longitude, &l.hasLongitude}} {
		if f.raw == nil || string(f.raw) == "null" {
			continue
		}
		var n Number
		if err := n.UnmarshalJSON(f.raw); err != nil {
			return fmt.Errorf("%s must be a number, not %s", f.name, f.raw)
		}
		*f.v, *f.has = float64(n), true
	}
	return nil
}

// Number is a JSON number that may also come as a string holding one.
type Number float64

// UnmarshalJSON accepts 52.5 and "52.5".
func (n *Number) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	var f float64 // only JSON number syntax: no NaN, no infinities, no hex
	if err := json.Unmarshal([]byte(s), &f); err != nil || strings.TrimSpace(s) != s {
		return fmt.Errorf("%s is not a number", b)
	}
	*n = Number(f)
	return nil
}

// Index is a position that may come as a number (0) or a string ("0").
type Index int

// UnmarshalJSON accepts 0 and "0".
func (i *Index) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	var n int
	if err := json.Unmarshal([]byte(s), &n); err != nil || strings.TrimSpace(s) != s {
		return fmt.Errorf("index must be a whole number, not %s", b)
	}
	*i = Index(n)
	return nil
}

// Contact is a shared address-book entry, in requests and webhooks alike.
type Contact struct {
	Name      ContactName      `json:"name"`
	Birthday  string           `json:"birthday,omitempty"` // YYYY-MM-DD
	Org       *ContactOrg      `json:"org,omitempty"`
	Addresses []ContactAddress `json:"addresses,omitempty"`
	Phones    []ContactPhone   `json:"phones,omitempty"`
	Emails    []ContactEmail   `json:"emails,omitempty"`
	URLs      []ContactURL     `json:"urls,omitempty"`
}

// ContactName is a contact's name; FormattedName is required.
type ContactName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	MiddleName    string `json:"middle_name,omitempty"`
	Suffix        string `json:"suffix,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
}

// ContactOrg is where a contact works.
type ContactOrg = wire.ContactOrg

// ContactAddress is a postal address of a contact.
type ContactAddress = wire.ContactAddress

// ContactPhone is a phone number of a contact.
type ContactPhone struct {
	Phone string `json:"phone,omitempty"`
	Type  string `json:"type,omitempty"`
	WaID  string `json:"wa_id,omitempty"`
}

// ContactEmail is an email address of a contact.
type ContactEmail struct {
	Email string `json:"email,omitempty"`
	Type  string `json:"type,omitempty"`
}

// ContactURL is a web address of a contact.
type ContactURL struct {
	URL  string `json:"url,omitempty"`
	Type string `json:"type,omitempty"`
}

// Reaction puts Emoji on the message MessageID; an empty Emoji takes the
// reaction back. Emoji must be present in a request, even when empty.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`

	hasEmoji bool // set by UnmarshalJSON
}

// UnmarshalJSON reads a reaction strictly and notes whether emoji was sent.
func (r *Reaction) UnmarshalJSON(b []byte) error {
	var raw struct {
		MessageID string  `json:"message_id"`
		Emoji     *string `json:"emoji"`
	}
	if err := strictUnmarshal(b, &raw); err != nil {
		return err
	}
	*r = Reaction{MessageID: raw.MessageID}
	if raw.Emoji != nil {
		r.Emoji, r.hasEmoji = *raw.Emoji, true
	}
	return nil
}

// Interactive is an interactive message: Type says which, Action holds its
// buttons, list, link or products.
type Interactive struct {
	Type   string             `json:"type"`
	Header *InteractiveHeader `json:"header,omitempty"`
	Body   *TextObject        `json:"body,omitempty"`
	Footer *TextObject        `json:"footer,omitempty"`
	Action *Action            `json:"action,omitempty"`
}

// InteractiveHeader is the header of an interactive message: Type "text"
// with Text, or "image", "video", "document" with that media object (no
// caption).
type InteractiveHeader struct {
	Type     string       `json:"type"`
	Text     string       `json:"text,omitempty"`
	Image    *MediaObject `json:"image,omitempty"`
	Video    *MediaObject `json:"video,omitempty"`
	Document *MediaObject `json:"document,omitempty"`
}

// TextObject is {"text": …}, the body and footer of interactive messages.
type TextObject struct {
	Text string `json:"text"`
}

// Action is the action of an interactive message; each type uses some
// fields:
//
//   - button: Buttons;
//   - list: Button (the label) and Sections with Rows;
//   - cta_url: Name "cta_url" and Parameters.DisplayText, .URL;
//   - product: CatalogID and ProductRetailerID;
//   - product_list: CatalogID and Sections with ProductItems;
//   - catalog_message: Name "catalog_message", Parameters.ThumbnailProductRetailerID;
//   - order_details: Name "review_and_pay" and the payment Parameters;
//   - order_status: Name "review_order", Parameters.ReferenceID and .Order.
type Action struct {
	Button            string            `json:"button,omitempty"`
	Buttons           []Button          `json:"buttons,omitempty"`
	Sections          []Section         `json:"sections,omitempty"`
	CatalogID         string            `json:"catalog_id,omitempty"`
	ProductRetailerID string            `json:"product_retailer_id,omitempty"`
	Name              string            `json:"name,omitempty"`
	Parameters        *ActionParameters `json:"parameters,omitempty"`
}

// Button is a reply button: Type "reply".
type Button struct {
	Type  string       `json:"type"`
	Reply *ButtonReply `json:"reply,omitempty"`
}

// ButtonReply is the id and title of a reply button.
type ButtonReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Section is a section of a list (Rows) or a product list (ProductItems).
type Section struct {
	Title        string        `json:"title,omitempty"`
	Rows         []Row         `json:"rows,omitempty"`
	ProductItems []ProductItem `json:"product_items,omitempty"`
}

// Row is one choice of a list.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ProductItem names a product of a catalog by its retailer id (SKU).
type ProductItem struct {
	ProductRetailerID string `json:"product_retailer_id"`
}

// ActionParameters are the parameters of cta_url, catalog_message,
// order_details and order_status actions. They may come as an object or as
// a string holding the object's JSON (the public reference shows both).
type ActionParameters struct {
	// cta_url
	DisplayText string `json:"display_text,omitempty"`
	URL         string `json:"url,omitempty"`
	// catalog_message
	ThumbnailProductRetailerID string `json:"thumbnail_product_retailer_id,omitempty"`
	// order_details and order_status
	ReferenceID          string            `json:"reference_id,omitempty"`
	Type                 string            `json:"type,omitempty"` // digital-goods, physical-goods
	PaymentType          string            `json:"payment_type,omitempty"`
	PaymentConfiguration string            `json:"payment_configuration,omitempty"`
	PaymentSettings      []json.RawMessage `json:"payment_settings,omitempty"`
	Beneficiaries        []json.RawMessage `json:"beneficiaries,omitempty"`
	Currency             string            `json:"currency,omitempty"`
	TotalAmount          *Amount           `json:"total_amount,omitempty"`
	Order                *PaymentOrder     `json:"order,omitempty"`
}

// UnmarshalJSON reads the parameters strictly, from an object or from a
// string holding one.
func (p *ActionParameters) UnmarshalJSON(b []byte) error {
	type plain ActionParameters
	var v plain
	if err := strictUnmarshal(unstringify(b), &v); err != nil {
		return err
	}
	*p = ActionParameters(v)
	return nil
}

// Amount is money as the payment messages write it: Value / Offset units
// of the currency (Offset 100 for two decimals).
type Amount struct {
	Value               int64  `json:"value"`
	Offset              int64  `json:"offset"`
	Description         string `json:"description,omitempty"`
	DiscountProgramName string `json:"discount_program_name,omitempty"`
}

// PaymentOrder is the order of an order_details (Status "pending", Items,
// Subtotal …) or order_status (Status and Description) message.
type PaymentOrder struct {
	Status      string           `json:"status"`
	Description string           `json:"description,omitempty"`
	Type        string           `json:"type,omitempty"`
	CatalogID   string           `json:"catalog_id,omitempty"`
	Expiration  *OrderExpiration `json:"expiration,omitempty"`
	Items       []PaymentItem    `json:"items,omitempty"`
	Subtotal    *Amount          `json:"subtotal,omitempty"`
	Tax         *Amount          `json:"tax,omitempty"`
	Shipping    *Amount          `json:"shipping,omitempty"`
	Discount    *Amount          `json:"discount,omitempty"`
}

// OrderExpiration says until when an order can be paid.
type OrderExpiration struct {
	Timestamp   string `json:"timestamp"`
	Description string `json:"description,omitempty"`
}

// PaymentItem is a line of a PaymentOrder.
type PaymentItem struct {
	RetailerID      string          `json:"retailer_id,omitempty"`
	Name            string          `json:"name"`
	Amount          Amount          `json:"amount"`
	SaleAmount      *Amount         `json:"sale_amount,omitempty"`
	Quantity        int64           `json:"quantity"`
	CountryOfOrigin string          `json:"country_of_origin,omitempty"`
	ImporterName    string          `json:"importer_name,omitempty"`
	ImporterAddress json.RawMessage `json:"importer_address,omitempty"`
	Image           json.RawMessage `json:"image,omitempty"`
}

// Template is a template message: the approved template Name in
// Language, with the parameters of its components.
type Template struct {
	Name       string              `json:"name"`
	Language   TemplateLanguage    `json:"language"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// TemplateLanguage names the translation: Code "en" or "en_US"; Policy,
// if given, "deterministic".
type TemplateLanguage struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// TemplateComponent gives the parameters of one component: Type "header",
// "body" or "button" (then SubType and Index, the button's position).
type TemplateComponent struct {
	Type       string              `json:"type"`
	SubType    string              `json:"sub_type,omitempty"`
	Index      *Index              `json:"index,omitempty"`
	Parameters []TemplateParameter `json:"parameters,omitempty"`
	Cards      json.RawMessage     `json:"cards,omitempty"` // carousel; not supported
}

// TemplateParameter is one value filled into a template; Type says which
// field holds it. Named-parameter templates set ParameterName.
type TemplateParameter struct {
	Type             string          `json:"type"`
	ParameterName    string          `json:"parameter_name,omitempty"`
	Text             string          `json:"text,omitempty"`
	Currency         *Currency       `json:"currency,omitempty"`
	DateTime         *DateTime       `json:"date_time,omitempty"`
	Image            *MediaObject    `json:"image,omitempty"`
	Video            *MediaObject    `json:"video,omitempty"`
	Document         *MediaObject    `json:"document,omitempty"`
	Location         *Location       `json:"location,omitempty"`
	Payload          string          `json:"payload,omitempty"`
	CouponCode       string          `json:"coupon_code,omitempty"`
	Action           json.RawMessage `json:"action,omitempty"`             // flow, mpm, catalog buttons; not supported
	Product          json.RawMessage `json:"product,omitempty"`            // not supported
	LimitedTimeOffer json.RawMessage `json:"limited_time_offer,omitempty"` // not supported
}

// Currency is a money parameter; Cloud API renders FallbackValue.
type Currency struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

// DateTime is a date parameter; Cloud API renders FallbackValue. The other
// fields are accepted and ignored, as there.
type DateTime struct {
	FallbackValue string `json:"fallback_value"`
	DayOfWeek     int    `json:"day_of_week,omitempty"`
	Year          int    `json:"year,omitempty"`
	Month         int    `json:"month,omitempty"`
	DayOfMonth    int    `json:"day_of_month,omitempty"`
	Hour          int    `json:"hour,omitempty"`
	Minute        int    `json:"minute,omitempty"`
	Calendar      string `json:"calendar,omitempty"`
	Timestamp     int64  `json:"timestamp,omitempty"`
}

// SendResponse answers a message send (200):
// {"messaging_product":"whatsapp","contacts":[{"input","wa_id"}],"messages":[{"id"}]}.
type SendResponse struct {
	MessagingProduct string            `json:"messaging_product"`
	Contacts         []ResponseContact `json:"contacts"`
	Messages         []ResponseMessage `json:"messages"`
}

// ResponseContact echoes the recipient as sent (Input) and as normalised
// (WaID: digits without "+").
type ResponseContact struct {
	Input string `json:"input"`
	WaID  string `json:"wa_id"`
}

// ResponseMessage is the id of the accepted message; MessageStatus is set
// for templates ("accepted", "held_for_quality_assessment", "paused").
type ResponseMessage struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// NewSendResponse returns the answer to r, accepted as wamid. Templates get
// message_status "accepted", as publicly.
func NewSendResponse(r SendRequest, wamid string) SendResponse {
	m := ResponseMessage{ID: wamid}
	if r.Type == TypeTemplate {
		m.MessageStatus = "accepted"
	}
	waID := r.To // as given, when it is the digits already
	for i := 0; i < len(waID); i++ {
		if waID[i] < '0' || waID[i] > '9' {
			waID = r.Phone().Digits()
			break
		}
	}
	return SendResponse{
		MessagingProduct: "whatsapp",
		Contacts:         []ResponseContact{{Input: r.To, WaID: waID}},
		Messages:         []ResponseMessage{m},
	}
}

// SuccessResponse is {"success":true}, the answer to a mark-read request
// and other simple changes.
type SuccessResponse struct {
	Success bool `json:"success"`
}

// strictUnmarshal decodes one JSON value into v, refusing unknown keys.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

// unstringify returns the JSON inside b when b is a JSON string holding an
// object or array (Graph takes object parameters that way too), else b.
func unstringify(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return b
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return b
	}
	t := bytes.TrimSpace([]byte(s))
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return t
	}
	return b
}

// AppendJSON appends r as json.Encoder writes it (newline included),
// without reflection: the answer to every send.
func (r SendResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"messaging_product":`...)
	b = appendJSONString(b, r.MessagingProduct)
	b = append(b, `,"contacts":`...)
	if r.Contacts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range r.Contacts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"input":`...)
			b = appendJSONString(b, c.Input)
			b = append(b, `,"wa_id":`...)
			b = appendJSONString(b, c.WaID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"messages":`...)
	if r.Messages == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range r.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendJSONString(b, m.ID)
			if m.MessageStatus != "" {
				b = append(b, `,"message_status":`...)
				b = appendJSONString(b, m.MessageStatus)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s quoted as encoding/json does: as it is when
// it is printable ASCII that needs no escape (ids, phone numbers), else
// through json.Marshal, which escapes as the Encoder does (HTML too).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
