package cloudapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits of send requests: the public ones (characters are Unicode code
// points), and kontor's own where the public API states none (marked).
const (
	maxTextBody         = 4096
	maxCaption          = 1024
	maxFilename         = 240 // kontor
	maxMediaRef         = 2048
	maxBizOpaque        = 512 // bytes
	maxHeaderText       = 60
	maxBodyText         = 1024
	maxFooterText       = 60
	maxButtons          = 3
	maxButtonID         = 256
	maxButtonTitle      = 20
	maxListButton       = 20
	maxSections         = 10
	maxListRows         = 10
	maxSectionTitle     = 24
	maxRowID            = 200
	maxRowTitle         = 24
	maxRowDescription   = 72
	maxProducts         = 30
	maxCTADisplayText   = 20
	maxPlaceText        = 1024 // kontor: location name and address
	maxContacts         = 20   // kontor, as wire.MaxContacts
	maxContactItems     = 20   // kontor: phones, emails, urls, addresses of one contact
	maxContactField     = 1024 // kontor
	maxTemplateName     = 512
	maxTemplateButtons  = 10
	maxHeaderParamText  = 60
	maxCouponCode       = 15
	maxReferenceID      = 35
	maxOrderDescription = 120
)

// typeKeys are the request keys that carry a message of that type.
var typeKeys = map[string]bool{
	TypeText: true, TypeImage: true, TypeVideo: true, TypeAudio: true, TypeDocument: true, TypeSticker: true,
	TypeLocation: true, TypeContacts: true, TypeReaction: true, TypeInteractive: true, TypeTemplate: true,
}

// unsupportedTypes are message types of the public API kontor does not send.
var unsupportedTypes = map[string]bool{"order": true, "system": true, "button": true, "unknown": true, "unsupported": true,
	"hsm": true, "voice": true, "flow": true, "request_welcome": true}

// ParseSend reads and checks the body of POST /{version}/{phone-number-id}/messages.
// It returns the request with defaults filled in, or the public error to
// answer with: 100 for a body that is not JSON, an unknown key or a value
// of the wrong JSON type or not among the allowed ones; 131008 for a
// missing parameter; 131009 for a value that breaks a rule (length, count,
// format); 131051 for a message type kontor does not send. Details name the
// parameter, e.g. "interactive.action.buttons[3]".
func ParseSend(body []byte) (SendRequest, *Error) {
	req, e := parseSend(body)
	if e != nil {
		return SendRequest{}, e
	}
	return req, nil
}

func parseSend(body []byte) (SendRequest, *Error) {
	var req SendRequest
	top, ok := topObject(body)
	if !ok {
		return req, NewError(CodeInvalidParameter, "The request body must be a JSON object.")
	}
	mp, ok, e := stringParam(top, "messaging_product")
	if e != nil {
		return req, e
	}
	if !ok || mp == "" {
		return req, Missing("messaging_product")
	}
	if e := oneOf("messaging_product", mp, "whatsapp"); e != nil {
		return req, e
	}
	req.MessagingProduct = mp
	if _, ok := top["status"]; ok {
		return parseMarkRead(top, req)
	}

	if req.RecipientType, _, e = stringParam(top, "recipient_type"); e != nil {
		return req, e
	}
	switch req.RecipientType {
	case "":
		req.RecipientType = "individual"
	case "individual":
	case "group":
		return req, Invalid("recipient_type", `"group" is not supported: kontor sends to one person at a time`)
	default:
		return req, oneOf("recipient_type", req.RecipientType, "individual", "group")
	}
	if _, ok := top["recipient"]; ok {
		return req, Invalid("recipient", "business-scoped user ids are not supported; give the phone number in to")
	}
	to, e := toParam(top)
	if e != nil {
		return req, e
	}
	req.To = to

	typ, _, e := stringParam(top, "type")
	if e != nil {
		return req, e
	}
	typ = strings.ToLower(typ)
	if typ == "" {
		typ = TypeText // the public default
	}
	if !typeKeys[typ] {
		if unsupportedTypes[typ] {
			return req, Errorf(CodeUnsupportedType, "Message type %q is not supported for sending.", typ)
		}
		return req, Errorf(CodeUnsupportedType, "Message type %q is unknown; send one of %s.", typ, strings.Join(sortedKeys(typeKeys), ", "))
	}
	req.Type = typ

	for k := range top {
		switch {
		case k == typ, k == "messaging_product", k == "recipient_type", k == "to", k == "type", k == "context", k == "biz_opaque_callback_data":
		case typeKeys[k]:
			return req, Errorf(CodeInvalidParameter, "Unexpected key %q in a message of type %q.", k, typ)
		default:
			return req, Unexpected(k, "")
		}
	}
	raw, ok := top[typ]
	if !ok || isNull(raw) {
		return req, Missing(typ)
	}
	if e := req.parseTyped(unstringify(raw)); e != nil {
		return req, e
	}

	if raw, ok := top["context"]; ok && !isNull(raw) {
		var c Context
		if err := strictUnmarshal(unstringify(raw), &c); err != nil {
			return req, jsonError("context", err)
		}
		if c.MessageID == "" {
			return req, Missing("context.message_id")
		}
		req.Context = &c
	}
	if req.BizOpaqueCallbackData, _, e = stringParam(top, "biz_opaque_callback_data"); e != nil {
		return req, e
	}
	if len(req.BizOpaqueCallbackData) > maxBizOpaque {
		return req, Invalid("biz_opaque_callback_data", fmt.Sprintf("at most %d bytes, not %d", maxBizOpaque, len(req.BizOpaqueCallbackData)))
	}
	return req, nil
}

// parseTyped decodes and checks the part of the request its type names.
func (req *SendRequest) parseTyped(raw []byte) *Error {
	typ := req.Type
	decode := func(v any) *Error {
		if err := strictUnmarshal(raw, v); err != nil {
			return jsonError(typ, err)
		}
		return nil
	}
	switch typ {
	case TypeText:
		req.Text = new(Text)
		if !plainText(raw, req.Text) {
			*req.Text = Text{}
			if e := decode(req.Text); e != nil {
				return e
			}
		}
		return checkText(req.Text)
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		m := new(MediaObject)
		if e := decode(m); e != nil {
			return e
		}
		switch typ {
		case TypeImage:
			req.Image = m
		case TypeVideo:
			req.Video = m
		case TypeAudio:
			req.Audio = m
		case TypeDocument:
			req.Document = m
		case TypeSticker:
			req.Sticker = m
		}
		return checkMedia(typ, typ, m, inMessage)
	case TypeLocation:
		req.Location = new(Location)
		if e := decode(req.Location); e != nil {
			return e
		}
		return checkLocation(typ, req.Location)
	case TypeContacts:
		if e := decode(&req.Contacts); e != nil {
			return e
		}
		return checkContacts(req.Contacts)
	case TypeReaction:
		req.Reaction = new(Reaction)
		if e := decode(req.Reaction); e != nil {
			return e
		}
		return checkReaction(req.Reaction)
	case TypeInteractive:
		// A type kontor does not send is 131051 whatever its action holds
		// (a flow's parameters would otherwise be refused key by key, 100).
		var peek struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &peek) == nil && unsupportedInteractive[peek.Type] {
			return Errorf(CodeUnsupportedType, "Interactive message type %q is not supported.", peek.Type)
		}
		req.Interactive = new(Interactive)
		if e := decode(req.Interactive); e != nil {
			return e
		}
		return checkInteractive(req.Interactive)
	case TypeTemplate:
		req.Template = new(Template)
		if e := decode(req.Template); e != nil {
			return e
		}
		return checkTemplate(req.Template)
	}
	return Errorf(CodeUnsupportedType, "Message type %q is not supported for sending.", typ)
}

