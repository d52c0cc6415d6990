package bizapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestBusinessInfo: GET /v1/businesses/{phone} says what the platform
// publishes of a number: a hosted shop, a self-hosted business with no
// catalog, a person's number, a number nobody has.
func TestBusinessInfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := kontortest.Start(t, kontortest.WithConfig(func(c *config.Config) { c.OperatorName = "Beispiel Hosting" }))
	s.Shop(t, kontortest.ShopOptions{Products: []map[string]any{{"retailer_id": "rose", "name": "Rose", "price": 299, "currency": "EUR"}}})
	if code := kontortest.Call(t, s.URL, http.MethodPost, "/admin/v1/businesses", s.Token,
		map[string]any{"name": "Eigen GmbH", "phone": "+4930999999", "self_hosted": true}, nil); code != http.StatusOK {
		t.Fatalf("creating the self-hosted business: %d", code)
	}
	ann := newPerson(ctx, t, s, "+4915100000001")
	newPerson(ctx, t, s, "+4915100000002")
	for _, c := range []struct {
		phone    kontor.Phone
		want     wire.BusinessInfo
		notFound bool
	}{
		{"+4930111111", wire.BusinessInfo{Phone: "+4930111111", Name: "Blumen Anna", Hosted: true, Operator: "Beispiel Hosting", Catalog: true, CartEnabled: true}, false},
		{"+4930999999", wire.BusinessInfo{Phone: "+4930999999", Name: "Eigen GmbH"}, false},
		{"+4915100000002", wire.BusinessInfo{}, true}, // a person
		{"+4915199999999", wire.BusinessInfo{}, true}, // nobody
	} {
		got, err := ann.c.API().Business(ctx, c.phone)
		if c.notFound {
			if kontor.KindOf(err) != kontor.NotFound {
				t.Errorf("%s: %+v %v, want not found", c.phone, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.phone, got, err, c.want)
		}
	}
	code := kontortest.Call(t, s.URL, http.MethodGet, "/v1/businesses/+4930111111", "", nil, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("without a device credential: HTTP %d", code)
	}
	code = kontortest.Call(t, s.URL, http.MethodGet, "/v1/businesses/not-a-number", ann.c.Account().Credential, nil, nil)
	if code != http.StatusBadRequest {
		t.Errorf("not a number: HTTP %d", code)
	}
}
