package bizapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestRoutePaths: the path is /[version/]object[/edge]; what does not fit
// is refused with the public error that names it, and a send reaches the
// endpoint with or without a version, and with slashes at either end.
func TestRoutePaths(t *testing.T) {
	api := &API{Dir: oneNumber{}, Auth: anyToken{}, Endpoints: oneEndpoint{parsingEndpoint{}}}
	body := `{"messaging_product":"whatsapp","to":"4915100000001","text":{"body":"hallo"}}`
	for _, tc := range []struct {
		method, path string
		status       int
		message      string // the start of the error's details; "" for a 200
	}{
		{http.MethodPost, "/v21.0/8/messages", http.StatusOK, ""},
		{http.MethodPost, "/8/messages", http.StatusOK, ""},
		{http.MethodPost, "/v21.0/8/messages/", http.StatusOK, ""},
		{http.MethodPost, "/", http.StatusBadRequest, "Unknown path components: /"},
		{http.MethodPost, "/v21.0", http.StatusBadRequest, "Unknown path components: /v21.0"},
		{http.MethodPost, "/v21.0/", http.StatusBadRequest, "Unknown path components: /v21.0/"},
		{http.MethodPost, "/v21.0/abc/messages", http.StatusBadRequest, "Unsupported request - object with ID 'abc' does not exist"},
		{http.MethodPost, "/v21.0/8/messages/x", http.StatusBadRequest, "Unknown path components: /messages/x"},
		{http.MethodPost, "/v21.0/8//messages", http.StatusBadRequest, "Unknown path components: //messages"},
		{http.MethodPut, "/v21.0/8/messages", http.StatusBadRequest, "Unsupported PUT request to /8/messages"},
		{http.MethodGet, "/v21.0/8/nothing", http.StatusBadRequest, "Unsupported GET request to /8/nothing"},
		{http.MethodGet, "/v21.0/media-download/abc", http.StatusBadRequest, "Unsupported request - object with ID '0' does not exist"},
		{http.MethodGet, "/v21.0/media-download/1/2", http.StatusBadRequest, "Unsupported request - object with ID 'media-download' does not exist"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer EAAGm0PX4ZCpsBA")
			w := httptest.NewRecorder()
			api.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body.Bytes())
			}
			var out struct {
				Error struct {
					Data struct {
						Details string `json:"details"`
					} `json:"error_data"`
				} `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%v: %s", err, w.Body.Bytes())
			}
			if !strings.HasPrefix(out.Error.Data.Details, tc.message) || (tc.message == "") != (out.Error.Data.Details == "") {
				t.Errorf("message %q, want one starting %q", out.Error.Data.Details, tc.message)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
		})
	}
}

// shortReader gives its bytes one at a time and then EOF, however many
// the request said it had.
type shortReader struct{ b []byte }

func (r *shortReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

// TestReadBody: a body is read whole up to MaxBody, whether its length is
// told (Content-Length), not told (chunked) or wrong.
func TestReadBody(t *testing.T) {
	api := &API{MaxBody: 10}
	for _, tc := range []struct {
		name   string
		body   string
		length int64 // Content-Length; -1 unknown
		want   string
		err    string
	}{
		{"told", "0123456789", 10, "0123456789", ""},
		{"told, too long", "0123456789x", 11, "", "larger than 10 bytes"},
		{"unknown", "0123456789", -1, "0123456789", ""},
		{"unknown, too long", "0123456789x", -1, "", "larger than 10 bytes"},
		{"told zero", "0123", 0, "0123", ""},
		{"told more than sent", "0123", 8, "", "could not be read"},
		{"empty", "", -1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/8/messages", nil)
			req.Body, req.ContentLength = io.NopCloser(&shortReader{[]byte(tc.body)}), tc.length
			got, cerr := api.readBody(req)
			if tc.err != "" {
				if cerr == nil || !strings.Contains(cerr.Details, tc.err) {
					t.Fatalf("got %q, %v; want the error %q", got, cerr, tc.err)
				}
				return
			}
			if cerr != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, cerr, tc.want)
			}
		})
	}
}

// TestReadBodyToldLength: a body longer than exactBody is read as its bytes
// arrive, not into a slice of the size the caller claims: a send claiming
// the whole MaxBody but sending a few bytes answers 400 "could not be read"
// without a large allocation made first, and a long told body that is all
// there (JSON padded with spaces) is sent.
func TestReadBodyToldLength(t *testing.T) {
	api := &API{Dir: oneNumber{}, Auth: anyToken{}, Endpoints: oneEndpoint{parsingEndpoint{}}}
	body := `{"messaging_product":"whatsapp","to":"4915100000001","text":{"body":"hallo"}}`
	padded := body + strings.Repeat(" ", 200<<10)
	for _, tc := range []struct {
		name    string
		body    string
		length  int64
		status  int
		details string
	}{
		{"claims 1 MiB, sends a send", body, maxJSON, http.StatusBadRequest, "The request body could not be read."},
		{"claims exactBody, sends a send", body, exactBody, http.StatusBadRequest, "The request body could not be read."},
		{"claims more than MaxBody", body, maxJSON + 1, http.StatusBadRequest, "The request body is larger than 1048576 bytes."},
		{"told 200 KiB, all there", padded, int64(len(padded)), http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v21.0/8/messages", nil)
			req.Body, req.ContentLength = io.NopCloser(&shortReader{[]byte(tc.body)}), tc.length
			req.Header.Set("Authorization", "Bearer EAAGm0PX4ZCpsBA")
			w := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			api.ServeHTTP(w, req)
			runtime.ReadMemStats(&after)
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body.Bytes())
			}
			if tc.details != "" && !strings.Contains(w.Body.String(), tc.details) {
				t.Errorf("body %s, want the details %q", w.Body.Bytes(), tc.details)
			}
			if tc.status != http.StatusOK {
				if n := after.TotalAlloc - before.TotalAlloc; n >= 256<<10 {
					t.Errorf("allocated %d bytes for a body of %d", n, len(tc.body))
				}
			}
		})
	}
}
