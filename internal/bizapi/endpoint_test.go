package bizapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// oneNumber is a directory of one business with one number.
type oneNumber struct{ selfHosted bool }

func (d oneNumber) Business(_ context.Context, id kontor.ID) (business.Business, error) {
	return business.Business{ID: id, Name: "Blumen", SelfHosted: d.selfHosted}, nil
}
func (d oneNumber) Number(_ context.Context, id kontor.ID) (business.Number, error) {
	return business.Number{ID: id, Business: 7, Phone: "+4930123456"}, nil
}
func (d oneNumber) Numbers(ctx context.Context, b kontor.ID) ([]business.Number, error) {
	n, _ := d.Number(ctx, 8)
	return []business.Number{n}, nil
}
func (oneNumber) Profile(context.Context, kontor.ID) (business.Profile, error) {
	return business.Profile{}, nil
}
func (oneNumber) PutProfile(context.Context, kontor.ID, business.Profile) error { return nil }

type anyToken struct{}

func (anyToken) Check(context.Context, string, kontor.ID, business.Scope) error { return nil }

// noEndpoints serves no number on this node.
type noEndpoints struct{}

func (noEndpoints) Endpoint(kontor.ID) (Endpoint, bool)                     { return nil, false }
func (noEndpoints) MediaOwner(context.Context, kontor.ID) (kontor.ID, bool) { return 0, false }

// TestEndpointNotHere: a send to a number whose endpoint is not open on
// this node says why, in the public shape: a hosted one is starting (try
// again, 131016), a self-hosted one is served at the business (131005).
func TestEndpointNotHere(t *testing.T) {
	for _, c := range []struct {
		selfHosted bool
		status     int
		code       int
		says       string
	}{
		{false, http.StatusServiceUnavailable, 131016, "Try again in a few seconds"},
		{true, http.StatusForbidden, 131005, "runs at the business"},
	} {
		api := &API{Dir: oneNumber{c.selfHosted}, Auth: anyToken{}, Endpoints: noEndpoints{}}
		req := httptest.NewRequest(http.MethodPost, "/v21.0/8/messages", strings.NewReader(`{"messaging_product":"whatsapp","to":"4915100000001","type":"text","text":{"body":"Hallo"}}`))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		var out struct {
			Error struct {
				Code int `json:"code"`
				Data struct {
					Details string `json:"details"`
				} `json:"error_data"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("self-hosted %v: %d %s", c.selfHosted, rec.Code, rec.Body)
		}
		if rec.Code != c.status || out.Error.Code != c.code || !strings.Contains(out.Error.Data.Details, c.says) {
			t.Errorf("self-hosted %v: %d %+v, want %d %d %q", c.selfHosted, rec.Code, out.Error, c.status, c.code, c.says)
		}
	}
}

// elsewhere is an endpoint on another node: it answers every send.
type elsewhere struct {
	Endpoint
	sends *int
}

func (e elsewhere) Send(context.Context, []byte) (any, *cloudapi.Error) {
	*e.sends++
	return map[string]string{"via": "another node"}, nil
}

// TestEndpointElsewhere: in a cluster (Remote set) a hosted number whose
// endpoint is not open here is served by the node that runs it; a
// self-hosted one still answers 131005 and is not forwarded.
func TestEndpointElsewhere(t *testing.T) {
	for _, c := range []struct {
		selfHosted bool
		status     int
		sends      int
	}{
		{false, http.StatusOK, 1},
		{true, http.StatusForbidden, 0},
	} {
		sends := 0
		api := &API{Dir: oneNumber{c.selfHosted}, Auth: anyToken{}, Endpoints: noEndpoints{},
			Remote: func(kontor.ID) Endpoint { return elsewhere{sends: &sends} }}
		req := httptest.NewRequest(http.MethodPost, "/v21.0/8/messages", strings.NewReader(`{"messaging_product":"whatsapp","to":"4915100000001","type":"text","text":{"body":"Hallo"}}`))
		req.Header.Set("Authorization", "Bearer t")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != c.status || sends != c.sends {
			t.Errorf("self-hosted %v: HTTP %d %s with %d forwarded sends, want %d and %d", c.selfHosted, rec.Code, rec.Body, sends, c.status, c.sends)
		}
	}
}
