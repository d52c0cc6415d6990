package bizapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/realip"
)

// mediaNumber serves number 8, which holds every media id.
type mediaNumber struct{}

func (mediaNumber) Endpoint(kontor.ID) (Endpoint, bool)                     { return mediaInfo{}, true }
func (mediaNumber) MediaOwner(context.Context, kontor.ID) (kontor.ID, bool) { return 8, true }

// mediaInfo answers media info with the download base it was given.
type mediaInfo struct{ Endpoint }

func (mediaInfo) MediaInfo(_ context.Context, id kontor.ID, base string) (any, *cloudapi.Error) {
	return map[string]string{"url": base + "/media-download/" + id.String()}, nil
}

// TestForwardedProto: the URLs the API hands out are https when the
// connection is TLS or a trusted proxy says it took https, and only then:
// anyone else's X-Forwarded-Proto is not believed.
func TestForwardedProto(t *testing.T) {
	proxies, err := realip.Parse("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		proxies realip.Proxies
		remote  string
		proto   string
		tls     bool
		want    string
	}{
		{"plain", proxies, "203.0.113.7:5000", "", false, "http"},
		{"TLS", proxies, "203.0.113.7:5000", "", true, "https"},
		{"a client's own header", proxies, "203.0.113.7:5000", "https", false, "http"},
		{"no proxies trusted", realip.Proxies{}, "10.0.0.2:443", "https", false, "http"},
		{"trusted proxy took https", proxies, "10.0.0.2:443", "https", false, "https"},
		{"trusted proxy took http", proxies, "10.0.0.2:443", "http", false, "http"},
		{"the nearest proxy's word", proxies, "10.0.0.2:443", "https, http", false, "http"},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := &API{Dir: oneNumber{}, Auth: anyToken{}, Endpoints: mediaNumber{}, Proxies: c.proxies}
			req := httptest.NewRequest(http.MethodGet, "/v21.0/77", nil)
			req.Host = "api.kontor.example"
			req.RemoteAddr = c.remote
			req.Header.Set("Authorization", "Bearer t")
			if c.proto != "" {
				req.Header.Set("X-Forwarded-Proto", c.proto)
			}
			if c.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			var out struct{ URL string }
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
				t.Fatalf("media info: %d %s", rec.Code, rec.Body)
			}
			if want := c.want + "://api.kontor.example/media-download/77"; out.URL != want {
				t.Errorf("media URL %q, want %q", out.URL, want)
			}
		})
	}
}
