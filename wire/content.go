package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
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

	// ContentInteractive is a message with buttons, a list, a link button or
	// products, as businesses send them (Interactive says which).
	ContentInteractive = "interactive"
	// ContentInteractiveReply is a person's choice of a button or list row
	// (InteractiveReply); ReplyTo names the message that offered it.
	ContentInteractiveReply = "interactive_reply"
	// ContentTemplate is a business's template message, rendered: its
	// parameters are filled in already.
	ContentTemplate = "template"
	// ContentOrder is a cart a person sends to a business; Text is an
	// optional note.
	ContentOrder = "order"
	// ContentBusinessNotice is a line the app shows as a system note, not
	// as a bubble (Text; Notice says why).
	ContentBusinessNotice = "business_notice"
)

// Kinds of interactive message (Interactive.Type).
const (
	InteractiveButton         = "button"          // 1 to 3 reply buttons
	InteractiveList           = "list"            // a button that opens a list of rows
	InteractiveCTAURL         = "cta_url"         // one button that opens a URL
	InteractiveProduct        = "product"         // one product of a catalog
	InteractiveProductList    = "product_list"    // sections of products
	InteractiveCatalogMessage = "catalog_message" // a button that opens the whole catalog
	InteractiveOrderDetails   = "order_details"   // a request to pay for an order (Payment)
	InteractiveOrderStatus    = "order_status"    // news of an order (OrderStatus)
)

// Kinds of reply to an interactive or template message (InteractiveReply.Type).
const (
	ChoiceButton     = "button_reply" // a reply button of an interactive button message
	ChoiceListRow    = "list_reply"   // a row of an interactive list
	ChoiceQuickReply = "quick_reply"  // a quick-reply button of a template
)

// Reasons for a business notice (Notice.Reason).
const (
	// NoticeHosted: the business has its chats managed by a service run by
	// Notice.Operator, which can read them.
	NoticeHosted = "hosted"
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

	// PreviewURL asks the reader of a text to show a preview of its first link.
	PreviewURL bool `json:"preview_url,omitempty"`

	Interactive      *Interactive      `json:"interactive,omitempty"`
	InteractiveReply *InteractiveReply `json:"interactive_reply,omitempty"`
	Template         *Template         `json:"template,omitempty"`
	Order            *Order            `json:"order,omitempty"`
	Notice           *Notice           `json:"notice,omitempty"`
	// Referral is set on a person's message that starts a chat from an ad
	// or a link that carries one (click-to-chat): where the person came
	// from. Any kind of message may carry it; the business's endpoint
	// opens a free entry-point window on it (docs/billing.md).
	Referral *Referral `json:"referral,omitempty"`
}

// Referral is the ad or post a person came from, in the public webhook's
// terms. SourceType is "ad" or "post"; SourceID and SourceURL name it;
// CTWAClid is the click id of a click-to-chat ad.
type Referral struct {
	SourceURL    string `json:"source_url,omitempty"`
	SourceID     string `json:"source_id,omitempty"`
	SourceType   string `json:"source_type"` // ad or post
	Headline     string `json:"headline,omitempty"`
	Body         string `json:"body,omitempty"`
	MediaType    string `json:"media_type,omitempty"` // image or video
	ImageURL     string `json:"image_url,omitempty"`
	VideoURL     string `json:"video_url,omitempty"`
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
	CTWAClid     string `json:"ctwa_clid,omitempty"`
}

// Kinds of referral source (Referral.SourceType).
const (
	ReferralAd   = "ad"
	ReferralPost = "post"
)

// MaxReferralField bounds each string of a Referral, in bytes.
const MaxReferralField = 2048

