// Package e2etest proves the end-to-end guarantee: whatever people write,
// and the files they send, never reach anything the server writes.
package e2etest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestNoPlaintextOnServer sends messages, captions and a document holding
// unique markers between three people (two with two devices), then scans
// every byte the server wrote — its data directory (SQLite, NATS, media),
// its log, and a pg_dump of its PostgreSQL schema — for the markers in
// plain, base64 and hex. With end-to-end encryption none may appear; with
// the plain envelopes of the messaging core they must (the scan works).
func TestNoPlaintextOnServer(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Run("encrypted", func(t *testing.T) {
				if found := exchange(t, db == "postgres", true); len(found) > 0 {
					t.Fatalf("plaintext on the server:\n%s", strings.Join(found, "\n"))
				}
			})
			t.Run("plain envelopes leak", func(t *testing.T) {
				if found := exchange(t, db == "postgres", false); len(found) == 0 {
					t.Fatal("the scan found no marker of unencrypted messages: it does not look where the server writes")
				}
			})
		})
	}
}

// device is one person's device in the test.
type device struct {
	name string
	dir  string
	c    *client.Client
	s    *e2e.Sealer // nil without encryption
}

// exchange runs the conversation on a fresh server and returns where markers
// were found.
func exchange(t *testing.T, pg, encrypted bool) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"--log-level", "debug"}
	dbURL := ""
	if pg {
		dbURL = kontortest.PostgresURL(t) // a schema of its own: the dump holds only this run
		args = append(args, "--db", dbURL)
	}
	p := kontortest.StartProcess(t, "", args...)

	ann1 := register(ctx, t, p.URL, "ann-1", "+4915100000011", encrypted)
	ann2 := link(ctx, t, p.URL, "ann-2", ann1, encrypted)
	bob1 := register(ctx, t, p.URL, "bob-1", "+4915100000022", encrypted)
	bob2 := link(ctx, t, p.URL, "bob-2", bob1, encrypted)
	cem := register(ctx, t, p.URL, "cem", "+4915100000033", encrypted)
	// Dan has published his keys but stays offline: what is sent to him
	// waits in the store when the scan runs.
	dan := register(ctx, t, p.URL, "dan", "+4915100000044", encrypted)
	if dan.s != nil {
		dan.s.Close()
	}
	all := []*device{ann1, ann2, bob1, bob2, cem}
	for _, d := range all {
		open(ctx, t, d)
	}

	var markers []string
	mark := func(what string) string {
		var b [8]byte
		_, _ = rand.Read(b[:])
		m := "MARKER-" + what + "-" + hex.EncodeToString(b[:])
		markers = append(markers, m)
		return m
	}
	text := func(s string) wire.Content { return wire.Content{V: 1, Type: wire.ContentText, Text: s} }
	ann, bob, c := ann1.c.Account().Phone, bob1.c.Account().Phone, cem.c.Account().Phone

	send(ctx, t, ann1, bob, text(mark("ann-to-bob")))
	send(ctx, t, bob2, ann, text(mark("bob-to-ann")))
	send(ctx, t, cem, ann, text(mark("cem-to-ann")))
	send(ctx, t, ann2, c, text(mark("ann2-to-cem")))
	send(ctx, t, bob1, "+4915100000044", text(mark("bob-to-offline-dan")))
	file := []byte("contract " + mark("document-body") + " signed\n")
	doc, err := ann1.c.Attach(ctx, bob, wire.ContentDocument, "text/plain", mark("file-name")+".txt", mark("caption"), file)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	send(ctx, t, ann1, bob, doc)
	loc := wire.Content{V: 1, Type: wire.ContentLocation, Location: &wire.Location{Latitude: 52.52, Longitude: 13.40, Name: mark("place")}}
	send(ctx, t, bob1, ann, loc)

	// A self-hosted business: its endpoint, with its keys, runs at the
	// business (its own process and data directory), so what people and
	// the business write stays out of the platform too.
	var biz *selfHosted
	if encrypted {
		biz = startSelfHosted(ctx, t, p)
		send(ctx, t, cem, biz.phone, text(mark("cem-to-business")))
		in := biz.waitWebhook(t, markers[len(markers)-1])
		reply := mark("business-to-cem")
		biz.send(t, in, reply)

	}

	// Every device gets what is meant for it: messages to its account and
	// copies of what its account's other device sent.
	want := map[*device]int{ann1: 3, ann2: 4, bob1: 3, bob2: 4, cem: 1}
	if biz != nil {
		want[cem] = 2 // and the business's answer
	}
	for d, n := range want {
		got := receive(ctx, t, d, n)
		for _, m := range got {
			if m.Problem != "" {
				t.Fatalf("%s could not read a message from %s: %s", d.name, m.From, m.Problem)
			}
			// Bob's devices fetch the document; Ann's second device does
			// not, so the blob stays on the server for the scan.
			if m.Content.Type == wire.ContentDocument && (d == bob1 || d == bob2) {
				body, err := d.c.Fetch(ctx, m.Content.Media)
				if err != nil || !bytes.Equal(body, file) {
					t.Fatalf("%s fetching the document: %v", d.name, err)
				}
			}
		}
	}
	for _, d := range all {
		d.c.Close()
		if d.s != nil {
			d.s.Close()
		}
	}
	if biz != nil {
		biz.stop(t)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	return scan(t, p, dbURL, markers, 1)
}

