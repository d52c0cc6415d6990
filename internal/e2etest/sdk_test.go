package e2etest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestCloudAPISDK proves that an existing Cloud API SDK works against
// kontor by changing only the base URL and the token. test/sdk/run.mjs
// drives whatsapp-api-js (from npm, pinned in test/sdk/package-lock.json)
// against a real server: it sends every message type kontor supports,
// uploads, downloads and deletes media, marks a message read, and takes the
// webhooks through the SDK's own handler, which checks every signature.
// Ann, a person with end-to-end encryption, writes first, then gets and
// checks every message the SDK sent, reads them, and answers with a photo
// and a tap on a reply button.
//
// It needs node (18 or newer) and npm; without them it is skipped, unless
// CI is set.
func TestCloudAPISDK(t *testing.T) {
	node := needNode(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := kontortest.Start(t)
	const bizPhone = kontor.Phone("+4930111111")
	hookAddr := kontortest.FreeAddr(t)
	_, hookPort, _ := net.SplitHostPort(hookAddr)
	hookURL := "http://" + hookAddr + "/webhook"
	var biz struct {
		WABA      string `json:"waba_id"`
		Number    string `json:"phone_number_id"`
		AppSecret string `json:"app_secret"`
		Token     string `json:"access_token"`
	}
	if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{
		"name": "Blumen Anna", "phone": string(bizPhone), "webhook_url": hookURL}, &biz); code != 200 {
		t.Fatalf("creating the business: HTTP %d", code)
	}
	ann := register(ctx, t, s.URL, "ann", "+4915100000001", true)
	open(ctx, t, ann)
	t.Cleanup(func() { ann.c.Close(); ann.s.Close() })

	const verifyToken = "tulpen-im-april"
	sdk := startSDK(ctx, t, node, dir, map[string]string{
		"KONTOR_BASE_URL":        s.URL,
		"KONTOR_PHONE_NUMBER_ID": biz.Number,
		"KONTOR_TOKEN":           biz.Token,
		"KONTOR_APP_SECRET":      biz.AppSecret,
		"KONTOR_VERIFY_TOKEN":    verifyToken,
		"SDK_WEBHOOK_PORT":       hookPort,
		"KONTOR_API_VERSION":     "v23.0",
	})
	sdk.await(t, "ready")

	// The webhook handshake, answered by the SDK's GET handler.
	if code := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+biz.WABA+"/webhook", s.Token,
		map[string]any{"webhook_url": hookURL, "verify_token": verifyToken}, nil); code != 200 {
		t.Fatalf("setting the webhook with the handshake: HTTP %d", code)
	}
	sdk.await(t, "verify")

	// Ann writes first (not ASCII, so the signature check covers the
	// escaping): that opens the customer service window.
	const question = "Haben Sie Tulpen? 🌷 Grüße aus Köln"
	askID, err := ann.c.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: question})
	if err != nil {
		t.Fatal(err)
	}
	in := sdk.await(t, "inbound")
	var wm cloudapi.WebhookMessage
	if err := json.Unmarshal(in.Message, &wm); err != nil || wm.Type != "text" || wm.Text == nil || wm.Text.Body != question ||
		wm.ID != cloudapi.MessageID(askID) || wm.From != "4915100000001" {
		t.Fatalf("the SDK got %s (%v)", in.raw, err)
	}

	// The SDK sends everything; Ann gets each message and reads it.
	got := map[string]client.Message{} // by wamid
	var sends []sdkLine
	sentAll, askRead := false, false
	pending := func() bool {
		if !sentAll {
			return true
		}
		for _, l := range sends {
			if _, ok := got[l.ID]; !ok {
				return true
			}
		}
		return false
	}
	annEvent := func(ev client.Event) {
		switch ev := ev.(type) {
		case client.Message:
			if ev.Outgoing || ev.Content.Type == wire.ContentBusinessNotice {
				return
			}
			if ev.Problem != "" {
				t.Fatalf("Ann could not read a message: %s", ev.Problem)
			}
			got[cloudapi.MessageID(ev.ID)] = ev
			if err := ann.c.Read(ctx, bizPhone, ev.ID); err != nil {
				t.Fatalf("Ann reading: %v", err)
			}
		case client.Receipt:
			for _, id := range ev.IDs {
				if id == askID && ev.Status == wire.StatusRead {
					askRead = true
				}
			}
		}
	}
	for pending() {
		select {
		case l, ok := <-sdk.lines:
			if !ok {
				t.Fatalf("the SDK script ended early:\n%s", sdk.output())
			}
			switch l.Step {
			case "send":
				sends = append(sends, l)
			case "sent_all":
				sentAll = true
			}
		case ev := <-ann.c.Events():
			annEvent(ev)
		case <-ctx.Done():
			t.Fatalf("Ann got %d messages of %d sent; the script said:\n%s", len(got), len(sends), sdk.output())
		}
	}
	var buttonMsg client.Message
	kinds := map[string]bool{}
	for _, l := range sends {
		kinds[l.Kind] = true
		m := got[l.ID]
		if err := checkSent(ctx, ann.c, l, m, askID); err != nil {
			t.Errorf("%s: %v\nrequest: %s\nAnn got: %+v", l.Kind, err, l.Request, m.Content)
		}
		if l.Kind == "button" {
			buttonMsg = m
		}
	}
	for _, k := range []string{"text", "reply", "reaction", "image_id", "document_id", "audio_id", "sticker_id",
		"image_link", "document_link", "video_link", "location", "contacts", "button", "list", "cta_url"} {
		if !kinds[k] {
			t.Errorf("the SDK sent no %s message", k)
		}
	}

	// Ann answers with a photo and taps a reply button.
	photo := []byte("\x89PNG\r\n\x1a\n a photo of the shop window")
	att, err := ann.c.Attach(ctx, bizPhone, wire.ContentImage, "image/png", "", "So schön?", photo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.c.Send(ctx, bizPhone, att); err != nil {
		t.Fatal(err)
	}
	tapID, err := ann.c.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentInteractiveReply, ReplyTo: buttonMsg.ID.String(),
		InteractiveReply: &wire.InteractiveReply{Type: wire.ChoiceButton, ID: "gelb", Title: "Gelb"}})
	if err != nil {
		t.Fatal(err)
	}
	for more := true; more; {
		select {
		case _, more = <-sdk.lines:
		case ev := <-ann.c.Events():
			annEvent(ev)
		case <-ctx.Done():
			t.Fatalf("the SDK script did not finish:\n%s", sdk.output())
		}
	}
	if err := sdk.wait(); err != nil {
		t.Fatalf("the SDK script failed (%v):\n%s", err, sdk.output())
	}

	// What the SDK saw, all through webhooks it verified.
	lines := sdk.all()
	steps := map[string]sdkLine{}
	statuses := map[string]map[string]bool{}
	for _, l := range lines {
		if !l.OK {
			t.Errorf("the SDK script reports a failure: %s", l.raw)
		}
		switch l.Step {
		case "status":
			if statuses[l.ID] == nil {
				statuses[l.ID] = map[string]bool{}
			}
			statuses[l.ID][l.Status] = true
		case "inbound":
			var m cloudapi.WebhookMessage
			if err := json.Unmarshal(l.Message, &m); err != nil {
				t.Errorf("inbound %s: %v", l.raw, err)
			}
			steps["inbound."+m.Type] = l
		default:
			steps[l.Step] = l
		}
	}
	for _, step := range []string{"ready", "verify", "media", "mark_read", "error_shape", "unsupported", "sent_all", "inbound_media",
		"delete_media", "statuses", "signature_check", "done", "inbound.text", "inbound.image", "inbound.interactive"} {
		if _, ok := steps[step]; !ok {
			t.Errorf("the SDK script never reported %q", step)
		}
	}
	for _, l := range sends {
		if st := statuses[l.ID]; !st["sent"] || !st["delivered"] || !st["read"] {
			t.Errorf("%s (%s): the SDK got the statuses %v, want sent, delivered and read", l.Kind, l.ID, st)
		}
	}
	if l := steps["inbound_media"]; l.SHA256 != sum(photo) {
		t.Errorf("the SDK downloaded Ann's photo as %s, want %s", l.SHA256, sum(photo))
	}
	var tap cloudapi.WebhookMessage
	_ = json.Unmarshal(steps["inbound.interactive"].Message, &tap)
	if tap.ID != cloudapi.MessageID(tapID) || tap.Interactive == nil || tap.Interactive.ButtonReply == nil ||
		tap.Interactive.ButtonReply.ID != "gelb" || tap.Interactive.ButtonReply.Title != "Gelb" ||
		tap.Context == nil || tap.Context.ID != cloudapi.MessageID(buttonMsg.ID) {
		t.Errorf("the button reply reached the SDK as %s", steps["inbound.interactive"].raw)
	}
	if c := steps["error_shape"].Code; c != cloudapi.CodeReengagement && c != cloudapi.CodeUndeliverable {
		t.Errorf("a message outside the window answered code %d", c)
	}
	if !askRead {
		t.Error("the SDK marked Ann's message read, but Ann got no read receipt")
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("the SDK script said:\n%s", sdk.output())
	}
}

