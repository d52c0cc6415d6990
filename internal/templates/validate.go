package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// CreateRequest is the body of POST /{version}/{waba-id}/message_templates.
type CreateRequest struct {
	Name            string      `json:"name"`
	Language        string      `json:"language"`
	Category        string      `json:"category"`
	ParameterFormat string      `json:"parameter_format,omitempty"`
	Components      []Component `json:"components"`
	// AllowCategoryChange lets the review approve a UTILITY template with
	// promotional content as MARKETING instead of rejecting it.
	AllowCategoryChange bool `json:"allow_category_change,omitempty"`
	// Accepted and not used: kontor has no sub-categories and sends
	// templates until they are delivered or expire like any message.
	SubCategory           string `json:"sub_category,omitempty"`
	MessageSendTTLSeconds int    `json:"message_send_ttl_seconds,omitempty"`
}

// EditRequest is the body of POST /{version}/{template-id}: what changes.
type EditRequest struct {
	Category              string      `json:"category,omitempty"`
	ParameterFormat       string      `json:"parameter_format,omitempty"`
	Components            []Component `json:"components,omitempty"`
	AllowCategoryChange   bool        `json:"allow_category_change,omitempty"`
	MessageSendTTLSeconds int         `json:"message_send_ttl_seconds,omitempty"`
}

// ParseCreate decodes a create body strictly: an unknown key or a value of
// the wrong JSON type is the public error 100. Validate checks the rest.
func ParseCreate(body []byte) (CreateRequest, *cloudapi.Error) {
	var r CreateRequest
	return r, decode(body, &r)
}

// ParseEdit decodes an edit body strictly.
func ParseEdit(body []byte) (EditRequest, *cloudapi.Error) {
	var r EditRequest
	return r, decode(body, &r)
}

func decode(body []byte, v any) *cloudapi.Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body holds more than one JSON value.")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body must be a JSON object.")
	case errors.As(err, &te):
		return cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Param %s must be a %s, not a JSON %s.", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return cloudapi.Unexpected(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "")
	}
	return cloudapi.Errorf(cloudapi.CodeInvalidParameter, "The request body is not valid JSON: %v.", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// Limits of templates (characters are Unicode code points).
const (
	maxName       = 512
	maxHeaderText = 60
	maxBodyText   = 1024
	maxFooterText = 60
	maxButtons    = 10
	maxButtonText = 25
	maxURL        = 2000
	maxURLButtons = 2
	maxCouponCode = 15
	maxExample    = 1024 // kontor
	maxExpiryMin  = 90
)

// Presets of authentication templates, as the public API writes them.
const (
	authBody        = "*{{1}}* is your verification code."
	authSecurity    = " For your security, do not share this code."
	authFooter      = "This code expires in %d minutes."
	authExampleCode = "123456"
	otpButtonText   = "Copy code"
	copyButtonText  = "Copy offer code"
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9_]+$`)
	languageRE = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$`)
	namedRE    = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	numberRE   = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
)

// unsupportedButtons are public button types kontor does not send.
var unsupportedButtons = map[string]bool{"FLOW": true, "MPM": true, "SPM": true, "CATALOG": true, "VOICE_CALL": true,
	"APP": true, "ORDER_DETAILS": true}

