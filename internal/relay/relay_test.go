package relay_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/bus"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/media"
	"github.com/kontor-chat/kontor/internal/relay"
)

// fake is an endpoint whose answers say what it was asked.
type fake struct{ limit int64 }

var _ bizapi.Endpoint = fake{}

func (fake) Send(_ context.Context, body []byte) (any, *cloudapi.Error) {
	if string(body) == "refuse" {
		e := cloudapi.NewError(cloudapi.CodeReengagement, "the window is closed")
		e.Subcode = 7
		return nil, e
	}
	return map[string]any{"got": string(body), "html": "<b>&"}, nil
}

func (f fake) UploadMedia(_ context.Context, r *http.Request) (any, *cloudapi.Error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, cloudapi.Invalid("file", "not multipart")
	}
	part, err := mr.NextPart()
	if err != nil {
		return nil, cloudapi.Invalid("file", "no part")
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(part, f.limit+1))
	if err != nil {
		return nil, cloudapi.Invalid("file", err.Error())
	}
	if n > f.limit {
		return nil, cloudapi.NewError(cloudapi.CodeMediaUpload, "too large")
	}
	return map[string]any{"size": n, "sha256": hex.EncodeToString(h.Sum(nil)), "q": r.URL.Query().Get("messaging_product")}, nil
}

func (fake) MediaInfo(_ context.Context, id kontor.ID, base string) (any, *cloudapi.Error) {
	return map[string]string{"id": id.String(), "url": base + "/x"}, nil
}

func (fake) DeleteMedia(context.Context, kontor.ID) (any, *cloudapi.Error) {
	return cloudapi.SuccessResponse{Success: true}, nil
}

// Download writes id bytes of a pattern; id 0 is not found.
func (fake) Download(_ context.Context, w http.ResponseWriter, id kontor.ID, sig string) *cloudapi.Error {
	if id == 0 || sig != "ok" {
		return cloudapi.NewError(cloudapi.CodeAccessDenied, "bad signature")
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(int(id)))
	_, _ = w.Write(pattern(int(id)))
	return nil
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}

// nodes returns two buses on one embedded NATS server: the holder's and
// the caller's.
func nodes(t testing.TB) (*bus.Bus, *bus.Bus) {
	return nodesOn(t, "")
}

// nodesOn is nodes on the NATS server at url ("": embedded).
func nodesOn(t testing.TB, url string) (*bus.Bus, *bus.Bus) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	b1, err := bus.Open(bus.Config{URL: url, DataDir: t.TempDir(), Node: 1, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := bus.Attach(b1, 2, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close(); b1.Close() })
	return b1, b2
}

func upload(t *testing.T, size int) (*http.Request, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "a.pdf")
	data := pattern(size)
	_, _ = fw.Write(data)
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/v21.0/1/media?messaging_product=whatsapp", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	sum := sha256.Sum256(data)
	return r, hex.EncodeToString(sum[:])
}

