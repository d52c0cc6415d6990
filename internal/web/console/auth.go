package console

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// signInData fills the sign-in form.
type signInData struct {
	Email string
	Next  string
}

// preToken returns the CSRF token of the forms before sign-in, setting the
// cookie it is derived from when the browser has none.
func (c *Console) preToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 43 {
		return consoleauth.CSRFToken(ck.Value)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.setCookie(w, r, preCookie, v, 0)
	return consoleauth.CSRFToken(v)
}

// checkPre checks the CSRF token of a form sent before sign-in.
func checkPre(r *http.Request) bool {
	ck, err := r.Cookie(preCookie)
	return err == nil && consoleauth.CheckCSRF(ck.Value, r.PostForm.Get("csrf"))
}

// safeNext keeps a redirect after sign-in inside the console.
func safeNext(s string) string {
	if strings.HasPrefix(s, "/console/") && !strings.ContainsAny(s, "\\\r\n") && !strings.HasPrefix(s, "/console//") {
		return s
	}
	return "/console/"
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if _, _, err := c.auth.Authenticate(r.Context(), ck.Value); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	noStore(w)
	p := Page{Title: "Sign in", CSRF: c.preToken(w, r), Flash: flashes[r.URL.Query().Get("done")],
		Data: signInData{Next: safeNext(r.URL.Query().Get("next"))}}
	c.render(w, r, http.StatusOK, "sign-in", p)
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, http.StatusBadRequest, "The form could not be read. Go back and try again.")
		return
	}
	d := signInData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: safeNext(r.PostForm.Get("next"))}
	p := Page{Title: "Sign in", Data: d}
	if !checkPre(r) {
		p.CSRF = c.preToken(w, r)
		p.Error = "The sign-in form had expired or your browser did not send its cookie, so nothing was checked. Allow cookies for this site and sign in again."
		c.render(w, r, http.StatusForbidden, "sign-in", p)
		return
	}
	tok, _, err := c.auth.SignIn(r.Context(), d.Email, r.PostForm.Get("password"), c.clientIP(r))
	if err != nil {
		var status int
		status, p.Error = c.message(err)
		p.CSRF = c.preToken(w, r)
		c.render(w, r, status, "sign-in", p)
		return
	}
	c.setCookie(w, r, sessionCookie, tok, c.auth.Config().SessionMax)
	c.clearCookie(w, r, preCookie)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (c *Console) signOut(rq *req) {
	if err := c.auth.SignOut(rq.r.Context(), rq.token); err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.clearCookie(rq.w, rq.r, sessionCookie)
	http.Redirect(rq.w, rq.r, "/console/sign-in?done=signed-out", http.StatusSeeOther)
}

func (c *Console) signOutEverywhere(rq *req) {
	if _, err := c.auth.SignOutEverywhere(rq.r.Context(), rq.user); err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.clearCookie(rq.w, rq.r, sessionCookie)
	http.Redirect(rq.w, rq.r, "/console/sign-in?done=everywhere", http.StatusSeeOther)
}

// linkData fills the set-password form of a link.
type linkData struct {
	Token        string
	Email        string
	Role         consoleauth.Role
	BusinessName string
	Invitation   bool // a new user; else a new password for an existing one
}

func (c *Console) linkData(r *http.Request, token string) (linkData, error) {
	inv, err := c.auth.Link(r.Context(), token)
	if err != nil {
		return linkData{}, err
	}
	d := linkData{Token: token, Email: inv.Email, Role: inv.Role, Invitation: inv.User == 0}
	if b, err := c.biz.Store().Business(r.Context(), inv.Business); err == nil {
		d.BusinessName = b.Name
	} else if kontor.KindOf(err) != kontor.NotFound {
		return linkData{}, err
	}
	return d, nil
}

func (c *Console) linkPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	d, err := c.linkData(r, r.URL.Query().Get("token"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "link", Page{Title: "Choose your password", CSRF: c.preToken(w, r), Data: d})
}

func (c *Console) redeem(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, http.StatusBadRequest, "The form could not be read. Go back and try again.")
		return
	}
	d, err := c.linkData(r, r.PostForm.Get("token"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := Page{Title: "Choose your password", Data: d}
	if !checkPre(r) {
		p.CSRF = c.preToken(w, r)
		p.Error = "The form had expired or your browser did not send its cookie, so nothing was changed. Allow cookies for this site and try again."
		c.render(w, r, http.StatusForbidden, "link", p)
		return
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		p.CSRF = c.preToken(w, r)
		p.Error = "The two passwords are not the same. Type the same password twice."
		c.render(w, r, http.StatusBadRequest, "link", p)
		return
	}
	if _, err := c.auth.Redeem(r.Context(), d.Token, pw); err != nil {
		var status int
		status, p.Error = c.message(err)
		p.CSRF = c.preToken(w, r)
		c.render(w, r, status, "link", p)
		return
	}
	c.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/console/sign-in?done=password", http.StatusSeeOther)
}

func (c *Console) account(rq *req) {
	c.render(rq.w, rq.r, http.StatusOK, "account", rq.page("Your account", "account"))
}

func (c *Console) changePassword(rq *req) {
	f := rq.r.PostForm
	fail := func(status int, msg string) {
		p := rq.page("Your account", "account")
		p.Error = msg
		c.render(rq.w, rq.r, status, "account", p)
	}
	if f.Get("password") != f.Get("confirm") {
		fail(http.StatusBadRequest, "The two new passwords are not the same. Type the same password twice.")
		return
	}
	tok, err := c.auth.ChangePassword(rq.r.Context(), rq.user, f.Get("current"), f.Get("password"), c.clientIP(rq.r))
	if err != nil {
		fail(c.message(err))
		return
	}
	c.setCookie(rq.w, rq.r, sessionCookie, tok, c.auth.Config().SessionMax)
	rq.redirect("/console/account", "changed")
}
