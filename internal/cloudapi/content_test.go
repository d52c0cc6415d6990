package cloudapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// fakeMedia resolves media ids and links into attachments, as the endpoint
// would after encrypting and uploading; ids starting "bad" fail with a
// public error, links on fail.example with a plain one. It also names
// media for InboundMessage.
type fakeMedia struct{ calls []string }

func (f *fakeMedia) ResolveMedia(_ context.Context, kind string, m MediaObject) (wire.Media, error) {
	f.calls = append(f.calls, kind+":"+m.ID+m.Link)
	switch {
	case strings.HasPrefix(m.ID, "bad"):
		return wire.Media{}, fmt.Errorf("lookup: %w", Errorf(CodeInvalidParameter, "media %s does not exist", m.ID))
	case strings.Contains(m.Link, "fail.example"):
		return wire.Media{}, errors.New("dial tcp: connection refused")
	}
	k := make([]byte, 32)
	k[0] = byte(len(f.calls))
	mime := map[string]string{TypeImage: "image/jpeg", TypeVideo: "video/mp4", TypeAudio: "audio/ogg", TypeDocument: "application/pdf", TypeSticker: "image/webp"}[kind]
	return wire.Media{ID: fmt.Sprintf("blob%032d", len(f.calls)), MimeType: mime, Size: 1234, Key: k, Digest: k}, nil
}

func (f *fakeMedia) NameMedia(_ context.Context, kind string, m wire.Media) (string, string, error) {
	if m.ID == "blob-unnamed" {
		return "", "", errors.New("store is down")
	}
	return "9" + strings.TrimLeft(strings.TrimPrefix(m.ID, "blob"), "0"), "c2hhMjU2", nil
}

// validSend returns the body of the valid send named name.
func validSend(t *testing.T, name string) string {
	t.Helper()
	for _, c := range validSends {
		if c.name == name {
			return c.body
		}
	}
	t.Fatalf("no valid send %q", name)
	return ""
}

func mustParse(t *testing.T, body string) SendRequest {
	t.Helper()
	req, e := ParseSend([]byte(body))
	if e != nil {
		t.Fatalf("%s: %v", body, e)
	}
	return req
}

var ctx = context.Background()

