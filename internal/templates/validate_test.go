package templates_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/templates"
)

// valid is a create request that passes: a utility template with every
// kind of component.
func valid() templates.CreateRequest {
	return templates.CreateRequest{Name: "order_update", Language: "en_US", Category: "UTILITY",
		Components: []templates.Component{
			{Type: "HEADER", Format: "TEXT", Text: "Order {{1}}", Example: &templates.Example{HeaderText: []string{"#1234"}}},
			{Type: "BODY", Text: "Hi {{1}}, your order {{2}} is ready.", Example: &templates.Example{BodyText: [][]string{{"Ann", "#1234"}}}},
			{Type: "FOOTER", Text: "Blumen Anna"},
			{Type: "BUTTONS", Buttons: []templates.Button{
				{Type: "QUICK_REPLY", Text: "Stop"},
				{Type: "URL", Text: "Track", URL: "https://x.test/t/{{1}}", Example: json.RawMessage(`["https://x.test/t/abc"]`)},
				{Type: "PHONE_NUMBER", Text: "Call", PhoneNumber: "+16467043595"},
			}},
		}}
}

// named is a valid template with named parameters.
func named() templates.CreateRequest {
	r := valid()
	r.ParameterFormat = "named"
	r.Components[0].Text, r.Components[0].Example = "Order {{order}}", &templates.Example{HeaderTextNamedParams: []templates.NamedParam{{ParamName: "order", Example: "#1"}}}
	r.Components[1].Text = "Hi {{first_name}}, your order {{order}} is ready."
	r.Components[1].Example = &templates.Example{BodyTextNamedParams: []templates.NamedParam{
		{ParamName: "first_name", Example: "Ann"}, {ParamName: "order", Example: "#1"}}}
	return r
}

// auth is a valid authentication template in the public shape: the body
// and footer texts are written by the platform.
func auth() templates.CreateRequest {
	return templates.CreateRequest{Name: "login_code", Language: "en-US", Category: "authentication",
		Components: []templates.Component{
			{Type: "body", AddSecurityRecommendation: true},
			{Type: "footer", CodeExpirationMinutes: 10},
			{Type: "buttons", Buttons: []templates.Button{{Type: "otp", OTPType: "copy_code"}}},
		}}
}

func comp(r *templates.CreateRequest, typ string) *templates.Component {
	for i := range r.Components {
		if strings.EqualFold(r.Components[i].Type, typ) {
			return &r.Components[i]
		}
	}
	panic("no " + typ)
}