// TestForward: every call of the endpoint interface answers through
// another node as the endpoint answers it, bodies of several NATS
// messages included, and errors keep their Cloud API shape.
func TestForward(t *testing.T) {
	b1, b2 := nodes(t)
	h := relay.NewHolder(b1, slog.New(slog.DiscardHandler))
	defer h.Close()
	local := fake{limit: 5 << 20}
	if err := h.Serve(42, local); err != nil {
		t.Fatal(err)
	}
	e := relay.NewRemote(b2).Endpoint(42)
	ctx := context.Background()

	// JSON answers are the bytes the local answer encodes to.
	for _, body := range []string{`{"to":"1"}`, string(bytes.Repeat([]byte("x"), 1<<20+5))} {
		out, cerr := e.Send(ctx, []byte(body))
		want, _ := local.Send(ctx, []byte(body))
		if cerr != nil || !jsonEqual(t, out, want) {
			t.Fatalf("send of %d bytes: %v %v", len(body), cerr, cerr)
		}
	}
	_, cerr := e.Send(ctx, []byte("refuse"))
	if cerr == nil || cerr.Code != cloudapi.CodeReengagement || cerr.Subcode != 7 || cerr.HTTPStatus != http.StatusBadRequest || cerr.Details != "the window is closed" {
		t.Fatalf("refused send: %+v", cerr)
	}
	out, cerr := e.MediaInfo(ctx, 9, "http://node2")
	if cerr != nil || !jsonEqual(t, out, map[string]string{"id": "9", "url": "http://node2/x"}) {
		t.Fatalf("media info: %v %+v", out, cerr)
	}
	if out, cerr := e.DeleteMedia(ctx, 9); cerr != nil || !jsonEqual(t, out, cloudapi.SuccessResponse{Success: true}) {
		t.Fatalf("delete: %v %+v", out, cerr)
	}

	for _, c := range []struct {
		size int
		code int // 0: stored
	}{{10, 0}, {1 << 20, 0}, {3<<20 + 123, 0}, {6 << 20, cloudapi.CodeMediaUpload}} {
		r, sum := upload(t, c.size)
		out, cerr := e.UploadMedia(ctx, r)
		if c.code != 0 {
			if cerr == nil || cerr.Code != c.code {
				t.Fatalf("upload of %d bytes: %v %+v, want code %d", c.size, out, cerr, c.code)
			}
			continue
		}
		if cerr != nil || !jsonEqual(t, out, map[string]any{"size": c.size, "sha256": sum, "q": "whatsapp"}) {
			t.Fatalf("upload of %d bytes: %s %+v", c.size, out, cerr)
		}
	}

	for _, size := range []int{1, 1 << 20, 5<<20 + 3} {
		w := httptest.NewRecorder()
		if cerr := e.Download(ctx, w, kontor.ID(size), "ok"); cerr != nil {
			t.Fatalf("download of %d bytes: %+v", size, cerr)
		}
		if !bytes.Equal(w.Body.Bytes(), pattern(size)) || w.Header().Get("Content-Type") != "application/pdf" || w.Header().Get("Content-Length") != strconv.Itoa(size) {
			t.Fatalf("download of %d bytes: got %d bytes, header %v", size, w.Body.Len(), w.Header())
		}
	}
	if cerr := e.Download(ctx, httptest.NewRecorder(), 5, "bad"); cerr == nil || cerr.Code != cloudapi.CodeAccessDenied {
		t.Fatalf("download with a bad signature: %+v", cerr)
	}
	// A caller that leaves a download in the middle frees the holder.
	w := &failingWriter{header: http.Header{}, after: 1}
	if cerr := e.Download(ctx, w, 4<<20, "ok"); cerr != nil {
		t.Fatalf("left download: %+v", cerr)
	}
}

type failingWriter struct {
	header http.Header
	after  int
}

func (w *failingWriter) Header() http.Header { return w.header }
func (w *failingWriter) WriteHeader(int)     {}
func (w *failingWriter) Write(b []byte) (int, error) {
	if w.after == 0 {
		return 0, errors.New("gone")
	}
	w.after--
	return len(b), nil
}

// TestNoHolder: while no node serves the number, a call answers 503 in
// the Cloud API shape after Wait; one that starts serving within Wait is
// answered.
func TestNoHolder(t *testing.T) {
	b1, b2 := nodes(t)
	r := relay.NewRemote(b2)
	r.Wait = 300 * time.Millisecond
	_, cerr := r.Endpoint(42).Send(context.Background(), []byte("{}"))
	if cerr == nil || cerr.Code != cloudapi.CodeServiceUnavailable || cerr.HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("no holder: %+v", cerr)
	}

	h := relay.NewHolder(b1, slog.New(slog.DiscardHandler))
	defer h.Close()
	r.Wait = time.Minute
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = h.Serve(42, fake{})
	}()
	if _, cerr := r.Endpoint(42).Send(context.Background(), []byte("{}")); cerr != nil {
		t.Fatalf("a holder that starts during the wait: %+v", cerr)
	}
	h.Stop(42)
	r.Wait = time.Millisecond
	if _, cerr := r.Endpoint(42).Send(context.Background(), []byte("{}")); cerr == nil || cerr.Code != cloudapi.CodeServiceUnavailable {
		t.Fatalf("after Stop: %+v", cerr)
	}
}

