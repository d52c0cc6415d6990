package bizapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/templates"
)

// Templates keeps the message templates of businesses: templates.Service
// on the platform. A self-hosted endpoint has none (nil): its templates
// are the platform's.
type Templates interface {
	Create(ctx context.Context, business kontor.ID, r templates.CreateRequest) (templates.Template, error)
	Edit(ctx context.Context, id kontor.ID, r templates.EditRequest) (templates.Template, error)
	Get(ctx context.Context, id kontor.ID) (templates.Template, error)
	List(ctx context.Context, business kontor.ID, q templates.Query) (templates.Page, error)
	Delete(ctx context.Context, business kontor.ID, name string, hsmID kontor.ID) error
}

// messageTemplates serves /{waba-id}/message_templates: POST creates, GET
// lists, DELETE deletes by name (?name=, every language) or one template
// (?hsm_id=&name=).
func (a *API) messageTemplates(w http.ResponseWriter, r *http.Request, waba kontor.ID) {
	if a.Templates == nil {
		a.fail(w, cloudapi.NewError(cloudapi.CodeInvalidParameter, "Message templates are kept on the platform, not at a self-hosted endpoint: manage them through the platform's Business API."))
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodDelete:
	default:
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s/message_templates", r.Method, waba))
		return
	}
	if _, err := a.Dir.Business(r.Context(), waba); err != nil {
		a.fail(w, notFound(waba))
		return
	}
	if err := a.Auth.Check(r.Context(), token(r), waba, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return
	}
	switch r.Method {
	case http.MethodPost:
		body, cerr := a.readBody(r)
		if cerr != nil {
			a.fail(w, cerr)
			return
		}
		req, cerr := templates.ParseCreate(body)
		if cerr != nil {
			a.fail(w, cerr)
			return
		}
		t, err := a.Templates.Create(r.Context(), waba, req)
		if err != nil {
			a.failTemplate(w, err)
			return
		}
		a.ok(w, map[string]any{"id": t.ID, "status": t.Status, "category": t.Category})
	case http.MethodGet:
		a.listTemplates(w, r, waba)
	case http.MethodDelete:
		q := r.URL.Query()
		var hsm kontor.ID
		if s := q.Get("hsm_id"); s != "" {
			id, err := kontor.ParseID(s)
			if err != nil {
				a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Param hsm_id must be the id of a template - got %q.", s))
				return
			}
			hsm = id
		}
		if err := a.Templates.Delete(r.Context(), waba, q.Get("name"), hsm); err != nil {
			a.failTemplate(w, err)
			return
		}
		a.ok(w, cloudapi.SuccessResponse{Success: true})
	}
}

func (a *API) listTemplates(w http.ResponseWriter, r *http.Request, waba kontor.ID) {
	q := r.URL.Query()
	fields, cerr := templateFields(q.Get("fields"))
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	tq := templates.Query{Name: q.Get("name"), Language: q.Get("language"), Category: q.Get("category"),
		After: q.Get("after"), Before: q.Get("before")}
	if s := q.Get("status"); s != "" {
		tq.Statuses = strings.Split(s, ",")
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Param limit must be a positive number - got %q.", s))
			return
		}
		tq.Limit = min(n, templates.MaxLimit)
	}
	p, err := a.Templates.List(r.Context(), waba, tq)
	if err != nil {
		a.failTemplate(w, err)
		return
	}
	data := make([]any, 0, len(p.Templates))
	for _, t := range p.Templates {
		data = append(data, templateJSON(t, fields))
	}
	paging := map[string]any{"cursors": map[string]string{"before": p.Before, "after": p.After}}
	if p.HasNext {
		paging["next"] = a.pageURL(r, "after", p.After)
	}
	if p.HasPrevious && p.Before != "" {
		paging["previous"] = a.pageURL(r, "before", p.Before)
	}
	a.ok(w, map[string]any{"data": data, "paging": paging})
}