// Validate checks a create request and normalises it in place: language
// en_US (en-US accepted), category, formats and types upper case,
// parameter format POSITIONAL unless NAMED, and the preset texts of an
// authentication template written out. A refusal is the public error 100,
// with error_subcode 2388040 (too long), 2388047 (header), 2388072 (body)
// or 2388073 (footer) where it applies.
func Validate(r *CreateRequest) *cloudapi.Error {
	switch {
	case r.Name == "":
		return refuse(0, "The parameter name is required.")
	case utf8.RuneCountInString(r.Name) > maxName:
		return refuse(SubcodeTooLong, "Param name has %d characters; at most %d.", utf8.RuneCountInString(r.Name), maxName)
	case !nameRE.MatchString(r.Name):
		return refuse(0, "Param name %q may hold only lowercase letters, digits and underscores.", r.Name)
	}
	r.Language = normLanguage(r.Language)
	if r.Language == "" {
		return refuse(0, "The parameter language is required.")
	}
	if !languageRE.MatchString(r.Language) {
		return refuse(0, "Param language %q is not a language code such as en_US or de.", r.Language)
	}
	r.Category = strings.ToUpper(r.Category)
	if r.Category == "" {
		return refuse(0, "The parameter category is required.")
	}
	if e := oneOf("category", r.Category, Marketing, Utility, Authentication); e != nil {
		return e
	}
	r.ParameterFormat = strings.ToUpper(r.ParameterFormat)
	if r.ParameterFormat == "" {
		r.ParameterFormat = Positional
	}
	if e := oneOf("parameter_format", r.ParameterFormat, Positional, Named); e != nil {
		return e
	}
	if r.Category == Authentication && r.ParameterFormat == Named {
		return refuse(0, "Authentication templates take positional parameters ({{1}}), not named ones.")
	}
	if r.MessageSendTTLSeconds < 0 {
		return refuse(0, "Param message_send_ttl_seconds must not be negative.")
	}
	if len(r.Components) == 0 {
		return refuse(0, "The parameter components is required.")
	}
	seen := map[string]bool{}
	for i := range r.Components {
		c := &r.Components[i]
		p := fmt.Sprintf("components[%d]", i)
		c.Type = strings.ToUpper(c.Type)
		switch c.Type {
		case "":
			return refuse(0, "The parameter %s.type is required.", p)
		case "HEADER", "BODY", "FOOTER", "BUTTONS":
		case "CAROUSEL", "LIMITED_TIME_OFFER":
			return refuse(0, "Param %s.type: %s components are not supported.", p, c.Type)
		default:
			return oneOf(p+".type", c.Type, "HEADER", "BODY", "FOOTER", "BUTTONS")
		}
		if seen[c.Type] {
			return refuse(0, "Param %s.type: a template has one %s component.", p, c.Type)
		}
		seen[c.Type] = true
		var e *cloudapi.Error
		switch c.Type {
		case "HEADER":
			e = checkHeader(p, c, r.ParameterFormat)
		case "BODY":
			e = checkBody(p, c, r.Category, r.ParameterFormat)
		case "FOOTER":
			e = checkFooter(p, c, r.Category)
		case "BUTTONS":
			e = checkButtons(p, c, r.Category)
		}
		if e != nil {
			return e
		}
	}
	if !seen["BODY"] {
		return refuse(SubcodeBadBody, "A template needs a BODY component.")
	}
	return nil
}

func oneOf(param, v string, allowed ...string) *cloudapi.Error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return refuse(0, "Param %s must be one of {%s} - got %q.", param, strings.Join(allowed, ", "), v)
}

func tooLong(param, text string, max int) *cloudapi.Error {
	if n := utf8.RuneCountInString(text); n > max {
		return refuse(SubcodeTooLong, "Param %s has %d characters; at most %d.", param, n, max)
	}
	return nil
}

// scan returns what is inside each {{…}} of text, in order, with repeats,
// as written.
func scan(text string) []string {
	var out []string
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			return out
		}
		out = append(out, text[i+2:i+2+j])
		text = text[i+2+j+2:]
	}
}

// placeholders checks the placeholders of text and returns them, each
// once, in the order they first appear: {{1}} … {{n}} (every number from 1
// to n, no gaps) when positional, {{name}} (lowercase letters, digits and
// _) when named.
func placeholders(subcode int, param, text, format string) ([]string, *cloudapi.Error) {
	var names []string
	seen := map[string]bool{}
	for _, in := range scan(text) {
		if format == Named && !namedRE.MatchString(in) {
			return nil, refuse(subcode, "Param %s: {{%s}} is not a named parameter: write {{first_name}}, with lowercase letters, digits and underscores.", param, in)
		}
		if format == Positional && !numberRE.MatchString(in) {
			return nil, refuse(subcode, "Param %s: {{%s}} is not a positional parameter: write {{1}}, {{2}} … (named ones need parameter_format NAMED).", param, in)
		}
		if !seen[in] {
			seen[in] = true
			names = append(names, in)
		}
	}
	if format == Positional {
		nums := make([]int, len(names))
		for i, n := range names {
			nums[i], _ = strconv.Atoi(n)
		}
		sort.Ints(nums)
		for i, n := range nums {
			if n != i+1 {
				return nil, refuse(subcode, "Param %s: the parameters must be numbered {{1}} to {{%d}} without gaps; {{%d}} is missing.", param, len(nums), i+1)
			}
		}
	}
	return names, nil
}