func TestToContent(t *testing.T) {
	reply := MessageID(383765450756349952)
	for _, c := range []struct {
		name, body string
		want       wire.Content // Media is compared apart
	}{
		{"text", `{"messaging_product":"whatsapp","to":"4915112345678","type":"text","text":{"body":"hi https://x.test","preview_url":true},"context":{"message_id":"` + reply + `"}}`,
			wire.Content{Type: "text", Text: "hi https://x.test", PreviewURL: true, ReplyTo: "383765450756349952"}},
		{"image", msg("image", `{"id":"1","caption":"a cat"}`), wire.Content{Type: "image", Text: "a cat"}},
		{"document", msg("document", `{"link":"https://example.com/i.pdf","caption":"invoice","filename":"invoice.pdf"}`), wire.Content{Type: "document", Text: "invoice"}},
		{"voice", msg("audio", `{"id":"42","voice":true}`), wire.Content{Type: "audio"}},
		{"sticker", msg("sticker", `{"id":"77"}`), wire.Content{Type: "sticker"}},
		{"location", msg("location", `{"latitude":"52.52","longitude":13.405,"name":"Berlin","address":"Pariser Platz"}`),
			wire.Content{Type: "location", Location: &wire.Location{Latitude: 52.52, Longitude: 13.405, Name: "Berlin", Address: "Pariser Platz"}}},
		{"contacts", validSends[16].body, wire.Content{Type: "contacts", Contacts: []wire.Contact{{
			Name: "Barbara J. Johnson", Names: &wire.ContactNames{First: "Barbara", Last: "Johnson"}, Birthday: "1999-01-23",
			Org:    &wire.ContactOrg{Company: "Acme", Title: "CEO"},
			Phones: []wire.ContactPhone{{Phone: "+1 (415) 555-0829", Type: "WORK", WaID: "14155550829"}},
			Emails: []string{"b@example.com"}, URLs: []string{"https://example.com"},
			Addresses: []wire.ContactAddress{{Street: "1 Main St", City: "Menlo Park", State: "CA", Zip: "94025", Country: "United States", CountryCode: "US", Type: "HOME"}}}}}},
		{"reaction", msg("reaction", `{"message_id":"`+reply+`","emoji":"👍"}`),
			wire.Content{Type: "reaction", Reaction: &wire.Reaction{MessageID: "383765450756349952", Emoji: "👍"}}},
		{"reaction removed", msg("reaction", `{"message_id":"`+reply+`","emoji":""}`),
			wire.Content{Type: "reaction", Reaction: &wire.Reaction{MessageID: "383765450756349952"}}},
		{"buttons", interactive(`{"type":"button","header":{"type":"text","text":"Hi"},"body":{"text":"Pick"},"footer":{"text":"f"},"action":{"buttons":` + buttons(2) + `}}`),
			wire.Content{Type: "interactive", Interactive: &wire.Interactive{Type: "button", Header: &wire.Header{Type: "text", Text: "Hi"}, Body: "Pick", Footer: "f",
				Buttons: []wire.ReplyButton{{ID: "b0", Title: "Button 0"}, {ID: "b1", Title: "Button 1"}}}}},
		{"list", interactive(`{"type":"list","body":{"text":"Choose"},"action":{"button":"Open","sections":[{"title":"A","rows":` + rows("a", 1) + `},{"title":"B","rows":[{"id":"b","title":"Bee"}]}]}}`),
			wire.Content{Type: "interactive", Interactive: &wire.Interactive{Type: "list", Body: "Choose", ListButton: "Open", Sections: []wire.Section{
				{Title: "A", Rows: []wire.Row{{ID: "a0", Title: "Row 0", Description: "about row 0"}}}, {Title: "B", Rows: []wire.Row{{ID: "b", Title: "Bee"}}}}}}},
		{"cta_url", validSends[28].body, wire.Content{Type: "interactive", Interactive: &wire.Interactive{Type: "cta_url", Header: &wire.Header{Type: "text", Text: "Shop"},
			Body: "Visit us", Link: &wire.Link{Text: "Open shop", URL: "https://example.com/shop?x=1"}}}},
		{"product", validSends[31].body, wire.Content{Type: "interactive", Interactive: &wire.Interactive{Type: "product", Body: "Look", Footer: "f", CatalogID: "123", RetailerID: "SKU-1"}}},
		{"product_list", interactive(`{"type":"product_list","header":{"type":"text","text":"Picks"},"body":{"text":"Look"},"action":{"catalog_id":"123","sections":[{"title":"S","product_items":` + products(2) + `}]}}`),
			wire.Content{Type: "interactive", Interactive: &wire.Interactive{Type: "product_list", Header: &wire.Header{Type: "text", Text: "Picks"}, Body: "Look", CatalogID: "123",
				Sections: []wire.Section{{Title: "S", Products: []string{"SKU-0", "SKU-1"}}}}}},
		{"catalog_message", validSends[33].body, wire.Content{Type: "interactive", Interactive: &wire.Interactive{Type: "catalog_message", Body: "Browse", RetailerID: "SKU-1"}}},
	} {
		req := mustParse(t, c.body)
		media := &fakeMedia{}
		got, e := ToContent(ctx, req, media, nil)
		if e != nil {
			t.Errorf("%s: %v", c.name, e)
			continue
		}
		if got.V != wire.ContentVersion || got.Check() != nil || !got.Known() {
			t.Errorf("%s: content %+v: %v", c.name, got, got.Check())
		}
		if mo := req.Media(); mo != nil {
			if got.Media == nil || len(media.calls) != 1 || media.calls[0] != req.Type+":"+mo.ID+mo.Link {
				t.Errorf("%s: media %+v calls %v", c.name, got.Media, media.calls)
				continue
			}
			if got.Media.FileName != mo.Filename || got.Media.Voice != mo.Voice {
				t.Errorf("%s: media file name %q voice %v", c.name, got.Media.FileName, got.Media.Voice)
			}
			got.Media = nil
		}
		c.want.V = wire.ContentVersion
		if !reflect.DeepEqual(got, c.want) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(c.want)
			t.Errorf("%s:\n got %s\nwant %s", c.name, gb, wb)
		}
	}
}

