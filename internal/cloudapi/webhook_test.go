package cloudapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEncodeWebhookEscapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{"Grüße", `"Gr\u00fc\u00dfe"`},
		{"👍", `"\ud83d\udc4d"`},
		{"€", `"\u20ac"`},
		{"\u00a0\uffff", `"\u00a0\uffff"`},
		{"<a href=\"x\">&</a>", `"<a href=\"x\">&</a>"`},
		{"https://example.com/a/b", `"https://example.com/a/b"`},
		{"tab\tnl\nbell\x07del\x7f", `"tab\tnl\nbell\u0007del\u007f"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
	} {
		got, err := EncodeWebhook(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("%q: got %s, want %s (%v)", c.in, got, c.want, err)
		}
	}
}

// randomString returns up to n runes from all planes, biased to the
// interesting ones (ASCII controls, Latin, CJK, emoji, surrogate range
// edges).
func randomString(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := r.IntN(n + 1); i > 0; i-- {
		var c rune
		switch r.IntN(6) {
		case 0:
			c = rune(r.IntN(0x80))
		case 1:
			c = rune(0x80 + r.IntN(0x780))
		case 2:
			c = rune(0x3000 + r.IntN(0x7000))
		case 3:
			c = rune(0x1F300 + r.IntN(0x700))
		case 4:
			c = rune(0xD700 + r.IntN(0x2900)) // around the surrogates; they become U+FFFD
		default:
			c = rune(r.IntN(utf8.MaxRune + 1))
		}
		b.WriteRune(c)
	}
	return b.String()
}

// TestEncodeWebhookProperties: for random strings in a real notification,
// the body is pure ASCII, decodes to the same values, encodes again to the
// same bytes (so its signature is stable), and matches what JavaScript's
// JSON.stringify followed by escaping every character outside U+0000–U+007E
// gives — what SDKs compute before checking the signature.
func TestEncodeWebhookProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	secret := []byte("app-secret")
	for i := 0; i < 2000; i++ {
		name, body := randomString(r, 20), randomString(r, 200) // valid UTF-8: WriteRune writes a surrogate as U+FFFD
		n := MessagesNotification("1234", MessagesValue{
			Metadata: Metadata{DisplayPhoneNumber: "4930123456", PhoneNumberID: "5678"},
			Contacts: []WebhookContact{{Profile: Profile{Name: name}, WaID: "4915112345678"}},
			Messages: []WebhookMessage{{From: "4915112345678", ID: "wamid.x", Timestamp: "1749416383", Type: "text", Text: &Text{Body: body}}},
		})
		b, err := EncodeWebhook(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b {
			if c >= 0x7f {
				t.Fatalf("byte %#x in %s", c, b)
			}
		}
		var back struct {
			Entry []struct {
				Changes []struct {
					Value MessagesValue `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		v := back.Entry[0].Changes[0].Value
		if v.Contacts[0].Profile.Name != name || v.Messages[0].Text.Body != body {
			t.Fatalf("round trip: %q %q → %q %q", name, body, v.Contacts[0].Profile.Name, v.Messages[0].Text.Body)
		}
		again, _ := EncodeWebhook(MessagesNotification("1234", v))
		if string(again) != string(b) || Sign(secret, again) != Sign(secret, b) {
			t.Fatalf("not stable:\n%s\n%s", b, again)
		}
		if js := jsEscapeUnicode(jsStringify(name)); !strings.Contains(string(b), `"name":`+js) {
			t.Fatalf("name %q: body has not %s: %s", name, js, b)
		}
	}
}

// jsStringify is JSON.stringify of a string: only '"', '\\' and controls
// are escaped (short forms where JSON has them, else lowercase \u00xx).
func jsStringify(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteString(hex.EncodeToString([]byte{byte(c)}))
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsEscapeUnicode is whatsapp-api-js's escapeUnicode: every UTF-16 code
// unit outside U+0000–U+007E becomes a lowercase \uxxxx.
func jsEscapeUnicode(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 0x7f {
			b.WriteRune(c)
			continue
		}
		units := []rune{c}
		if c > 0xffff {
			c -= 0x10000
			units = []rune{0xD800 + c>>10, 0xDC00 + c&0x3ff}
		}
		for _, u := range units {
			b.WriteString(`\u`)
			b.WriteString(hex.EncodeToString([]byte{byte(u >> 8), byte(u)}))
		}
	}
	return b.String()
}