// checkSent compares what Ann got with the request the SDK sent.
func checkSent(ctx context.Context, c *client.Client, l sdkLine, m client.Message, askID kontor.ID) error {
	req, cerr := cloudapi.ParseSend(l.Request)
	if cerr != nil {
		return fmt.Errorf("kontor refuses the request it accepted: %v", cerr)
	}
	ct := m.Content
	if ct.Type != req.Type {
		return fmt.Errorf("type %q, want %q", ct.Type, req.Type)
	}
	fetch := func(wm *wire.Media, want string) error {
		if wm == nil {
			return errors.New("no media")
		}
		b, err := c.Fetch(ctx, wm)
		if err != nil {
			return fmt.Errorf("fetching the media: %v", err)
		}
		if sum(b) != want {
			return fmt.Errorf("the media has SHA-256 %s, want %s", sum(b), want)
		}
		return nil
	}
	switch l.Kind {
	case "text":
		if ct.Text != req.Text.Body || !ct.PreviewURL || !req.Text.PreviewURL {
			return errors.New("not the text with a link preview")
		}
	case "reply":
		if ct.Text != req.Text.Body || ct.ReplyTo != askID.String() {
			return fmt.Errorf("not a reply to %s", askID)
		}
	case "reaction":
		if ct.Reaction == nil || ct.Reaction.MessageID != askID.String() || ct.Reaction.Emoji != req.Reaction.Emoji {
			return errors.New("not the reaction")
		}
	case "image_id", "document_id", "audio_id", "sticker_id", "image_link", "document_link", "video_link":
		mo := req.Media()
		if ct.Text != mo.Caption {
			return fmt.Errorf("caption %q, want %q", ct.Text, mo.Caption)
		}
		if ct.Media == nil || (mo.Filename != "" && ct.Media.FileName != mo.Filename) || ct.Media.Voice != mo.Voice {
			return errors.New("not the media the SDK described")
		}
		return fetch(ct.Media, l.SHA256)
	case "location":
		lo, want := ct.Location, req.Location
		if lo == nil || lo.Latitude != want.Latitude || lo.Longitude != want.Longitude || lo.Name != want.Name || lo.Address != want.Address {
			return errors.New("not the location")
		}
	case "contacts":
		if len(ct.Contacts) != 1 || len(req.Contacts) != 1 {
			return errors.New("not one contact")
		}
		g, w := ct.Contacts[0], req.Contacts[0]
		if g.Name != w.Name.FormattedName || g.Names == nil || g.Names.First != w.Name.FirstName || g.Names.Last != w.Name.LastName ||
			len(g.Phones) != 1 || g.Phones[0].Phone != w.Phones[0].Phone || g.Phones[0].WaID != w.Phones[0].WaID ||
			len(g.Emails) != 1 || g.Emails[0] != w.Emails[0].Email || len(g.URLs) != 1 || g.URLs[0] != w.URLs[0].URL ||
			g.Org == nil || *g.Org != wire.ContactOrg(*w.Org) || g.Birthday != w.Birthday ||
			len(g.Addresses) != 1 || g.Addresses[0] != wire.ContactAddress(w.Addresses[0]) {
			return errors.New("not the contact card")
		}
	case "button", "list", "cta_url":
		gi, wi := ct.Interactive, req.Interactive
		if gi == nil || gi.Type != wi.Type || gi.Body != wi.Body.Text || gi.Footer != wi.Footer.Text || gi.Header == nil || gi.Header.Type != wi.Header.Type {
			return errors.New("not the interactive message")
		}
		switch l.Kind {
		case "button":
			if len(gi.Buttons) != len(wi.Action.Buttons) {
				return errors.New("not the buttons")
			}
			for i, b := range wi.Action.Buttons {
				if gi.Buttons[i] != (wire.ReplyButton{ID: b.Reply.ID, Title: b.Reply.Title}) {
					return fmt.Errorf("button %d", i)
				}
			}
			return fetch(gi.Header.Media, l.HeaderSHA256)
		case "list":
			if gi.Header.Text != wi.Header.Text || gi.ListButton != wi.Action.Button || len(gi.Sections) != len(wi.Action.Sections) {
				return errors.New("not the list")
			}
			for i, s := range wi.Action.Sections {
				g := gi.Sections[i]
				if g.Title != s.Title || len(g.Rows) != len(s.Rows) {
					return fmt.Errorf("section %d", i)
				}
				for j, r := range s.Rows {
					if g.Rows[j] != wire.Row(r) {
						return fmt.Errorf("section %d row %d", i, j)
					}
				}
			}
		case "cta_url":
			p := wi.Action.Parameters
			if gi.Header.Text != wi.Header.Text || gi.Link == nil || gi.Link.Text != p.DisplayText || gi.Link.URL != p.URL {
				return errors.New("not the link button")
			}
		}
	default:
		return fmt.Errorf("unknown kind %q", l.Kind)
	}
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// needNode finds node 18 or newer; without it the test is skipped, or
// fails when CI is set (CI must not pass by skipping).
func needNode(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s, but CI is set: %s must run in CI (.ci/run installs nodejs and npm)", why, t.Name())
		}
		t.Skipf("%s: skipping %s (install nodejs and npm to run it)", why, t.Name())
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		missing("npm is not on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil || major < 18 {
		missing(fmt.Sprintf("node %q is older than 18", v))
	}
	return node
}

