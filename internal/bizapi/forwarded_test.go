package bizapi_test

import (
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
	proxy := kontortest.ForwardedBy("https", "")
	for _, c := range []struct {
		trusted, want string
	}{{"127.0.0.0/8", "https://"}, {"", "http://"}} {
		s := kontortest.Start(t, kontortest.WithConfig(func(cfg *config.Config) { cfg.TrustedProxies = c.trusted }))
		biz := newBusiness(t, s, map[string]any{"name": "Proxy Blumen", "phone": "+4930777111"})
		code, id := kontortest.UploadMedia(t, proxy, s.URL, biz.Number, biz.Token, "preise.txt", "text/plain", []byte("Tulpen 3 EUR"))
		if code != 200 || id == "" {
			t.Fatalf("trusted %q: upload: HTTP %d", c.trusted, code)
		}
		var info struct{ URL string }
		if code := kontortest.CallWith(t, proxy, s.URL, http.MethodGet, "/v21.0/"+id, biz.Token, nil, &info); code != 200 || !strings.HasPrefix(info.URL, c.want) {
			t.Errorf("trusted proxies %q, X-Forwarded-Proto https from loopback: HTTP %d, URL %q, want %s…", c.trusted, code, info.URL, c.want)
		}
	}
}