func register(ctx context.Context, t *testing.T, server, name, phone string, encrypted bool) *device {
	t.Helper()
	d := &device{name: name, dir: t.TempDir()}
	if _, err := client.Register(ctx, d.dir, client.Registration{Server: server, Phone: kontor.Phone(phone), DeviceName: name}); err != nil {
		t.Fatalf("registering %s: %v", name, err)
	}
	if encrypted {
		d.s = sealer(ctx, t, d)
	}
	return d
}

func link(ctx context.Context, t *testing.T, server, name string, primary *device, encrypted bool) *device {
	t.Helper()
	acct, err := client.LoadAccount(primary.dir)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := acct.API(nil).LinkCode(ctx)
	if err != nil {
		t.Fatalf("link code: %v", err)
	}
	d := &device{name: name, dir: t.TempDir()}
	if _, err := client.Link(ctx, d.dir, client.Registration{Server: server, Phone: acct.Phone, Code: lc.Code, DeviceName: name}); err != nil {
		t.Fatalf("linking %s: %v", name, err)
	}
	if encrypted {
		d.s = sealer(ctx, t, d)
	}
	return d
}

func sealer(ctx context.Context, t *testing.T, d *device) *e2e.Sealer {
	t.Helper()
	s, err := e2e.OpenProfile(d.dir, nil, e2e.Options{})
	if err != nil {
		t.Fatalf("%s: opening its keys: %v", d.name, err)
	}
	if _, err := s.Maintain(ctx); err != nil {
		t.Fatalf("%s: publishing its keys: %v", d.name, err)
	}
	return s
}

func open(ctx context.Context, t *testing.T, d *device) {
	t.Helper()
	opts := client.Options{}
	if d.s != nil {
		opts.Sealer = d.s
	}
	c, err := client.Open(ctx, d.dir, opts)
	if err != nil {
		t.Fatalf("%s: open: %v", d.name, err)
	}
	d.c = c
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatalf("%s: connect: %v", d.name, err)
	}
}

func send(ctx context.Context, t *testing.T, d *device, to kontor.Phone, ct wire.Content) {
	t.Helper()
	if _, err := d.c.Send(ctx, to, ct); err != nil {
		t.Fatalf("%s sending to %s: %v", d.name, to, err)
	}
}

// receive collects n messages on d (incoming and sync copies).
func receive(ctx context.Context, t *testing.T, d *device, n int) []client.Message {
	t.Helper()
	var got []client.Message
	for len(got) < n {
		select {
		case ev := <-d.c.Events():
			if m, ok := ev.(client.Message); ok {
				got = append(got, m)
			}
		case <-ctx.Done():
			t.Fatalf("%s got %d of %d messages", d.name, len(got), n)
		}
	}
	return got
}

// forms are the ways a marker could sit in a file: as it is, in base64 at
// each of the three alignments, in hex.
func forms(m string) [][]byte {
	out := [][]byte{[]byte(m), []byte(hex.EncodeToString([]byte(m)))}
	for pad := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, pad), m...))
		// Skip the characters the padding bytes spill into.
		skip := []int{0, 4, 4}[pad]
		core := strings.TrimRight(enc[skip:], "=")
		out = append(out, []byte(core[:len(core)-4]))
	}
	return out
}

// scan looks for the markers in everything the server wrote; the data
// directory must hold wantBlobs media files.
func scan(t *testing.T, p *kontortest.Process, dbURL string, markers []string, wantBlobs int) []string {
	t.Helper()
	var found []string
	look := func(where string, data []byte) {
		for _, m := range markers {
			for _, f := range forms(m) {
				if bytes.Contains(data, f) {
					found = append(found, fmt.Sprintf("%s holds %s (as %q)", where, m, f))
					break
				}
			}
		}
	}
	files, blobs := 0, 0
	err := filepath.WalkDir(p.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if strings.Contains(path, string(filepath.Separator)+"media"+string(filepath.Separator)) {
			blobs++
		}
		look(path, b)
		return nil
	})
	if err != nil {
		t.Fatalf("scanning the data directory: %v", err)
	}
	// (In TestNoPlaintextOnServer the document waits for Ann's second
	// device, which never fetched it.)
	if blobs != wantBlobs || (dbURL == "" && files < 3) {
		t.Fatalf("the data directory holds %d files, %d of them media: not what the server should have written", files, blobs)
	}
	look("the server's log", []byte(p.Log()))
	if dbURL != "" {
		look("pg_dump", pgDump(t, dbURL))
	}
	return found
}

