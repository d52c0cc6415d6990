// Package bizapi is the Business API: the HTTP surface in the public
// WhatsApp Cloud API wire format (paths, bodies, errors), so that existing
// SDKs and integrations work by changing the base URL and the token. It
// routes by hand, because the public paths are /{version}/{object-id}/…
// with any version segment from v13.0 on, and also without one.
//
// The same API serves on the platform (hosted endpoints, and the business
// and number objects from the store) and in `kontor endpoint` at a
// business (one self-hosted number): Directory, Auth and Endpoints say
// where things come from.
package bizapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/realip"
)

// Directory finds businesses and numbers.
type Directory interface {
	Business(ctx context.Context, id kontor.ID) (business.Business, error)
	Number(ctx context.Context, id kontor.ID) (business.Number, error)
	Numbers(ctx context.Context, business kontor.ID) ([]business.Number, error)
	Profile(ctx context.Context, number kontor.ID) (business.Profile, error)
	PutProfile(ctx context.Context, number kontor.ID, p business.Profile) error
}

// Auth checks that token may act with scope on business.
type Auth interface {
	Check(ctx context.Context, token string, business kontor.ID, scope business.Scope) error
}

// Endpoint is a business number's endpoint: it holds the keys and turns
// API calls into encrypted messages.
type Endpoint interface {
	// Send carries out a messages call (a send or a mark-read) with its
	// raw JSON body and returns the body of the answer.
	Send(ctx context.Context, body []byte) (any, *cloudapi.Error)
	// Media serves the media calls of the number.
	UploadMedia(ctx context.Context, r *http.Request) (any, *cloudapi.Error)
	MediaInfo(ctx context.Context, id kontor.ID, downloadBase string) (any, *cloudapi.Error)
	DeleteMedia(ctx context.Context, id kontor.ID) (any, *cloudapi.Error)
	Download(ctx context.Context, w http.ResponseWriter, id kontor.ID, sig string) *cloudapi.Error
}

// Endpoints finds the endpoint of a number served here; ok is false when
// the number's endpoint runs elsewhere (self-hosted at the business).
type Endpoints interface {
	Endpoint(number kontor.ID) (Endpoint, bool)
	// MediaOwner returns the number that holds media id.
	MediaOwner(ctx context.Context, id kontor.ID) (kontor.ID, bool)
}

// API is the Business API handler.
type API struct {
	Dir Directory
	// Orders lets businesses see and move their orders (nil: none).
	Orders    Orders
	Auth      Auth
	Endpoints Endpoints
	// Remote returns the endpoint of a hosted number that runs on another
	// node of the cluster, reached through it (nil: one node, nothing
	// runs elsewhere).
	Remote    func(number kontor.ID) Endpoint
	Templates Templates // nil: templates are kept elsewhere (a self-hosted endpoint)
	Commerce  Commerce  // nil: no catalogs here (a self-hosted endpoint)
	Stock     Stock     // nil: no stock and sales here (a self-hosted endpoint)
	// Usage sums what businesses were charged, for pricing analytics (nil:
	// not kept here, a self-hosted endpoint).
	Usage billing.UsageStore
	// Metering charges what self-hosted endpoints report (deliveries.go;
	// nil: not here, a self-hosted endpoint).
	Metering Metering
	Log      *slog.Logger
	// MaxBody bounds a JSON request body.
	MaxBody int64
	// Proxies are the reverse proxies whose X-Forwarded-Proto is believed
	// for the URLs the API hands out (none when zero: a client's own
	// header never makes them https).
	Proxies realip.Proxies
}

// maxJSON is the largest JSON body a call takes unless MaxBody says.
const maxJSON = 1 << 20