func (r *Referral) check() error {
	if r.SourceType != ReferralAd && r.SourceType != ReferralPost {
		return fmt.Errorf("a referral's source_type is %q or %q, not %q", ReferralAd, ReferralPost, r.SourceType)
	}
	if r.SourceID == "" && r.SourceURL == "" && r.CTWAClid == "" {
		return fmt.Errorf("a referral names its source: source_id, source_url or ctwa_clid")
	}
	switch r.MediaType {
	case "", "image", "video":
	default:
		return fmt.Errorf("a referral's media_type is image or video, not %q", r.MediaType)
	}
	for _, s := range []string{r.SourceURL, r.SourceID, r.Headline, r.Body, r.ImageURL, r.VideoURL, r.ThumbnailURL, r.CTWAClid} {
		if len(s) > MaxReferralField || !utf8.ValidString(s) {
			return fmt.Errorf("a referral's fields are valid UTF-8 of at most %d bytes each", MaxReferralField)
		}
	}
	return nil
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
	Seconds  int    `json:"seconds,omitempty"`  // audio and video
	Voice    bool   `json:"voice,omitempty"`    // audio: a voice note
	Animated bool   `json:"animated,omitempty"` // sticker: animated
}

// Location is a point on the map.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// Contact is a shared address-book entry. Name is the name as shown.
type Contact struct {
	Name      string           `json:"name"`
	Phones    []ContactPhone   `json:"phones,omitempty"`
	Emails    []string         `json:"emails,omitempty"`
	Names     *ContactNames    `json:"names,omitempty"` // the parts of Name
	Org       *ContactOrg      `json:"org,omitempty"`
	URLs      []string         `json:"urls,omitempty"`
	Addresses []ContactAddress `json:"addresses,omitempty"`
	Birthday  string           `json:"birthday,omitempty"` // YYYY-MM-DD
}

// ContactPhone is one number of a Contact.
type ContactPhone struct {
	Phone string `json:"phone"`
	Type  string `json:"type,omitempty"`  // e.g. CELL, WORK
	WaID  string `json:"wa_id,omitempty"` // the number's digits when it is on kontor
}

// ContactNames are the parts of a contact's name.
type ContactNames struct {
	First  string `json:"first,omitempty"`
	Last   string `json:"last,omitempty"`
	Middle string `json:"middle,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Suffix string `json:"suffix,omitempty"`
}

// ContactOrg is where a contact works.
type ContactOrg struct {
	Company    string `json:"company,omitempty"`
	Department string `json:"department,omitempty"`
	Title      string `json:"title,omitempty"`
}

// ContactAddress is a postal address of a contact.
type ContactAddress struct {
	Street      string `json:"street,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	Zip         string `json:"zip,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	Type        string `json:"type,omitempty"` // e.g. HOME, WORK
}

// Header is the top line of an interactive or template message: a text,
// a picture, a video, a document or a place.
type Header struct {
	Type     string    `json:"type"` // text, image, video, document, location
	Text     string    `json:"text,omitempty"`
	Media    *Media    `json:"media,omitempty"`
	Location *Location `json:"location,omitempty"`
}

// Interactive is what the app renders for an interactive message. Body is
// the main text; which other fields are set depends on Type:
//
//   - button: Buttons (1 to 3);
//   - list: ListButton (the label of the button that opens the list) and
//     Sections with Rows (at most 10 rows in all);
//   - cta_url: Link;
//   - product: CatalogID and RetailerID;
//   - product_list: CatalogID and Sections with Products (at most 30 in all);
//   - catalog_message: CatalogID if known, RetailerID of the thumbnail if any;
//   - order_details: Payment (ordermsg.go);
//   - order_status: OrderStatus (ordermsg.go).
type Interactive struct {
	Type       string        `json:"type"`
	Header     *Header       `json:"header,omitempty"`
	Body       string        `json:"body,omitempty"`
	Footer     string        `json:"footer,omitempty"`
	Buttons    []ReplyButton `json:"buttons,omitempty"`
	ListButton string        `json:"list_button,omitempty"`
	Sections   []Section     `json:"sections,omitempty"`
	Link       *Link         `json:"link,omitempty"`
	CatalogID  string        `json:"catalog_id,omitempty"`
	RetailerID string        `json:"retailer_id,omitempty"`

	Payment     *PaymentRequest `json:"payment,omitempty"`
	OrderStatus *OrderStatus    `json:"order_status,omitempty"`
}

// ReplyButton is a button that answers with its ID when tapped.
type ReplyButton struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Section groups the rows of a list or the products of a product list.
type Section struct {
	Title    string   `json:"title,omitempty"`
	Rows     []Row    `json:"rows,omitempty"`
	Products []string `json:"products,omitempty"` // retailer ids
}

