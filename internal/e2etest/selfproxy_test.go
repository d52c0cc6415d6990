package e2etest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestSelfHostedTrustedProxies: kontor endpoint --trusted-proxies makes
// the Business API believe its proxy's X-Forwarded-Proto for the media
// URLs it hands out (only the trusted proxy's: internal/bizapi tests the
// others).
func TestSelfHostedTrustedProxies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := kontortest.StartProcess(t, "")
	biz := startSelfHosted(ctx, t, p, "--trusted-proxies", "127.0.0.1")
	defer biz.stop(t)
	proxy := kontortest.ForwardedBy("https", "")
	code, id := kontortest.UploadMedia(t, proxy, biz.api, biz.number, biz.token, "preise.txt", "text/plain", []byte("Tulpen 3 EUR"))
	if code != 200 || id == "" {
		t.Fatalf("upload: HTTP %d", code)
	}
	var info struct{ URL string }
	if code := kontortest.CallWith(t, proxy, biz.api, http.MethodGet, "/v21.0/"+id, biz.token, nil, &info); code != 200 || !strings.HasPrefix(info.URL, "https://") {
		t.Errorf("media info behind a trusted proxy that took https: HTTP %d, URL %q, want https", code, info.URL)
	}
}