// ServeHTTP routes a Business API call.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The path is /[version/]object[/edge], cut without making a slice.
	p := strings.Trim(r.URL.Path, "/")
	if v, rest, _ := strings.Cut(p, "/"); cloudapi.ParseVersion(v) {
		p = rest
	}
	obj, rest, hasEdge := strings.Cut(p, "/")
	if obj == "" {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unknown path components: %s", r.URL.Path))
		return
	}
	edge, _, deeper := strings.Cut(rest, "/")
	if obj == "media-download" && hasEdge && !deeper && r.Method == http.MethodGet {
		a.download(w, r, edge)
		return
	}
	id, err := kontor.ParseID(obj)
	if err != nil {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported request - object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", obj))
		return
	}
	if deeper {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unknown path components: /%s", rest))
		return
	}
	switch {
	case edge == "messages" && r.Method == http.MethodPost:
		a.messages(w, r, id)
	case edge == "media" && r.Method == http.MethodPost:
		a.uploadMedia(w, r, id)
	case edge == "phone_numbers" && r.Method == http.MethodGet:
		a.phoneNumbers(w, r, id)
	case edge == "whatsapp_business_profile" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		a.profile(w, r, id)
	case edge == "order_messages" && r.Method == http.MethodPost:
		a.orderMessages(w, r, id)
	case edge == "deliveries" && r.Method == http.MethodPost:
		a.deliveries(w, r, id)
	case edge == "credit" && r.Method == http.MethodGet:
		a.credit(w, r, id)
	case edge == "message_templates":
		a.messageTemplates(w, r, id)
	case (edge == "products" || edge == "whatsapp_commerce_settings" || edge == "product_catalogs") && a.Commerce != nil:
		a.commerceEdge(w, r, id, edge)
	case isStockEdge(edge) && a.Stock != nil && a.Commerce != nil:
		a.stockEdge(w, r, id, edge)
	case edge == "" && a.orderObject(w, r, id):
	case edge == "" && a.commerceObject(w, r, id):
	case edge == "" && r.Method == http.MethodGet:
		a.object(w, r, id)
	case edge == "" && r.Method == http.MethodPost && a.templateObject(w, r, id):
	case edge == "" && r.Method == http.MethodDelete:
		if !a.templateObject(w, r, id) {
			a.deleteMedia(w, r, id)
		}
	default:
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s", r.Method, p))
	}
}

// token reads the access token: the Authorization header, or access_token
// in the query.
func token(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return r.URL.Query().Get("access_token")
}

// number finds a number and checks the caller may act on its business.
func (a *API) number(w http.ResponseWriter, r *http.Request, id kontor.ID, scope business.Scope) (business.Number, bool) {
	tok := token(r)
	if tok == "" {
		a.fail(w, cloudapi.NewError(cloudapi.CodeAccessToken, "An active access token must be used to query information about the current user."))
		return business.Number{}, false
	}
	n, err := a.Dir.Number(r.Context(), id)
	if err != nil {
		a.failErr(w, err)
		return business.Number{}, false
	}
	if err := a.Auth.Check(r.Context(), tok, n.Business, scope); err != nil {
		a.failErr(w, err)
		return business.Number{}, false
	}
	return n, true
}

// endpoint finds the endpoint of a number: the one open on this node
// first, else (a hosted number in a cluster) the one on the node that
// runs it. A hosted number whose endpoint is not open anywhere (starting
// after a restart) is a passing condition; a self-hosted one is served at
// the business.
func (a *API) endpoint(ctx context.Context, w http.ResponseWriter, n business.Number) (Endpoint, bool) {
	e, ok := a.Endpoints.Endpoint(n.ID)
	if ok {
		return e, true
	}
	if b, err := a.Dir.Business(ctx, n.Business); err == nil && !b.SelfHosted {
		if a.Remote != nil {
			return a.Remote(n.ID), true
		}
		a.fail(w, cloudapi.Errorf(cloudapi.CodeServiceUnavailable, "The endpoint of phone number %s is starting on this server; nothing was sent. Try again in a few seconds.", n.ID))
		return nil, false
	}
	a.fail(w, cloudapi.Errorf(cloudapi.CodeAccessDenied, "The endpoint of phone number %s runs at the business (self-hosted): send through it, not the platform.", n.ID))
	return nil, false
}

// numberEndpoint finds the endpoint of a number the caller may send with.
func (a *API) numberEndpoint(w http.ResponseWriter, r *http.Request, id kontor.ID) (Endpoint, bool) {
	n, ok := a.number(w, r, id, business.ScopeMessaging)
	if !ok {
		return nil, false
	}
	return a.endpoint(r.Context(), w, n)
}

// answer writes an endpoint's answer or its error.
func (a *API) answer(w http.ResponseWriter, out any, cerr *cloudapi.Error) {
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	a.ok(w, out)
}

func (a *API) messages(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	e, ok := a.numberEndpoint(w, r, id)
	if !ok {
		return
	}
	body, cerr := a.readBody(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	out, cerr := e.Send(r.Context(), body)
	a.answer(w, out, cerr)
}

func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	e, ok := a.numberEndpoint(w, r, id)
	if !ok {
		return
	}
	out, cerr := e.UploadMedia(r.Context(), r)
	a.answer(w, out, cerr)
}