// Row is one choice of a list.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Link is a button that opens URL.
type Link struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// InteractiveReply is a person's choice: the ID and Title of the button or
// row they picked (for a template's quick reply, ID is its payload).
type InteractiveReply struct {
	Type        string `json:"type"` // button_reply, list_reply, quick_reply
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Template is a template message as the person sees it: the business's
// approved template with its parameters filled in.
type Template struct {
	Name     string           `json:"name"`
	Language string           `json:"language,omitempty"`
	Header   *Header          `json:"header,omitempty"`
	Body     string           `json:"body,omitempty"`
	Footer   string           `json:"footer,omitempty"`
	Buttons  []TemplateButton `json:"buttons,omitempty"`
}

// TemplateButton is a button of a template message. A quick_reply button
// answers with an InteractiveReply of type quick_reply carrying Payload
// (or Text when Payload is empty); url opens URL; phone_number calls
// Phone; copy_code copies Code.
type TemplateButton struct {
	Type    string `json:"type"` // quick_reply, url, phone_number, copy_code
	Text    string `json:"text"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Code    string `json:"code,omitempty"`
}

// Order is a cart a person sends to a business from its catalog.
type Order struct {
	// OrderID is the platform's id of the order when it was placed (stock
	// reserved) before the message was sent.
	OrderID   string      `json:"order_id,omitempty"`
	CatalogID string      `json:"catalog_id"`
	Items     []OrderItem `json:"items"`
}

// OrderItem is one line of an Order. Price is the price of one item in
// minor units of Currency (ISO 4217), as shown to the person.
type OrderItem struct {
	RetailerID string `json:"retailer_id"`
	Quantity   int    `json:"quantity"`
	Price      int64  `json:"price"`
	Currency   string `json:"currency"`
}

// Notice says why a business notice is shown, so that an app can word it
// in its own language; Content.Text holds the line as sent.
type Notice struct {
	Reason   string `json:"reason"`             // hosted
	Operator string `json:"operator,omitempty"` // who runs the service
}

// Limits of content.
const (
	MaxText            = 16 << 10 // bytes of text or caption, and of any other string
	MaxContacts        = 20
	MaxButtons         = 3  // reply buttons of an interactive button message
	MaxListRows        = 10 // rows of a list, in all its sections
	MaxSections        = 10 // sections of a list or product list
	MaxProducts        = 30 // products of a product list, in all its sections
	MaxTemplateButtons = 10
	MaxOrderItems      = 100
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

// Known says whether this version knows the kind of c (and, for
// interactive messages and replies, their sub-kind).
func (c Content) Known() bool {
	switch c.Type {
	case ContentText, ContentReaction, ContentImage, ContentVideo, ContentAudio, ContentDocument, ContentSticker, ContentLocation, ContentContacts,
		ContentTemplate, ContentOrder, ContentBusinessNotice:
		return true
	case ContentInteractive:
		if c.Interactive == nil {
			return false
		}
		switch c.Interactive.Type {
		case InteractiveButton, InteractiveList, InteractiveCTAURL, InteractiveProduct, InteractiveProductList, InteractiveCatalogMessage,
			InteractiveOrderDetails, InteractiveOrderStatus:
			return true
		}
	case ContentInteractiveReply:
		if c.InteractiveReply == nil {
			return false
		}
		switch c.InteractiveReply.Type {
		case ChoiceButton, ChoiceListRow, ChoiceQuickReply:
			return true
		}
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
	if c.Referral != nil {
		if err := c.Referral.check(); err != nil {
			return err
		}
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
		if err := checkMedia(c.Type, c.Media); err != nil {
			return err
		}
	case ContentLocation:
		if !c.Location.ok() {
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
	case ContentInteractive:
		if c.Interactive == nil {
			return fmt.Errorf("interactive content needs its interactive part")
		}
		return c.Interactive.check()
	case ContentInteractiveReply:
		r := c.InteractiveReply
		if r == nil || (r.ID == "" && r.Title == "") {
			return fmt.Errorf("an interactive reply needs the id or title of what was chosen")
		}
		if err := checkStrings(r.ID, r.Title, r.Description); err != nil {
			return err
		}
	case ContentTemplate:
		if c.Template == nil {
			return fmt.Errorf("template content needs its template part")
		}
		return c.Template.check()
	case ContentOrder:
		if c.Order == nil {
			return fmt.Errorf("order content needs its order part")
		}
		return c.Order.check()
	case ContentBusinessNotice:
		if c.Text == "" {
			return fmt.Errorf("a business notice has no text")
		}
		if c.Notice != nil {
			if err := checkStrings(c.Notice.Reason, c.Notice.Operator); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkMedia(kind string, m *Media) error {
	if m == nil || m.ID == "" || len(m.Key) != 32 || len(m.Digest) != 32 || m.Size < 0 {
		return fmt.Errorf("%s content needs media with id, a 32-byte key and a 32-byte digest", kind)
	}
	return nil
}

// checkStrings says whether each of ss is valid UTF-8 of at most MaxText bytes.
func checkStrings(ss ...string) error {
	for _, s := range ss {
		if len(s) > MaxText {
			return fmt.Errorf("a text of %d bytes is over the limit of %d", len(s), MaxText)
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("a text is not valid UTF-8")
		}
	}
	return nil
}

func (h *Header) check() error {
	if h == nil {
		return nil
	}
	switch h.Type {
	case "text":
		if h.Text == "" {
			return fmt.Errorf("a text header has no text")
		}
		return checkStrings(h.Text)
	case ContentImage, ContentVideo, ContentDocument:
		return checkMedia(h.Type+" header", h.Media)
	case ContentLocation:
		if !h.Location.ok() {
			return fmt.Errorf("a location header needs a latitude within ±90 and a longitude within ±180")
		}
	case "":
		return fmt.Errorf("a header has no type")
	}
	// A header type this version does not know is kept, like a kind.
	return nil
}

func (l *Location) ok() bool {
	return l != nil && !math.IsNaN(l.Latitude) && !math.IsNaN(l.Longitude) && math.Abs(l.Latitude) <= 90 && math.Abs(l.Longitude) <= 180
}

func (in *Interactive) check() error {
	if in.Type == "" {
		return fmt.Errorf("an interactive message has no type")
	}
	if err := in.Header.check(); err != nil {
		return err
	}
	if err := checkStrings(in.Body, in.Footer, in.ListButton, in.CatalogID, in.RetailerID); err != nil {
		return err
	}
	switch in.Type {
	case InteractiveButton:
		if len(in.Buttons) == 0 || len(in.Buttons) > MaxButtons {
			return fmt.Errorf("a button message has 1 to %d buttons", MaxButtons)
		}
		for _, b := range in.Buttons {
			if b.ID == "" || b.Title == "" {
				return fmt.Errorf("a reply button needs an id and a title")
			}
			if err := checkStrings(b.ID, b.Title); err != nil {
				return err
			}
		}
	case InteractiveList:
		if in.ListButton == "" {
			return fmt.Errorf("a list needs the label of its button")
		}
		rows := 0
		if len(in.Sections) == 0 || len(in.Sections) > MaxSections {
			return fmt.Errorf("a list has 1 to %d sections", MaxSections)
		}
		for _, s := range in.Sections {
			if len(s.Rows) == 0 {
				return fmt.Errorf("a list section has no rows")
			}
			rows += len(s.Rows)
			if err := checkStrings(s.Title); err != nil {
				return err
			}
			for _, r := range s.Rows {
				if r.ID == "" || r.Title == "" {
					return fmt.Errorf("a list row needs an id and a title")
				}
				if err := checkStrings(r.ID, r.Title, r.Description); err != nil {
					return err
				}
			}
		}
		if rows > MaxListRows {
			return fmt.Errorf("a list has at most %d rows, not %d", MaxListRows, rows)
		}
	case InteractiveCTAURL:
		if in.Link == nil || in.Link.Text == "" || in.Link.URL == "" {
			return fmt.Errorf("a link button needs a text and a URL")
		}
		if err := checkStrings(in.Link.Text, in.Link.URL); err != nil {
			return err
		}
	case InteractiveProduct:
		if in.CatalogID == "" || in.RetailerID == "" {
			return fmt.Errorf("a product message needs a catalog id and a retailer id")
		}
	case InteractiveProductList:
		if in.CatalogID == "" {
			return fmt.Errorf("a product list needs a catalog id")
		}
		if len(in.Sections) == 0 || len(in.Sections) > MaxSections {
			return fmt.Errorf("a product list has 1 to %d sections", MaxSections)
		}
		n := 0
		for _, s := range in.Sections {
			if len(s.Products) == 0 {
				return fmt.Errorf("a product list section has no products")
			}
			n += len(s.Products)
			if err := checkStrings(s.Title); err != nil {
				return err
			}
			for _, p := range s.Products {
				if p == "" {
					return fmt.Errorf("a product of a product list has no retailer id")
				}
				if err := checkStrings(p); err != nil {
					return err
				}
			}
		}
		if n > MaxProducts {
			return fmt.Errorf("a product list has at most %d products, not %d", MaxProducts, n)
		}
	case InteractiveOrderDetails:
		if in.Payment == nil {
			return fmt.Errorf("an order_details message needs its payment part")
		}
		return in.Payment.check()
	case InteractiveOrderStatus:
		if in.OrderStatus == nil {
			return fmt.Errorf("an order_status message needs its order_status part")
		}
		return in.OrderStatus.check()
	}
	// An interactive type this version does not know is kept (Known says false).
	return nil
}

func (t *Template) check() error {
	if t.Name == "" {
		return fmt.Errorf("a template message has no name")
	}
	if t.Body == "" && t.Header == nil {
		return fmt.Errorf("a template message has neither header nor body")
	}
	if err := t.Header.check(); err != nil {
		return err
	}
	if err := checkStrings(t.Name, t.Language, t.Body, t.Footer); err != nil {
		return err
	}
	if len(t.Buttons) > MaxTemplateButtons {
		return fmt.Errorf("a template has at most %d buttons", MaxTemplateButtons)
	}
	for _, b := range t.Buttons {
		if b.Type == "" || b.Text == "" {
			return fmt.Errorf("a template button needs a type and a text")
		}
		if err := checkStrings(b.Text, b.Payload, b.URL, b.Phone, b.Code); err != nil {
			return err
		}
	}
	return nil
}

func (o *Order) check() error {
	if o.CatalogID == "" {
		return fmt.Errorf("an order needs the catalog id")
	}
	if len(o.Items) == 0 || len(o.Items) > MaxOrderItems {
		return fmt.Errorf("an order has 1 to %d items", MaxOrderItems)
	}
	for _, it := range o.Items {
		if it.RetailerID == "" || it.Quantity < 1 || it.Price < 0 || !currencyCode(it.Currency) {
			return fmt.Errorf("an order item needs a retailer id, a quantity of at least 1, a price not below 0 and an ISO 4217 currency")
		}
		if err := checkStrings(it.RetailerID); err != nil {
			return err
		}
	}
	return nil
}

// currencyCode says whether s looks like an ISO 4217 code: three capitals.
func currencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// ParseReferral reads a referral from a click-to-chat link or its query
// string: "https://kontor.example/chat/+4930…?source_type=ad&source_id=…&ctwa_clid=…"
// or "source_type=ad&source_id=…". The parameters are the fields of
// Referral by their JSON names (source_url, source_id, source_type,
// headline, body, media_type, image_url, video_url, thumbnail_url,
// ctwa_clid); source_type defaults to "ad"; any other parameter (text,
// the prefilled message of a link) is not part of the referral.
func ParseReferral(link string) (*Referral, error) {
	q := link
	if i := strings.IndexByte(link, '?'); i >= 0 {
		q = link[i+1:]
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return nil, fmt.Errorf("the referral is not a query string: %w", err)
	}
	r := &Referral{SourceURL: v.Get("source_url"), SourceID: v.Get("source_id"), SourceType: v.Get("source_type"),
		Headline: v.Get("headline"), Body: v.Get("body"), MediaType: v.Get("media_type"), ImageURL: v.Get("image_url"),
		VideoURL: v.Get("video_url"), ThumbnailURL: v.Get("thumbnail_url"), CTWAClid: v.Get("ctwa_clid")}
	if r.SourceType == "" {
		r.SourceType = ReferralAd
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}