func TestToContentErrors(t *testing.T) {
	for _, c := range []struct {
		name, body string
		code       int
		detail     string
	}{
		{"reply to a foreign id", `{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"x"},"context":{"message_id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgA="}}`, 131009, "context.message_id"},
		{"reaction to a foreign id", msg("reaction", `{"message_id":"wamid.x","emoji":"👍"}`), 131009, "reaction.message_id"},
		{"unknown media id", msg("image", `{"id":"bad1"}`), 100, "bad1"},
		{"link that fails", msg("image", `{"link":"https://fail.example/a.png"}`), 131053, "image could not be fetched"},
		{"header media that fails", interactive(`{"type":"button","header":{"type":"video","video":{"id":"bad2"}},"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 100, "bad2"},
		{"template unknown", template(`{"name":"hello_world","language":{"code":"en"}}`), 132001, "hello_world"},
		{"mark read", `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.x"}`, 100, "read"},
	} {
		_, e := ToContent(ctx, mustParse(t, c.body), &fakeMedia{}, nil)
		if e == nil || e.Code != c.code || !strings.Contains(e.Details, c.detail) {
			t.Errorf("%s: got %v, want %d with %q", c.name, e, c.code, c.detail)
		}
		if e != nil && strings.Contains(e.Details, "connection refused") {
			t.Errorf("%s: internal cause shown: %q", c.name, e.Details)
		}
	}
}

// orderTemplate is an approved definition with every kind of component.
var orderTemplate = TemplateDefinition{Name: "order_confirmation", Language: "en_US", Category: "UTILITY", Components: []TemplateDefComponent{
	{Type: "HEADER", Format: "IMAGE"},
	{Type: "BODY", Text: "Hi {{1}}, your order of {{2}} ships on {{3}}. Thanks, {{1}}!"},
	{Type: "FOOTER", Text: "Lucky Shrub"},
	{Type: "BUTTONS", Buttons: []TemplateDefButton{{Type: "QUICK_REPLY", Text: "Stop"}, {Type: "URL", Text: "Track", URL: "https://x.test/t/{{1}}"},
		{Type: "COPY_CODE", Text: "Copy"}, {Type: "PHONE_NUMBER", Text: "Call", PhoneNumber: "+16467043595"}, {Type: "QUICK_REPLY", Text: "More"}}},
}}

func TestTemplateContent(t *testing.T) {
	req := mustParse(t, validSend(t, "template"))
	media := &fakeMedia{}
	c, e := ToContent(ctx, req, media, &orderTemplate)
	if e != nil {
		t.Fatal(e)
	}
	tm := c.Template
	if c.Type != "template" || tm == nil || tm.Header == nil || tm.Header.Type != "image" || tm.Header.Media == nil || len(media.calls) != 1 {
		t.Fatalf("%+v", c)
	}
	tm.Header.Media = nil
	want := &wire.Template{Name: "order_confirmation", Language: "en_US", Header: &wire.Header{Type: "image"},
		Body: "Hi Pablo, your order of $10.99 ships on May 1, 2026. Thanks, Pablo!", Footer: "Lucky Shrub",
		Buttons: []wire.TemplateButton{{Type: "quick_reply", Text: "Stop", Payload: "STOP"}, {Type: "url", Text: "Track", URL: "https://x.test/t/order/123"},
			{Type: "copy_code", Text: "Copy", Code: "SAVE20"}, {Type: "phone_number", Text: "Call", Phone: "+16467043595"}, {Type: "quick_reply", Text: "More"}}}
	if !reflect.DeepEqual(tm, want) {
		gb, _ := json.Marshal(tm)
		wb, _ := json.Marshal(want)
		t.Errorf("\n got %s\nwant %s", gb, wb)
	}

	named := TemplateDefinition{Name: "greet", Language: "de", ParameterFormat: "NAMED", Components: []TemplateDefComponent{
		{Type: "HEADER", Format: "TEXT", Text: "Hallo {{first_name}}"}, {Type: "BODY", Text: "Schön, dass du da bist, {{first_name}}."}}}
	c, e = ToContent(ctx, mustParse(t, template(`{"name":"greet","language":{"code":"de"},"components":[
		{"type":"header","parameters":[{"type":"text","parameter_name":"first_name","text":"Ann"}]},
		{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ann"}]}]}`)), nil, &named)
	if e != nil || c.Template.Header.Text != "Hallo Ann" || c.Template.Body != "Schön, dass du da bist, Ann." {
		t.Errorf("named: %+v %v", c.Template, e)
	}

	auth := TemplateDefinition{Name: "otp", Language: "en", Category: "AUTHENTICATION", Components: []TemplateDefComponent{
		{Type: "BODY", Text: "{{1}} is your verification code."}, {Type: "BUTTONS", Buttons: []TemplateDefButton{{Type: "OTP", OTPType: "COPY_CODE", Text: "Copy code"}}}}}
	c, e = ToContent(ctx, mustParse(t, template(`{"name":"otp","language":{"code":"en"},"components":[
		{"type":"body","parameters":[{"type":"text","text":"123456"}]},
		{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"123456"}]}]}`)), nil, &auth)
	if e != nil || c.Template.Body != "123456 is your verification code." || c.Template.Buttons[0] != (wire.TemplateButton{Type: "copy_code", Text: "Copy code", Code: "123456"}) {
		t.Errorf("otp: %+v %v", c.Template, e)
	}

	static := TemplateDefinition{Name: "hello_world", Language: "en_US", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hello World"}}}
	c, e = ToContent(ctx, mustParse(t, template(`{"name":"hello_world","language":{"code":"en-US"}}`)), nil, &static)
	if e != nil || c.Template.Body != "Hello World" {
		t.Errorf("static: %+v %v", c.Template, e)
	}
}

func TestTemplateErrors(t *testing.T) {
	body := func(params string) string {
		return template(`{"name":"order_confirmation","language":{"code":"en_US"},"components":[
			{"type":"header","parameters":[{"type":"image","image":{"id":"55"}}]},
			{"type":"body","parameters":[` + params + `]},
			{"type":"button","sub_type":"url","index":1,"parameters":[{"type":"text","text":"o/1"}]},
			{"type":"button","sub_type":"copy_code","index":2,"parameters":[{"type":"coupon_code","coupon_code":"C"}]}]}`)
	}
	three := `{"type":"text","text":"A"},{"type":"text","text":"B"},{"type":"text","text":"C"}`
	for _, c := range []struct {
		name, body string
		def        TemplateDefinition
		code       int
		detail     string
	}{
		{"fits", body(three), orderTemplate, 0, ""},
		{"too few body params", body(`{"type":"text","text":"A"},{"type":"text","text":"B"}`), orderTemplate, 132000, "body: number of localizable_params (2) does not match the expected number of params (3)"},
		{"too many body params", body(three + `,{"type":"text","text":"D"}`), orderTemplate, 132000, "(4)"},
		{"other language", strings.Replace(body(three), "en_US", "de", 1), orderTemplate, 132001, "de"},
		{"other name", strings.Replace(body(three), `"order_confirmation"`, `"order_confirmation2"`, 1), orderTemplate, 132001, "order_confirmation2"},
		{"text for an image header", strings.Replace(body(three), `{"type":"image","image":{"id":"55"}}`, `{"type":"text","text":"x"}`, 1), orderTemplate, 132012, "header"},
		{"no header param", template(`{"name":"order_confirmation","language":{"code":"en_US"},"components":[{"type":"body","parameters":[` + three + `]},
			{"type":"button","sub_type":"url","index":1,"parameters":[{"type":"text","text":"o/1"}]},{"type":"button","sub_type":"copy_code","index":2,"parameters":[{"type":"coupon_code","coupon_code":"C"}]}]}`), orderTemplate, 132000, "header"},
		{"url suffix missing", template(`{"name":"order_confirmation","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"55"}}]},{"type":"body","parameters":[` + three + `]},
			{"type":"button","sub_type":"copy_code","index":2,"parameters":[{"type":"coupon_code","coupon_code":"C"}]}]}`), orderTemplate, 132000, "button at index 1"},
		{"quick reply given as url", strings.Replace(body(three), `"sub_type":"url","index":1`, `"sub_type":"url","index":0`, 1), orderTemplate, 132012, "button at index 0"},
		{"button past the end", strings.Replace(body(three), `"sub_type":"url","index":1`, `"sub_type":"url","index":7`, 1), orderTemplate, 132000, "index 7"},
		{"phone button with params", strings.Replace(body(three), `]}]}`, `]},{"type":"button","sub_type":"url","index":3,"parameters":[{"type":"text","text":"x"}]}]}`, 1), orderTemplate, 132012, "index 3"},
		{"body params for a static template", template(`{"name":"hello_world","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}`),
			TemplateDefinition{Name: "hello_world", Language: "en_US", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hello"}}}, 132000, "(0)"},
		{"header params without header", template(`{"name":"hello_world","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","text":"x"}]}]}`),
			TemplateDefinition{Name: "hello_world", Language: "en_US", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hello"}}}, 132000, "header"},
		{"named param in positional", template(`{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"a","text":"x"}]}]}`),
			TemplateDefinition{Name: "t", Language: "en", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hi {{1}}"}}}, 132012, "parameter_name"},
		{"positional param in named", template(`{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}`),
			TemplateDefinition{Name: "t", Language: "en", ParameterFormat: "NAMED", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hi {{a}}"}}}, 132012, "parameter_name"},
		{"wrong name", template(`{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"b","text":"x"}]}]}`),
			TemplateDefinition{Name: "t", Language: "en", ParameterFormat: "NAMED", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hi {{a}}"}}}, 132012, "{{a}}"},
		{"header too long", template(`{"name":"t","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"text","text":"` + strings.Repeat("x", 50) + `"}]}]}`),
			TemplateDefinition{Name: "t", Language: "en", Components: []TemplateDefComponent{{Type: "HEADER", Format: "TEXT", Text: "Dear customer {{1}}"}}}, 132005, "header"},
		{"body too long", template(`{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"` + strings.Repeat("x", 1020) + `"}]}]}`),
			TemplateDefinition{Name: "t", Language: "en", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hello {{1}}"}, {Type: "FOOTER", Text: "f"}}}, 132005, "body"},
		{"long body alone", template(`{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"` + strings.Repeat("x", 2000) + `"}]}]}`),
			TemplateDefinition{Name: "t", Language: "en", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hello {{1}}"}}}, 0, ""},
	} {
		_, e := ToContent(ctx, mustParse(t, c.body), &fakeMedia{}, &c.def)
		switch {
		case c.code == 0 && e != nil:
			t.Errorf("%s: %v", c.name, e)
		case c.code != 0 && (e == nil || e.Code != c.code || !strings.Contains(e.Details, c.detail)):
			t.Errorf("%s: got %v, want %d with %q", c.name, e, c.code, c.detail)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	for text, want := range map[string][]string{
		"":                          nil,
		"Hello":                     nil,
		"Hi {{1}}, {{2}} and {{1}}": {"1", "2"},
		"{{ first_name }} {{x}}":    {"first_name", "x"},
		"{{}} {{1}":                 nil,
	} {
		if got := Placeholders(text); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
}

func person() kontor.Phone { return "+4915112345678" }

func TestInboundMessage(t *testing.T) {
	k := make([]byte, 32)
	media := &wire.Media{ID: "blob000000000000000000000000000000000000042", MimeType: "image/jpeg", FileName: "cat.jpg", Size: 10, Key: k, Digest: k}
	at := time.Unix(1749416383, 0)
	for _, c := range []struct {
		name string
		c    wire.Content
		want string // JSON of the webhook message
	}{
		{"text", wire.Content{Type: "text", Text: "Grüße 👋"},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"Grüße 👋"}}`},
		{"text from an ad", wire.Content{Type: "text", Text: "Is it in stock?", Referral: &wire.Referral{SourceType: "ad", SourceID: "120208",
			SourceURL: "https://fb.me/3cr4Wqqkk", Headline: "Spring sale", Body: "20% off", MediaType: "image", ImageURL: "https://cdn.example/a.jpg", CTWAClid: "ARAkLkA8"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"Is it in stock?"},"referral":{"source_url":"https://fb.me/3cr4Wqqkk",` +
				`"source_id":"120208","source_type":"ad","headline":"Spring sale","body":"20% off","media_type":"image","image_url":"https://cdn.example/a.jpg","ctwa_clid":"ARAkLkA8"}}`},
		{"reply", wire.Content{Type: "text", Text: "yes", ReplyTo: "383765450756349952"},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"text","context":{"id":"` + MessageID(383765450756349952) + `"},"text":{"body":"yes"}}`},
		{"image", wire.Content{Type: "image", Text: "my cat", Media: media},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"image","image":{"id":"942","mime_type":"image/jpeg","sha256":"c2hhMjU2","caption":"my cat"}}`},
		{"document", wire.Content{Type: "document", Text: "scan", Media: &wire.Media{ID: "blob7", MimeType: "application/pdf", FileName: "scan.pdf", Key: k, Digest: k}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"document","document":{"id":"97","mime_type":"application/pdf","sha256":"c2hhMjU2","caption":"scan","filename":"scan.pdf"}}`},
		{"voice", wire.Content{Type: "audio", Media: &wire.Media{ID: "blob8", MimeType: "audio/ogg", Voice: true, Key: k, Digest: k}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"audio","audio":{"id":"98","mime_type":"audio/ogg","sha256":"c2hhMjU2","voice":true}}`},
		{"video", wire.Content{Type: "video", Media: &wire.Media{ID: "blob9", MimeType: "video/mp4", Key: k, Digest: k}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"video","video":{"id":"99","mime_type":"video/mp4","sha256":"c2hhMjU2"}}`},
		{"sticker", wire.Content{Type: "sticker", Media: &wire.Media{ID: "blob6", MimeType: "image/webp", Key: k, Digest: k}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"sticker","sticker":{"id":"96","mime_type":"image/webp","sha256":"c2hhMjU2","animated":false}}`},
		{"location", wire.Content{Type: "location", Location: &wire.Location{Latitude: 52.52, Longitude: -0.5, Name: "Here"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"location","location":{"latitude":52.52,"longitude":-0.5,"name":"Here"}}`},
		{"contacts", wire.Content{Type: "contacts", Contacts: []wire.Contact{{Name: "Ann Lee", Names: &wire.ContactNames{First: "Ann", Last: "Lee"},
			Phones: []wire.ContactPhone{{Phone: "+4915100000001", Type: "CELL", WaID: "4915100000001"}}, Emails: []string{"ann@example.com"}}}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"contacts","contacts":[{"name":{"formatted_name":"Ann Lee","first_name":"Ann","last_name":"Lee"},` +
				`"phones":[{"phone":"+4915100000001","type":"CELL","wa_id":"4915100000001"}],"emails":[{"email":"ann@example.com"}]}]}`},
		{"reaction", wire.Content{Type: "reaction", Reaction: &wire.Reaction{MessageID: "1", Emoji: "❤️"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"reaction","reaction":{"message_id":"wamid.a29uAQAAAAAAAAAB","emoji":"❤️"}}`},
		{"reaction removed", wire.Content{Type: "reaction", Reaction: &wire.Reaction{MessageID: "1"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"reaction","reaction":{"message_id":"wamid.a29uAQAAAAAAAAAB"}}`},
		{"button reply", wire.Content{Type: "interactive_reply", ReplyTo: "1", InteractiveReply: &wire.InteractiveReply{Type: "button_reply", ID: "b1", Title: "Yes"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"interactive","context":{"id":"wamid.a29uAQAAAAAAAAAB"},"interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}}`},
		{"list reply", wire.Content{Type: "interactive_reply", ReplyTo: "1", InteractiveReply: &wire.InteractiveReply{Type: "list_reply", ID: "r1", Title: "Row", Description: "d"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"interactive","context":{"id":"wamid.a29uAQAAAAAAAAAB"},"interactive":{"type":"list_reply","list_reply":{"id":"r1","title":"Row","description":"d"}}}`},
		{"quick reply", wire.Content{Type: "interactive_reply", ReplyTo: "1", InteractiveReply: &wire.InteractiveReply{Type: "quick_reply", ID: "STOP", Title: "Stop"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"button","context":{"id":"wamid.a29uAQAAAAAAAAAB"},"button":{"text":"Stop","payload":"STOP"}}`},
		{"quick reply without payload", wire.Content{Type: "interactive_reply", InteractiveReply: &wire.InteractiveReply{Type: "quick_reply", Title: "More"}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"button","button":{"text":"More","payload":"More"}}`},
		{"order", wire.Content{Type: "order", Text: "gift wrap please", Order: &wire.Order{CatalogID: "123", Items: []wire.OrderItem{
			{RetailerID: "SKU-1", Quantity: 2, Price: 799, Currency: "EUR"}, {RetailerID: "SKU-2", Quantity: 1, Price: 1000, Currency: "EUR"},
			{RetailerID: "SKU-3", Quantity: 1, Price: 500, Currency: "JPY"}, {RetailerID: "SKU-4", Quantity: 1, Price: 1005, Currency: "KWD"}}}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"order","order":{"catalog_id":"123","text":"gift wrap please","product_items":[` +
				`{"product_retailer_id":"SKU-1","quantity":2,"item_price":7.99,"currency":"EUR"},{"product_retailer_id":"SKU-2","quantity":1,"item_price":10,"currency":"EUR"},` +
				`{"product_retailer_id":"SKU-3","quantity":1,"item_price":500,"currency":"JPY"},{"product_retailer_id":"SKU-4","quantity":1,"item_price":1.005,"currency":"KWD"}]}}`},
		{"order placed on kontor", wire.Content{Type: "order", Order: &wire.Order{OrderID: "386285559745613828", CatalogID: "123", Items: []wire.OrderItem{
			{RetailerID: "SKU-1", Quantity: 2, Price: 799, Currency: "EUR"}}}},
			`{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"order","order":{"catalog_id":"123","product_items":[` +
				`{"product_retailer_id":"SKU-1","quantity":2,"item_price":7.99,"currency":"EUR"}],"order_id":"386285559745613828"}}`},
		{"unknown kind", wire.Content{Type: "hologram"}, unsupportedJSON("hologram")},
		{"unknown reply kind", wire.Content{Type: "interactive_reply", InteractiveReply: &wire.InteractiveReply{Type: "nfm_reply", ID: "x"}}, unsupportedJSON("interactive_reply/nfm_reply")},
		{"a person sending a template", wire.Content{Type: "template", Template: &wire.Template{Name: "x", Body: "y"}}, unsupportedJSON("template")},
		{"a person sending a notice", wire.Content{Type: "business_notice", Text: "x"}, unsupportedJSON("business_notice")},
	} {
		m, err := InboundMessage(ctx, person(), "wamid.A", at, c.c, &fakeMedia{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b, _ := json.Marshal(m)
		if string(b) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, b, c.want)
		}
	}
	if _, err := InboundMessage(ctx, person(), "wamid.A", at, wire.Content{Type: "image", Media: &wire.Media{ID: "blob-unnamed", Key: k, Digest: k}}, &fakeMedia{}); err == nil {
		t.Error("media namer's error lost")
	}
	if _, err := InboundMessage(ctx, person(), "wamid.A", at, wire.Content{Type: "text"}, &fakeMedia{}); err == nil {
		t.Error("invalid content accepted")
	}
}

func unsupportedJSON(kind string) string {
	return `{"from":"4915112345678","id":"wamid.A","timestamp":"1749416383","type":"unsupported","unsupported":{"type":"` + kind + `"},` +
		`"errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}]}`
}

func TestMajorUnits(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		want     string
	}{{1999, "EUR", "19.99"}, {1000, "EUR", "10"}, {1010, "usd", "10.1"}, {5, "EUR", "0.05"}, {0, "EUR", "0"}, {-250, "EUR", "-2.5"},
		{500, "JPY", "500"}, {1005, "KWD", "1.005"}, {1, "BHD", "0.001"}, {12345, "CLF", "1.2345"}} {
		if got := MajorUnits(c.minor, c.currency); string(got) != c.want {
			t.Errorf("%d %s: %s, want %s", c.minor, c.currency, got, c.want)
		}
	}
}

// roundTrip sends body as a business (ParseSend, ToContent), carries the
// content through the wire encoding, and reads it back as if a person had
// sent it (InboundMessage). It returns ok false when body is not a request
// this round trip covers.
func roundTrip(t *testing.T, body []byte) (req SendRequest, m WebhookMessage, ok bool) {
	req, e := ParseSend(body)
	if e != nil || req.IsMarkRead() {
		return req, m, false
	}
	switch req.Type {
	case TypeText, TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker, TypeLocation, TypeContacts, TypeReaction:
	default:
		return req, m, false
	}
	c, e := ToContent(ctx, req, &fakeMedia{}, nil)
	if e != nil {
		if e.Code != CodeInvalidValue {
			t.Fatalf("%s: %v", body, e)
		}
		return req, m, false // a reply to or reaction on an id that is not ours
	}
	b, err := wire.EncodeContent(c)
	if err != nil {
		t.Fatalf("%s: content %+v does not encode: %v", body, c, err)
	}
	c2, err := wire.DecodeContent(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	m, err = InboundMessage(ctx, person(), "wamid.A", time.Unix(1, 0), c2, &fakeMedia{})
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return req, m, true
}

// checkRoundTrip says what a person's webhook message lost of the request.
func checkRoundTrip(t *testing.T, req SendRequest, m WebhookMessage) {
	t.Helper()
	if m.Type != req.Type {
		t.Fatalf("type %q became %q", req.Type, m.Type)
	}
	if (req.Context == nil) != (m.Context == nil) || (req.Context != nil && req.Context.MessageID != m.Context.ID) {
		t.Fatalf("context %+v became %+v", req.Context, m.Context)
	}
	switch req.Type {
	case TypeText:
		if m.Text.Body != req.Text.Body {
			t.Fatalf("text %q became %q", req.Text.Body, m.Text.Body)
		}
	case TypeImage, TypeVideo, TypeDocument:
		wm := map[string]*WebhookMedia{TypeImage: m.Image, TypeVideo: m.Video, TypeDocument: m.Document}[req.Type]
		if wm == nil || wm.Caption != req.Media().Caption || wm.Filename != req.Media().Filename || wm.ID == "" {
			t.Fatalf("%s %+v became %+v", req.Type, req.Media(), wm)
		}
	case TypeAudio:
		if m.Audio == nil || *m.Audio.Voice != req.Audio.Voice {
			t.Fatalf("audio %+v became %+v", req.Audio, m.Audio)
		}
	case TypeSticker:
		if m.Sticker == nil {
			t.Fatal("sticker lost")
		}
	case TypeLocation:
		l := *req.Location
		l.hasLatitude, l.hasLongitude = false, false
		if *m.Location != l {
			t.Fatalf("location %+v became %+v", l, *m.Location)
		}
	case TypeContacts:
		want := req.Contacts
		for i := range want { // what kontor's content does not carry
			for j := range want[i].Emails {
				want[i].Emails[j].Type = ""
			}
			for j := range want[i].URLs {
				want[i].URLs[j].Type = ""
			}
		}
		if !reflect.DeepEqual(normContacts(want), normContacts(m.Contacts)) {
			t.Fatalf("contacts %+v became %+v", want, m.Contacts)
		}
	case TypeReaction:
		if m.Reaction.MessageID != req.Reaction.MessageID || m.Reaction.Emoji != req.Reaction.Emoji {
			t.Fatalf("reaction %+v became %+v", req.Reaction, m.Reaction)
		}
	}
}

// normContacts writes contacts as JSON so that nil and empty lists compare equal.
func normContacts(cs []Contact) string {
	b, _ := json.Marshal(cs)
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	n := 0
	for _, c := range roundTripSeeds() {
		req, m, ok := roundTrip(t, []byte(c))
		if ok {
			checkRoundTrip(t, req, m)
			n++
		}
	}
	if n < 12 {
		t.Errorf("only %d seeds made the round trip", n)
	}
}

func roundTripSeeds() []string {
	var seeds []string
	for _, c := range validSends {
		seeds = append(seeds, c.body)
	}
	w := MessageID(383765450756349952)
	return append(seeds,
		msg("reaction", `{"message_id":"`+w+`","emoji":"👍"}`),
		msg("reaction", `{"message_id":"`+w+`","emoji":""}`),
		`{"messaging_product":"whatsapp","to":"4915112345678","type":"image","image":{"id":"5","caption":"c"},"context":{"message_id":"`+w+`"}}`,
	)
}

// FuzzRoundTrip sends what a business could post to a person and reads it
// back as the person's message: whatever ParseSend accepts of the kinds
// people can send too must arrive with its text, media fields, place,
// contacts and reaction intact.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range roundTripSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if req, m, ok := roundTrip(t, body); ok {
			checkRoundTrip(t, req, m)
		}
	})
}

// FuzzInbound feeds InboundMessage any content a person's device could
// send: it must not panic, and what it makes must encode as ASCII JSON that
// decodes again.
func FuzzInbound(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"text","text":"hallo 👋","reply_to":"383765450756349952"}`,
		`{"v":1,"type":"image","text":"cap","media":{"id":"blob1","size":3,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
		`{"v":1,"type":"location","location":{"latitude":1e-7,"longitude":-180}}`,
		`{"v":1,"type":"contacts","contacts":[{"name":"A","phones":[{"phone":"+1"}],"org":{"company":"C"},"addresses":[{"city":"X"}]}]}`,
		`{"v":1,"type":"reaction","reaction":{"message_id":"x","emoji":""}}`,
		`{"v":1,"type":"interactive_reply","reply_to":"1","interactive_reply":{"type":"list_reply","id":"r","title":"T"}}`,
		`{"v":1,"type":"interactive_reply","interactive_reply":{"type":"quick_reply","title":"Stop"}}`,
		`{"v":1,"type":"order","text":"n","order":{"catalog_id":"1","items":[{"retailer_id":"S","quantity":1,"price":-9223372036854775808,"currency":"EUR"}]}}`,
		`{"v":1,"type":"order","order":{"catalog_id":"1","items":[{"retailer_id":"S","quantity":3,"price":1999,"currency":"KWD"}]}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"button","body":"b","buttons":[{"id":"1","title":"t"}]}}`,
		`{"v":1,"type":"business_notice","text":"managed by","notice":{"reason":"hosted","operator":"Op"}}`,
		`{"v":2,"type":"future","whatever":[1,2,3]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := wire.DecodeContent(b)
		if err != nil {
			return
		}
		m, err := InboundMessage(ctx, person(), MessageID(1), time.Unix(1, 0), c, &fakeMedia{})
		if err != nil {
			if c.Media != nil && c.Media.ID == "blob-unnamed" {
				return
			}
			t.Fatalf("%s: %v", b, err)
		}
		if m.Type == "" || m.From != "4915112345678" {
			t.Fatalf("%+v", m)
		}
		out, err := EncodeWebhook(MessagesNotification("1", MessagesValue{Messages: []WebhookMessage{m}}))
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		var back Notification
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		for _, c := range out {
			if c >= 0x7f {
				t.Fatalf("non-ASCII in %s", out)
			}
		}
	})
}
