package bizapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// receiver is a business's webhook endpoint: it checks every signature.
type receiver struct {
	t *testing.T
	hookState
	got    []cloudapi.MessagesValue
	bad    int
	srv    *httptest.Server
	notify chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, notify: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range body {
			if c > 0x7e {
				r.bad++ // webhook bodies are ASCII
			}
		}
		if !cloudapi.CheckSignature([]byte(r.secret), body, req.Header.Get("X-Hub-Signature-256")) {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n struct {
			Object string `json:"object"`
			Entry  []struct {
				ID      string `json:"id"`
				Changes []struct {
					Field string                 `json:"field"`
					Value cloudapi.MessagesValue `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &n); err != nil || n.Object != "whatsapp_business_account" {
			r.bad++
			return
		}
		for _, e := range n.Entry {
			for _, c := range e.Changes {
				r.got = append(r.got, c.Value)
			}
		}
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the first webhook value that match accepts.
func (r *receiver) wait(what string, match func(cloudapi.MessagesValue) bool) cloudapi.MessagesValue {
	r.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		for _, v := range r.got {
			if match(v) {
				r.mu.Unlock()
				return v
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			for _, v := range r.got {
				r.t.Logf("got %+v", v)
			}
			r.mu.Unlock()
			r.t.Fatalf("no webhook with %s", what)
		}
	}
}

func statusOf(id, status string) func(cloudapi.MessagesValue) bool {
	return func(v cloudapi.MessagesValue) bool {
		for _, s := range v.Statuses {
			if s.ID == id && s.Status == status {
				return true
			}
		}
		return false
	}
}

// createdBusiness is a business made through the admin API: its ids, its
// access token and its app's secret.
type createdBusiness = kontortest.Business

// signed is a webhook receiver that checks signatures with an app's
// secret.
type signed interface{ useSecret(secret string) }

// hookState is what every webhook receiver has: the lock of what it got,
// and the app secret it checks the signatures with (useSecret).
type hookState struct {
	mu     sync.Mutex
	secret string
}

func (h *hookState) useSecret(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secret = s
}

// newBusiness makes a business through the admin API (POST
// /admin/v1/businesses with fields: name, phone, webhook_url, self_hosted
// …) and tells each of hooks its app's secret.
func newBusiness(t *testing.T, s *kontortest.Server, fields map[string]any, hooks ...signed) createdBusiness {
	t.Helper()
	b := kontortest.CreateBusiness(t, s.URL, s.Token, fields, nil)
	for _, h := range hooks {
		h.useSecret(b.Secret)
	}
	return b
}

// hostedChat makes a hosted business with phone bizPhone whose webhooks
// go to a new receiver, and a person with phone personPhone who writes it
// "Hallo": the person's service window is open, the business got the
// message's webhook and the person the hosted notice.
func hostedChat(ctx context.Context, t *testing.T, s *kontortest.Server, bizPhone, personPhone string) (createdBusiness, *receiver, *person) {
	t.Helper()
	hook := newReceiver(t)
	b := newBusiness(t, s, map[string]any{"name": "Blumen Ida", "phone": bizPhone, "webhook_url": hook.srv.URL}, hook)
	p := newPerson(ctx, t, s, personPhone)
	if _, err := p.c.Send(ctx, kontor.Phone(bizPhone), wire.Content{V: 1, Type: wire.ContentText, Text: "Hallo"}); err != nil {
		t.Fatal(err)
	}
	hook.wait("the person's message", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 })
	p.next(t) // the hosted notice
	return b, hook, p
}

// sendWhenOpen sends text to the person at to until the endpoint of
// number is open (answers other than 503), for at most 30 seconds, and
// returns the last answer.
func sendWhenOpen(t *testing.T, s *kontortest.Server, number, token, to, text string) (int, map[string]any) {
	t.Helper()
	var code int
	var out map[string]any
	for range 300 {
		code, out = api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token,
			map[string]any{"messaging_product": "whatsapp", "to": to, "type": "text", "text": map[string]any{"body": text}})
		if code != http.StatusServiceUnavailable {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return code, out
}

// api calls the Business API.
func api(t *testing.T, s *kontortest.Server, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errCode(out map[string]any) int {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

// person is someone with a phone and end-to-end encryption.
type person struct {
	c *client.Client
}

// newPerson registers phone on s (kontortest.NewPerson).
func newPerson(ctx context.Context, t *testing.T, s *kontortest.Server, phone string) *person {
	t.Helper()
	return &person{c: kontortest.NewPerson(ctx, t, s.URL, phone).C}
}

// next returns the next message the person gets.
func (p *person) next(t *testing.T) client.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-p.c.Events():
			if m, ok := ev.(client.Message); ok && !m.Outgoing {
				return m
			}
		case <-deadline:
			t.Fatal("no message came")
		}
	}
}

func TestBusinessAPI(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, append(opts, kontortest.WithConfig(func(c *config.Config) { c.OperatorName = "Plattform GmbH" }))...)
		hook := newReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930111111", "webhook_url": hook.srv.URL}, hook)

		ann := newPerson(ctx, t, s, "+4915100000001")
		// Ann writes first: that opens the customer service window.
		if _, err := ann.c.Send(ctx, "+4930111111", wire.Content{V: 1, Type: wire.ContentText, Text: "Haben Sie Tulpen? 🌷"}); err != nil {
			t.Fatal(err)
		}
		v := hook.wait("Ann's message", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 })
		m := v.Messages[0]
		if m.From != "4915100000001" || m.Type != "text" || m.Text == nil || m.Text.Body != "Haben Sie Tulpen? 🌷" ||
			v.Metadata.PhoneNumberID != biz.Number || len(v.Contacts) != 1 || v.Contacts[0].WaID != "4915100000001" {
			t.Fatalf("inbound webhook: %+v", v)
		}
		// Ann hears once that a hosted service manages the chat.
		notice := ann.next(t)
		if notice.Content.Type != wire.ContentBusinessNotice || !strings.Contains(notice.Content.Text, "Plattform GmbH") {
			t.Fatalf("hosted notice: %+v", notice.Content)
		}

		// The business answers through the API, as with the Cloud API.
		code, out := api(t, s, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, map[string]any{
			"messaging_product": "whatsapp", "to": "4915100000001", "type": "text",
			"text": map[string]any{"body": "Ja, rote und gelbe."}, "context": map[string]any{"message_id": m.ID}})
		if code != 200 {
			t.Fatalf("send: %d %v", code, out)
		}
		msgs, _ := out["messages"].([]any)
		if len(msgs) != 1 {
			t.Fatalf("send answer: %v", out)
		}
		wamid := msgs[0].(map[string]any)["id"].(string)
		got := ann.next(t)
		if got.Content.Text != "Ja, rote und gelbe." || got.From != "+4930111111" {
			t.Fatalf("Ann got %+v", got)
		}
		hook.wait("sent", statusOf(wamid, "sent"))
		st := hook.wait("delivered", statusOf(wamid, "delivered"))
		if st.Statuses[0].RecipientID != "4915100000001" || st.Statuses[0].Pricing == nil || st.Statuses[0].Pricing.Billable {
			t.Fatalf("delivered status: %+v", st.Statuses[0])
		}
		if err := ann.c.Read(ctx, "+4930111111", got.ID); err != nil {
			t.Fatal(err)
		}
		hook.wait("read", statusOf(wamid, "read"))

		// The business marks Ann's message read.
		if code, out := api(t, s, http.MethodPost, "/"+biz.Number+"/messages", biz.Token, map[string]any{
			"messaging_product": "whatsapp", "status": "read", "message_id": m.ID}); code != 200 || out["success"] != true {
			t.Fatalf("mark read: %d %v", code, out)
		}

		// A document: upload, metadata, download, send by id.
		doc := []byte("%PDF-1.4 price list")
		code, mediaID := kontortest.UploadMedia(t, http.DefaultClient, s.URL, biz.Number, biz.Token, "preise.pdf", "application/pdf", doc)
		if code != 200 || mediaID == "" {
			t.Fatalf("upload: %d %q", code, mediaID)
		}
		code, info := api(t, s, http.MethodGet, "/v21.0/"+mediaID, biz.Token, nil)
		if code != 200 || info["mime_type"] != "application/pdf" || info["file_size"] != float64(len(doc)) {
			t.Fatalf("media info: %d %v", code, info)
		}
		// The download URL works with the token, whatever Host says.
		dreq, _ := http.NewRequest(http.MethodGet, info["url"].(string), nil)
		dreq.Host = "lookaside.fbsbx.com"
		dreq.Header.Set("Authorization", "Bearer "+biz.Token)
		dresp, err := http.DefaultClient.Do(dreq)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(dresp.Body)
		dresp.Body.Close()
		if dresp.StatusCode != 200 || !bytes.Equal(body, doc) {
			t.Fatalf("download: %d %q", dresp.StatusCode, body)
		}
		code, out = api(t, s, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, map[string]any{
			"messaging_product": "whatsapp", "to": "+4915100000001", "type": "document",
			"document": map[string]any{"id": mediaID, "caption": "Preisliste"}})
		if code != 200 {
			t.Fatalf("send document: %d %v", code, out)
		}
		dm := ann.next(t)
		if dm.Content.Type != wire.ContentDocument || dm.Content.Text != "Preisliste" || dm.Content.Media.FileName != "preise.pdf" {
			t.Fatalf("Ann got %+v", dm.Content)
		}
		file, err := ann.c.Fetch(ctx, dm.Content.Media)
		if err != nil || !bytes.Equal(file, doc) {
			t.Fatalf("Ann's download: %v", err)
		}

		// Ann sends a photo: the business gets a media id it can download.
		photo := []byte("\x89PNG tulips")
		att, err := ann.c.Attach(ctx, "+4930111111", wire.ContentImage, "image/png", "", "so?", photo)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ann.c.Send(ctx, "+4930111111", att); err != nil {
			t.Fatal(err)
		}
		iv := hook.wait("Ann's photo", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 && v.Messages[0].Type == "image" })
		img := iv.Messages[0].Image
		if img == nil || img.ID == "" || img.MimeType != "image/png" || img.Caption != "so?" {
			t.Fatalf("image webhook: %+v", iv.Messages[0])
		}
		code, info = api(t, s, http.MethodGet, "/"+img.ID, biz.Token, nil)
		if code != 200 || info["sha256"] != img.SHA256 {
			t.Fatalf("photo info: %d %v", code, info)
		}

		// Errors in the public shape.
		bob := newPerson(ctx, t, s, "+4915100000002")
		_ = bob
		for _, c := range []struct {
			name   string
			path   string
			token  string
			body   any
			status int
			code   int
		}{
			{"no token", "/v21.0/" + biz.Number + "/messages", "", map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "text": map[string]any{"body": "x"}}, 401, 190},
			{"bad token", "/v21.0/" + biz.Number + "/messages", "ktk_nope", map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "text": map[string]any{"body": "x"}}, 401, 190},
			{"outside the window", "/v21.0/" + biz.Number + "/messages", biz.Token, map[string]any{"messaging_product": "whatsapp", "to": "4915100000002", "text": map[string]any{"body": "Angebot!"}}, 400, 131047},
			{"to itself", "/v21.0/" + biz.Number + "/messages", biz.Token, map[string]any{"messaging_product": "whatsapp", "to": "4930111111", "text": map[string]any{"body": "x"}}, 400, 131021},
			{"missing product", "/v21.0/" + biz.Number + "/messages", biz.Token, map[string]any{"to": "4915100000001", "text": map[string]any{"body": "x"}}, 400, 131008},
			{"unknown template", "/v21.0/" + biz.Number + "/messages", biz.Token, map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "type": "template", "template": map[string]any{"name": "hello", "language": map[string]any{"code": "de"}}}, 404, 132001},
			{"unknown number", "/v21.0/123456/messages", biz.Token, map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "text": map[string]any{"body": "x"}}, 404, 100},
		} {
			code, out := api(t, s, http.MethodPost, c.path, c.token, c.body)
			if errCode(out) != c.code || (c.status != 0 && code/100 != c.status/100) {
				t.Errorf("%s: %d %v, want %d code %d", c.name, code, out, c.status, c.code)
			}
		}
		hook.mu.Lock()
		bad := hook.bad
		hook.mu.Unlock()
		if bad != 0 {
			t.Fatalf("%d webhooks with a bad signature or non-ASCII bytes", bad)
		}

	})
}

// TestThroughput: a number sends at most its messages per second; above
// that the public throughput error, and the pair rate limit per person.
func TestThroughput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := kontortest.Start(t)
	hook := newReceiver(t)
	biz := newBusiness(t, s, map[string]any{"name": "Langsam", "phone": "+4930222222", "webhook_url": hook.srv.URL}, hook)
	number, token := biz.Number, biz.Token
	if code := s.Call(t, http.MethodPost, "/admin/v1/numbers/"+number, s.Token, map[string]any{"mps": 1}, nil); code != 200 {
		t.Fatalf("set mps: %d", code)
	}
	ann := newPerson(ctx, t, s, "+4915100000001")
	if _, err := ann.c.Send(ctx, "+4930222222", wire.Content{V: 1, Type: wire.ContentText, Text: "hallo"}); err != nil {
		t.Fatal(err)
	}
	hook.wait("Ann's message", func(v cloudapi.MessagesValue) bool { return len(v.Messages) == 1 })
	msg := map[string]any{"messaging_product": "whatsapp", "to": "4915100000001", "text": map[string]any{"body": "eins"}}
	if code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token, msg); code != 200 {
		t.Fatalf("first: %d %v", code, out)
	}
	code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token, msg)
	if code != http.StatusTooManyRequests || errCode(out) != cloudapi.CodeThroughput {
		t.Fatalf("second in the same second: %d %v", code, out)
	}
}
