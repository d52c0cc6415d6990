package kontortest

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"
)

// UploadMedia uploads data (a file called name, of type mime) as media of
// number through the Business API at base, as POST /{number}/media with
// client c does, and returns the answer's status code and media id.
func UploadMedia(t testing.TB, c *http.Client, base, number, token, name, mime string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("messaging_product", "whatsapp")
	_ = mw.WriteField("type", mime)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/v21.0/"+number+"/media", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var up struct{ ID string }
	code := do(t, c, req, token, &up)
	return code, up.ID
}

// ForwardedBy is a client whose requests arrive as a reverse proxy on
// loopback would pass them on: with X-Forwarded-Proto proto and
// X-Forwarded-For client (each unless empty).
func ForwardedBy(proto, client string) *http.Client {
	return &http.Client{Transport: forwarded{proto: proto, client: client}}
}

type forwarded struct{ proto, client string }

func (f forwarded) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if f.proto != "" {
		r.Header.Set("X-Forwarded-Proto", f.proto)
	}
	if f.client != "" {
		r.Header.Set("X-Forwarded-For", f.client)
	}
	return http.DefaultTransport.RoundTrip(r)
}
