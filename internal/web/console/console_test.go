package console_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// browser is a person's browser: a cookie jar, redirects followed, pages
// read as text.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	last string // the last page's HTML
	url  string // the last page's URL (after redirects)
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do sends a request and keeps the answer's page.
func (b *browser) do(req *http.Request) int {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last, b.url = string(body), resp.Request.URL.String()
	return resp.StatusCode
}

func (b *browser) get(path string) int {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post sends a form as a browser on the console's page would: same-origin
// Origin and Sec-Fetch-Site, and the CSRF token of the last page unless
// the form sets its own.
func (b *browser) post(path string, form url.Values) int {
	b.t.Helper()
	return b.postFrom(b.base, path, form)
}

func (b *browser) postFrom(origin, path string, form url.Values) int {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if origin == b.base {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the last page.
func (b *browser) csrf() string {
	m := csrfRE.FindStringSubmatch(b.last)
	if m == nil {
		return ""
	}
	return m[1]
}

// see fails the test unless the last page holds every text.
func (b *browser) see(texts ...string) {
	b.t.Helper()
	page := html.UnescapeString(b.last)
	for _, s := range texts {
		if !strings.Contains(page, s) {
			b.t.Fatalf("the page %s does not say %q:\n%s", b.url, s, b.last)
		}
	}
}

func (b *browser) notSee(texts ...string) {
	b.t.Helper()
	page := html.UnescapeString(b.last)
	for _, s := range texts {
		if strings.Contains(page, s) {
			b.t.Fatalf("the page %s says %q, which it must not:\n%s", b.url, s, b.last)
		}
	}
}

func (b *browser) want(what string, got, want int) {
	b.t.Helper()
	if got != want {
		b.t.Fatalf("%s: HTTP %d, want %d; page %s:\n%s", what, got, want, b.url, b.last)
	}
}

// signIn signs in and expects to land in the console.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.want("sign-in page", b.get("/console/sign-in"), 200)
	b.want("sign in as "+email, b.post("/console/sign-in", url.Values{"email": {email}, "password": {password}, "next": {"/console/"}}), 200)
	if !strings.HasSuffix(b.url, "/console/profile") {
		b.t.Fatalf("after signing in the browser is at %s, want /console/profile:\n%s", b.url, b.last)
	}
}

// receiver is a webhook receiver that keeps what it got.
type receiver struct {
	mu   sync.Mutex
	got  []delivery
	cond chan struct{}
}

type delivery struct {
	body []byte
	sig  string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, delivery{body: b, sig: r.Header.Get("X-Hub-Signature-256")})
	rc.mu.Unlock()
	select {
	case rc.cond <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("thanks, got it"))
}

// next waits for the next delivery.
func (rc *receiver) next(t *testing.T, n int) delivery {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			d := rc.got[n-1]
			rc.mu.Unlock()
			return d
		}
		rc.mu.Unlock()
		select {
		case <-rc.cond:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("webhook %d did not arrive", n)
		}
	}
}

var linkRE = regexp.MustCompile(`(http://[^"]+/console/link\?token=[A-Za-z0-9_%-]+)`)

