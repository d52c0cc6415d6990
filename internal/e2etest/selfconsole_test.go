package e2etest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestSelfHostedConsole: the console of a self-hosted endpoint, served by
// kontor endpoint from its own store. Its owner, made with kontor endpoint
// console user create, signs in there, reads a person's message in the
// inbox and answers it; the person gets the answer. Neither text reaches
// anything the platform writes, while both show in the endpoint's console.
func TestSelfHostedConsole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := kontortest.StartProcess(t, "", "--log-level", "debug")
	cem := register(ctx, t, p.URL, "cem", "+4915100000033", true)
	open(ctx, t, cem)
	defer func() { cem.c.Close(); cem.s.Close() }()
	biz := startSelfHosted(ctx, t, p)

	// The first owner, in the endpoint's store, with a set-password link
	// on the endpoint's address.
	out, err := exec.Command(kontortest.Binary(t), "endpoint", "console", "user", "create", "--data", biz.data,
		"--email", "Owner@Eigen.example", "--base-url", biz.api).Output()
	if err != nil {
		t.Fatalf("console user create: %v", err)
	}
	var made struct {
		Business string `json:"business_id"`
		Email    string `json:"email"`
		Role     string `json:"role"`
		Link     string `json:"set_password_url"`
	}
	if err := json.Unmarshal(out, &made); err != nil || made.Business != biz.waba || made.Email != "owner@eigen.example" ||
		made.Role != "owner" || !strings.HasPrefix(made.Link, biz.api+"/console/link?token=kcl_") {
		t.Fatalf("console user create printed %s (%v)", out, err)
	}
	b := newBrowser(t, biz.api)
	const password = "a long enough password"
	page := b.get(made.Link)
	if !strings.Contains(page, "Eigen GmbH") {
		t.Fatalf("the set-password page does not name the business:\n%s", page)
	}
	tok, _ := url.Parse(made.Link)
	b.post("/console/link", page, url.Values{"token": {tok.Query().Get("token")}, "password": {password}, "confirm": {password}}, http.StatusOK)
	// A second owner given a password on stdin: created.
	c2 := exec.Command(kontortest.Binary(t), "endpoint", "console", "user", "create", "--data", biz.data,
		"--email", "second@eigen.example", "--password-stdin")
	c2.Stdin = strings.NewReader(password + "\n")
	if out, err := c2.Output(); err != nil || strings.Contains(string(out), "set_password_url") {
		t.Fatalf("console user create --password-stdin: %v %s", err, out)
	}

	signIn := b.get("/console/sign-in")
	home := b.post("/console/sign-in", signIn, url.Values{"email": {"owner@eigen.example"}, "password": {password}}, http.StatusOK)
	for _, want := range []string{`href="/console/inbox"`, `href="/console/webhooks"`, `href="/console/users"`, `href="` + p.URL + `/console/"`} {
		if !strings.Contains(home, want) {
			t.Errorf("the console's navigation has no %s:\n%s", want, home)
		}
	}
	for _, not := range []string{`href="/console/catalog"`, `href="/console/orders"`, `href="/console/billing"`, `href="/console/tokens"`, `href="/console/app"`} {
		if strings.Contains(home, not) {
			t.Errorf("the endpoint's console links to %s, which is the platform's", not)
		}
	}
	if pg, code := b.getCode("/console/orders"); code != http.StatusNotFound || !strings.Contains(pg, p.URL+"/console/") {
		t.Errorf("/console/orders: %d, want 404 naming the platform's console:\n%s", code, pg)
	}
	if pg := b.get("/console/numbers"); !strings.Contains(pg, biz.number) || !strings.Contains(pg, "Eigen GmbH") {
		t.Errorf("the numbers page does not show %s of Eigen GmbH:\n%s", biz.number, pg)
	}

	// A person writes; the owner reads it in the endpoint's console and
	// answers there.
	var markers []string
	question := "MARKER-cem-asks-" + randHex()
	markers = append(markers, question)
	send(ctx, t, cem, biz.phone, wire.Content{V: 1, Type: wire.ContentText, Text: question})
	var list string
	for i := 0; ; i++ {
		if list = b.get("/console/inbox"); strings.Contains(list, question) {
			break
		}
		if i > 200 {
			t.Fatalf("the inbox never showed the person's message:\n%s", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conv := "/console/inbox/" + biz.number + "/4915100000033"
	if !strings.Contains(list, conv) {
		t.Fatalf("the inbox does not link to %s:\n%s", conv, list)
	}
	cp := b.get(conv)
	if !strings.Contains(cp, question) {
		t.Fatalf("the conversation does not show the message:\n%s", cp)
	}
	answer := "MARKER-business-answers-" + randHex()
	markers = append(markers, answer)
	if pg := b.post(conv+"/reply", cp, url.Values{"text": {answer}}, http.StatusOK); !strings.Contains(pg, answer) || !strings.Contains(pg, "The message is sent.") {
		t.Fatalf("after the reply the conversation does not show it:\n%s", pg)
	}
	got := receive(ctx, t, cem, 1)
	if got[0].Problem != "" || got[0].Content.Text != answer || got[0].From != biz.phone {
		t.Fatalf("the person got %+v, want %q from %s", got[0], answer, biz.phone)
	}

	// Webhooks: the URL the endpoint was started with, a test event
	// through its own outbox.
	wh := b.get("/console/webhooks")
	if strings.Contains(wh, `action="/console/webhooks"`) || !strings.Contains(wh, "--webhook-url") {
		t.Errorf("the webhook URL of a self-hosted endpoint should be shown, not edited:\n%s", wh)
	}
	b.post("/console/webhooks/test", wh, url.Values{}, http.StatusOK)
	biz.waitWebhook(t, "This is a test event from the kontor console.")
	if pg := b.post("/console/webhooks", wh, url.Values{"url": {"http://127.0.0.1:1/"}}, http.StatusNotFound); !strings.Contains(pg, "no such page") {
		t.Errorf("changing the webhook URL: %s", pg)
	}

	// Nothing of it on the platform.
	biz.stop(t)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	if found := scan(t, p, "", markers, 0); len(found) > 0 {
		t.Fatalf("plaintext on the platform:\n%s", strings.Join(found, "\n"))
	}
	// The same look finds both in the endpoint's store, where the console
	// reads them: the scan would see them if they were written.
	for _, m := range markers {
		if !holds(t, biz.data, m) {
			t.Errorf("the endpoint's data directory does not hold %s: the scan does not look where the console's texts are kept", m)
		}
	}
}

// holds says whether a file under dir holds marker in one of its forms.
func holds(t *testing.T, dir, marker string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range forms(marker) {
			found = found || bytes.Contains(b, f)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", dir, err)
	}
	return found
}

// browser is a cookie jar on one console.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.base + path
}

func (b *browser) getCode(path string) (string, int) {
	b.t.Helper()
	resp, err := b.c.Get(b.abs(path))
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode
}

func (b *browser) get(path string) string {
	b.t.Helper()
	body, code := b.getCode(path)
	if code != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	return body
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post sends a form of page (with its CSRF token) and returns the page it
// ends on, which must have status want.
func (b *browser) post(path, page string, form url.Values, want int) string {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page before POST %s:\n%s", path, page)
	}
	form.Set("csrf", html.UnescapeString(m[1]))
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.t.Fatalf("POST %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	return string(body)
}

// randHex is 16 random hex digits, to make markers unique.
func randHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
