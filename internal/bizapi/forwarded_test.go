package bizapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestTrustedProxies: on the platform, a media download URL is https when
// a trusted proxy (--trusted-proxies) says it took https, and http when
// the same header comes from anyone else.
func TestTrustedProxies(t *testing.T) {
	for _, c := range []struct {
		trusted, want string
	}{{"127.0.0.0/8", "https://"}, {"", "http://"}} {
		s := kontortest.Start(t, kontortest.WithConfig(func(cfg *config.Config) { cfg.TrustedProxies = c.trusted }))
		var biz struct {
			Number string `json:"phone_number_id"`
			Token  string `json:"access_token"`
		}
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Proxy Blumen", "phone": "+4930777111"}, &biz); code != 200 {
			t.Fatalf("business: HTTP %d", code)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("messaging_product", "whatsapp")
		_ = mw.WriteField("type", "text/plain")
		fw, _ := mw.CreateFormFile("file", "preise.txt")
		_, _ = fw.Write([]byte("Tulpen 3 EUR"))
		mw.Close()
		var up struct{ ID string }
		if code := viaProxy(t, http.MethodPost, s.URL+"/v21.0/"+biz.Number+"/media", biz.Token, mw.FormDataContentType(), &buf, &up); code != 200 || up.ID == "" {
			t.Fatalf("trusted %q: upload: HTTP %d", c.trusted, code)
		}
		var info struct{ URL string }
		if code := viaProxy(t, http.MethodGet, s.URL+"/v21.0/"+up.ID, biz.Token, "", nil, &info); code != 200 || !strings.HasPrefix(info.URL, c.want) {
			t.Errorf("trusted proxies %q, X-Forwarded-Proto https from loopback: HTTP %d, URL %q, want %s…", c.trusted, code, info.URL, c.want)
		}
	}
}

// viaProxy makes a call as a proxy on loopback that took https would
// pass it on, and decodes the answer into out.
func viaProxy(t *testing.T, method, url, token, contentType string, body io.Reader, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}