// pgDump dumps the schema of dbURL.
func pgDump(t *testing.T, dbURL string) []byte {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := exec.Command("pg_dump", "--schema="+schema, "--data-only", u.String()).Output()
	if err != nil {
		t.Fatalf("pg_dump (install postgresql-client): %v", err)
	}
	if !bytes.Contains(out, []byte("COPY ")) {
		t.Fatalf("pg_dump wrote no data:\n%s", out)
	}
	return out
}

// selfHosted is a business whose endpoint runs as its own kontor endpoint
// process, with a webhook receiver.
type selfHosted struct {
	phone  kontor.Phone
	waba   string
	number string
	token  string
	api    string
	data   string // the endpoint's data directory
	cmd    *exec.Cmd
	mu     sync.Mutex
	hooks  [][]byte
}

// startSelfHosted starts a self-hosted business's kontor endpoint, with
// flags added to its command line.
func startSelfHosted(ctx context.Context, t *testing.T, p *kontortest.Process, flags ...string) *selfHosted {
	t.Helper()
	b := &selfHosted{phone: "+4930999999"}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.hooks = append(b.hooks, body)
		b.mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	var cred map[string]any
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/admin/v1/businesses", p.Token(),
		map[string]any{"name": "Eigen GmbH", "phone": string(b.phone), "self_hosted": true}, &cred); code != 200 {
		t.Fatalf("creating the self-hosted business: %d", code)
	}
	b.waba, b.number, b.token = cred["waba_id"].(string), cred["phone_number_id"].(string), cred["access_token"].(string)
	dir := t.TempDir() // the business's machine, not the platform's
	credFile := filepath.Join(dir, "credentials.json")
	raw, _ := json.Marshal(cred)
	if err := os.WriteFile(credFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := kontortest.FreeAddr(t)
	b.api = "http://" + addr
	b.data = filepath.Join(dir, "endpoint")
	b.cmd = exec.Command(kontortest.Binary(t), append([]string{"endpoint", "--platform", p.URL, "--credentials", credFile, "--http", addr,
		"--data", b.data, "--webhook-url", recv.URL, "--log-level", "warn"}, flags...)...)
	b.cmd.Stdout, b.cmd.Stderr = os.Stderr, os.Stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cmd.Process.Kill(); _, _ = b.cmd.Process.Wait() })
	for i := 0; ; i++ {
		resp, err := http.Get(b.api + "/v21.0/" + b.number + "?access_token=" + b.token)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 || ctx.Err() != nil {
			t.Fatal("the self-hosted endpoint did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b
}

// waitWebhook waits for the webhook holding marker and returns the wamid
// of the message in it.
func (b *selfHosted) waitWebhook(t *testing.T, marker string) string {
	t.Helper()
	for i := 0; i < 400; i++ {
		b.mu.Lock()
		for _, h := range b.hooks {
			if bytes.Contains(h, []byte(marker)) {
				b.mu.Unlock()
				var n struct {
					Entry []struct {
						Changes []struct {
							Value struct {
								Messages []struct {
									ID string `json:"id"`
								} `json:"messages"`
							} `json:"value"`
						} `json:"changes"`
					} `json:"entry"`
				}
				if err := json.Unmarshal(h, &n); err != nil || len(n.Entry) == 0 || len(n.Entry[0].Changes) == 0 || len(n.Entry[0].Changes[0].Value.Messages) == 0 {
					t.Fatalf("webhook %s: %v", h, err)
				}
				return n.Entry[0].Changes[0].Value.Messages[0].ID
			}
		}
		b.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the business's webhook never brought %s", marker)
	return ""
}

// send answers a person through the endpoint's Business API.
func (b *selfHosted) send(t *testing.T, replyTo, text string) {
	t.Helper()
	var out map[string]any
	code := kontortest.Call(t, b.api, http.MethodPost, "/v21.0/"+b.number+"/messages", b.token, map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000033", "type": "text", "text": map[string]any{"body": text},
		"context": map[string]any{"message_id": replyTo}}, &out)
	if code != 200 {
		t.Fatalf("the business's answer: %d %v", code, out)
	}
}

func (b *selfHosted) stop(t *testing.T) {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = b.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Error("the endpoint did not stop in 20 s")
	}
}
