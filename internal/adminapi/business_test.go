package adminapi_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

type created struct {
	WABA        string `json:"waba_id"`
	Number      string `json:"phone_number_id"`
	AppID       string `json:"app_id"`
	AppSecret   string `json:"app_secret"`
	AccessToken string `json:"access_token"`
	SelfHosted  bool   `json:"self_hosted"`
	Device      *struct {
		Phone      string `json:"phone"`
		DeviceID   int    `json:"device_id"`
		Credential string `json:"credential"`
	} `json:"device"`
}

func TestBusinesses(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		// The business's webhook receiver answers the verification handshake.
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ch, ok := cloudapi.VerifyChallenge(r.URL.Query(), "vt"); ok {
				_, _ = w.Write([]byte(ch))
				return
			}
			http.Error(w, "wrong verify token", http.StatusForbidden)
		}))
		defer hook.Close()
		var c created
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen Anna", "phone": "+4930111111",
			"webhook_url": hook.URL + "/hook", "verify_token": "vt"}, &c); code != 200 {
			t.Fatalf("create: %d", code)
		}
		if c.WABA == "" || c.Number == "" || c.AppID == "" || len(c.AppSecret) != 32 || len(c.AccessToken) < 40 || c.SelfHosted || c.Device != nil {
			t.Fatalf("created: %+v", c)
		}
		// The hosted endpoint's device stays with the platform, with its keys
		// published: people can start a session with the business at once.
		if _, err := os.Stat(filepath.Join(s.DataDir, "endpoints", c.Number, "device.json")); err != nil {
			t.Fatalf("hosted endpoint profile: %v", err)
		}
		ann := s.Account(t, "+4915100000001")
		var br wire.BundlesResponse
		if code := s.Call(t, http.MethodGet, "/v1/keys/+4930111111", ann.Credential, nil, &br); code != 200 || len(br.Devices) != 1 || br.Devices[0].PreKey == nil {
			t.Fatalf("business keys: %d %+v", code, br)
		}

		var self created
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Eigen GmbH", "phone": "+4930222222", "self_hosted": true}, &self); code != 200 {
			t.Fatalf("create self-hosted: %d", code)
		}
		if !self.SelfHosted || self.Device == nil || self.Device.Credential == "" {
			t.Fatalf("self-hosted: %+v", self)
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, "endpoints", self.Number)); !os.IsNotExist(err) {
			t.Fatalf("the platform keeps a self-hosted endpoint's profile: %v", err)
		}

		var apiErr wire.APIError
		for _, bad := range []struct {
			name string
			body map[string]any
			code int
		}{
			{"no name", map[string]any{"phone": "+4930333333"}, 400},
			{"bad phone", map[string]any{"name": "x", "phone": "030 333"}, 400},
			{"number taken", map[string]any{"name": "x", "phone": "+4930111111"}, 409},
			{"person's number", map[string]any{"name": "x", "phone": "+4915100000001"}, 409},
			{"bad webhook", map[string]any{"name": "x", "phone": "+4930444444", "webhook_url": "ftp://x"}, 400},
			{"webhook fails the handshake", map[string]any{"name": "x", "phone": "+4930444444", "webhook_url": hook.URL, "verify_token": "other"}, 400},
			{"webhook not there", map[string]any{"name": "x", "phone": "+4930444444", "webhook_url": "http://127.0.0.1:9/", "verify_token": "vt"}, 400},
			{"unknown field", map[string]any{"name": "x", "phone": "+4930444444", "colour": "red"}, 400},
		} {
			apiErr = wire.APIError{}
			if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, bad.body, &apiErr); code != bad.code || apiErr.Error.Message == "" {
				t.Errorf("%s: %d %+v", bad.name, code, apiErr)
			}
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", "kop_wrong", map[string]any{"name": "x", "phone": "+4930555555"}, nil); code != 401 {
			t.Errorf("wrong operator token: %d", code)
		}

		// Tokens: made, listed without their secret, revoked.
		var tok struct {
			ID     string   `json:"id"`
			Token  string   `json:"access_token"`
			Scopes []string `json:"scopes"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/tokens", s.Token, map[string]any{"business_id": c.WABA, "scopes": "messaging", "ttl": "24h"}, &tok); code != 200 || tok.Token == "" || len(tok.Scopes) != 1 {
			t.Fatalf("token create: %d %+v", code, tok)
		}
		var list struct {
			Data []map[string]any `json:"data"`
		}
		if code := s.Call(t, http.MethodGet, "/admin/v1/tokens?business_id="+c.WABA, s.Token, nil, &list); code != 200 || len(list.Data) != 2 {
			t.Fatalf("token list: %d %+v", code, list)
		}
		for _, d := range list.Data {
			if _, ok := d["access_token"]; ok {
				t.Fatalf("a listed token shows its secret: %v", d)
			}
		}
		if code := s.Call(t, http.MethodDelete, "/admin/v1/tokens/"+tok.ID, s.Token, nil, nil); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		if code := s.Call(t, http.MethodDelete, "/admin/v1/tokens/123", s.Token, nil, nil); code != 404 {
			t.Fatalf("revoke unknown: %d", code)
		}
		for _, bad := range []map[string]any{
			{"scopes": "messaging"},
			{"business_id": c.WABA, "scopes": "everything"},
			{"business_id": c.WABA, "scopes": "messaging", "ttl": "-1h"},
			{"business_id": "999", "scopes": "messaging"},
		} {
			if code := s.Call(t, http.MethodPost, "/admin/v1/tokens", s.Token, bad, nil); code != 400 && code != 404 {
				t.Errorf("token %v: %d", bad, code)
			}
		}

		// The webhook URL changes only through the handshake.
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+c.WABA+"/webhook", s.Token, map[string]any{"webhook_url": hook.URL + "/new", "verify_token": "vt"}, nil); code != 200 {
			t.Fatalf("set webhook: %d", code)
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+c.WABA+"/webhook", s.Token, map[string]any{"webhook_url": hook.URL + "/new", "verify_token": "nope"}, nil); code != 400 {
			t.Fatalf("set webhook with a wrong token: %d", code)
		}
		var dead struct {
			Data []any `json:"data"`
		}
		if code := s.Call(t, http.MethodGet, "/admin/v1/webhooks/dead", s.Token, nil, &dead); code != 200 || dead.Data == nil {
			t.Fatalf("dead letters: %d %+v", code, dead)
		}

		// Partners.
		var p struct {
			ID string `json:"partner_id"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/partners", s.Token, map[string]any{"name": "Agentur"}, &p); code != 200 || p.ID == "" {
			t.Fatalf("partner: %d %+v", code, p)
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/partners/"+p.ID+"/grants", s.Token, map[string]any{"business_id": c.WABA}, nil); code != 200 {
			t.Fatalf("grant: %d", code)
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/partners/"+p.ID+"/grants", s.Token, map[string]any{"business_id": "12345"}, nil); code != 404 {
			t.Fatalf("grant unknown business: %d", code)
		}
		// The partner's token works for the business until the grant is
		// taken away, then at once no more (the node caches grants).
		var pt struct {
			Token string `json:"access_token"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/tokens", s.Token, map[string]any{"partner_id": p.ID, "scopes": "messaging,management"}, &pt); code != 200 {
			t.Fatalf("partner token: %d", code)
		}
		for range 2 {
			if code := s.Call(t, http.MethodGet, "/v21.0/"+c.Number, pt.Token, nil, nil); code != 200 {
				t.Fatalf("the partner's call with the grant: %d", code)
			}
		}
		if code := s.Call(t, http.MethodDelete, "/admin/v1/partners/"+p.ID+"/grants/"+c.WABA, s.Token, nil, nil); code != 200 {
			t.Fatalf("ungrant: %d", code)
		}
		if code := s.Call(t, http.MethodGet, "/v21.0/"+c.Number, pt.Token, nil, nil); code != http.StatusForbidden {
			t.Fatalf("the partner's call right after the ungrant: %d, want 403", code)
		}
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/admin/v1/partners/" + p.ID + "/grants/" + c.WABA, 404}, // no grant any more
			{"/admin/v1/partners/12345/grants/" + c.WABA, 404},        // no such partner
			{"/admin/v1/partners/" + p.ID + "/grants/waba", 400},
		} {
			if code := s.Call(t, http.MethodDelete, tc.path, s.Token, nil, nil); code != tc.want {
				t.Errorf("DELETE %s: %d, want %d", tc.path, code, tc.want)
			}
		}
	})
}