// parseMarkRead reads {"messaging_product":"whatsapp","status":"read","message_id":…}.
func parseMarkRead(top map[string]json.RawMessage, req SendRequest) (SendRequest, *Error) {
	for k := range top {
		switch k {
		case "messaging_product", "status", "message_id", "typing_indicator", "recipient_type", "to":
		default:
			return req, Errorf(CodeInvalidParameter, "Unexpected key %q in a request that marks a message read.", k)
		}
	}
	var e *Error
	if req.Status, _, e = stringParam(top, "status"); e != nil {
		return req, e
	}
	if e := oneOf("status", req.Status, "read"); e != nil {
		return req, e
	}
	var ok bool
	if req.MessageID, ok, e = stringParam(top, "message_id"); e != nil {
		return req, e
	}
	if !ok || req.MessageID == "" {
		return req, Missing("message_id")
	}
	if raw, ok := top["typing_indicator"]; ok && !isNull(raw) {
		var ti TypingIndicator
		if err := strictUnmarshal(unstringify(raw), &ti); err != nil {
			return req, jsonError("typing_indicator", err)
		}
		if ti.Type == "" {
			return req, Missing("typing_indicator.type")
		}
		if e := oneOf("typing_indicator.type", ti.Type, "text"); e != nil {
			return req, e
		}
		req.TypingIndicator = &ti
	}
	if req.RecipientType, _, e = stringParam(top, "recipient_type"); e != nil {
		return req, e
	}
	if _, ok := top["to"]; ok {
		if req.To, e = toParam(top); e != nil {
			return req, e
		}
	}
	return req, nil
}

