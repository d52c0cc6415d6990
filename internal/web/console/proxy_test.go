package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// behind is a browser whose requests come through a proxy on loopback
// that names client as theirs.
func behind(t *testing.T, base, client, proto string) *browser {
	b := newBrowser(t, base)
	b.c.Transport = kontortest.ForwardedBy(proto, client).Transport
	return b
}

// TestTrustedProxies: behind a trusted proxy (--trusted-proxies), sign-in
// failures lock the address the proxy names, not the proxy's, and the
// proxy's X-Forwarded-Proto makes cookies Secure; without it, the same
// headers are not believed: every client is the proxy's address.
func TestTrustedProxies(t *testing.T) {
	const (
		mallory = "198.51.100.66" // guesses passwords
		ana     = "203.0.113.10"  // signs in with hers
	)
	for _, c := range []struct {
		name    string
		trusted string
	}{{"trusted", "127.0.0.0/8"}, {"not trusted", ""}} {
		t.Run(c.name, func(t *testing.T) {
			s := kontortest.Start(t, kontortest.WithConfig(func(cfg *config.Config) { cfg.TrustedProxies = c.trusted }))
			var biz struct {
				WABA string `json:"waba_id"`
			}
			phone := map[bool]string{true: "+49307770001", false: "+49307770002"}[c.trusted != ""]
			if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Proxy Blumen", "phone": phone}, &biz); code != 200 {
				t.Fatalf("business: HTTP %d", code)
			}
			const pw = "ana's long password"
			consoleUser(t, s, biz.WABA, "ana@proxy.example", "owner", pw)

			// The pre-session cookie is Secure when the proxy that took
			// https is believed, and only then.
			resp, err := kontortest.ForwardedBy("https", ana).Get(s.URL + "/console/sign-in")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			secure := false
			for _, ck := range resp.Cookies() {
				if ck.Name == "kontor_console_pre" {
					secure = ck.Secure
				}
			}
			if secure != (c.trusted != "") {
				t.Fatalf("pre-session cookie Secure %v behind https, trusted proxies %q", secure, c.trusted)
			}

			// 20 failures from one address lock it (for every email), 5
			// per email: Mallory tries 4 unknown emails 5 times each.
			m := behind(t, s.URL, mallory, "")
			m.want("sign-in page", m.get("/console/sign-in"), 200)
			for i := range 20 {
				m.post("/console/sign-in", url.Values{"email": {"ghost" + string(rune('a'+i%4)) + "@proxy.example"}, "password": {"guess"}})
			}
			m.want("Mallory locked", m.post("/console/sign-in", url.Values{"email": {"new@proxy.example"}, "password": {"guess"}}), 429)

			a := behind(t, s.URL, ana, "")
			if c.trusted == "" {
				// One address for everyone behind the proxy: Mallory's
				// failures locked Ana out too.
				a.want("sign-in page", a.get("/console/sign-in"), 200)
				a.want("Ana behind an untrusted proxy", a.post("/console/sign-in", url.Values{"email": {"ana@proxy.example"}, "password": {pw}}), 429)
				return
			}
			a.signIn("ana@proxy.example", pw) // from her own address
		})
	}
}