func jsonEqual(t *testing.T, got, want any) bool {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Logf("got  %s\nwant %s", g, w)
		return false
	}
	return true
}

// BenchmarkSend is what forwarding adds to a send: the endpoint itself is
// a stub, so the figures are the relay's own (a frame each way, the JSON
// of the answer), on the embedded server in process and, with
// KONTOR_TEST_NATS, over TCP to a NATS server.
func BenchmarkSend(b *testing.B) {
	body := []byte(`{"messaging_product":"whatsapp","to":"4915100000001","type":"text","text":{"body":"Ja, rote und gelbe Tulpen haben wir."}}`)
	ctx := context.Background()
	b.Run("local", func(b *testing.B) {
		var e bizapi.Endpoint = fake{}
		b.ReportAllocs()
		for b.Loop() {
			if _, cerr := e.Send(ctx, body); cerr != nil {
				b.Fatal(cerr)
			}
		}
	})
	urls := map[string]string{"forwarded-inprocess": ""}
	if u := os.Getenv("KONTOR_TEST_NATS"); u != "" {
		urls["forwarded-tcp"] = u
	}
	for name, url := range urls {
		b.Run(name, func(b *testing.B) {
			b1, b2 := nodesOn(b, url)
			h := relay.NewHolder(b1, slog.New(slog.DiscardHandler))
			defer h.Close()
			if err := h.Serve(42, fake{}); err != nil {
				b.Fatal(err)
			}
			e := relay.NewRemote(b2).Endpoint(42)
			b.ReportAllocs()
			for b.Loop() {
				if _, cerr := e.Send(ctx, body); cerr != nil {
					b.Fatal(cerr)
				}
			}
		})
	}
}

// TestBlobs: a blob uploaded on one node opens on another, streamed in
// chunks when large; deleting it on one deletes every copy; a blob no node
// has is NotFound after BlobWait.
func TestBlobs(t *testing.T) {
	b1, b2 := nodes(t)
	ctx := context.Background()
	dir1, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir2, _ := media.NewDir(t.TempDir())
	log := slog.New(slog.DiscardHandler)
	h1, h2 := relay.NewHolder(b1, log), relay.NewHolder(b2, log)
	defer h1.Close()
	defer h2.Close()
	for _, c := range []struct {
		h    *relay.Holder
		dir  *media.Dir
		node string
	}{{h1, dir1, "1"}, {h2, dir2, ""}} { // node 2 serves only the broadcast
		if err := c.h.ServeBlobs(c.dir, c.node); err != nil {
			t.Fatal(err)
		}
	}
	r2 := relay.NewRemote(b2)
	r2.BlobWait = 300 * time.Millisecond
	on1, on2 := relay.NewRemote(b1).Blobs(dir1), r2.Blobs(dir2)

	for i, size := range []int{10, 3<<20 + 17} {
		id := fmt.Sprintf("%032x", i+1)
		if _, err := on1.Put(ctx, id, bytes.NewReader(pattern(size)), 5<<20); err != nil {
			t.Fatal(err)
		}
		rc, err := on2.Open(ctx, id)
		if err != nil {
			t.Fatalf("open a blob of %d bytes on the other node: %v", size, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, pattern(size)) {
			t.Fatalf("blob of %d bytes from the other node: %d bytes, %v", size, len(got), err)
		}
	}
	// A reader left in the middle frees the node that streams it.
	rc, err := on2.Open(ctx, fmt.Sprintf("%032x", 2))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = rc.Read(make([]byte, 100))
	rc.Close()

	if err := on2.Delete(ctx, fmt.Sprintf("%032x", 2)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := dir1.Open(ctx, fmt.Sprintf("%032x", 2)); kontor.KindOf(err) == kontor.NotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the copy on node 1 was not deleted")
		}
	}
	if _, err := on2.Open(ctx, fmt.Sprintf("%032x", 99)); kontor.KindOf(err) != kontor.NotFound {
		t.Fatalf("a blob no node has: %v", err)
	}
}