// npmCI installs test/sdk's locked dependencies, unless node_modules holds
// them already for this lockfile (.ci/run installs them before the tests).
// It needs the npm registry; without it the test is skipped, or fails when
// CI is set.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := sum(lock)
	stamp := filepath.Join(dir, "node_modules", ".kontor-lockfile-sha256")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == want {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
		t.Skipf("npm ci in %s failed (is the npm registry reachable?): skipping %s: %v\n%s", dir, t.Name(), err, out)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sdkLine is one JSON line of run.mjs.
type sdkLine struct {
	Step         string          `json:"step"`
	OK           bool            `json:"ok"`
	Kind         string          `json:"kind"`
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	SHA256       string          `json:"sha256"`
	HeaderSHA256 string          `json:"header_sha256"`
	Code         int             `json:"code"`
	Request      json.RawMessage `json:"request"`
	Message      json.RawMessage `json:"message"`
	raw          string
}

// sdkScript is run.mjs running.
type sdkScript struct {
	cmd   *exec.Cmd
	lines chan sdkLine // closed at the end of its output
	done  chan struct{}
	mu    sync.Mutex
	out   bytes.Buffer // stdout and stderr, for the log
	got   []sdkLine
}

func startSDK(ctx context.Context, t *testing.T, node, dir string, env map[string]string) *sdkScript {
	t.Helper()
	s := &sdkScript{lines: make(chan sdkLine, 1000), done: make(chan struct{})}
	s.cmd = exec.CommandContext(ctx, node, "run.mjs")
	s.cmd.Dir = dir
	s.cmd.Env = os.Environ()
	for k, v := range env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Stderr = s
	s.cmd.WaitDelay = 5 * time.Second
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			raw := sc.Text()
			_, _ = s.Write([]byte(raw + "\n"))
			var l sdkLine
			if err := json.Unmarshal([]byte(raw), &l); err != nil {
				// Not the shape expected: keep its step and result.
				var min struct {
					Step string `json:"step"`
					OK   bool   `json:"ok"`
				}
				_ = json.Unmarshal([]byte(raw), &min)
				l = sdkLine{Step: min.Step, OK: min.OK}
			}
			if l.Step == "" {
				continue
			}
			l.raw = raw
			s.mu.Lock()
			s.got = append(s.got, l)
			s.mu.Unlock()
			s.lines <- l
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

// await returns the next line of step, failing the test when the script
// ends or reports a failure first.
func (s *sdkScript) await(t *testing.T, step string) sdkLine {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("the SDK script ended before %q:\n%s", step, s.output())
			}
			if !l.OK {
				t.Fatalf("the SDK script reports a failure: %s\n%s", l.raw, s.output())
			}
			if l.Step == step {
				return l
			}
		case <-timeout:
			t.Fatalf("the SDK script did not report %q in 60 s:\n%s", step, s.output())
		}
	}
}

// wait waits for the script to exit, after its output ended.
func (s *sdkScript) wait() error {
	<-s.done
	return s.cmd.Wait()
}

func (s *sdkScript) all() []sdkLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdkLine(nil), s.got...)
}

func (s *sdkScript) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Write collects the script's output.
func (s *sdkScript) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}