// mediaEndpoint finds the endpoint holding media id and checks the caller.
func (a *API) mediaEndpoint(w http.ResponseWriter, r *http.Request, id kontor.ID) (Endpoint, bool) {
	number, ok := a.Endpoints.MediaOwner(r.Context(), id)
	if !ok {
		a.fail(w, notFound(id))
		return nil, false
	}
	return a.numberEndpoint(w, r, number)
}

func (a *API) deleteMedia(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	e, ok := a.mediaEndpoint(w, r, id)
	if !ok {
		return
	}
	out, cerr := e.DeleteMedia(r.Context(), id)
	a.answer(w, out, cerr)
}

// download serves /media-download/{id}?sig=…: the URL that GET /{media-id}
// hands out. It needs the bearer token as well as the short-lived
// signature, and never looks at Host (an SDK forces the public host name
// there while connecting here).
func (a *API) download(w http.ResponseWriter, r *http.Request, idStr string) {
	id, err := kontor.ParseID(idStr)
	if err != nil {
		a.fail(w, notFound(0))
		return
	}
	e, ok := a.mediaEndpoint(w, r, id)
	if !ok {
		return
	}
	if cerr := e.Download(r.Context(), w, id, r.URL.Query().Get("sig")); cerr != nil {
		a.fail(w, cerr)
	}
}

// object answers GET /{id}: a media object, a phone number, a template or
// a business.
func (a *API) object(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	if number, ok := a.Endpoints.MediaOwner(r.Context(), id); ok {
		e, ok := a.numberEndpoint(w, r, number)
		if !ok {
			return
		}
		out, cerr := e.MediaInfo(r.Context(), id, a.baseURL(r))
		a.answer(w, out, cerr)
		return
	}
	if _, err := a.Dir.Number(r.Context(), id); err == nil {
		n, ok := a.number(w, r, id, business.ScopeManagement)
		if !ok {
			return
		}
		a.ok(w, numberJSON(n))
		return
	}
	if a.templateObject(w, r, id) {
		return
	}
	b, err := a.Dir.Business(r.Context(), id)
	if err != nil {
		a.fail(w, notFound(id))
		return
	}
	if err := a.Auth.Check(r.Context(), token(r), b.ID, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return
	}
	a.businessObject(w, r, b)
}

func (a *API) phoneNumbers(w http.ResponseWriter, r *http.Request, waba kontor.ID) {
	if _, err := a.Dir.Business(r.Context(), waba); err != nil {
		a.fail(w, notFound(waba))
		return
	}
	if err := a.Auth.Check(r.Context(), token(r), waba, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return
	}
	ns, err := a.Dir.Numbers(r.Context(), waba)
	if err != nil {
		a.failErr(w, err)
		return
	}
	data := make([]any, 0, len(ns))
	for _, n := range ns {
		data = append(data, numberJSON(n))
	}
	a.ok(w, map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]string{"before": "", "after": ""}}})
}

// numberJSON is a phone number in the public shape.
func numberJSON(n business.Number) map[string]any {
	level := "STANDARD"
	if n.MPS > business.DefaultMPS {
		level = "HIGH"
	}
	return map[string]any{
		"id":                       n.ID,
		"display_phone_number":     string(n.Phone),
		"verified_name":            n.VerifiedName,
		"quality_rating":           n.Quality,
		"code_verification_status": "VERIFIED",
		"platform_type":            "CLOUD_API",
		"throughput":               map[string]any{"level": level},
		"messaging_limit_tier":     n.Tier,
	}
}