// TestConsole drives the console through the real server as browsers do:
// the operator makes the first owner, who sets a password, signs in, edits
// the profile, invites an agent, makes and revokes a token, sends a test
// event that arrives signed, and rotates the app secret; agents are kept
// out of tokens; forged forms, bad passwords and lockouts are refused.
func TestConsole(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		rc := &receiver{cond: make(chan struct{}, 1)}
		hook := httptest.NewServer(rc)
		defer hook.Close()

		var biz struct {
			WABA      string `json:"waba_id"`
			AppSecret string `json:"app_secret"`
			Token     string `json:"access_token"`
		}
		if code := s.Call(t, "POST", "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen Berta", "phone": "+4930123456",
			"webhook_url": hook.URL + "/hook"}, &biz); code != 200 {
			t.Fatalf("creating the business: HTTP %d", code)
		}

		// The operator makes the first owner with the CLI: a set-password link.
		out := runCLI(t, s, "", "admin", "--server", s.URL, "console", "user", "create", "--business", biz.WABA, "--email", "Berta@Blumen.example", "--role", "owner")
		var made map[string]string
		if err := json.Unmarshal([]byte(out), &made); err != nil || made["email"] != "berta@blumen.example" || made["role"] != "owner" {
			t.Fatalf("console user create printed %q", out)
		}
		link, _ := url.Parse(made["set_password_url"])
		if link == nil || link.Path != "/console/link" || link.Query().Get("token") == "" {
			t.Fatalf("set_password_url = %q", made["set_password_url"])
		}

		owner := newBrowser(t, s.URL)
		// Before the password is set, signing in fails like a wrong password.
		owner.want("sign-in page", owner.get("/console/sign-in"), 200)
		owner.want("sign in without a password", owner.post("/console/sign-in", url.Values{"email": {"berta@blumen.example"}, "password": {"anything at all"}}), 401)
		owner.see("The email address or the password is not right.")

		owner.want("set-password page", owner.get(link.RequestURI()), 200)
		owner.see("berta@blumen.example", "Blumen Berta")
		owner.want("too short", owner.post("/console/link", url.Values{"token": {link.Query().Get("token")}, "password": {"short"}, "confirm": {"short"}}), 400)
		owner.see("at least 12 characters")
		const pw = "tulips and roses in spring"
		owner.want("mismatch", owner.post("/console/link", url.Values{"token": {link.Query().Get("token")}, "password": {pw}, "confirm": {pw + "!"}}), 400)
		owner.see("not the same")
		owner.want("set the password", owner.post("/console/link", url.Values{"token": {link.Query().Get("token")}, "password": {pw}, "confirm": {pw}}), 200)
		owner.see("Your password is set.")
		// The link works once.
		owner.want("link again", owner.get(link.RequestURI()), 404)
		owner.see("cannot be used any more")

		// A wrong password and an unknown email get the same words.
		owner.want("sign-in page", owner.get("/console/sign-in"), 200)
		owner.want("wrong password", owner.post("/console/sign-in", url.Values{"email": {"berta@blumen.example"}, "password": {"not the password"}}), 401)
		owner.see("The email address or the password is not right.")
		owner.want("unknown email", owner.post("/console/sign-in", url.Values{"email": {"nobody@blumen.example"}, "password": {"not the password"}}), 401)
		owner.see("The email address or the password is not right.")
		// A sign-in form without its cookie's token is refused.
		owner.want("sign-in without the form token", owner.post("/console/sign-in", url.Values{"csrf": {"forged"}, "email": {"berta@blumen.example"}, "password": {pw}}), 403)

		owner.signIn("berta@blumen.example", pw)
		owner.see("Blumen Berta", "+4930123456", "API tokens", "Users")
		owner.want("unknown page", owner.get("/console/nothing-here"), 404)
		owner.see("There is no such page in the console.")
		checkCookie(t, owner, s.URL)

		// Forms need the session's CSRF token and the same origin.
		owner.want("profile without a CSRF token", owner.post("/console/profile", url.Values{"csrf": {""}, "about": {"x"}}), 403)
		owner.want("profile page", owner.get("/console/profile"), 200)
		owner.want("profile from another site", owner.postFrom("http://evil.example", "/console/profile", url.Values{"about": {"hacked"}}), 403)
		owner.want("profile page", owner.get("/console/profile"), 200)
		owner.notSee("hacked")

		// Server-side checks with messages a person understands.
		owner.want("bad profile", owner.post("/console/profile", url.Values{"about": {strings.Repeat("a", 140)}, "website1": {"ftp://files.example"}, "email": {"not-an-email"}}), 400)
		owner.see("at most 139 characters; it has 140", "is not a web address", "is not an email address")
		owner.want("profile", owner.post("/console/profile", url.Values{"about": {"Fresh flowers every day"}, "website1": {"https://blumen.example"}, "vertical": {"RETAIL"}}), 200)
		owner.see("The profile is saved.", "Fresh flowers every day", "https://blumen.example")
		// The Business API sees the same profile.
		var prof struct {
			Data []map[string]any `json:"data"`
		}
		var nums struct {
			Data []map[string]any `json:"data"`
		}
		s.Call(t, "GET", "/v21.0/"+biz.WABA+"/phone_numbers", biz.Token, nil, &nums)
		s.Call(t, "GET", "/v21.0/"+nums.Data[0]["id"].(string)+"/whatsapp_business_profile", biz.Token, nil, &prof)
		if prof.Data[0]["about"] != "Fresh flowers every day" || prof.Data[0]["vertical"] != "RETAIL" {
			t.Fatalf("the API's profile: %v", prof.Data)
		}

		owner.want("numbers", owner.get("/console/numbers"), 200)
		owner.see("+4930123456", "GREEN", "250 customers a day", "80 messages/s")

		// Tokens: made with its secret shown once, listed, revoked.
		owner.want("tokens", owner.get("/console/tokens"), 200)
		owner.want("token without scope", owner.post("/console/tokens", url.Values{"label": {"shop"}, "ttl": {"720h"}}), 400)
		owner.see("Choose what the token may do")
		owner.want("token page", owner.get("/console/tokens"), 200)
		owner.want("make a token", owner.post("/console/tokens", url.Values{"label": {"shop backend"}, "ttl": {"720h"}, "scope": {"messaging"}}), 200)
		secret := regexp.MustCompile(`value="(ktk_[^"]+)"`).FindStringSubmatch(owner.last)
		if secret == nil {
			t.Fatalf("no token secret on the page:\n%s", owner.last)
		}
		owner.see("it is not shown again", "shop backend")
		if code := s.Call(t, "GET", "/v21.0/"+biz.WABA+"/phone_numbers", secret[1], nil, nil); code != 403 { // messaging only: no management
			t.Fatalf("the new messaging token on a management call: HTTP %d, want 403", code)
		}
		owner.want("tokens again", owner.get("/console/tokens"), 200)
		owner.notSee(secret[1])
		if n := strings.Count(owner.last, "/revoke\""); n != 2 {
			t.Fatalf("want 2 revocable tokens, got %d", n)
		}
		tokID := rowID(t, owner.last, "shop backend", `action="/console/tokens/(\d+)/revoke"`)
		owner.want("revoke", owner.post("/console/tokens/"+tokID+"/revoke", nil), 200)
		owner.see("The token is revoked.")
		if code := s.Call(t, "POST", "/v21.0/"+nums.Data[0]["id"].(string)+"/messages", secret[1], map[string]any{}, nil); code != 401 {
			t.Fatalf("a revoked token: HTTP %d, want 401", code)
		}

		// The test event goes through the outbox, signed with the app secret.
		owner.want("webhooks", owner.get("/console/webhooks"), 200)
		owner.see(hook.URL + "/hook")
		owner.want("test event", owner.post("/console/webhooks/test", nil), 200)
		owner.see("The test event is queued.")
		d := rc.next(t, 1)
		mac := hmac.New(sha256.New, []byte(biz.AppSecret))
		mac.Write(d.body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); d.sig != want {
			t.Fatalf("test event signature %q, want %q", d.sig, want)
		}
		var ev struct {
			Object string `json:"object"`
			Entry  []struct {
				ID      string `json:"id"`
				Changes []struct {
					Field string `json:"field"`
					Value struct {
						Metadata map[string]string `json:"metadata"`
						Messages []map[string]any  `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(d.body, &ev); err != nil || ev.Object != "whatsapp_business_account" || ev.Entry[0].ID != biz.WABA ||
			ev.Entry[0].Changes[0].Field != "messages" || ev.Entry[0].Changes[0].Value.Metadata["phone_number_id"] != nums.Data[0]["id"] ||
			ev.Entry[0].Changes[0].Value.Messages[0]["from"] != "16315551181" {
			t.Fatalf("test event body %s (%v)", d.body, err)
		}
		// The deliveries list shows it with the receiver's answer, once settled.
		for i := 0; ; i++ {
			owner.want("webhooks", owner.get("/console/webhooks"), 200)
			if strings.Contains(owner.last, "thanks, got it") {
				break
			}
			if i == 100 {
				t.Fatalf("the delivery never showed:\n%s", owner.last)
			}
			time.Sleep(100 * time.Millisecond)
		}
		owner.see("delivered", "200", "test-wamid.")

		// App-secret rotation: the new secret is shown once.
		owner.want("app", owner.get("/console/app"), 200)
		owner.want("rotate", owner.post("/console/app/rotate", nil), 200)
		newSecret := regexp.MustCompile(`id="secret-value" class="mono" type="text" value="([0-9a-f]{32})"`).FindStringSubmatch(owner.last)
		if newSecret == nil || newSecret[1] == biz.AppSecret {
			t.Fatalf("rotation showed no new secret:\n%s", owner.last)
		}
		owner.want("app", owner.get("/console/app"), 200)
		owner.notSee(newSecret[1])

		// The owner invites an agent; the link works once.
		owner.want("users", owner.get("/console/users"), 200)
		owner.want("invite with a bad email", owner.post("/console/users/invite", url.Values{"email": {"ana at example"}, "role": {"agent"}}), 400)
		owner.see("is not an email address")
		owner.want("users", owner.get("/console/users"), 200)
		owner.want("invite", owner.post("/console/users/invite", url.Values{"email": {"ana@blumen.example"}, "role": {"agent"}}), 200)
		m := linkRE.FindStringSubmatch(html.UnescapeString(owner.last))
		if m == nil {
			t.Fatalf("no invitation link:\n%s", owner.last)
		}
		inv, _ := url.Parse(m[1])
		agent := newBrowser(t, s.URL)
		agent.want("invitation", agent.get(inv.RequestURI()), 200)
		agent.see("You are invited to the console of", "Blumen Berta", "agent")
		const apw = "agent password 12345"
		agent.want("accept", agent.post("/console/link", url.Values{"token": {inv.Query().Get("token")}, "password": {apw}, "confirm": {apw}}), 200)
		agent.signIn("ana@blumen.example", apw)
		agent.notSee("API tokens", "App secret", ">Users<")
		agent.want("agent on tokens", agent.get("/console/tokens"), 403)
		agent.see("Your role (agent) does not allow this.")
		agent.want("agent on app secret", agent.get("/console/app"), 403)
		agent.want("agent on webhooks", agent.get("/console/webhooks"), 403)
		agent.want("agent on users", agent.get("/console/users"), 403)
		agent.want("agent numbers", agent.get("/console/numbers"), 200)
		agent.want("agent profile", agent.get("/console/profile"), 200)
		agent.want("agent rotates", agent.post("/console/app/rotate", nil), 403)
		agent.want("agent profile", agent.get("/console/profile"), 200)
		agent.want("agent edits the profile", agent.post("/console/profile", url.Values{"about": {"agent was here"}}), 403)
		agent.want("agent profile", agent.get("/console/profile"), 200)
		agent.want("agent invites", agent.post("/console/users/invite", url.Values{"email": {"x@blumen.example"}, "role": {"owner"}}), 403)

		// The owner makes the agent an admin: it applies at the agent's next page.
		owner.want("users", owner.get("/console/users"), 200)
		owner.see("ana@blumen.example")
		anaID := rowID(t, owner.last, "ana@blumen.example", `action="/console/users/(\d+)/role"`)
		owner.want("make admin", owner.post("/console/users/"+anaID+"/role", url.Values{"role": {"admin"}}), 200)
		owner.see("The role is changed.")
		agent.want("admin on tokens", agent.get("/console/tokens"), 200)
		agent.want("admin on users", agent.get("/console/users"), 403)
		// The last owner cannot step down.
		bertaID := rowID(t, owner.last, "berta@blumen.example", `action="/console/users/(\d+)/role"`)
		owner.want("last owner steps down", owner.post("/console/users/"+bertaID+"/role", url.Values{"role": {"agent"}}), 409)
		owner.see("at least one owner")

		// Another business's owner reaches none of this business's things.
		var biz2 struct {
			WABA string `json:"waba_id"`
		}
		if code := s.Call(t, "POST", "/admin/v1/businesses", s.Token, map[string]any{"name": "Konkurrenz", "phone": "+4930654321"}, &biz2); code != 200 {
			t.Fatalf("creating the second business: HTTP %d", code)
		}
		runCLI(t, s, "another owner password\n", "admin", "--server", s.URL, "console", "user", "create", "--business", biz2.WABA,
			"--email", "k@konkurrenz.example", "--role", "owner", "--password-stdin")
		rival := newBrowser(t, s.URL)
		rival.signIn("k@konkurrenz.example", "another owner password")
		rival.notSee("Blumen Berta", "Fresh flowers every day")
		rival.want("a's number's profile", rival.get("/console/profile?number="+nums.Data[0]["id"].(string)), 404)
		rival.want("tokens", rival.get("/console/tokens"), 200)
		rival.notSee("#" + tokID)
		rival.want("revoke a's token", rival.post("/console/tokens/"+tokID+"/revoke", nil), 404)
		rival.want("users", rival.get("/console/users"), 200)
		rival.notSee("ana@blumen.example", "berta@blumen.example")
		rival.want("change a's user's role", rival.post("/console/users/"+anaID+"/role", url.Values{"role": {"owner"}}), 404)
		rival.want("users", rival.get("/console/users"), 200)
		rival.want("remove a's owner", rival.post("/console/users/"+bertaID+"/remove", nil), 404)
		rival.want("webhooks", rival.get("/console/webhooks"), 200)
		rival.notSee(hook.URL, "test-wamid.")
		owner.want("users after the rival", owner.get("/console/users"), 200)
		owner.see("ana@blumen.example", "berta@blumen.example")

		// Sign out everywhere ends the other browser's session too.
		other := newBrowser(t, s.URL)
		other.signIn("berta@blumen.example", pw)
		owner.want("account", owner.get("/console/account"), 200)
		owner.want("sign out everywhere", owner.post("/console/sign-out-everywhere", nil), 200)
		owner.see("You are signed out in every browser.")
		other.want("other browser", other.get("/console/profile"), 200)
		if !strings.Contains(other.url, "/console/sign-in") {
			t.Fatalf("after signing out everywhere the other browser still sees %s", other.url)
		}
		// Changing the password needs the current one and signs out every
		// other browser; this one stays signed in.
		owner.signIn("berta@blumen.example", pw)
		other.signIn("berta@blumen.example", pw)
		const pw2 = "lilies and daisies in summer"
		owner.want("account", owner.get("/console/account"), 200)
		owner.want("wrong current password", owner.post("/console/account/password", url.Values{"current": {"not my password"}, "password": {pw2}, "confirm": {pw2}}), 400)
		owner.see("The current password is not right.")
		owner.want("account", owner.get("/console/account"), 200)
		owner.want("change the password", owner.post("/console/account/password", url.Values{"current": {pw}, "password": {pw2}, "confirm": {pw2}}), 200)
		owner.see("Your password is changed.")
		other.want("other browser", other.get("/console/profile"), 200)
		if !strings.Contains(other.url, "/console/sign-in") {
			t.Fatalf("after a password change the other browser still sees %s", other.url)
		}
		other.want("old password", other.post("/console/sign-in", url.Values{"email": {"berta@blumen.example"}, "password": {pw}}), 401)
		other.signIn("berta@blumen.example", pw2)
		// Removing the admin signs them out.
		owner.want("users", owner.get("/console/users"), 200)
		owner.want("remove ana", owner.post("/console/users/"+anaID+"/remove", nil), 200)
		owner.see("The user is removed")
		agent.want("removed user", agent.get("/console/profile"), 200)
		if !strings.Contains(agent.url, "/console/sign-in") {
			t.Fatalf("a removed user still sees %s", agent.url)
		}

		// Lockout: 5 wrong passwords lock the account for 15 minutes, the
		// right password included, with the same words for unknown emails.
		runCLI(t, s, "locked password 123\n", "admin", "--server", s.URL, "console", "user", "create", "--business", biz.WABA,
			"--email", "lock@blumen.example", "--role", "agent", "--password-stdin")
		l := newBrowser(t, s.URL)
		l.signIn("lock@blumen.example", "locked password 123")
		l.want("sign out", l.post("/console/sign-out", nil), 200)
		l.see("You are signed out.")
		for i := range 5 {
			code := l.post("/console/sign-in", url.Values{"email": {"lock@blumen.example"}, "password": {"wrong guess"}})
			if i < 4 {
				l.want("wrong guess", code, 401)
			} else {
				l.want("fifth wrong guess", code, 429)
			}
		}
		l.want("right password while locked", l.post("/console/sign-in", url.Values{"email": {"lock@blumen.example"}, "password": {"locked password 123"}}), 429)
		l.see("Too many failed sign-ins. Wait 15 minutes")
		for i := range 5 {
			code := l.post("/console/sign-in", url.Values{"email": {"ghost@blumen.example"}, "password": {"wrong guess"}})
			if want := map[bool]int{true: 429, false: 401}[i == 4]; code != want {
				t.Fatalf("unknown email, guess %d: HTTP %d, want %d (an unknown email must lock like a known one)", i+1, code, want)
			}
		}
	})
}

// checkCookie: the session cookie is HttpOnly, SameSite=Lax, limited to
// /console, and not Secure over plain http, even when a client that is
// no trusted proxy says X-Forwarded-Proto: https (TestTrustedProxies has
// the proxy that is believed).
func checkCookie(t *testing.T, b *browser, base string) {
	t.Helper()
	for _, proto := range []string{"", "https"} {
		nb := newBrowser(t, base)
		req, _ := http.NewRequest(http.MethodGet, base+"/console/sign-in", nil)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var pre *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "kontor_console_pre" {
				pre = c
			}
		}
		if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteLaxMode || pre.Path != "/console" || pre.Secure {
			t.Fatalf("pre-session cookie behind %q: %+v", proto, pre)
		}
		_ = nb
	}
	u, _ := url.Parse(base + "/console/")
	var sess *http.Cookie
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "kontor_console" {
			sess = c
		}
	}
	if sess == nil || !strings.HasPrefix(sess.Value, "kcs_") {
		t.Fatalf("no session cookie in the jar")
	}
}

// runCLI runs a kontor command line against s with the operator token.
func runCLI(t *testing.T, s *kontortest.Server, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := map[string]string{"KONTOR_OPERATOR_TOKEN": s.Token}
	if code := cli.RunEnv(ctx, cli.Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}); code != 0 {
		t.Fatalf("kontor %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// rowID finds the table row of page that mentions text and returns the id
// the pattern finds in it.
func rowID(t *testing.T, page, text, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for _, row := range strings.Split(page, "<tr>") {
		if strings.Contains(row, text) {
			if m := re.FindStringSubmatch(row); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no row with %q and %s:\n%s", text, pattern, page)
	return ""
}
