package bizapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// parsingEndpoint answers a send as an endpoint does outside its device
// and store: it parses the request and answers with the message's id.
type parsingEndpoint struct{ Endpoint }

func (parsingEndpoint) Send(_ context.Context, body []byte) (any, *cloudapi.Error) {
	req, cerr := cloudapi.ParseSend(body)
	if cerr != nil {
		return nil, cerr
	}
	return cloudapi.NewSendResponse(req, cloudapi.MessageID(kontor.ID(1234567890123))), nil
}

type oneEndpoint struct{ e Endpoint }

func (o oneEndpoint) Endpoint(kontor.ID) (Endpoint, bool)                   { return o.e, true }
func (oneEndpoint) MediaOwner(context.Context, kontor.ID) (kontor.ID, bool) { return 0, false }

// BenchmarkSend is the Business API's own work for a text message: route,
// token, body, parse, answer; the endpoint behind it only parses.
func BenchmarkSend(b *testing.B) {
	api := &API{Dir: oneNumber{}, Auth: anyToken{}, Endpoints: oneEndpoint{parsingEndpoint{}}}
	body := []byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915100000001","type":"text","text":{"preview_url":false,"body":"Your order 4711 has shipped and arrives on Tuesday."}}`)
	req := httptest.NewRequest(http.MethodPost, "/v21.0/8/messages", nil)
	req.Header.Set("Authorization", "Bearer EAAGm0PX4ZCpsBA")
	req.Header.Set("Content-Type", "application/json")
	w := &answer{h: http.Header{}}
	r := bytes.NewReader(body)
	req.Body = io.NopCloser(r)
	req.ContentLength = int64(len(body)) // as every HTTP/1.1 client sends it
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		w.code = 0
		w.body.Reset()
		api.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("%d %s", w.code, w.body.Bytes())
		}
	}
}

// answer is a ResponseWriter used again and again.
type answer struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (a *answer) Header() http.Header  { return a.h }
func (a *answer) WriteHeader(code int) { a.code = code }
func (a *answer) Write(b []byte) (int, error) {
	if a.code == 0 {
		a.code = http.StatusOK
	}
	return a.body.Write(b)
}