// toParam reads "to": a string, or a number of digits.
func toParam(top map[string]json.RawMessage) (string, *Error) {
	raw, ok := top["to"]
	if !ok || isNull(raw) {
		return "", Missing("to")
	}
	var to string
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] >= '0' && raw[0] <= '9' {
		to = string(raw)
	} else if s, ok := plainString(raw); ok {
		to = s
	} else if err := json.Unmarshal(raw, &to); err != nil {
		return "", Errorf(CodeInvalidParameter, "Param to must be a string holding a phone number.")
	}
	if strings.TrimSpace(to) == "" {
		return "", Missing("to")
	}
	if _, err := parseTo(to); err != nil {
		return "", Invalid("to", fmt.Sprintf("%q is not a phone number with its country code (digits, an optional leading +)", to))
	}
	return to, nil
}

// stringParam reads a string parameter of the top object; null counts as absent.
func stringParam(top map[string]json.RawMessage, key string) (string, bool, *Error) {
	raw, ok := top[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	if s, ok := plainString(raw); ok {
		return s, true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, Errorf(CodeInvalidParameter, "Param %s must be a string.", key)
	}
	return s, true, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonError turns a decoding error of the part at path into the public error.
func jsonError(path string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := path
		if te.Field != "" {
			p = path + "." + te.Field
		}
		return Errorf(CodeInvalidParameter, "Param %s must be %s, not %s.", p, jsonKind(te.Type), jsonValueName(te.Value))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Errorf(CodeInvalidParameter, "Param %s is not valid JSON: %v.", path, err)
	}
	msg := err.Error()
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		key := strings.Trim(msg[i+len("unknown field "):], `"`)
		return Unexpected(key, path)
	}
	return Errorf(CodeInvalidParameter, "Param %s is not valid: %s.", path, strings.TrimPrefix(msg, "json: "))
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return "a " + t.Kind().String()
}

func jsonValueName(v string) string {
	switch v {
	case "":
		return "something else"
	case "object", "array", "string", "bool", "number":
		return "a JSON " + v
	}
	return v
}

// oneOf is 100 unless v is one of allowed.
func oneOf(path, v string, allowed ...string) *Error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return Errorf(CodeInvalidParameter, "Param %s must be one of {%s} - got %q.", path, strings.Join(allowed, ", "), v)
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// maxRunes is 131009 when s has more than n characters.
func maxRunes(path, s string, n int) *Error {
	if c := runes(s); c > n {
		return Invalid(path, fmt.Sprintf("at most %d characters, not %d", n, c))
	}
	return nil
}

// need is 131008 when s is empty or only spaces, else maxRunes.
func need(path, s string, n int) *Error {
	if strings.TrimSpace(s) == "" {
		return Missing(path)
	}
	return maxRunes(path, s, n)
}

func checkText(t *Text) *Error {
	return need("text.body", t.Body, maxTextBody)
}

// mediaUse says where a media object stands, which decides its keys.
type mediaUse int

const (
	inMessage  mediaUse = iota // caption (image, video, document), filename (document), voice (audio)
	inHeader                   // no caption; filename for document
	inTemplate                 // as inHeader
)

func checkMedia(path, kind string, m *MediaObject, use mediaUse) *Error {
	if m.ID == "" && m.Link == "" {
		return Errorf(CodeMissingParameter, "The parameter %s.id or %s.link is required.", path, path)
	}
	if m.ID != "" && m.Link != "" {
		return Invalid(path, "give either id or link, not both")
	}
	if e := maxRunes(path+".id", m.ID, maxMediaRef); e != nil {
		return e
	}
	if m.Link != "" {
		if e := checkURL(path+".link", m.Link); e != nil {
			return e
		}
	}
	if m.Caption != "" && (use != inMessage || (kind != TypeImage && kind != TypeVideo && kind != TypeDocument)) {
		return Unexpected("caption", path)
	}
	if m.Filename != "" && kind != TypeDocument {
		return Unexpected("filename", path)
	}
	if m.Voice && (use != inMessage || kind != TypeAudio) {
		return Unexpected("voice", path)
	}
	if e := maxRunes(path+".caption", m.Caption, maxCaption); e != nil {
		return e
	}
	return maxRunes(path+".filename", m.Filename, maxFilename)
}