// examples checks that the examples of a component's placeholders are
// there, one non-empty value for each.
func examples(subcode int, param string, names []string, format string, positional [][]string, named []NamedParam, posKey, namedKey string) *cloudapi.Error {
	if format == Named {
		if len(positional) > 0 {
			return refuse(subcode, "Param %s.example.%s: a template with named parameters gives its examples in %s.", param, posKey, namedKey)
		}
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		got := map[string]bool{}
		for i, np := range named {
			q := fmt.Sprintf("%s.example.%s[%d]", param, namedKey, i)
			switch {
			case !want[np.ParamName]:
				return refuse(subcode, "Param %s.param_name: %q is not a parameter of the text.", q, np.ParamName)
			case got[np.ParamName]:
				return refuse(subcode, "Param %s.param_name: %q has an example already.", q, np.ParamName)
			case strings.TrimSpace(np.Example) == "":
				return refuse(subcode, "The parameter %s.example is required.", q)
			}
			if e := tooLong(q+".example", np.Example, maxExample); e != nil {
				return e
			}
			got[np.ParamName] = true
		}
		for _, n := range names {
			if !got[n] {
				return refuse(subcode, "Param %s.example.%s: the parameter {{%s}} has no example.", param, namedKey, n)
			}
		}
		return nil
	}
	if len(named) > 0 {
		return refuse(subcode, "Param %s.example.%s: a template with positional parameters gives its examples in %s.", param, namedKey, posKey)
	}
	var row []string
	switch len(positional) {
	case 0:
	case 1:
		row = positional[0]
	default:
		return refuse(subcode, "Param %s.example.%s holds one list of examples, not %d.", param, posKey, len(positional))
	}
	if len(row) != len(names) {
		return refuse(subcode, "Param %s.example.%s: the text has %d parameters, and %d examples are given; give one for each.", param, posKey, len(names), len(row))
	}
	for i, v := range row {
		if strings.TrimSpace(v) == "" {
			return refuse(subcode, "Param %s.example.%s: the example of {{%d}} is empty.", param, posKey, i+1)
		}
		if e := tooLong(fmt.Sprintf("%s.example.%s[%d]", param, posKey, i), v, maxExample); e != nil {
			return e
		}
	}
	return nil
}