func TestSign(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := Sign([]byte("s3cret"), body); got != want || got != strings.ToLower(got) {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	// A fixed vector, so a change of algorithm or encoding shows.
	if got := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("vector: %s", got)
	}
	if got := SignSHA1([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9" {
		t.Errorf("sha1 vector: %s", got)
	}
	if !CheckSignature([]byte("s3cret"), body, want) || CheckSignature([]byte("other"), body, want) ||
		CheckSignature([]byte("s3cret"), append(body, ' '), want) || CheckSignature([]byte("s3cret"), body, "") {
		t.Error("CheckSignature")
	}
}

func TestVerifyChallenge(t *testing.T) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"tok"}, "hub.challenge": {"1158201444"}}
	if c, ok := VerifyChallenge(q, "tok"); !ok || c != "1158201444" {
		t.Errorf("good handshake: %q %v", c, ok)
	}
	for name, mod := range map[string]func(url.Values){
		"wrong token":  func(v url.Values) { v.Set("hub.verify_token", "tok2") },
		"no token":     func(v url.Values) { v.Del("hub.verify_token") },
		"wrong mode":   func(v url.Values) { v.Set("hub.mode", "unsubscribe") },
		"no challenge": func(v url.Values) { v.Del("hub.challenge") },
	} {
		v := url.Values{}
		for k, x := range q {
			v[k] = x
		}
		mod(v)
		if c, ok := VerifyChallenge(v, "tok"); ok || c != "" {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := VerifyChallenge(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {""}, "hub.challenge": {"c"}}, ""); ok {
		t.Error("an empty verify token matched")
	}
	u, err := ChallengeURL("https://example.com/hook?x=1", "tok", "1158201444")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if c, ok := VerifyChallenge(pu.Query(), "tok"); !ok || c != "1158201444" || pu.Query().Get("x") != "1" {
		t.Errorf("ChallengeURL %s", u)
	}
}