// templateObject serves GET, POST (edit) and DELETE /{template-id}; it
// returns false, having written nothing, when id is not a template here.
func (a *API) templateObject(w http.ResponseWriter, r *http.Request, id kontor.ID) bool {
	if a.Templates == nil {
		return false
	}
	t, err := a.Templates.Get(r.Context(), id)
	if kontor.KindOf(err) == kontor.NotFound {
		return false
	}
	if err != nil {
		a.failErr(w, err)
		return true
	}
	if err := a.Auth.Check(r.Context(), token(r), t.Business, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return true
	}
	switch r.Method {
	case http.MethodGet:
		fields, cerr := templateFields(r.URL.Query().Get("fields"))
		if cerr != nil {
			a.fail(w, cerr)
			return true
		}
		a.ok(w, templateJSON(t, fields))
	case http.MethodPost:
		body, cerr := a.readBody(r)
		if cerr != nil {
			a.fail(w, cerr)
			return true
		}
		req, cerr := templates.ParseEdit(body)
		if cerr != nil {
			a.fail(w, cerr)
			return true
		}
		if _, err := a.Templates.Edit(r.Context(), id, req); err != nil {
			a.failTemplate(w, err)
			return true
		}
		a.ok(w, cloudapi.SuccessResponse{Success: true})
	case http.MethodDelete:
		if err := a.Templates.Delete(r.Context(), t.Business, t.Name, t.ID); err != nil {
			a.failTemplate(w, err)
			return true
		}
		a.ok(w, cloudapi.SuccessResponse{Success: true})
	default:
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s", r.Method, id))
	}
	return true
}

// failTemplate answers an error of the templates service: its refusals
// are in the public shape already.
func (a *API) failTemplate(w http.ResponseWriter, err error) {
	var ce *cloudapi.Error
	if errors.As(err, &ce) {
		a.fail(w, ce)
		return
	}
	a.failErr(w, err)
}

// templateFieldNames are the fields of a template object.
var templateFieldNames = []string{"id", "name", "language", "status", "category", "previous_category", "parameter_format",
	"components", "rejected_reason", "quality_score"}

// templateFields reads ?fields=name,status…; nil means all.
func templateFields(s string) ([]string, *cloudapi.Error) {
	if s == "" {
		return nil, nil
	}
	return parseFields(s, templateFieldNames, "WhatsAppBusinessHSM")
}