// checkURL is 131009 unless s is an absolute http or https URL.
func checkURL(path, s string) *Error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > maxMediaRef {
		return Invalid(path, fmt.Sprintf("%q is not an http or https URL", s))
	}
	return nil
}

func checkLocation(path string, l *Location) *Error {
	if !l.hasLatitude {
		return Missing(path + ".latitude")
	}
	if !l.hasLongitude {
		return Missing(path + ".longitude")
	}
	if l.Latitude < -90 || l.Latitude > 90 {
		return Invalid(path+".latitude", fmt.Sprintf("%g is not between -90 and 90", l.Latitude))
	}
	if l.Longitude < -180 || l.Longitude > 180 {
		return Invalid(path+".longitude", fmt.Sprintf("%g is not between -180 and 180", l.Longitude))
	}
	if e := maxRunes(path+".name", l.Name, maxPlaceText); e != nil {
		return e
	}
	return maxRunes(path+".address", l.Address, maxPlaceText)
}

func checkContacts(cs []Contact) *Error {
	if len(cs) == 0 {
		return Missing("contacts[0]")
	}
	if len(cs) > maxContacts {
		return Invalid("contacts", fmt.Sprintf("at most %d contacts, not %d", maxContacts, len(cs)))
	}
	for i, c := range cs {
		p := fmt.Sprintf("contacts[%d]", i)
		if e := need(p+".name.formatted_name", c.Name.FormattedName, maxContactField); e != nil {
			return e
		}
		n := c.Name
		for _, f := range []struct{ k, v string }{{"first_name", n.FirstName}, {"last_name", n.LastName}, {"middle_name", n.MiddleName}, {"suffix", n.Suffix}, {"prefix", n.Prefix}} {
			if e := maxRunes(p+".name."+f.k, f.v, maxContactField); e != nil {
				return e
			}
		}
		if c.Birthday != "" && !isDate(c.Birthday) {
			return Invalid(p+".birthday", fmt.Sprintf("%q is not a date as YYYY-MM-DD", c.Birthday))
		}
		for _, l := range []struct {
			k string
			n int
		}{{"phones", len(c.Phones)}, {"emails", len(c.Emails)}, {"urls", len(c.URLs)}, {"addresses", len(c.Addresses)}} {
			if l.n > maxContactItems {
				return Invalid(p+"."+l.k, fmt.Sprintf("at most %d, not %d", maxContactItems, l.n))
			}
		}
		for j, ph := range c.Phones {
			if ph.Phone == "" && ph.WaID == "" {
				return Errorf(CodeMissingParameter, "The parameter %s.phones[%d].phone is required.", p, j)
			}
			if e := maxRunes(fmt.Sprintf("%s.phones[%d].phone", p, j), ph.Phone, 64); e != nil {
				return e
			}
		}
		for j, em := range c.Emails {
			if e := need(fmt.Sprintf("%s.emails[%d].email", p, j), em.Email, maxContactField); e != nil {
				return e
			}
		}
		for j, u := range c.URLs {
			if e := need(fmt.Sprintf("%s.urls[%d].url", p, j), u.URL, maxContactField); e != nil {
				return e
			}
		}
	}
	return nil
}

// isDate says whether s is YYYY-MM-DD with a plausible month and day.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	m := int(s[5]-'0')*10 + int(s[6]-'0')
	d := int(s[8]-'0')*10 + int(s[9]-'0')
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

func checkReaction(r *Reaction) *Error {
	if r.MessageID == "" {
		return Missing("reaction.message_id")
	}
	if !r.hasEmoji {
		return Missing("reaction.emoji")
	}
	if r.Emoji != "" && !isSingleEmoji(r.Emoji) {
		return Invalid("reaction.emoji", fmt.Sprintf("%q is not one emoji (send \"\" to take a reaction back)", r.Emoji))
	}
	return nil
}
