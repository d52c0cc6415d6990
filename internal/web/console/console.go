package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/realip"
	"github.com/kontor-chat/kontor/internal/webhook"
)

//go:embed templates/*.html static/*
var files embed.FS

// Outbox queues webhooks and tells what became of them (webhook.Deliverer).
type Outbox interface {
	Enqueue(ctx context.Context, evs []webhook.Event) error
	Recent(ctx context.Context, app kontor.ID, limit int) ([]webhook.Delivery, error)
}

// Console is the business console's HTTP handler. New makes one; Mount adds
// it to a mux under /console/.
type Console struct {
	auth     *consoleauth.Service
	biz      *business.Service
	out      Outbox
	log      *slog.Logger
	clock    kontor.Clock
	pages    map[string]*template.Template
	csrf     *http.CrossOriginProtection
	shop     *commerce.Service
	stock    *commerce.Stock
	feeds    *imports
	parts    Parts
	platform string
	proxies  realip.Proxies

	pictures Pictures // nil until MountImages
}

// Config is what the console needs.
type Config struct {
	Auth     *consoleauth.Service
	Business *business.Service
	Outbox   Outbox
	Clock    kontor.Clock
	Log      *slog.Logger
	Commerce *commerce.Service // the catalog pages
	Stock    *commerce.Stock   // the inventory pages
	// Parts are the sections the console has (AllParts when 0).
	Parts Parts
	// Platform is the address of the platform's console, for a console
	// without the catalog, orders and billing (a self-hosted endpoint's):
	// their pages say they are there and link to it.
	Platform string
	// Proxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (none when zero).
	Proxies realip.Proxies
}

// Cookie names; both are limited to /console.
const (
	sessionCookie = "kontor_console"
	preCookie     = "kontor_console_pre" // the CSRF secret of the forms before sign-in
)

// maxForm bounds a form's body.
const maxForm = 64 << 10

// New parses the templates and returns the console.
func New(cfg Config) (*Console, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = kontor.SystemClock{}
	}
	if cfg.Parts == 0 {
		cfg.Parts = AllParts
	}
	c := &Console{auth: cfg.Auth, biz: cfg.Business, out: cfg.Outbox, log: cfg.Log, clock: cfg.Clock,
		pages: map[string]*template.Template{}, csrf: http.NewCrossOriginProtection(), shop: cfg.Commerce, stock: cfg.Stock, feeds: newImports(),
		parts: cfg.Parts, platform: cfg.Platform, proxies: cfg.Proxies}
	c.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.forbiddenForm(w, r)
	}))
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2 Jan 2006 15:04 UTC")
		},
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"unix":    func(s int64) time.Time { return time.Unix(s, 0) },
		"expired": func(s int64) bool { return s != 0 && !c.clock.Now().Before(time.Unix(s, 0)) },
		"tier":    tierText,
		"field": func(name, label, value, hint string, fe business.FieldErrors, rows int) fieldView {
			return fieldView{Name: name, Label: label, Value: value, Hint: hint, Err: fe.Of(name), Rows: rows}
		},
	}
	maps.Copy(funcs, catalogFuncs())
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		c.pages[base] = t
	}
	return c, nil
}

// fieldView is one labelled form field with its hint and error.
type fieldView struct {
	Name, Label, Value, Hint, Err string
	Rows                          int
}

// Mount adds the console's routes to mux: signing in, the account and
// the parts of Config.Parts but the inbox, orders and billing.
func (c *Console) Mount(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticFiles(http.FileServerFS(static))))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console/", http.StatusSeeOther) })
	mux.HandleFunc("GET /console/{$}", c.user(c.home))
	mux.HandleFunc("GET /console/sign-in", c.signInPage)
	mux.Handle("POST /console/sign-in", c.csrf.Handler(http.HandlerFunc(c.signIn)))
	mux.Handle("POST /console/sign-out", c.post(c.signOut))
	mux.Handle("POST /console/sign-out-everywhere", c.post(c.signOutEverywhere))
	mux.HandleFunc("GET /console/link", c.linkPage)
	mux.Handle("POST /console/link", c.csrf.Handler(http.HandlerFunc(c.redeem)))

	mux.HandleFunc("GET /console/account", c.user(c.account))
	mux.Handle("POST /console/account/password", c.post(c.changePassword))
	c.mountParts(mux)
	// Anything else under /console is the console's, not the Business API's.
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, http.StatusNotFound, "There is no such page in the console.")
	})
}

// staticFiles sets the headers of the stylesheet.
func staticFiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// req is a signed-in request: the user, their business and the CSRF token
// their forms carry.
type req struct {
	w     http.ResponseWriter
	r     *http.Request
	user  consoleauth.User
	biz   business.Business
	token string // the session token, from the cookie
	parts Parts  // of the console
	// platform is the address of the platform's console (Config.Platform).
	platform string
}