// TestBlobsOnNode: a blob whose record names the node that keeps it is
// asked of that node (two nodes with a blob of the same id answer each
// their own); a node named that does not have it says so and one that is
// not there is not waited for: every node is asked then, well within
// BlobWait.
func TestBlobsOnNode(t *testing.T) {
	b1, b2 := nodes(t)
	log := slog.New(slog.DiscardHandler)
	b3, err := bus.Attach(b1, 3, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b3.Close()
	ctx := context.Background()
	dirs := map[string]*media.Dir{}
	for i, b := range []*bus.Bus{b1, b2, b3} {
		node := strconv.Itoa(i + 1)
		if dirs[node], err = media.NewDir(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		h := relay.NewHolder(b, log)
		defer h.Close()
		if err := h.ServeBlobs(dirs[node], node); err != nil {
			t.Fatal(err)
		}
	}
	put := func(node, id, content string) {
		t.Helper()
		if _, err := dirs[node].Put(ctx, id, strings.NewReader(content), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	both, one := fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 2)
	put("1", both, "from node 1")
	put("2", both, "from node 2")
	put("1", one, "only on node 1")
	r3 := relay.NewRemote(b3)
	r3.BlobWait = 10 * time.Second
	on3 := r3.Blobs(dirs["3"]).(media.Located)
	for _, c := range []struct{ id, node, want string }{
		{both, "1", "from node 1"}, {both, "2", "from node 2"}, {both, "1", "from node 1"}, {both, "2", "from node 2"},
		{one, "2", "only on node 1"}, // node 2 says it does not have it
		{one, "9", "only on node 1"}, // no node 9
		{one, "", "only on node 1"},  // no node known
	} {
		start := time.Now()
		rc, err := on3.OpenOn(ctx, c.id, c.node)
		if err != nil {
			t.Fatalf("OpenOn(%s, node %q): %v", c.id, c.node, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != c.want {
			t.Fatalf("OpenOn(%s, node %q) = %q, %v; want %q", c.id, c.node, got, err, c.want)
		}
		if d := time.Since(start); d >= r3.BlobWait {
			t.Errorf("OpenOn(%s, node %q) took %v: it waited for a node that does not have it", c.id, c.node, d)
		}
	}
}

// slow is an endpoint whose sends wait until their context ends.
type slow struct {
	fake
	started chan struct{}
}

func (s slow) Send(ctx context.Context, _ []byte) (any, *cloudapi.Error) {
	close(s.started)
	<-ctx.Done()
	return nil, cloudapi.NewError(cloudapi.CodeServiceUnavailable, "stopping")
}

// TestCloseInFlight: closing the holder ends the calls in flight after
// its grace (their callers get the endpoint's answer) and waits for them;
// later calls find no holder.
func TestCloseInFlight(t *testing.T) {
	b1, b2 := nodes(t)
	h := relay.NewHolder(b1, slog.New(slog.DiscardHandler))
	h.Grace = 50 * time.Millisecond
	e := slow{started: make(chan struct{})}
	if err := h.Serve(42, e); err != nil {
		t.Fatal(err)
	}
	r := relay.NewRemote(b2)
	r.Wait = time.Millisecond
	answered := make(chan *cloudapi.Error, 1)
	go func() {
		_, cerr := r.Endpoint(42).Send(context.Background(), []byte("{}"))
		answered <- cerr
	}()
	<-e.started
	h.Close()
	if cerr := <-answered; cerr == nil || cerr.Details != "stopping" {
		t.Fatalf("the call in flight: %+v", cerr)
	}
	if _, cerr := r.Endpoint(42).Send(context.Background(), []byte("{}")); cerr == nil || cerr.Code != cloudapi.CodeServiceUnavailable || !strings.Contains(cerr.Details, "nothing was sent") {
		t.Fatalf("after Close: %+v", cerr)
	}
	if err := h.Serve(43, fake{}); err == nil {
		t.Fatal("Serve after Close did not fail")
	}
}
