package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// usersData fills the users page.
type usersData struct {
	Users   []consoleauth.User
	Invites []consoleauth.Invite
	Roles   []consoleauth.Role
	// Link is the invitation just made: shown once, for the owner to send.
	Link        string
	LinkEmail   string
	LinkExpires time.Time
	Email       string // the invite form as typed
	Role        string
}

var roles = []consoleauth.Role{consoleauth.RoleAgent, consoleauth.RoleAdmin, consoleauth.RoleOwner}

func (c *Console) usersPage(rq *req, status int, d usersData, msg string) {
	ctx := rq.r.Context()
	us, err := c.auth.Users(ctx, rq.user)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	is, err := c.auth.Invites(ctx, rq.user)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	d.Users, d.Invites, d.Roles = us, is, roles
	if d.Role == "" {
		d.Role = string(consoleauth.RoleAgent)
	}
	pg := rq.page("Users", "users")
	pg.Error = msg
	pg.Data = d
	c.render(rq.w, rq.r, status, "users", pg)
}

func (c *Console) users(rq *req) {
	if !rq.allow(c, consoleauth.ManageUsers) {
		return
	}
	c.usersPage(rq, http.StatusOK, usersData{}, "")
}

func (c *Console) invite(rq *req) {
	if !rq.allow(c, consoleauth.ManageUsers) {
		return
	}
	d := usersData{Email: strings.TrimSpace(rq.r.PostForm.Get("email")), Role: rq.r.PostForm.Get("role")}
	inv, tok, err := c.auth.Invite(rq.r.Context(), rq.user, d.Email, d.Role)
	if err != nil {
		status, msg := c.message(err)
		c.usersPage(rq, status, d, msg)
		return
	}
	c.usersPage(rq, http.StatusOK, usersData{Link: c.baseURL(rq.r) + "/console/link?token=" + url.QueryEscape(tok), LinkEmail: inv.Email, LinkExpires: inv.Expires}, "")
}

// target returns the user id in the path, or shows the error.
func (c *Console) target(rq *req) (kontor.ID, bool) {
	id, err := kontor.ParseID(rq.r.PathValue("id"))
	if err != nil {
		c.fail(rq.w, rq.r, kontor.Errorf(kontor.NotFound, "console.user", "There is no such user."))
		return 0, false
	}
	return id, true
}

func (c *Console) setRole(rq *req) {
	if !rq.allow(c, consoleauth.ManageUsers) {
		return
	}
	id, ok := c.target(rq)
	if !ok {
		return
	}
	if err := c.auth.SetRole(rq.r.Context(), rq.user, id, rq.r.PostForm.Get("role")); err != nil {
		status, msg := c.message(err)
		c.usersPage(rq, status, usersData{}, msg)
		return
	}
	rq.redirect("/console/users", "role")
}

func (c *Console) removeUser(rq *req) {
	if !rq.allow(c, consoleauth.ManageUsers) {
		return
	}
	id, ok := c.target(rq)
	if !ok {
		return
	}
	if err := c.auth.Remove(rq.r.Context(), rq.user, id); err != nil {
		status, msg := c.message(err)
		c.usersPage(rq, status, usersData{}, msg)
		return
	}
	if id == rq.user.ID {
		c.clearCookie(rq.w, rq.r, sessionCookie)
		http.Redirect(rq.w, rq.r, "/console/sign-in", http.StatusSeeOther)
		return
	}
	rq.redirect("/console/users", "removed")
}

func (c *Console) withdraw(rq *req) {
	if !rq.allow(c, consoleauth.ManageUsers) {
		return
	}
	id, err := kontor.ParseID(rq.r.PathValue("id"))
	if err == nil {
		err = c.auth.WithdrawInvite(rq.r.Context(), rq.user, id)
	}
	if err != nil {
		status, msg := c.message(err)
		c.usersPage(rq, status, usersData{}, msg)
		return
	}
	rq.redirect("/console/users", "withdrawn")
}