// Perms is what the signed-in user may do, for the templates.
type Perms struct {
	EditSettings, Webhooks, EditWebhooks, Tokens, Secret, Users bool
	Orders, Refund, Billing                                     bool
	// The parts the console has (Config.Parts), whatever the role.
	Inbox, Catalog, Profile, Numbers, WebhookURL bool
}

func perms(role consoleauth.Role) Perms {
	return Perms{EditSettings: consoleauth.Can(role, consoleauth.EditSettings), Webhooks: consoleauth.Can(role, consoleauth.ViewWebhooks),
		EditWebhooks: consoleauth.Can(role, consoleauth.EditWebhooks), Tokens: consoleauth.Can(role, consoleauth.ManageTokens),
		Secret: consoleauth.Can(role, consoleauth.RotateSecret), Users: consoleauth.Can(role, consoleauth.ManageUsers),
		Orders: consoleauth.Can(role, consoleauth.HandleOrders), Refund: consoleauth.Can(role, consoleauth.RefundOrders), Billing: consoleauth.Can(role, consoleauth.ViewBilling)}
}

// Page is what every template gets.
type Page struct {
	Title    string
	Nav      string // the active section
	User     consoleauth.User
	Business business.Business
	Can      Perms
	CSRF     string
	Flash    string // a success message
	Error    string // what went wrong, in words for a person
	Fields   business.FieldErrors
	Data     any
	Refresh  int    // seconds after which the browser reloads the page; 0: never
	Platform string // the platform's console, where the parts left out are
}

// user wraps a page for signed-in users; others go to the sign-in page.
func (c *Console) user(h func(*req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq, ok := c.session(w, r)
		if !ok {
			return
		}
		h(rq)
	}
}

// post wraps a form action of signed-in users: same origin (Origin and
// Sec-Fetch-Site, http.CrossOriginProtection) and the session's CSRF token.
func (c *Console) post(h func(*req)) http.Handler {
	return c.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			c.errorPage(w, r, http.StatusBadRequest, "The form could not be read. Go back and try again.")
			return
		}
		rq, ok := c.session(w, r)
		if !ok {
			return
		}
		if !consoleauth.CheckCSRF(rq.token, r.PostForm.Get("csrf")) {
			c.forbiddenForm(w, r)
			return
		}
		h(rq)
	}))
}

// postFile wraps a form with a file of signed-in users, as post does: same
// origin, a multipart body of at most limit bytes and the form's fields
// (tooLarge says so when it has more, with 413), the session's CSRF token.
// The session is checked before the body is read, so no one else's upload
// is kept; files larger than 1 MiB wait in temporary files, removed after h.
func (c *Console) postFile(limit int64, tooLarge string, h func(*req)) http.Handler {
	return c.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, ok := c.session(w, r)
		if !ok {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit+maxForm)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.errorPage(w, r, http.StatusRequestEntityTooLarge, tooLarge)
				return
			}
			c.errorPage(w, r, http.StatusBadRequest, "The form could not be read. Go back and try again.")
			return
		}
		defer r.MultipartForm.RemoveAll()
		if !consoleauth.CheckCSRF(rq.token, r.PostForm.Get("csrf")) {
			c.forbiddenForm(w, r)
			return
		}
		h(rq)
	}))
}