func (a *API) profile(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	n, ok := a.number(w, r, id, business.ScopeManagement)
	if !ok {
		return
	}
	if r.Method == http.MethodGet {
		p, err := a.Dir.Profile(r.Context(), n.ID)
		if err != nil {
			a.failErr(w, err)
			return
		}
		a.ok(w, map[string]any{"data": []any{profileJSON(p)}})
		return
	}
	body, cerr := a.readBody(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	var in struct {
		MessagingProduct string    `json:"messaging_product"`
		About            *string   `json:"about"`
		Address          *string   `json:"address"`
		Description      *string   `json:"description"`
		Email            *string   `json:"email"`
		Websites         *[]string `json:"websites"`
		Vertical         *string   `json:"vertical"`
		PictureHandle    *string   `json:"profile_picture_handle"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: %v", err))
		return
	}
	if in.MessagingProduct != "whatsapp" {
		a.fail(w, cloudapi.Missing("messaging_product"))
		return
	}
	p, err := a.Dir.Profile(r.Context(), n.ID)
	if err != nil {
		a.failErr(w, err)
		return
	}
	limits := []struct {
		v    *string
		dst  *string
		name string
		max  int
	}{{in.About, &p.About, "about", 139}, {in.Address, &p.Address, "address", 256}, {in.Description, &p.Description, "description", 512},
		{in.Email, &p.Email, "email", 128}, {in.Vertical, &p.Vertical, "vertical", 64}, {in.PictureHandle, &p.PictureURL, "profile_picture_handle", 2048}}
	for _, l := range limits {
		if l.v == nil {
			continue
		}
		if len(*l.v) > l.max {
			a.fail(w, cloudapi.Invalid(l.name, "at most "+strconv.Itoa(l.max)+" characters"))
			return
		}
		*l.dst = *l.v
	}
	if in.Websites != nil {
		if len(*in.Websites) > 2 {
			a.fail(w, cloudapi.Invalid("websites", "at most 2 websites"))
			return
		}
		p.Websites = *in.Websites
	}
	if err := a.Dir.PutProfile(r.Context(), n.ID, p); err != nil {
		a.failErr(w, err)
		return
	}
	a.ok(w, cloudapi.SuccessResponse{Success: true})
}

func profileJSON(p business.Profile) map[string]any {
	websites := p.Websites
	if websites == nil {
		websites = []string{}
	}
	return map[string]any{"messaging_product": "whatsapp", "about": p.About, "address": p.Address, "description": p.Description,
		"email": p.Email, "websites": websites, "vertical": p.Vertical, "profile_picture_url": p.PictureURL}
}

// exactBody is the largest told Content-Length read into one slice made
// up front: a small POST (any HTTP/1.1 client's) costs one allocation, and
// a caller claiming more than it sends cannot make us allocate much before
// it has sent a byte.
const exactBody = 64 << 10

// readBody reads a JSON body, bounded. A body of a length it was told
// (Content-Length) up to exactBody is read into one slice of that size;
// a longer one grows as its bytes arrive. A body shorter than it was told
// could not be read.
func (a *API) readBody(r *http.Request) ([]byte, *cloudapi.Error) {
	limit := a.MaxBody
	if limit <= 0 {
		limit = maxJSON
	}
	n := r.ContentLength
	if n > limit {
		return nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "The request body is larger than %d bytes.", limit)
	}
	if n > 0 && n <= exactBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body could not be read.")
		}
		return b, nil
	}
	most := limit + 1
	if n > 0 {
		most = n
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, most))
	if err != nil || (n > 0 && int64(len(b)) < n) {
		return nil, cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body could not be read.")
	}
	if int64(len(b)) > limit {
		return nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "The request body is larger than %d bytes.", limit)
	}
	return b, nil
}

// baseURL is how the caller reached us, for URLs we hand out: https when
// the connection is TLS or a trusted proxy says it took https.
func (a *API) baseURL(r *http.Request) string {
	scheme := "http"
	if a.Proxies.Secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pageURL is this request's URL with one paging cursor (after, before)
// set to value, for the paging links of a list.
func (a *API) pageURL(r *http.Request, cursor, value string) string {
	q := r.URL.Query()
	q.Del("after")
	q.Del("before")
	q.Del("access_token") // never hand a token out in a URL
	q.Set(cursor, value)
	return a.baseURL(r) + r.URL.Path + "?" + q.Encode()
}

func notFound(id kontor.ID) *cloudapi.Error {
	e := cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported request - object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)
	e.Subcode = 33
	e.HTTPStatus = http.StatusBadRequest
	return e
}

// jsonType is the Content-Type of every answer, shared: the server only
// reads it.
var jsonType = []string{"application/json"}

func (a *API) ok(w http.ResponseWriter, v any) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusOK)
	if s, ok := v.(cloudapi.SendResponse); ok { // the answer to every send
		var buf [256]byte
		_, _ = w.Write(s.AppendJSON(buf[:0]))
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

func (a *API) fail(w http.ResponseWriter, e *cloudapi.Error) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(e.HTTPStatus)
	_ = json.NewEncoder(w).Encode(e)
}

// failErr answers a kontor error in the public shape.
func (a *API) failErr(w http.ResponseWriter, err error) {
	kind := kontor.KindOf(err)
	if kind == kontor.Internal {
		a.Log.Error("business API", "err", err)
	}
	a.fail(w, cloudapi.FromKind(kind, kontor.MessageOf(err)))
}

// parseFields reads a Graph-style fields parameter ("name,status"): every
// name must be one of known; node names the object type in the public
// error.
func parseFields(s string, known []string, node string) ([]string, *cloudapi.Error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(known, f) {
			return nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Tried accessing nonexisting field (%s) on node type (%s)", f, node)
		}
		out = append(out, f)
	}
	return out, nil
}
