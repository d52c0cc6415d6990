package cloudapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor/wire"
)

// TemplateDefinition is a message template in the shape of the public
// create body (POST /{version}/{waba-id}/message_templates): the templates
// part stores what it approved and gives it to ToContent to fill in.
// Placeholders are {{1}}, {{2}} … (ParameterFormat POSITIONAL, the default)
// or {{name}} (NAMED).
type TemplateDefinition struct {
	Name            string                 `json:"name"`
	Language        string                 `json:"language"`
	Category        string                 `json:"category"` // MARKETING, UTILITY, AUTHENTICATION
	ParameterFormat string                 `json:"parameter_format,omitempty"`
	Components      []TemplateDefComponent `json:"components"`
}

// TemplateDefComponent is a component of a TemplateDefinition: Type
// HEADER (Format TEXT with Text, or IMAGE, VIDEO, DOCUMENT, LOCATION),
// BODY (Text), FOOTER (Text) or BUTTONS (Buttons).
type TemplateDefComponent struct {
	Type    string              `json:"type"`
	Format  string              `json:"format,omitempty"`
	Text    string              `json:"text,omitempty"`
	Example json.RawMessage     `json:"example,omitempty"`
	Buttons []TemplateDefButton `json:"buttons,omitempty"`
}

// TemplateDefButton is a button of a template: Type QUICK_REPLY, URL (URL
// may end in {{1}}, filled at send time), PHONE_NUMBER, COPY_CODE or OTP.
type TemplateDefButton struct {
	Type        string          `json:"type"`
	Text        string          `json:"text,omitempty"`
	URL         string          `json:"url,omitempty"`
	PhoneNumber string          `json:"phone_number,omitempty"`
	OTPType     string          `json:"otp_type,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
}

// Component returns the first component of type typ (HEADER, BODY, …;
// any case), nil if none.
func (d TemplateDefinition) Component(typ string) *TemplateDefComponent {
	for i := range d.Components {
		if strings.EqualFold(d.Components[i].Type, typ) {
			return &d.Components[i]
		}
	}
	return nil
}

// Placeholders returns the names inside {{…}} in text, in order, each
// once ("1", "2" or "first_name").
func Placeholders(text string) []string {
	var names []string
	seen := map[string]bool{}
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return names
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			return names
		}
		name := strings.TrimSpace(text[i+2 : i+2+j])
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		text = text[i+2+j+2:]
	}
}

// fill replaces each {{name}} of text by values[name].
func fill(text string, values map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(text[:i])
		name := strings.TrimSpace(text[i+2 : i+2+j])
		if v, ok := values[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(text[i : i+2+j+2])
		}
		text = text[i+2+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

// renderTemplate fills the parameters of t into def: 132001 when they are
// not the same template, 132000 when a component gets more or fewer
// parameters than it has placeholders, 132012 when a parameter has the
// wrong type or naming, 132005 when the result is too long.
func renderTemplate(ctx context.Context, def TemplateDefinition, t Template, media MediaResolver) (wire.Template, *Error) {
	out := wire.Template{Name: def.Name, Language: def.Language}
	if def.Name != t.Name || !sameLanguage(def.Language, t.Language.Code) {
		return out, Errorf(CodeTemplateNotFound, "template name (%s) does not exist in %s", t.Name, t.Language.Code)
	}
	named := strings.EqualFold(def.ParameterFormat, "NAMED")
	var header, body *TemplateComponent
	buttons := map[int]*TemplateComponent{}
	for i := range t.Components {
		c := &t.Components[i]
		switch strings.ToLower(c.Type) {
		case "header":
			header = c
		case "body":
			body = c
		case "button":
			if c.Index != nil {
				buttons[int(*c.Index)] = c
			}
		}
	}

	// Header.
	dh := def.Component("HEADER")
	var hp []TemplateParameter
	if header != nil {
		hp = header.Parameters
	}
	if dh == nil {
		if len(hp) > 0 {
			return out, countError("header", len(hp), 0)
		}
	} else {
		format := strings.ToUpper(dh.Format)
		if format == "" {
			format = "TEXT"
		}
		switch format {
		case "TEXT":
			text, e := fillText("header", dh.Text, hp, named)
			if e != nil {
				return out, e
			}
			if runes(text) > maxHeaderText {
				return out, Errorf(CodeTemplateTextTooLong, "header: the text with its parameters has %d characters; at most %d", runes(text), maxHeaderText)
			}
			out.Header = &wire.Header{Type: "text", Text: text}
		case "IMAGE", "VIDEO", "DOCUMENT", "LOCATION":
			kind := strings.ToLower(format)
			if len(hp) != 1 {
				return out, countError("header", len(hp), 1)
			}
			p := hp[0]
			if strings.ToLower(p.Type) != kind {
				return out, Errorf(CodeTemplateParamFormat, "header: the template's header is %s, the parameter is %s", kind, p.Type)
			}
			wh := &wire.Header{Type: kind}
			if kind == TypeLocation {
				if p.Location == nil {
					return out, Missing("template header location")
				}
				l := p.Location
				wh.Location = &wire.Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
			} else {
				mo := map[string]*MediaObject{TypeImage: p.Image, TypeVideo: p.Video, TypeDocument: p.Document}[kind]
				if mo == nil {
					return out, Missing("template header " + kind)
				}
				m, e := resolve(ctx, media, kind, *mo)
				if e != nil {
					return out, e
				}
				if mo.Filename != "" {
					m.FileName = mo.Filename
				}
				wh.Media = &m
			}
			out.Header = wh
		default:
			return out, Errorf(CodeTemplateParamFormat, "header: the template's header format %q is not supported", dh.Format)
		}
	}

	// Body.
	db := def.Component("BODY")
	var bp []TemplateParameter
	if body != nil {
		bp = body.Parameters
	}
	if db == nil {
		if len(bp) > 0 {
			return out, countError("body", len(bp), 0)
		}
	} else {
		text, e := fillText("body", db.Text, bp, named)
		if e != nil {
			return out, e
		}
		out.Body = text
	}

	if df := def.Component("FOOTER"); df != nil {
		out.Footer = df.Text
	}

	// Buttons.
	var defButtons []TemplateDefButton
	if dbs := def.Component("BUTTONS"); dbs != nil {
		defButtons = dbs.Buttons
	}
	for i := range buttons {
		if i >= len(defButtons) {
			return out, Errorf(CodeTemplateParamCount, "button at index %d: the template has %d buttons", i, len(defButtons))
		}
	}
	for i, db := range defButtons {
		rb, e := renderButton(i, db, buttons[i])
		if e != nil {
			return out, e
		}
		out.Buttons = append(out.Buttons, rb)
	}

	// Lengths, as the public limits: the body alone up to 32768 characters,
	// with other components up to 1024; never over what content can carry.
	limit := 32768
	if out.Header != nil || out.Footer != "" || len(out.Buttons) > 0 {
		limit = maxBodyText
	}
	if n := runes(out.Body); n > limit || len(out.Body) > wire.MaxText {
		return out, Errorf(CodeTemplateTextTooLong, "body: the text with its parameters has %d characters; at most %d", n, limit)
	}
	return out, nil
}

// sameLanguage compares language codes, taking "en_US" and "en-US" alike.
func sameLanguage(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "_")) }
	return norm(a) == norm(b)
}

func countError(component string, got, want int) *Error {
	return Errorf(CodeTemplateParamCount, "%s: number of localizable_params (%d) does not match the expected number of params (%d)", component, got, want)
}

// fillText fills the placeholders of text from params: by position
// ({{1}} is the first parameter) or, for named templates, by
// parameter_name.
func fillText(component, text string, params []TemplateParameter, named bool) (string, *Error) {
	names := Placeholders(text)
	if len(params) != len(names) {
		return "", countError(component, len(params), len(names))
	}
	values := make(map[string]string, len(params))
	for i, p := range params {
		v, e := paramText(component, i, p)
		if e != nil {
			return "", e
		}
		switch {
		case named && p.ParameterName == "":
			return "", Errorf(CodeTemplateParamFormat, "%s: parameter %d has no parameter_name; the template has named parameters", component, i)
		case !named && p.ParameterName != "":
			return "", Errorf(CodeTemplateParamFormat, "%s: parameter %d has a parameter_name; the template has positional parameters", component, i)
		case named:
			values[p.ParameterName] = v
		default:
			values[strconv.Itoa(i+1)] = v
		}
	}
	for _, n := range names {
		if _, ok := values[n]; !ok {
			return "", Errorf(CodeTemplateParamFormat, "%s: no parameter for {{%s}}", component, n)
		}
	}
	return fill(text, values), nil
}

// paramText is the text a parameter renders to: text, or the fallback value
// of currency and date_time (as the public API renders them).
func paramText(component string, i int, p TemplateParameter) (string, *Error) {
	switch strings.ToLower(p.Type) {
	case "text":
		return p.Text, nil
	case "currency":
		if p.Currency != nil {
			return p.Currency.FallbackValue, nil
		}
	case "date_time":
		if p.DateTime != nil {
			return p.DateTime.FallbackValue, nil
		}
	}
	return "", Errorf(CodeTemplateParamFormat, "%s: parameter %d is of type %s, which does not fit a text placeholder", component, i, p.Type)
}

// renderButton renders the template's button i with the request's button
// component c (nil if none was given).
func renderButton(i int, db TemplateDefButton, c *TemplateComponent) (wire.TemplateButton, *Error) {
	b := wire.TemplateButton{Type: strings.ToLower(db.Type), Text: db.Text}
	where := fmt.Sprintf("button at index %d", i)
	subType := ""
	var params []TemplateParameter
	if c != nil {
		subType, params = strings.ToLower(c.SubType), c.Parameters
	}
	mismatch := func(want string) *Error {
		return Errorf(CodeTemplateParamFormat, "%s: the template's button is %s; sub_type %q does not fit it (use %q)", where, db.Type, subType, want)
	}
	switch strings.ToUpper(db.Type) {
	case "QUICK_REPLY":
		if c == nil {
			return b, nil
		}
		if subType != "quick_reply" {
			return b, mismatch("quick_reply")
		}
		if len(params) > 1 {
			return b, countError(where, len(params), 1)
		}
		if len(params) == 1 {
			b.Payload = params[0].Payload
			if b.Payload == "" {
				b.Payload = params[0].Text
			}
		}
	case "URL":
		b.URL = db.URL
		want := len(Placeholders(db.URL))
		if c == nil {
			if want > 0 {
				return b, countError(where, 0, want)
			}
			return b, nil
		}
		if subType != "url" {
			return b, mismatch("url")
		}
		if len(params) != want {
			return b, countError(where, len(params), want)
		}
		if want > 0 {
			if strings.ToLower(params[0].Type) != "text" {
				return b, Errorf(CodeTemplateParamFormat, "%s: a URL suffix is a text parameter, not %s", where, params[0].Type)
			}
			b.URL = fill(db.URL, map[string]string{Placeholders(db.URL)[0]: params[0].Text})
		}
	case "PHONE_NUMBER":
		b.Phone = db.PhoneNumber
		if c != nil {
			return b, Errorf(CodeTemplateParamFormat, "%s: a phone number button takes no parameters", where)
		}
	case "COPY_CODE":
		b.Type = "copy_code"
		if c == nil {
			return b, countError(where, 0, 1)
		}
		if subType != "copy_code" {
			return b, mismatch("copy_code")
		}
		if len(params) != 1 {
			return b, countError(where, len(params), 1)
		}
		b.Code = params[0].CouponCode
	case "OTP":
		// Authentication templates: the code comes as the text parameter
		// of a url button, and the person gets a copy-code button.
		b.Type = "copy_code"
		if b.Text == "" {
			b.Text = "Copy code"
		}
		if c == nil {
			return b, countError(where, 0, 1)
		}
		if subType != "url" {
			return b, mismatch("url")
		}
		if len(params) != 1 || strings.ToLower(params[0].Type) != "text" {
			return b, countError(where, len(params), 1)
		}
		b.Code = params[0].Text
	default:
		if c != nil {
			return b, Errorf(CodeTemplateParamFormat, "%s: %s buttons take no parameters here", where, db.Type)
		}
	}
	if b.Text == "" {
		b.Text = db.Type
	}
	return b, nil
}

// Template button sub-types kontor sends, and public ones it does not.
var (
	buttonSubTypes            = []string{"quick_reply", "url", "copy_code"}
	unsupportedButtonSubTypes = map[string]bool{"flow": true, "catalog": true, "mpm": true, "spm": true, "voice_call": true,
		"order_details": true, "app": true}
)

// checkTemplate checks the template object of a send request, on its own
// (renderTemplate checks it against the approved definition).
func checkTemplate(t *Template) *Error {
	if e := need("template.name", t.Name, maxTemplateName); e != nil {
		return e
	}
	if t.Language.Code == "" {
		return Missing("template.language.code")
	}
	if t.Language.Policy != "" {
		if e := oneOf("template.language.policy", t.Language.Policy, "deterministic"); e != nil {
			return e
		}
	}
	seen := map[string]bool{}
	for i := range t.Components {
		c := &t.Components[i]
		p := fmt.Sprintf("template.components[%d]", i)
		c.Type = strings.ToLower(c.Type)
		c.SubType = strings.ToLower(c.SubType)
		switch c.Type {
		case "":
			return Missing(p + ".type")
		case "header", "body":
			if seen[c.Type] {
				return Invalid(p+".type", fmt.Sprintf("only one %s component", c.Type))
			}
			seen[c.Type] = true
			if c.SubType != "" {
				return Unexpected("sub_type", p)
			}
			if c.Index != nil {
				return Unexpected("index", p)
			}
		case "button":
			if c.SubType == "" {
				return Missing(p + ".sub_type")
			}
			if unsupportedButtonSubTypes[c.SubType] {
				return Invalid(p+".sub_type", fmt.Sprintf("%q buttons are not supported", c.SubType))
			}
			if e := oneOf(p+".sub_type", c.SubType, buttonSubTypes...); e != nil {
				return e
			}
			if c.Index == nil {
				return Missing(p + ".index")
			}
			if *c.Index < 0 || *c.Index >= maxTemplateButtons {
				return Invalid(p+".index", fmt.Sprintf("%d is not between 0 and %d", *c.Index, maxTemplateButtons-1))
			}
			k := fmt.Sprintf("button %d", *c.Index)
			if seen[k] {
				return Invalid(p+".index", fmt.Sprintf("button %d is given twice", *c.Index))
			}
			seen[k] = true
		case "carousel", "limited_time_offer", "tap_target_configuration":
			return Invalid(p+".type", fmt.Sprintf("%q components are not supported", c.Type))
		default:
			return oneOf(p+".type", c.Type, "header", "body", "button")
		}
		if c.Cards != nil {
			return Unexpected("cards", p)
		}
		for j := range c.Parameters {
			if e := checkTemplateParameter(fmt.Sprintf("%s.parameters[%d]", p, j), c, &c.Parameters[j]); e != nil {
				return e
			}
		}
	}
	return nil
}

// paramKinds are the parameter types each component takes.
var paramKinds = map[string][]string{
	"header":      {"text", TypeImage, TypeVideo, TypeDocument, TypeLocation},
	"body":        {"text", "currency", "date_time"},
	"quick_reply": {"payload", "text"},
	"url":         {"text"},
	"copy_code":   {"coupon_code"},
}

func checkTemplateParameter(p string, c *TemplateComponent, tp *TemplateParameter) *Error {
	if tp.Type == "" {
		return Missing(p + ".type")
	}
	tp.Type = strings.ToLower(tp.Type)
	switch tp.Type {
	case "action", "product", "limited_time_offer":
		return Invalid(p+".type", fmt.Sprintf("%q parameters are not supported", tp.Type))
	}
	kind := c.Type
	if kind == "button" {
		kind = c.SubType
	}
	if e := oneOf(p+".type", tp.Type, paramKinds[kind]...); e != nil {
		return e
	}
	set := map[string]bool{"text": tp.Text != "", "currency": tp.Currency != nil, "date_time": tp.DateTime != nil,
		TypeImage: tp.Image != nil, TypeVideo: tp.Video != nil, TypeDocument: tp.Document != nil, TypeLocation: tp.Location != nil,
		"payload": tp.Payload != "", "coupon_code": tp.CouponCode != "", "action": tp.Action != nil, "product": tp.Product != nil,
		"limited_time_offer": tp.LimitedTimeOffer != nil}
	for _, k := range sortedKeys(set) {
		if set[k] && k != tp.Type {
			return Errorf(CodeInvalidParameter, "Unexpected key %q on param %q of type %q.", k, p, tp.Type)
		}
	}
	if e := maxRunes(p+".parameter_name", tp.ParameterName, 256); e != nil {
		return e
	}
	switch tp.Type {
	case "text":
		n := maxTextBody * 8
		if c.Type == "header" {
			n = maxHeaderParamText
		}
		if e := need(p+".text", tp.Text, n); e != nil {
			return e
		}
		if c.Type != "button" && (strings.ContainsAny(tp.Text, "\n\t") || strings.Contains(tp.Text, "     ")) {
			return Errorf(CodeInvalidParameter, "Param %s.text cannot have new-line/tab characters or more than 4 consecutive spaces.", p)
		}
	case "currency":
		if tp.Currency == nil {
			return Missing(p + ".currency")
		}
		if e := need(p+".currency.fallback_value", tp.Currency.FallbackValue, maxBodyText); e != nil {
			return e
		}
		if tp.Currency.Code == "" {
			return Missing(p + ".currency.code")
		}
		if !isCurrency(tp.Currency.Code) {
			return Invalid(p+".currency.code", fmt.Sprintf("%q is not an ISO 4217 code", tp.Currency.Code))
		}
	case "date_time":
		if tp.DateTime == nil {
			return Missing(p + ".date_time")
		}
		return need(p+".date_time.fallback_value", tp.DateTime.FallbackValue, maxBodyText)
	case TypeImage:
		return mediaHeader(p+".image", TypeImage, tp.Image)
	case TypeVideo:
		return mediaHeader(p+".video", TypeVideo, tp.Video)
	case TypeDocument:
		return mediaHeader(p+".document", TypeDocument, tp.Document)
	case TypeLocation:
		if tp.Location == nil {
			return Missing(p + ".location")
		}
		return checkLocation(p+".location", tp.Location)
	case "payload":
		return need(p+".payload", tp.Payload, maxButtonID)
	case "coupon_code":
		return need(p+".coupon_code", tp.CouponCode, maxCouponCode)
	}
	return nil
}