// session finds the signed-in user of a request, or sends the browser to
// the sign-in page.
func (c *Console) session(w http.ResponseWriter, r *http.Request) (*req, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err == nil {
		_, u, err2 := c.auth.Authenticate(r.Context(), ck.Value)
		if err2 == nil {
			b, err3 := c.biz.Store().Business(r.Context(), u.Business)
			if err3 != nil {
				c.fail(w, r, err3)
				return nil, false
			}
			noStore(w)
			return &req{w: w, r: r, user: u, biz: b, token: ck.Value, parts: c.parts, platform: c.platform}, true
		}
		if kontor.KindOf(err2) != kontor.Unauthenticated {
			c.fail(w, r, err2)
			return nil, false
		}
		c.clearCookie(w, r, sessionCookie)
	}
	if r.Method != http.MethodGet {
		// A form sent after the session ended: nothing is done.
		c.errorPage(w, r, http.StatusUnauthorized, "Your session has ended, so nothing was changed. Please sign in again.")
		return nil, false
	}
	http.Redirect(w, r, "/console/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return nil, false
}

// page starts a page for rq.
func (rq *req) page(title, nav string) Page {
	return Page{Title: title, Nav: nav, User: rq.user, Business: rq.biz, Can: perms(rq.user.Role).within(rq.parts), CSRF: consoleauth.CSRFToken(rq.token), Platform: rq.platform,
		Flash: flashes[rq.r.URL.Query().Get("done")]}
}

// flashes are the messages a redirect after a change can ask for (?done=):
// fixed texts, so a link cannot make the console say anything else.
var flashes = map[string]string{
	"profile":    "The profile is saved.",
	"webhook":    "The webhook settings are saved.",
	"test":       "The test event is queued. Its delivery shows below within a few seconds; reload the page to see it.",
	"revoked":    "The token is revoked. Calls with it are refused from now on.",
	"role":       "The role is changed. It applies to the user's next page.",
	"removed":    "The user is removed and signed out.",
	"withdrawn":  "The invitation is withdrawn; its link no longer works.",
	"signed-out": "You are signed out.",
	"everywhere": "You are signed out in every browser.",
	"password":   "Your password is set. Sign in with it now.",
	// The catalog and inventory pages.
	"catalog":         "The catalog is made. Add products, or import a feed.",
	"product-created": "The product is added to the catalog.",
	"product":         "The product is saved.",
	"product-deleted": "The product is deleted.",
	"image":           "The picture is saved; people see it with the product.",
	"image-removed":   "The picture is removed.",
	"import":          "The feed is uploaded; its import is running.",
	"adjusted":        "The stock is adjusted.",
	"threshold":       "The low-stock threshold is saved.",
	"changed":         "Your password is changed. Every other browser is signed out.",
}

// render writes a page with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) {
	t := c.pages[name]
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		c.log.Error("rendering a console page", "page", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// securityHeaders: nothing from other sites, no framing, no referrer (links
// carry tokens), no sniffing.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// errorPage shows a message alone.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	noStore(w)
	c.render(w, r, status, "error", Page{Title: http.StatusText(status), Error: msg})
}

// forbiddenForm answers a form that did not come from a console page of
// this session.
func (c *Console) forbiddenForm(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusForbidden, "This form was not sent from a console page of your session (it may be from another site, or the page was open for too long), so nothing was changed. Go back, reload the page and try again.")
}

// statusOf maps error kinds to HTTP statuses.
var statusOf = map[kontor.Kind]int{
	kontor.Invalid:         http.StatusBadRequest,
	kontor.NotFound:        http.StatusNotFound,
	kontor.Conflict:        http.StatusConflict,
	kontor.Unauthenticated: http.StatusUnauthorized,
	kontor.Forbidden:       http.StatusForbidden,
	kontor.RateLimited:     http.StatusTooManyRequests,
	kontor.Unavailable:     http.StatusServiceUnavailable,
	kontor.Internal:        http.StatusInternalServerError,
}

// message is what a person is told about err, and the status.
func (c *Console) message(err error) (int, string) {
	kind := kontor.KindOf(err)
	msg := kontor.MessageOf(err)
	if kind == kontor.Internal || msg == "" {
		if kind == kontor.Internal {
			c.log.Error("console", "err", err)
		}
		msg = "Something went wrong on our side. Please try again; if it keeps happening, tell the operator of this kontor."
		if kind == kontor.Unavailable {
			msg = "The service is busy or restarting. Please try again in a minute."
		}
	}
	return statusOf[kind], msg
}

// fail shows err on a page of its own.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := c.message(err)
	c.errorPage(w, r, status, msg)
}

// forbidden shows the page for an action the role may not do.
func (rq *req) allow(c *Console, a consoleauth.Action) bool {
	if err := consoleauth.Allow(rq.user, a); err != nil {
		p := rq.page("Not allowed", "")
		_, p.Error = c.message(err)
		c.render(rq.w, rq.r, http.StatusForbidden, "error", p)
		return false
	}
	return true
}

// redirect ends a change with a page that says it worked.
func (rq *req) redirect(path, done string) {
	http.Redirect(rq.w, rq.r, path+"?done="+done, http.StatusSeeOther)
}

// secure says whether the browser talks to us over TLS (directly, or
// through a proxy that says so).
// secure says whether the browser reached the console over https (itself,
// or through a trusted proxy that says so).
func (c *Console) secure(r *http.Request) bool { return c.proxies.Secure(r) }

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
}

// baseURL is where the browser reached us, for links in the pages.
func (c *Console) baseURL(r *http.Request) string {
	scheme := "http"
	if c.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// clientIP is the address of the client (behind trusted proxies, the
// one they name), which sign-in lockouts count failures under.
func (c *Console) clientIP(r *http.Request) string { return c.proxies.ClientString(r) }

// tierText says a messaging tier in words.
func tierText(t string) string {
	switch t {
	case "TIER_50":
		return "50 customers a day"
	case "TIER_250":
		return "250 customers a day"
	case "TIER_1K":
		return "1,000 customers a day"
	case "TIER_2K":
		return "2,000 customers a day"
	case "TIER_10K":
		return "10,000 customers a day"
	case "TIER_100K":
		return "100,000 customers a day"
	case "TIER_UNLIMITED":
		return "no limit"
	}
	return t
}
