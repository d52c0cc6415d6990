package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// profileData fills the profile page.
type profileData struct {
	Numbers   []business.Number
	Number    business.Number
	Profile   business.Profile
	Website1  string
	Website2  string
	Verticals []string
}

// chosenNumber returns the numbers of the business and the one asked for
// (?number= or the form's number), or the first.
func (c *Console) chosenNumber(rq *req, id string) ([]business.Number, business.Number, error) {
	ns, err := c.biz.Store().Numbers(rq.r.Context(), rq.biz.ID)
	if err != nil {
		return nil, business.Number{}, err
	}
	if len(ns) == 0 {
		return nil, business.Number{}, kontor.Errorf(kontor.NotFound, "console.number", "The business has no phone number yet.")
	}
	if id == "" {
		return ns, ns[0], nil
	}
	for _, n := range ns {
		if n.ID.String() == id {
			return ns, n, nil
		}
	}
	return nil, business.Number{}, kontor.Errorf(kontor.NotFound, "console.number", "There is no such phone number.")
}

func (c *Console) profileData(rq *req, ns []business.Number, n business.Number, p business.Profile) profileData {
	d := profileData{Numbers: ns, Number: n, Profile: p, Verticals: business.Verticals()}
	if len(p.Websites) > 0 {
		d.Website1 = p.Websites[0]
	}
	if len(p.Websites) > 1 {
		d.Website2 = p.Websites[1]
	}
	return d
}

func (c *Console) profile(rq *req) {
	ns, n, err := c.chosenNumber(rq, rq.r.URL.Query().Get("number"))
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	p, err := c.biz.Store().Profile(rq.r.Context(), n.ID)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	pg := rq.page("Business profile", "profile")
	pg.Data = c.profileData(rq, ns, n, p)
	c.render(rq.w, rq.r, http.StatusOK, "profile", pg)
}

func (c *Console) saveProfile(rq *req) {
	if !rq.allow(c, consoleauth.EditSettings) {
		return
	}
	f := rq.r.PostForm
	ns, n, err := c.chosenNumber(rq, f.Get("number"))
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	in := business.Profile{About: f.Get("about"), Address: f.Get("address"), Description: f.Get("description"), Email: f.Get("email"),
		Vertical: f.Get("vertical"), Websites: []string{f.Get("website1"), f.Get("website2")}}
	p, err := c.biz.SetProfile(rq.r.Context(), rq.biz.ID, n.ID, in)
	if err != nil {
		pg := rq.page("Business profile", "profile")
		var status int
		status, pg.Error = c.message(err)
		var fe business.FieldErrors
		if errors.As(err, &fe) {
			pg.Fields = fe
		}
		d := c.profileData(rq, ns, n, p)
		d.Website1, d.Website2 = strings.TrimSpace(f.Get("website1")), strings.TrimSpace(f.Get("website2"))
		pg.Data = d
		c.render(rq.w, rq.r, status, "profile", pg)
		return
	}
	rq.redirect("/console/profile", "profile&number="+n.ID.String())
}

func (c *Console) numbers(rq *req) {
	ns, err := c.biz.Store().Numbers(rq.r.Context(), rq.biz.ID)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	pg := rq.page("Phone numbers", "numbers")
	pg.Data = ns
	c.render(rq.w, rq.r, http.StatusOK, "numbers", pg)
}

// tokensData fills the tokens page.
type tokensData struct {
	Tokens []business.TokenInfo
	New    *business.TokenInfo // just made: its secret is shown once
	Label  string
	TTL    string
	TTLs   []ttlChoice
}

type ttlChoice struct{ Value, Text string }

var ttlChoices = []ttlChoice{{"", "Never"}, {"24h", "1 day"}, {"168h", "7 days"}, {"720h", "30 days"}, {"2160h", "90 days"}, {"8760h", "1 year"}}

func (c *Console) tokensPage(rq *req, status int, d tokensData, msg string) {
	ts, err := c.biz.Tokens(rq.r.Context(), rq.biz.ID, 0)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	d.Tokens, d.TTLs = ts, ttlChoices
	pg := rq.page("API tokens", "tokens")
	pg.Error = msg
	pg.Data = d
	c.render(rq.w, rq.r, status, "tokens", pg)
}

func (c *Console) tokens(rq *req) {
	if !rq.allow(c, consoleauth.ManageTokens) {
		return
	}
	c.tokensPage(rq, http.StatusOK, tokensData{}, "")
}