// templateJSON is a template in the public shape, with only fields (and
// the id) when fields is not nil.
func templateJSON(t templates.Template, fields []string) map[string]any {
	all := map[string]any{
		"id":               t.ID,
		"name":             t.Name,
		"language":         t.Language,
		"status":           t.Status,
		"category":         t.Category,
		"parameter_format": t.ParameterFormat,
		"components":       t.Components,
		"rejected_reason":  t.RejectedReason,
		"quality_score":    map[string]any{"score": "UNKNOWN"},
	}
	if t.PreviousCategory != "" {
		all["previous_category"] = t.PreviousCategory
	}
	if fields == nil {
		return all
	}
	out := map[string]any{"id": t.ID}
	for _, f := range fields {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	return out
}

// PlatformTemplates finds templates on a platform's Business API, for a
// self-hosted endpoint, which keeps none of its own: GET
// /{version}/{waba-id}/message_templates?name=… with the business's access
// token. Its Lookup fits endpoint.Config.Template.
type PlatformTemplates struct {
	Base  string    // the platform's base URL
	Token string    // an access token with the management scope
	WABA  kontor.ID // the business account
	// Client makes the calls (a client with a 10-second timeout if nil).
	Client *http.Client
	// CacheFor keeps a template found for this long (0: ask every time).
	// Templates not found are never kept.
	CacheFor time.Duration

	mu    sync.Mutex
	cache map[string]cachedTemplate
}

type cachedTemplate struct {
	def    cloudapi.TemplateDefinition
	status string
	until  time.Time
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Lookup returns the definition and status of the template name in
// language (en_US and en-US alike): kontor.NotFound when the platform has
// none, kontor.Unavailable when it can't be asked.
func (p *PlatformTemplates) Lookup(ctx context.Context, name, language string) (*cloudapi.TemplateDefinition, string, error) {
	const op = "bizapi.PlatformTemplates"
	key := name + "\x00" + normLang(language)
	if p.CacheFor > 0 {
		p.mu.Lock()
		c, ok := p.cache[key]
		p.mu.Unlock()
		if ok && time.Now().Before(c.until) {
			def := c.def
			return &def, c.status, nil
		}
	}
	body, err := p.get(ctx, op, url.Values{"name": {name}, "limit": {strconv.Itoa(templates.MaxLimit)}})
	if err != nil {
		return nil, "", err
	}
	var page struct {
		Data []struct {
			Name            string                          `json:"name"`
			Language        string                          `json:"language"`
			Status          string                          `json:"status"`
			Category        string                          `json:"category"`
			ParameterFormat string                          `json:"parameter_format"`
			Components      []cloudapi.TemplateDefComponent `json:"components"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, "", &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform's answer is not a list of templates", Err: err}
	}
	for _, t := range page.Data {
		if t.Name != name || normLang(t.Language) != normLang(language) {
			continue
		}
		def := cloudapi.TemplateDefinition{Name: t.Name, Language: t.Language, Category: t.Category,
			ParameterFormat: t.ParameterFormat, Components: t.Components}
		if p.CacheFor > 0 {
			p.mu.Lock()
			if p.cache == nil {
				p.cache = map[string]cachedTemplate{}
			}
			p.cache[key] = cachedTemplate{def: def, status: t.Status, until: time.Now().Add(p.CacheFor)}
			p.mu.Unlock()
		}
		return &def, t.Status, nil
	}
	return nil, "", kontor.Errorf(kontor.NotFound, op, "the platform has no template %s in %s", name, language)
}

// get asks the platform's API for the business's templates with query.
func (p *PlatformTemplates) get(ctx context.Context, op string, query url.Values) ([]byte, error) {
	u := strings.TrimRight(p.Base, "/") + "/v23.0/" + p.WABA.String() + "/message_templates?" + query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	client := p.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform could not be asked for the templates", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform's answer could not be read", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: fmt.Sprintf("the platform answered the template lookup with HTTP %d", resp.StatusCode),
			Err: errors.New(string(body))}
	}
	return body, nil
}

// List returns a page of the business's templates as the platform's API
// lists them for q (the console's template picker at a self-hosted
// endpoint); another business is kontor.NotFound, a platform that cannot
// be asked kontor.Unavailable.
func (p *PlatformTemplates) List(ctx context.Context, business kontor.ID, q templates.Query) (templates.Page, error) {
	const op = "bizapi.PlatformTemplates.List"
	if business != p.WABA {
		return templates.Page{}, kontor.Errorf(kontor.NotFound, op, "no business %s here", business)
	}
	v := url.Values{}
	for k, s := range map[string]string{"name": q.Name, "language": q.Language, "category": q.Category, "status": strings.Join(q.Statuses, ","),
		"after": q.After, "before": q.Before} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	body, err := p.get(ctx, op, v)
	if err != nil {
		return templates.Page{}, err
	}
	var page struct {
		Data []struct {
			ID              kontor.ID             `json:"id"`
			Name            string                `json:"name"`
			Language        string                `json:"language"`
			Status          templates.Status      `json:"status"`
			Category        string                `json:"category"`
			ParameterFormat string                `json:"parameter_format"`
			Components      []templates.Component `json:"components"`
			RejectedReason  string                `json:"rejected_reason"`
		} `json:"data"`
		Paging struct {
			Cursors  struct{ Before, After string } `json:"cursors"`
			Next     string                         `json:"next"`
			Previous string                         `json:"previous"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return templates.Page{}, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform's answer is not a list of templates", Err: err}
	}
	out := templates.Page{Before: page.Paging.Cursors.Before, After: page.Paging.Cursors.After,
		HasNext: page.Paging.Next != "", HasPrevious: page.Paging.Previous != ""}
	for _, t := range page.Data {
		out.Templates = append(out.Templates, templates.Template{ID: t.ID, Business: business, Name: t.Name, Language: t.Language,
			Category: t.Category, ParameterFormat: t.ParameterFormat, Components: t.Components, Status: t.Status, RejectedReason: t.RejectedReason})
	}
	return out, nil
}

func normLang(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "_")) }