func TestValidate(t *testing.T) {
	body := func(r *templates.CreateRequest) *templates.Component { return comp(r, "BODY") }
	header := func(r *templates.CreateRequest) *templates.Component { return comp(r, "HEADER") }
	buttons := func(r *templates.CreateRequest) *[]templates.Button { return &comp(r, "BUTTONS").Buttons }
	for _, c := range []struct {
		name    string
		base    func() templates.CreateRequest
		change  func(r *templates.CreateRequest)
		subcode int    // 0: any
		want    string // in the details; "" means valid
	}{
		{"valid positional", valid, func(*templates.CreateRequest) {}, 0, ""},
		{"valid named", named, func(*templates.CreateRequest) {}, 0, ""},
		{"valid authentication", auth, func(*templates.CreateRequest) {}, 0, ""},
		{"placeholder repeated", valid, func(r *templates.CreateRequest) { body(r).Text = "Hi {{1}}, {{2}} is ready, {{1}}." }, 0, ""},
		{"media header", valid, func(r *templates.CreateRequest) {
			*header(r) = templates.Component{Type: "HEADER", Format: "image", Example: &templates.Example{HeaderHandle: []string{"4::aW"}}}
		}, 0, ""},

		{"no name", valid, func(r *templates.CreateRequest) { r.Name = "" }, 0, "name is required"},
		{"bad name", valid, func(r *templates.CreateRequest) { r.Name = "Order-Update" }, 0, "lowercase letters, digits and underscores"},
		{"long name", valid, func(r *templates.CreateRequest) { r.Name = strings.Repeat("a", 513) }, templates.SubcodeTooLong, "at most 512"},
		{"no language", valid, func(r *templates.CreateRequest) { r.Language = "" }, 0, "language is required"},
		{"bad language", valid, func(r *templates.CreateRequest) { r.Language = "english" }, 0, "not a language code"},
		{"no category", valid, func(r *templates.CreateRequest) { r.Category = "" }, 0, "category is required"},
		{"bad category", valid, func(r *templates.CreateRequest) { r.Category = "PROMO" }, 0, "must be one of"},
		{"bad parameter format", valid, func(r *templates.CreateRequest) { r.ParameterFormat = "MIXED" }, 0, "parameter_format must be one of"},
		{"named authentication", auth, func(r *templates.CreateRequest) { r.ParameterFormat = "NAMED" }, 0, "positional parameters"},
		{"no components", valid, func(r *templates.CreateRequest) { r.Components = nil }, 0, "components is required"},
		{"unknown component", valid, func(r *templates.CreateRequest) { r.Components[2].Type = "SIDEBAR" }, 0, "must be one of"},
		{"carousel", valid, func(r *templates.CreateRequest) { r.Components[2] = templates.Component{Type: "CAROUSEL"} }, 0, "not supported"},
		{"two bodies", valid, func(r *templates.CreateRequest) { r.Components[2] = *body(r) }, 0, "one BODY"},
		{"no body", valid, func(r *templates.CreateRequest) { r.Components = r.Components[2:] }, templates.SubcodeBadBody, "needs a BODY"},

		{"empty body", valid, func(r *templates.CreateRequest) { body(r).Text, body(r).Example = "  ", nil }, templates.SubcodeBadBody, "can't be empty"},
		{"long body", valid, func(r *templates.CreateRequest) { body(r).Text = strings.Repeat("ä", 1025) }, templates.SubcodeTooLong, "at most 1024"},
		{"gap in numbers", valid, func(r *templates.CreateRequest) { body(r).Text = "Hi {{1}}, order {{3}} is ready." }, templates.SubcodeBadBody, "{{2}} is missing"},
		{"zero", valid, func(r *templates.CreateRequest) { body(r).Text = "Hi {{0}}, order {{1}} is ready." }, templates.SubcodeBadBody, "{{0}} is not a positional"},
		{"spaces in a placeholder", valid, func(r *templates.CreateRequest) { body(r).Text = "Hi {{ 1 }}, order {{2}} is ready." }, templates.SubcodeBadBody, "not a positional"},
		{"named in positional", valid, func(r *templates.CreateRequest) { body(r).Text = "Hi {{name}}, order {{1}} is ready." }, templates.SubcodeBadBody, "parameter_format NAMED"},
		{"positional in named", named, func(r *templates.CreateRequest) { body(r).Text = "Hi {{1}}, order {{order}} is ready." }, templates.SubcodeBadBody, "not a named parameter"},
		{"no body example", valid, func(r *templates.CreateRequest) { body(r).Example = nil }, templates.SubcodeBadBody, "2 parameters, and 0 examples"},
		{"too few examples", valid, func(r *templates.CreateRequest) { body(r).Example.BodyText = [][]string{{"Ann"}} }, templates.SubcodeBadBody, "2 parameters, and 1 examples"},
		{"two example lists", valid, func(r *templates.CreateRequest) { body(r).Example.BodyText = [][]string{{"a", "b"}, {"c", "d"}} }, templates.SubcodeBadBody, "one list"},
		{"empty example", valid, func(r *templates.CreateRequest) { body(r).Example.BodyText = [][]string{{"Ann", " "}} }, templates.SubcodeBadBody, "example of {{2}} is empty"},
		{"named example missing", named, func(r *templates.CreateRequest) {
			body(r).Example.BodyTextNamedParams = body(r).Example.BodyTextNamedParams[:1]
		}, templates.SubcodeBadBody, "{{order}} has no example"},
		{"named example unknown", named, func(r *templates.CreateRequest) {
			body(r).Example.BodyTextNamedParams[1].ParamName = "orders"
		}, templates.SubcodeBadBody, `"orders" is not a parameter`},
		{"positional examples in named", named, func(r *templates.CreateRequest) { body(r).Example.BodyText = [][]string{{"a", "b"}} }, templates.SubcodeBadBody, "named parameters"},
		{"header example on body", valid, func(r *templates.CreateRequest) { body(r).Example.HeaderText = []string{"x"} }, 0, `Unexpected key "header_text"`},
		{"security sentence outside authentication", valid, func(r *templates.CreateRequest) { body(r).AddSecurityRecommendation = true }, 0, `"add_security_recommendation"`},

		{"header without format", valid, func(r *templates.CreateRequest) { header(r).Format = "" }, templates.SubcodeBadHeader, "format is required"},
		{"header format", valid, func(r *templates.CreateRequest) { header(r).Format = "GIF" }, 0, "must be one of"},
		{"long header", valid, func(r *templates.CreateRequest) { header(r).Text = strings.Repeat("x", 61) }, templates.SubcodeTooLong, "at most 60"},
		{"empty text header", valid, func(r *templates.CreateRequest) { header(r).Text, header(r).Example = "", nil }, templates.SubcodeBadHeader, "text is required"},
		{"two header placeholders", valid, func(r *templates.CreateRequest) {
			header(r).Text, header(r).Example.HeaderText = "{{1}} and {{2}}", []string{"a", "b"}
		}, templates.SubcodeBadHeader, "at most one parameter"},
		{"header example missing", valid, func(r *templates.CreateRequest) { header(r).Example = nil }, templates.SubcodeBadHeader, "0 examples"},
		{"media header with text", valid, func(r *templates.CreateRequest) {
			*header(r) = templates.Component{Type: "HEADER", Format: "VIDEO", Text: "x"}
		}, templates.SubcodeBadHeader, "has no text"},
		{"handle on a text header", valid, func(r *templates.CreateRequest) { header(r).Example.HeaderHandle = []string{"h"} }, 0, `"header_handle"`},
		{"buttons on a header", valid, func(r *templates.CreateRequest) { header(r).Buttons = []templates.Button{{Type: "QUICK_REPLY"}} }, 0, `"buttons"`},

		{"long footer", valid, func(r *templates.CreateRequest) { r.Components[2].Text = strings.Repeat("x", 61) }, templates.SubcodeTooLong, "at most 60"},
		{"footer placeholder", valid, func(r *templates.CreateRequest) { r.Components[2].Text = "Shop {{1}}" }, templates.SubcodeBadFooter, "no parameters"},
		{"empty footer", valid, func(r *templates.CreateRequest) { r.Components[2].Text = "" }, templates.SubcodeBadFooter, "text is required"},
		{"expiry range", auth, func(r *templates.CreateRequest) { r.Components[1].CodeExpirationMinutes = 91 }, templates.SubcodeBadFooter, "between 1 and 90"},
		{"expiry outside authentication", valid, func(r *templates.CreateRequest) { r.Components[2].CodeExpirationMinutes = 5 }, 0, `"code_expiration_minutes"`},

		{"no buttons", valid, func(r *templates.CreateRequest) { *buttons(r) = nil }, 0, "buttons is required"},
		{"eleven buttons", valid, func(r *templates.CreateRequest) {
			*buttons(r) = nil
			for range 11 {
				*buttons(r) = append(*buttons(r), templates.Button{Type: "QUICK_REPLY", Text: "x"})
			}
		}, 0, "at most 10 buttons"},
		{"unknown button", valid, func(r *templates.CreateRequest) { (*buttons(r))[0].Type = "LINK" }, 0, "must be one of"},
		{"flow button", valid, func(r *templates.CreateRequest) { (*buttons(r))[0].Type = "FLOW" }, 0, "FLOW buttons are not supported"},
		{"button without text", valid, func(r *templates.CreateRequest) { (*buttons(r))[0].Text = "" }, 0, "text is required"},
		{"long button text", valid, func(r *templates.CreateRequest) { (*buttons(r))[0].Text = strings.Repeat("x", 26) }, templates.SubcodeTooLong, "at most 25"},
		{"quick reply with url", valid, func(r *templates.CreateRequest) { (*buttons(r))[0].URL = "https://x.test" }, 0, `Unexpected key "url"`},
		{"url missing", valid, func(r *templates.CreateRequest) { (*buttons(r))[1].URL = "" }, 0, "url is required"},
		{"url not http", valid, func(r *templates.CreateRequest) {
			(*buttons(r))[1].URL, (*buttons(r))[1].Example = "ftp://x.test/a", nil
		}, 0, "not an http(s) URL"},
		{"url placeholder inside", valid, func(r *templates.CreateRequest) { (*buttons(r))[1].URL = "https://x.test/{{1}}/track" }, 0, "may end in one parameter"},
		{"dynamic url without example", valid, func(r *templates.CreateRequest) { (*buttons(r))[1].Example = nil }, 0, "example is required"},
		{"static url with example", valid, func(r *templates.CreateRequest) { (*buttons(r))[1].URL = "https://x.test/t" }, 0, "takes no example"},
		{"bad phone", valid, func(r *templates.CreateRequest) { (*buttons(r))[2].PhoneNumber = "call me" }, 0, "not a phone number"},
		{"two phone buttons", valid, func(r *templates.CreateRequest) { *buttons(r) = append(*buttons(r), (*buttons(r))[2]) }, 0, "at most 1 PHONE_NUMBER"},
		{"three url buttons", valid, func(r *templates.CreateRequest) {
			*buttons(r) = append(*buttons(r), (*buttons(r))[1], (*buttons(r))[1])
		}, 0, "at most 2 URL"},
		{"copy code without example", valid, func(r *templates.CreateRequest) { (*buttons(r))[0] = templates.Button{Type: "COPY_CODE"} }, 0, "sample code"},
		{"long coupon code", valid, func(r *templates.CreateRequest) {
			(*buttons(r))[0] = templates.Button{Type: "COPY_CODE", Example: json.RawMessage(`"SAVE20SAVE20SAVE20"`)}
		}, templates.SubcodeTooLong, "at most 15"},
		{"otp outside authentication", valid, func(r *templates.CreateRequest) { (*buttons(r))[0] = templates.Button{Type: "OTP"} }, 0, "belong to AUTHENTICATION"},
		{"otp type", auth, func(r *templates.CreateRequest) { (*buttons(r))[0].OTPType = "TWO_TAP" }, 0, "otp_type must be one of"},
		{"button text placeholder", valid, func(r *templates.CreateRequest) { (*buttons(r))[0].Text = "Stop {{1}}" }, 0, "no parameters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.base()
			c.change(&r)
			e := templates.Validate(&r)
			if c.want == "" {
				if e != nil {
					t.Fatalf("refused: %v", e)
				}
				return
			}
			if e == nil {
				t.Fatalf("accepted, want an error with %q", c.want)
			}
			if e.Code != cloudapi.CodeInvalidParameter || !strings.Contains(e.Details, c.want) || (c.subcode != 0 && e.Subcode != c.subcode) {
				t.Fatalf("got code %d subcode %d %q, want 100 subcode %d with %q", e.Code, e.Subcode, e.Details, c.subcode, c.want)
			}
		})
	}
}