func (c *Console) createToken(rq *req) {
	if !rq.allow(c, consoleauth.ManageTokens) {
		return
	}
	f := rq.r.PostForm
	d := tokensData{Label: strings.TrimSpace(f.Get("label")), TTL: f.Get("ttl")}
	valid := false
	for _, t := range ttlChoices {
		valid = valid || t.Value == d.TTL
	}
	if !valid {
		c.tokensPage(rq, http.StatusBadRequest, d, "Choose how long the token lasts from the list.")
		return
	}
	if len(d.Label) > 200 {
		c.tokensPage(rq, http.StatusBadRequest, d, "The label can have at most 200 characters.")
		return
	}
	var scopes []string
	for _, s := range f["scope"] {
		if s == "messaging" || s == "management" {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		c.tokensPage(rq, http.StatusBadRequest, d, "Choose what the token may do: send messages, manage the account, or both.")
		return
	}
	t, err := c.biz.CreateToken(rq.r.Context(), business.TokenRequest{Business: rq.biz.ID, Scopes: strings.Join(scopes, ","), TTL: d.TTL, Label: d.Label})
	if err != nil {
		status, msg := c.message(err)
		c.tokensPage(rq, status, d, msg)
		return
	}
	c.log.Info("console token created", "business", rq.biz.ID, "user", rq.user.ID, "token", t.ID)
	c.tokensPage(rq, http.StatusOK, tokensData{New: &t}, "")
}

func (c *Console) revokeToken(rq *req) {
	if !rq.allow(c, consoleauth.ManageTokens) {
		return
	}
	id, err := kontor.ParseID(rq.r.PathValue("id"))
	if err == nil {
		err = c.biz.RevokeOwnToken(rq.r.Context(), rq.biz.ID, id)
	}
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.log.Info("console token revoked", "business", rq.biz.ID, "user", rq.user.ID, "token", id)
	rq.redirect("/console/tokens", "revoked")
}

// webhooksData fills the webhooks page.
type webhooksData struct {
	URL         string
	VerifyToken string
	App         business.App
	Deliveries  []webhook.Delivery
}

// recentDeliveries is how many deliveries the page lists.
const recentDeliveries = 20

func (c *Console) webhooksPage(rq *req, status int, d webhooksData, pg Page) {
	apps, err := c.biz.Store().Apps(rq.r.Context(), rq.biz.ID)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	if len(apps) > 0 {
		d.App = apps[0]
		d.App.Secret = ""
		if c.out != nil {
			if d.Deliveries, err = c.out.Recent(rq.r.Context(), apps[0].ID, recentDeliveries); err != nil {
				c.fail(rq.w, rq.r, err)
				return
			}
		}
	}
	pg.Data = d
	c.render(rq.w, rq.r, status, "webhooks", pg)
}

func (c *Console) webhooks(rq *req) {
	if !rq.allow(c, consoleauth.ViewWebhooks) {
		return
	}
	c.webhooksPage(rq, http.StatusOK, webhooksData{URL: rq.biz.WebhookURL, VerifyToken: rq.biz.VerifyToken}, rq.page("Webhooks", "webhooks"))
}

func (c *Console) saveWebhook(rq *req) {
	if !rq.allow(c, consoleauth.EditWebhooks) {
		return
	}
	d := webhooksData{URL: strings.TrimSpace(rq.r.PostForm.Get("url")), VerifyToken: strings.TrimSpace(rq.r.PostForm.Get("verify_token"))}
	if err := c.biz.SetWebhook(rq.r.Context(), rq.biz.ID, d.URL, d.VerifyToken); err != nil {
		pg := rq.page("Webhooks", "webhooks")
		var status int
		status, pg.Error = c.message(err)
		c.webhooksPage(rq, status, d, pg)
		return
	}
	c.log.Info("console webhook changed", "business", rq.biz.ID, "user", rq.user.ID)
	rq.redirect("/console/webhooks", "webhook")
}

func (c *Console) testEvent(rq *req) {
	if !rq.allow(c, consoleauth.EditWebhooks) {
		return
	}
	ev, err := c.biz.TestEvent(rq.r.Context(), rq.biz.ID, 0)
	if err == nil {
		if c.out == nil {
			err = kontor.Errorf(kontor.Unavailable, "console.testEvent", "Webhook delivery does not run on this node.")
		} else {
			err = c.out.Enqueue(rq.r.Context(), []webhook.Event{ev})
		}
	}
	if err != nil {
		pg := rq.page("Webhooks", "webhooks")
		var status int
		status, pg.Error = c.message(err)
		c.webhooksPage(rq, status, webhooksData{URL: rq.biz.WebhookURL, VerifyToken: rq.biz.VerifyToken}, pg)
		return
	}
	rq.redirect("/console/webhooks", "test")
}

// appData fills the app page.
type appData struct {
	App       business.App
	NewSecret string // just rotated: shown once
}

func (c *Console) appPage(rq *req, d appData) {
	apps, err := c.biz.Store().Apps(rq.r.Context(), rq.biz.ID)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	if len(apps) > 0 {
		d.App = apps[0]
		d.App.Secret = ""
	}
	pg := rq.page("App secret", "app")
	pg.Data = d
	c.render(rq.w, rq.r, http.StatusOK, "app", pg)
}

func (c *Console) app(rq *req) {
	if !rq.allow(c, consoleauth.RotateSecret) {
		return
	}
	c.appPage(rq, appData{})
}

func (c *Console) rotate(rq *req) {
	if !rq.allow(c, consoleauth.RotateSecret) {
		return
	}
	a, err := c.biz.RotateSecret(rq.r.Context(), rq.biz.ID)
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.log.Info("console app secret rotated", "business", rq.biz.ID, "user", rq.user.ID)
	c.appPage(rq, appData{NewSecret: a.Secret})
}