func TestNotificationShapes(t *testing.T) {
	at := time.Unix(1750030073, 0)
	n := MessagesNotification("102290129340398", MessagesValue{
		Metadata: Metadata{DisplayPhoneNumber: "15550783881", PhoneNumberID: "106540352242922"},
		Statuses: []Status{{ID: "wamid.x", Status: StatusSent, Timestamp: Timestamp(at), RecipientID: "16505551234",
			Conversation:          &Conversation{ID: "c1", ExpirationTimestamp: "1750116480", Origin: ConversationOrigin{Type: "marketing"}},
			Pricing:               &Pricing{Billable: true, PricingModel: "PMP", Category: "marketing", Type: "regular"},
			BizOpaqueCallbackData: "ref-1"},
			{ID: "wamid.y", Status: StatusFailed, Timestamp: Timestamp(at), RecipientID: "16505551234",
				Errors: []WebhookError{NewError(CodeReengagement, "window closed").WebhookError()}}},
	})
	b, err := EncodeWebhook(n)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},` +
		`"statuses":[{"id":"wamid.x","status":"sent","timestamp":"1750030073","recipient_id":"16505551234",` +
		`"conversation":{"id":"c1","expiration_timestamp":"1750116480","origin":{"type":"marketing"}},` +
		`"pricing":{"billable":true,"pricing_model":"PMP","category":"marketing","type":"regular"},"biz_opaque_callback_data":"ref-1"},` +
		`{"id":"wamid.y","status":"failed","timestamp":"1750030073","recipient_id":"16505551234",` +
		`"errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"window closed"}}]}]}}]}]}`
	if string(b) != want {
		t.Errorf("statuses\n got %s\nwant %s", b, want)
	}
	tn := TemplateStatusNotification("1", at, TemplateStatusUpdate{Event: "APPROVED", MessageTemplateID: 1689556908129832,
		MessageTemplateName: "order_confirmation", MessageTemplateLanguage: "en-US", Reason: "NONE"})
	b, _ = EncodeWebhook(tn)
	want = `{"object":"whatsapp_business_account","entry":[{"id":"1","time":1750030073,"changes":[{"field":"message_template_status_update",` +
		`"value":{"event":"APPROVED","message_template_id":1689556908129832,"message_template_name":"order_confirmation",` +
		`"message_template_language":"en-US","reason":"NONE"}}]}]}`
	if string(b) != want {
		t.Errorf("template status\n got %s\nwant %s", b, want)
	}
	var back Notification
	if err := json.Unmarshal(b, &back); err != nil || back.Entry[0].Changes[0].Field != FieldTemplateStatusUpdate ||
		!reflect.DeepEqual(back.Entry[0].Changes[0].Value.(map[string]any)["event"], "APPROVED") {
		t.Errorf("decode: %+v %v", back, err)
	}
}

// FuzzStatusNotification: the notification of a status comes out of
// EncodeWebhook's own writer (appendNotification) byte for byte as
// encoding/json writes it, and the writer declines what it cannot write
// so.
func FuzzStatusNotification(f *testing.F) {
	f.Add("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", "sent", "1749416383", "16505551234", "", "service", "PMP", "", "", uint8(3), int64(0))
	f.Add("w", "read", "1", "1", "conv", "marketing", "PMP", "regular", "cb <&> data", uint8(0xff), int64(1749416383))
	f.Add("w\u00e9", "sent", "1", "1", "c\"x", "", "", "free_entry_point", "a\\b", uint8(0x10), int64(-5))
	f.Fuzz(func(t *testing.T, id, status, ts, to, conv, category, model, typ, callback string, flags uint8, entryTime int64) {
		st := Status{ID: id, Status: status, Timestamp: ts, RecipientID: to, BizOpaqueCallbackData: callback}
		if flags&1 != 0 {
			st.Conversation = &Conversation{ID: conv, ExpirationTimestamp: ts, Origin: ConversationOrigin{Type: category}}
			if flags&16 != 0 {
				st.Conversation.ExpirationTimestamp = ""
			}
		}
		if flags&2 != 0 {
			st.Pricing = &Pricing{Billable: flags&4 != 0, PricingModel: model, Category: category, Type: typ}
		}
		if flags&8 != 0 {
			st.Type = typ
		}
		v := MessagesValue{Metadata: Metadata{DisplayPhoneNumber: to, PhoneNumberID: conv}, Statuses: []Status{st}}
		if flags&32 != 0 {
			v.Statuses = append(v.Statuses, st)
		}
		if flags&64 != 0 {
			v.Errors = []WebhookError{{Code: 1, Title: "x"}}
		}
		n := MessagesNotification(category, v)
		if flags&128 != 0 {
			n.Entry[0].Time = entryTime
			n.Entry = append(n.Entry, Entry{ID: id, Changes: nil})
		}
		want, err := encodeWebhookJSON(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeWebhook(n)
		if err != nil || string(got) != string(want) {
			t.Fatalf("EncodeWebhook:\n%s\nencoding/json:\n%s", got, want)
		}
		// Every string that needs escaping leaves a backslash in the
		// output (asciiJSON escapes what is outside ASCII, and DEL).
		_, fast := appendNotification(nil, n)
		if all := !strings.Contains(string(want), `\`) && flags&64 == 0; fast != all {
			t.Fatalf("appendNotification ok %v, want %v, for %s", fast, all, want)
		}
	})
}

// BenchmarkStatusWebhook encodes the "sent" notification of a message, by
// EncodeWebhook and by encoding/json (what EncodeWebhook did for it).
func BenchmarkStatusWebhook(b *testing.B) {
	n := MessagesNotification("102290129340398", MessagesValue{
		Metadata: Metadata{DisplayPhoneNumber: "15550783881", PhoneNumberID: "106540352242922"},
		Statuses: []Status{{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", Status: StatusSent,
			Timestamp: "1749416383", RecipientID: "16505551234",
			Pricing: &Pricing{PricingModel: "PMP", Category: "service", Type: "free_customer_service"}}}})
	for _, c := range []struct {
		name string
		enc  func(any) ([]byte, error)
	}{{"EncodeWebhook", EncodeWebhook}, {"encoding-json", encodeWebhookJSON}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.enc(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
