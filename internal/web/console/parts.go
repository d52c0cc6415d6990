package console

import "net/http"

// Parts are sections of the console. Config.Parts chooses which of them
// the navigation shows and Mount adds; the hosted console has them all.
// The inbox, orders and billing have mount functions of their own
// (Inbox.Mount, MountOrders, MountBilling): Parts only says whether the
// navigation shows them.
type Parts uint

// The parts. Signing in, the account page and the error pages are always
// there.
const (
	PartUsers      Parts = 1 << iota // users and invitations
	PartProfile                      // the business profile
	PartNumbers                      // the phone numbers
	PartTokens                       // API tokens
	PartWebhooks                     // the webhook deliveries and the test event
	PartWebhookURL                   // changing the webhook URL and verify token
	PartApp                          // the app secret
	PartCatalog                      // the catalog and the inventory
	PartInbox                        // the inbox
	PartOrders                       // orders
	PartBilling                      // billing

	// AllParts is the platform's console.
	AllParts = PartUsers | PartProfile | PartNumbers | PartTokens | PartWebhooks | PartWebhookURL | PartApp |
		PartCatalog | PartInbox | PartOrders | PartBilling
	// EndpointParts are those that work at a self-hosted endpoint, from
	// its own store: the messages it decrypts never leave it. The webhook
	// URL is the one the endpoint was started with; tokens, the app secret,
	// the catalog, orders and billing are the platform's.
	EndpointParts = PartUsers | PartProfile | PartNumbers | PartWebhooks | PartInbox
)

// has says whether all of q are in p.
func (p Parts) has(q Parts) bool { return p&q == q }

// within leaves out of pm what parts does not hold.
func (pm Perms) within(parts Parts) Perms {
	pm.Inbox = parts.has(PartInbox)
	pm.Catalog = parts.has(PartCatalog)
	pm.Profile = parts.has(PartProfile)
	pm.Numbers = parts.has(PartNumbers)
	pm.Tokens = pm.Tokens && parts.has(PartTokens)
	pm.Webhooks = pm.Webhooks && parts.has(PartWebhooks)
	pm.EditWebhooks = pm.EditWebhooks && parts.has(PartWebhooks)
	pm.WebhookURL = parts.has(PartWebhookURL)
	pm.Secret = pm.Secret && parts.has(PartApp)
	pm.Users = pm.Users && parts.has(PartUsers)
	pm.Orders = pm.Orders && parts.has(PartOrders)
	pm.Refund = pm.Refund && parts.has(PartOrders)
	pm.Billing = pm.Billing && parts.has(PartBilling)
	return pm
}

// mountParts adds the settings pages in c.parts; for the catalog, orders
// and billing left out, when the console knows the platform's, a page that
// sends the user there.
func (c *Console) mountParts(mux *http.ServeMux) {
	if c.parts.has(PartProfile) {
		mux.HandleFunc("GET /console/profile", c.user(c.profile))
		mux.Handle("POST /console/profile", c.post(c.saveProfile))
	}
	if c.parts.has(PartNumbers) {
		mux.HandleFunc("GET /console/numbers", c.user(c.numbers))
	}
	if c.parts.has(PartTokens) {
		mux.HandleFunc("GET /console/tokens", c.user(c.tokens))
		mux.Handle("POST /console/tokens", c.post(c.createToken))
		mux.Handle("POST /console/tokens/{id}/revoke", c.post(c.revokeToken))
	}
	if c.parts.has(PartWebhooks) {
		mux.HandleFunc("GET /console/webhooks", c.user(c.webhooks))
		mux.Handle("POST /console/webhooks/test", c.post(c.testEvent))
	}
	if c.parts.has(PartWebhookURL) {
		mux.Handle("POST /console/webhooks", c.post(c.saveWebhook))
	}
	if c.parts.has(PartApp) {
		mux.HandleFunc("GET /console/app", c.user(c.app))
		mux.Handle("POST /console/app/rotate", c.post(c.rotate))
	}
	if c.parts.has(PartUsers) {
		mux.HandleFunc("GET /console/users", c.user(c.users))
		mux.Handle("POST /console/users/invite", c.post(c.invite))
		mux.Handle("POST /console/users/{id}/role", c.post(c.setRole))
		mux.Handle("POST /console/users/{id}/remove", c.post(c.removeUser))
		mux.Handle("POST /console/invites/{id}/withdraw", c.post(c.withdraw))
	}
	if c.parts.has(PartCatalog) {
		c.mountCatalog(mux)
	}
	if c.platform == "" {
		return
	}
	for part, paths := range map[Parts][]string{PartCatalog: {"catalog", "inventory"}, PartOrders: {"orders"}, PartBilling: {"billing"}} {
		if c.parts.has(part) {
			continue
		}
		for _, p := range paths {
			mux.HandleFunc("/console/"+p+"/", c.user(c.onPlatform))
			mux.HandleFunc("/console/"+p, c.user(c.onPlatform))
		}
	}
}

// onPlatform answers a page of a part the platform's console has.
func (c *Console) onPlatform(rq *req) {
	p := rq.page("On the platform", "platform")
	p.Data = c.platform
	c.render(rq.w, rq.r, http.StatusNotFound, "platform", p)
}

// home is the first page after signing in.
func (c *Console) home(rq *req) {
	to := "/console/account"
	switch {
	case c.parts.has(PartProfile):
		to = "/console/profile"
	case c.parts.has(PartInbox):
		to = "/console/inbox"
	}
	http.Redirect(rq.w, rq.r, to, http.StatusSeeOther)
}
