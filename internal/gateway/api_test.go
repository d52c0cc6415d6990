package gateway_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

func devCode(t *testing.T, s *kontortest.Server, phone string) string {
	t.Helper()
	var out map[string]string
	if code := s.Call(t, http.MethodGet, "/dev/otp?phone="+url.QueryEscape(phone), "", nil, &out); code != 200 {
		t.Fatalf("dev otp: %d", code)
	}
	return out["code"]
}

func register(t *testing.T, s *kontortest.Server, phone string) wire.DeviceCredentials {
	t.Helper()
	if code := s.Call(t, http.MethodPost, "/v1/register/code", "", wire.CodeRequest{Phone: kontor.Phone(phone)}, nil); code != 200 {
		t.Fatalf("request code: %d", code)
	}
	var c wire.DeviceCredentials
	if code := s.Call(t, http.MethodPost, "/v1/register/verify", "", wire.VerifyRequest{Phone: kontor.Phone(phone), Code: devCode(t, s, phone)}, &c); code != 200 {
		t.Fatalf("verify: %d", code)
	}
	return c
}

func TestRegistration(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		c := register(t, s, ann)
		if c.Phone != ann || c.DeviceID != 1 || c.Credential == "" {
			t.Fatalf("credentials: %+v", c)
		}
		var devs wire.DevicesResponse
		if code := s.Call(t, http.MethodGet, "/v1/devices", c.Credential, nil, &devs); code != 200 || len(devs.Devices) != 1 || devs.Devices[0].DeviceID != 1 {
			t.Fatalf("devices: %d %+v", code, devs)
		}
		// Registering again moves the account to a new primary; the old
		// credential stops working.
		c2 := register(t, s, ann)
		if c2.DeviceID != 2 {
			t.Fatalf("re-registered device number %d, want 2", c2.DeviceID)
		}
		if code := s.Call(t, http.MethodGet, "/v1/devices", c.Credential, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("old credential: %d", code)
		}
		// Anyone's device ids, for addressing payloads.
		if code := s.Call(t, http.MethodGet, "/v1/accounts/"+url.PathEscape(ann)+"/devices", c2.Credential, nil, &devs); code != 200 || len(devs.Devices) != 1 || devs.Devices[0].DeviceID != 2 {
			t.Fatalf("account devices: %d %+v", code, devs)
		}
		if code := s.Call(t, http.MethodGet, "/v1/accounts/%2B4915199999999/devices", c2.Credential, nil, nil); code != 404 {
			t.Fatalf("unknown account devices: %d", code)
		}
		// Delete the account: gone, and the number can register anew.
		if code := s.Call(t, http.MethodDelete, "/v1/account", c2.Credential, nil, nil); code != http.StatusNoContent {
			t.Fatalf("delete: %d", code)
		}
		if code := s.Call(t, http.MethodGet, "/v1/devices", c2.Credential, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("deleted credential: %d", code)
		}
		if c3 := register(t, s, ann); c3.DeviceID != 1 {
			t.Fatalf("after delete: %+v", c3)
		}
	})
}

func TestRegistrationErrors(t *testing.T) {
	s := kontortest.Start(t)
	errCode := func(code int, body wire.APIError) string { return fmt.Sprintf("%d %s", code, body.Error.Code) }
	var e wire.APIError
	tests := []struct {
		name string
		path string
		body any
		want string
	}{
		{"bad phone", "/v1/register/code", wire.CodeRequest{Phone: "0151"}, "400 invalid"},
		{"not json", "/v1/register/code", "{", "400 invalid"},
		{"unknown field", "/v1/register/code", map[string]string{"phone": ann, "x": "y"}, "400 invalid"},
		{"verify without code", "/v1/register/verify", wire.VerifyRequest{Phone: "+4915100000077", Code: "123456"}, "400 invalid"},
		{"link with bad code", "/v1/devices/link", wire.LinkRequest{Phone: ann, Code: "000-000-000"}, "400 invalid"},
	}
	for _, tt := range tests {
		e = wire.APIError{}
		code := s.Call(t, http.MethodPost, tt.path, "", tt.body, &e)
		if got := errCode(code, e); got != tt.want || e.Error.Message == "" {
			t.Errorf("%s: got %s (%q), want %s", tt.name, got, e.Error.Message, tt.want)
		}
	}

	// Five wrong codes burn the code.
	phone := "+4915100000055"
	s.Call(t, http.MethodPost, "/v1/register/code", "", wire.CodeRequest{Phone: kontor.Phone(phone)}, nil)
	right := devCode(t, s, phone)
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	for i := range 5 {
		e = wire.APIError{}
		code := s.Call(t, http.MethodPost, "/v1/register/verify", "", wire.VerifyRequest{Phone: kontor.Phone(phone), Code: wrong}, &e)
		want := "400 invalid"
		if i == 4 {
			want = "429 rate_limited"
		}
		if got := errCode(code, e); got != want {
			t.Fatalf("wrong code %d: %s, want %s", i+1, got, want)
		}
	}
	if code := s.Call(t, http.MethodPost, "/v1/register/verify", "", wire.VerifyRequest{Phone: kontor.Phone(phone), Code: right}, &e); code == 200 {
		t.Fatal("the right code worked after five wrong ones")
	}

	// Code requests are limited per number.
	phone = "+4915100000066"
	var last int
	for range 7 {
		last = s.Call(t, http.MethodPost, "/v1/register/code", "", wire.CodeRequest{Phone: kontor.Phone(phone)}, &e)
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("7th code request: %d", last)
	}

	// Auth errors.
	if code := s.Call(t, http.MethodGet, "/v1/devices", "", nil, &e); code != 401 || e.Error.Code != "unauthenticated" {
		t.Fatalf("no credential: %d %+v", code, e)
	}
}

