package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

type oneSecret string

func (s oneSecret) AppSecret(context.Context, kontor.ID) (string, error) { return string(s), nil }

// BenchmarkAttempt makes one POST of a typical "sent" status webhook to a
// receiver on the loopback, as a worker does: the signing, the request,
// reading the answer. Its allocations are the Deliverer's per webhook,
// outside the outbox.
func BenchmarkAttempt(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	d := New(Config{}, nil, oneSecret("0123456789abcdef0123456789abcdef"), nil, nil, nil)
	defer d.cancel()
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=","status":"sent","timestamp":"1749416383","recipient_id":"16505551234","conversation":{"id":"CONVERSATION_ID","origin":{"type":"service"}},"pricing":{"billable":false,"pricing_model":"PMP","category":"service","type":"free_customer_service"}}]},"field":"messages"}]}]}`)
	j := &job{d: Delivery{Event: Event{ID: "106540352242922.status.sent.wamid.x", App: 1, URL: srv.URL + "/hook", Body: body}},
		deadline: time.Now().Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if r := d.attempt(j); r.Outcome != OutcomeDelivered {
			b.Fatalf("%+v", r)
		}
	}
}