// TestValidateNormalises: names and codes come out in the stored form,
// and an authentication template's preset texts are written out.
func TestValidateNormalises(t *testing.T) {
	r := auth()
	if e := templates.Validate(&r); e != nil {
		t.Fatal(e)
	}
	if r.Language != "en_US" || r.Category != "AUTHENTICATION" || r.ParameterFormat != "POSITIONAL" {
		t.Fatalf("normalised: %+v", r)
	}
	b := comp(&r, "BODY")
	if b.Type != "BODY" || b.Text != "*{{1}}* is your verification code. For your security, do not share this code." ||
		b.Example == nil || len(b.Example.BodyText) != 1 || len(b.Example.BodyText[0]) != 1 {
		t.Fatalf("body: %+v", b)
	}
	if f := comp(&r, "FOOTER"); f.Text != "This code expires in 10 minutes." {
		t.Fatalf("footer: %+v", f)
	}
	if btn := comp(&r, "BUTTONS").Buttons[0]; btn.Type != "OTP" || btn.OTPType != "COPY_CODE" || btn.Text != "Copy code" {
		t.Fatalf("button: %+v", btn)
	}
}

func TestParseCreate(t *testing.T) {
	for _, c := range []struct {
		name, body, want string
	}{
		{"valid", `{"name":"a","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hello there, friend."}],"allow_category_change":true,"message_send_ttl_seconds":600}`, ""},
		{"unknown key", `{"name":"a","language":"en_US","category":"UTILITY","components":[],"nme":"x"}`, `Unexpected key "nme"`},
		{"unknown component key", `{"name":"a","components":[{"type":"BODY","txt":"x"}]}`, `Unexpected key "txt"`},
		{"wrong type", `{"name":7}`, "name must be a string"},
		{"not an object", `[1,2]`, "must be a JSON object"},
		{"two values", `{"name":"a"} {}`, "more than one JSON value"},
		{"not JSON", `{"name":`, "not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, e := templates.ParseCreate([]byte(c.body))
			switch {
			case c.want == "" && e != nil:
				t.Fatalf("refused: %v", e)
			case c.want != "" && (e == nil || e.Code != cloudapi.CodeInvalidParameter || !strings.Contains(e.Details, c.want)):
				t.Fatalf("got %v, want 100 with %q", e, c.want)
			}
		})
	}
}

// TestDefinition: what is stored is what sending fills in.
func TestDefinition(t *testing.T) {
	r := valid()
	if e := templates.Validate(&r); e != nil {
		t.Fatal(e)
	}
	tm := templates.Template{Name: r.Name, Language: r.Language, Category: r.Category, ParameterFormat: r.ParameterFormat, Components: r.Components}
	d := tm.Definition()
	if d.Name != "order_update" || d.Component("BODY").Text != "Hi {{1}}, your order {{2}} is ready." || len(d.Component("BUTTONS").Buttons) != 3 ||
		d.Component("BUTTONS").Buttons[1].URL != "https://x.test/t/{{1}}" || !strings.Contains(string(d.Component("HEADER").Example), "#1234") {
		t.Fatalf("definition: %+v", d)
	}
}