func checkHeader(p string, c *Component, format string) *cloudapi.Error {
	const sub = SubcodeBadHeader
	c.Format = strings.ToUpper(c.Format)
	if k := extraKey(c, "format", "text", "example"); k != "" {
		return cloudapi.Unexpected(k, p)
	}
	ex := c.Example
	if ex == nil {
		ex = &Example{}
	}
	if ex.BodyText != nil || ex.BodyTextNamedParams != nil {
		return cloudapi.Unexpected("body_text", p+".example")
	}
	switch c.Format {
	case "":
		return refuse(sub, "The parameter %s.format is required (TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION).", p)
	case "TEXT":
		if strings.TrimSpace(c.Text) == "" {
			return refuse(sub, "The parameter %s.text is required for a TEXT header.", p)
		}
		if e := tooLong(p+".text", c.Text, maxHeaderText); e != nil {
			return e
		}
		names, e := placeholders(sub, p+".text", c.Text, format)
		if e != nil {
			return e
		}
		if len(names) > 1 {
			return refuse(sub, "Param %s.text: a header has at most one parameter; it has %d.", p, len(names))
		}
		if ex.HeaderHandle != nil {
			return cloudapi.Unexpected("header_handle", p+".example")
		}
		return examples(sub, p, names, format, wrap(ex.HeaderText), ex.HeaderTextNamedParams, "header_text", "header_text_named_params")
	case "IMAGE", "VIDEO", "DOCUMENT", "LOCATION":
		if c.Text != "" {
			return refuse(sub, "Param %s.text: a %s header has no text.", p, c.Format)
		}
		if ex.HeaderText != nil || ex.HeaderTextNamedParams != nil {
			return cloudapi.Unexpected("header_text", p+".example")
		}
		if c.Format == "LOCATION" && ex.HeaderHandle != nil {
			return cloudapi.Unexpected("header_handle", p+".example")
		}
		return nil
	}
	return oneOf(p+".format", c.Format, "TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
}

// wrap makes header_text (one list) look like body_text (a list of lists).
func wrap(v []string) [][]string {
	if v == nil {
		return nil
	}
	return [][]string{v}
}

// extraKey returns the first key set on c that its type does not take
// (besides type), "" if none.
func extraKey(c *Component, takes ...string) string {
	set := []struct {
		key string
		on  bool
	}{{"format", c.Format != ""}, {"text", c.Text != ""}, {"example", c.Example != nil}, {"buttons", c.Buttons != nil},
		{"add_security_recommendation", c.AddSecurityRecommendation}, {"code_expiration_minutes", c.CodeExpirationMinutes != 0}}
	for _, k := range set {
		if k.on && !contains(takes, k.key) {
			return k.key
		}
	}
	return ""
}

func checkBody(p string, c *Component, category, format string) *cloudapi.Error {
	const sub = SubcodeBadBody
	takes := []string{"text", "example"}
	if category == Authentication {
		takes = append(takes, "add_security_recommendation")
	}
	if k := extraKey(c, takes...); k != "" {
		return cloudapi.Unexpected(k, p)
	}
	if category == Authentication && strings.TrimSpace(c.Text) == "" {
		// The public API writes the body of authentication templates.
		c.Text = authBody
		if c.AddSecurityRecommendation {
			c.Text += authSecurity
		}
		if c.Example == nil {
			c.Example = &Example{BodyText: [][]string{{authExampleCode}}}
		}
	}
	if strings.TrimSpace(c.Text) == "" {
		return refuse(sub, "The parameter %s.text is required: the body of a template can't be empty.", p)
	}
	if e := tooLong(p+".text", c.Text, maxBodyText); e != nil {
		return e
	}
	names, e := placeholders(sub, p+".text", c.Text, format)
	if e != nil {
		return e
	}
	ex := c.Example
	if ex == nil {
		ex = &Example{}
	}
	if ex.HeaderText != nil || ex.HeaderTextNamedParams != nil || ex.HeaderHandle != nil {
		return cloudapi.Unexpected("header_text", p+".example")
	}
	return examples(sub, p, names, format, ex.BodyText, ex.BodyTextNamedParams, "body_text", "body_text_named_params")
}

func checkFooter(p string, c *Component, category string) *cloudapi.Error {
	const sub = SubcodeBadFooter
	takes := []string{"text"}
	if category == Authentication {
		takes = append(takes, "code_expiration_minutes")
	}
	if k := extraKey(c, takes...); k != "" {
		return cloudapi.Unexpected(k, p)
	}
	if c.CodeExpirationMinutes != 0 {
		if c.CodeExpirationMinutes < 1 || c.CodeExpirationMinutes > maxExpiryMin {
			return refuse(sub, "Param %s.code_expiration_minutes must be between 1 and %d.", p, maxExpiryMin)
		}
		if strings.TrimSpace(c.Text) == "" {
			c.Text = fmt.Sprintf(authFooter, c.CodeExpirationMinutes)
		}
	}
	if strings.TrimSpace(c.Text) == "" {
		return refuse(sub, "The parameter %s.text is required.", p)
	}
	if e := tooLong(p+".text", c.Text, maxFooterText); e != nil {
		return e
	}
	if strings.Contains(c.Text, "{{") {
		return refuse(sub, "Param %s.text: a footer has no parameters.", p)
	}
	return nil
}

func checkButtons(p string, c *Component, category string) *cloudapi.Error {
	if k := extraKey(c, "buttons"); k != "" {
		return cloudapi.Unexpected(k, p)
	}
	if len(c.Buttons) == 0 {
		return refuse(0, "The parameter %s.buttons is required: give 1 to %d buttons.", p, maxButtons)
	}
	if len(c.Buttons) > maxButtons {
		return refuse(0, "Param %s.buttons: a template has at most %d buttons; it has %d.", p, maxButtons, len(c.Buttons))
	}
	count := map[string]int{}
	for i := range c.Buttons {
		b := &c.Buttons[i]
		q := fmt.Sprintf("%s.buttons[%d]", p, i)
		b.Type = strings.ToUpper(b.Type)
		if b.Type == "" {
			return refuse(0, "The parameter %s.type is required.", q)
		}
		if unsupportedButtons[b.Type] {
			return refuse(0, "Param %s.type: %s buttons are not supported.", q, b.Type)
		}
		if e := oneOf(q+".type", b.Type, "QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP"); e != nil {
			return e
		}
		count[b.Type]++
		if e := checkButton(q, b, category); e != nil {
			return e
		}
	}
	limits := map[string]int{"URL": maxURLButtons, "PHONE_NUMBER": 1, "COPY_CODE": 1, "OTP": 1}
	for _, typ := range []string{"URL", "PHONE_NUMBER", "COPY_CODE", "OTP"} {
		if count[typ] > limits[typ] {
			return refuse(0, "Param %s.buttons: a template has at most %d %s button(s); it has %d.", p, limits[typ], typ, count[typ])
		}
	}
	return nil
}

// checkButton checks one button; b.Type is known and upper case.
func checkButton(q string, b *Button, category string) *cloudapi.Error {
	// Which keys each type takes besides type and text.
	allowed := map[string][]string{
		"QUICK_REPLY":  nil,
		"URL":          {"url", "example"},
		"PHONE_NUMBER": {"phone_number"},
		"COPY_CODE":    {"example"},
		"OTP":          {"otp_type", "autofill_text", "package_name", "signature_hash", "supported_apps", "zero_tap_terms_accepted"},
	}[b.Type]
	set := map[string]bool{"url": b.URL != "", "phone_number": b.PhoneNumber != "", "example": len(b.Example) > 0,
		"otp_type": b.OTPType != "", "autofill_text": b.AutofillText != "", "package_name": b.PackageName != "",
		"signature_hash": b.SignatureHash != "", "supported_apps": b.SupportedApps != nil, "zero_tap_terms_accepted": b.ZeroTapTermsAccepted}
	for _, k := range []string{"url", "phone_number", "example", "otp_type", "autofill_text", "package_name", "signature_hash", "supported_apps", "zero_tap_terms_accepted"} {
		if set[k] && !contains(allowed, k) {
			return cloudapi.Unexpected(k, q)
		}
	}
	switch b.Type {
	case "COPY_CODE":
		if b.Text == "" {
			b.Text = copyButtonText
		}
	case "OTP":
		if category != Authentication {
			return refuse(0, "Param %s.type: OTP buttons belong to AUTHENTICATION templates.", q)
		}
		if b.Text == "" {
			b.Text = otpButtonText
		}
		b.OTPType = strings.ToUpper(b.OTPType)
		if b.OTPType == "" {
			b.OTPType = "COPY_CODE"
		}
		if e := oneOf(q+".otp_type", b.OTPType, "COPY_CODE", "ONE_TAP", "ZERO_TAP"); e != nil {
			return e
		}
	}
	if strings.TrimSpace(b.Text) == "" {
		return refuse(0, "The parameter %s.text is required.", q)
	}
	if e := tooLong(q+".text", b.Text, maxButtonText); e != nil {
		return e
	}
	if strings.Contains(b.Text, "{{") {
		return refuse(0, "Param %s.text: button texts have no parameters.", q)
	}
	switch b.Type {
	case "URL":
		return checkURLButton(q, b)
	case "PHONE_NUMBER":
		if b.PhoneNumber == "" {
			return refuse(0, "The parameter %s.phone_number is required.", q)
		}
		if _, err := kontor.ParsePhone(b.PhoneNumber); err != nil {
			return refuse(0, "Param %s.phone_number: %q is not a phone number with its country code (+16467043595).", q, b.PhoneNumber)
		}
	case "COPY_CODE":
		code, ok := oneExample(b.Example)
		if !ok || code == "" {
			return refuse(0, "The parameter %s.example is required: the sample code (at most %d characters).", q, maxCouponCode)
		}
		if e := tooLong(q+".example", code, maxCouponCode); e != nil {
			return e
		}
	}
	return nil
}

func checkURLButton(q string, b *Button) *cloudapi.Error {
	if b.URL == "" {
		return refuse(0, "The parameter %s.url is required.", q)
	}
	if e := tooLong(q+".url", b.URL, maxURL); e != nil {
		return e
	}
	base := b.URL
	dynamic := false
	switch ins := scan(b.URL); {
	case len(ins) == 0:
	case len(ins) == 1 && ins[0] == "1" && strings.HasSuffix(b.URL, "{{1}}"):
		base, dynamic = strings.TrimSuffix(b.URL, "{{1}}"), true
	default:
		return refuse(0, "Param %s.url: a URL may end in one parameter, {{1}}, and have no other.", q)
	}
	if !httpURL(base) {
		return refuse(0, "Param %s.url: %q is not an http(s) URL.", q, b.URL)
	}
	ex, ok := oneExample(b.Example)
	switch {
	case !dynamic && len(b.Example) > 0:
		return refuse(0, "Param %s.example: a URL without a parameter takes no example.", q)
	case dynamic && (!ok || ex == ""):
		return refuse(0, "The parameter %s.example is required: the full URL with a sample value for {{1}}.", q)
	case dynamic && !httpURL(ex):
		return refuse(0, "Param %s.example: %q is not an http(s) URL.", q, ex)
	}
	return nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// oneExample reads a button's example: "x" or ["x"].
func oneExample(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil && len(l) == 1 {
		return l[0], true
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
