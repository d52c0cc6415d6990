package kontortest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/wire"
)

// Person is someone with a phone and end-to-end encryption, registered on
// one server (a Server's or a Process's URL).
type Person struct {
	Phone kontor.Phone
	C     *client.Client
}

// NewPerson registers phone on the server at base and connects; the test
// ends it.
func NewPerson(ctx context.Context, t testing.TB, base, phone string) *Person {
	t.Helper()
	dir := t.TempDir()
	if _, err := client.Register(ctx, dir, client.Registration{Server: base, Phone: kontor.Phone(phone)}); err != nil {
		t.Fatal(err)
	}
	return openPerson(ctx, t, dir, phone)
}

// NewOperatorPerson makes phone's account as the operator does, with the
// admin token on the server at base (POST /admin/v1/accounts: no one-time
// code, so a test may make more people than one address may ask codes
// for), and connects; the test ends it.
func NewOperatorPerson(ctx context.Context, t testing.TB, base, adminToken, phone string) *Person {
	t.Helper()
	var cred wire.DeviceCredentials
	if code := Call(t, base, http.MethodPost, "/admin/v1/accounts", adminToken, map[string]any{"phone": phone, "device_name": "phone"}, &cred); code != http.StatusOK {
		t.Fatalf("creating the account of %s: HTTP %d", phone, code)
	}
	dir := t.TempDir()
	if err := client.CreateProfile(dir, client.Account{Server: base, DeviceCredentials: cred}); err != nil {
		t.Fatal(err)
	}
	return openPerson(ctx, t, dir, phone)
}

// openPerson opens the profile in dir with end-to-end encryption and
// connects.
func openPerson(ctx context.Context, t testing.TB, dir, phone string) *Person {
	t.Helper()
	sl, err := e2e.OpenProfile(dir, nil, e2e.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sl.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := client.Open(ctx, dir, client.Options{Sealer: sl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); sl.Close() })
	return &Person{Phone: kontor.Phone(phone), C: c}
}

// Next returns the first event ok accepts, waiting up to 30 s.
func (p *Person) Next(t testing.TB, what string, ok func(client.Event) bool) client.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-p.C.Events():
			if ok(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("%s did not get %s", p.Phone, what)
		}
	}
}

// NextContent returns the next message of content type typ the person
// gets; one that could not be decrypted fails the test.
func (p *Person) NextContent(t testing.TB, typ string) client.Message {
	t.Helper()
	return p.Next(t, "a "+typ+" message", func(ev client.Event) bool {
		m, ok := ev.(client.Message)
		if ok && !m.Outgoing && m.Problem != "" {
			t.Fatalf("%s could not decrypt a message: %s", p.Phone, m.Problem)
		}
		return ok && !m.Outgoing && m.Content.Type == typ
	}).(client.Message)
}

// Webhooks is a business's webhook URL: it checks each body's signature
// with the app secret and keeps the values of the messages field.
type Webhooks struct {
	URL    string
	mu     sync.Mutex
	secret string
	got    []cloudapi.MessagesValue
	bad    int
}

// NewWebhooks starts a receiver; the test stops it.
func NewWebhooks(t testing.TB) *Webhooks {
	h := &Webhooks{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !cloudapi.CheckSignature([]byte(h.secret), b, r.Header.Get("X-Hub-Signature-256")) {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n struct {
			Entry []struct {
				Changes []struct {
					Field string                 `json:"field"`
					Value cloudapi.MessagesValue `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(b, &n)
		for _, e := range n.Entry {
			for _, c := range e.Changes {
				if c.Field == "messages" {
					h.got = append(h.got, c.Value)
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// SetSecret sets the app secret the signatures are checked with.
func (h *Webhooks) SetSecret(s string) {
	h.mu.Lock()
	h.secret = s
	h.mu.Unlock()
}

// Bad is how many webhooks came with a wrong signature.
func (h *Webhooks) Bad() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bad
}

// Wait returns the first messages value match accepts, waiting up to 30 s.
func (h *Webhooks) Wait(t testing.TB, what string, match func(cloudapi.MessagesValue) bool) cloudapi.MessagesValue {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		h.mu.Lock()
		for _, v := range h.got {
			if match(v) {
				h.mu.Unlock()
				return v
			}
		}
		h.mu.Unlock()
	}
	t.Fatalf("no webhook with %s", what)
	return cloudapi.MessagesValue{}
}

// StatusIs matches a value with status of message id.
func StatusIs(id, status string) func(cloudapi.MessagesValue) bool {
	return func(v cloudapi.MessagesValue) bool {
		for _, s := range v.Statuses {
			if s.ID == id && s.Status == status {
				return true
			}
		}
		return false
	}
}
