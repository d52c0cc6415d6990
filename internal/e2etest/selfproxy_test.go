package e2etest

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
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
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("messaging_product", "whatsapp")
	_ = mw.WriteField("type", "text/plain")
	fw, _ := mw.CreateFormFile("file", "preise.txt")
	_, _ = fw.Write([]byte("Tulpen 3 EUR"))
	mw.Close()
	var up, info map[string]any
	viaProxy := func(req *http.Request, out *map[string]any) int {
		t.Helper()
		req.Header.Set("Authorization", "Bearer "+biz.token)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode
	}
	req, _ := http.NewRequest(http.MethodPost, biz.api+"/v21.0/"+biz.number+"/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if code := viaProxy(req, &up); code != 200 || up["id"] == nil {
		t.Fatalf("upload: %d %v", code, up)
	}
	req, _ = http.NewRequest(http.MethodGet, biz.api+"/v21.0/"+up["id"].(string), nil)
	if code := viaProxy(req, &info); code != 200 {
		t.Fatalf("media info: %d %v", code, info)
	}
	if u, _ := info["url"].(string); !strings.HasPrefix(u, "https://") {
		t.Errorf("media URL %q behind a trusted proxy that took https, want https", u)
	}
}