func TestLinkDevices(t *testing.T) {
	s := kontortest.Start(t)
	primary := s.Account(t, ann).Credential
	var creds []string
	for i := range 4 {
		c := link(t, s, ann, primary)
		creds = append(creds, c)
		_ = i
	}
	// A sixth device is refused.
	var lc wire.LinkCodeResponse
	s.Call(t, http.MethodPost, "/v1/devices/link-code", primary, nil, &lc)
	var e wire.APIError
	if code := s.Call(t, http.MethodPost, "/v1/devices/link", "", wire.LinkRequest{Phone: ann, Code: lc.Code}, &e); code != http.StatusConflict {
		t.Fatalf("sixth device: %d %+v", code, e)
	}
	// A linked device cannot make link codes or remove others, but can remove itself.
	if code := s.Call(t, http.MethodPost, "/v1/devices/link-code", creds[0], nil, nil); code != http.StatusForbidden {
		t.Fatalf("link code from a linked device: %d", code)
	}
	if code := s.Call(t, http.MethodDelete, "/v1/devices/3", creds[0], nil, nil); code != http.StatusForbidden {
		t.Fatalf("linked device removing another: %d", code)
	}
	if code := s.Call(t, http.MethodDelete, "/v1/devices/2", creds[0], nil, nil); code != http.StatusNoContent {
		t.Fatalf("linked device removing itself: %d", code)
	}
	// A link code is single-use.
	s.Call(t, http.MethodPost, "/v1/devices/link-code", primary, nil, &lc)
	if code := s.Call(t, http.MethodPost, "/v1/devices/link", "", wire.LinkRequest{Phone: ann, Code: lc.Code}, nil); code != 200 {
		t.Fatalf("link: %d", code)
	}
	if code := s.Call(t, http.MethodPost, "/v1/devices/link", "", wire.LinkRequest{Phone: ann, Code: lc.Code}, nil); code != 400 {
		t.Fatalf("link code reused: %d", code)
	}
	var devs wire.DevicesResponse
	s.Call(t, http.MethodGet, "/v1/devices", primary, nil, &devs)
	if len(devs.Devices) != 5 || devs.Devices[4].DeviceID != 6 {
		t.Fatalf("devices: %+v", devs)
	}
}

func TestDevOTPLoopbackOnlyAndPrivacy(t *testing.T) {
	s := kontortest.Start(t)
	c := s.Account(t, ann)
	if code := s.Call(t, http.MethodPut, "/v1/settings", c.Credential, wire.SettingsRequest{LastSeen: "sometimes"}, nil); code != 400 {
		t.Fatalf("bad privacy: %d", code)
	}
	if code := s.Call(t, http.MethodPut, "/v1/settings", c.Credential, wire.SettingsRequest{LastSeen: "nobody"}, nil); code != 204 {
		t.Fatalf("privacy: %d", code)
	}
	if code := s.Call(t, http.MethodGet, "/dev/otp?phone=%2B4915100000099", "", nil, nil); code != 404 {
		t.Fatalf("dev otp for a number with no code: %d", code)
	}
}
