package bizapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/internal/templates"
	"github.com/kontor-chat/kontor/wire"
)

// change is one change of a webhook, its value kept raw.
type change struct {
	Field string
	Value json.RawMessage
}

// changeReceiver is a business's webhook endpoint that keeps every change
// of every field; it checks signatures and that bodies are ASCII.
type changeReceiver struct {
	t *testing.T
	hookState
	got []change
	bad int
	srv *httptest.Server
}

func newChangeReceiver(t *testing.T) *changeReceiver {
	r := &changeReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range body {
			if c > 0x7e {
				r.bad++
			}
		}
		if !cloudapi.CheckSignature([]byte(r.secret), body, req.Header.Get(cloudapi.SignatureHeader)) {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n struct {
			Object string `json:"object"`
			Entry  []struct {
				Changes []change `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &n); err != nil || n.Object != "whatsapp_business_account" {
			r.bad++
			return
		}
		for _, e := range n.Entry {
			r.got = append(r.got, e.Changes...)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// templateEvent is the value of a message_template_status_update.
type templateEvent struct {
	Event         string `json:"event"`
	ID            int64  `json:"message_template_id"`
	Name          string `json:"message_template_name"`
	Language      string `json:"message_template_language"`
	Reason        string `json:"reason"`
	Category      string `json:"message_template_category"`
	RejectionInfo *struct {
		Reason         string `json:"reason"`
		Recommendation string `json:"recommendation"`
	} `json:"rejection_info"`
}

// templateEvent waits for the status update event of template id.
func (r *changeReceiver) templateEvent(id, event string) templateEvent {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, c := range r.got {
			var v templateEvent
			if c.Field == cloudapi.FieldTemplateStatusUpdate && json.Unmarshal(c.Value, &v) == nil &&
				v.Event == event && kontor.ID(v.ID).String() == id {
				r.mu.Unlock()
				return v
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no %s webhook for template %s", event, id)
	return templateEvent{}
}

// status waits for a status of message wamid.
func (r *changeReceiver) status(wamid, status string) cloudapi.Status {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, c := range r.got {
			var v cloudapi.MessagesValue
			if c.Field != cloudapi.FieldMessages || json.Unmarshal(c.Value, &v) != nil {
				continue
			}
			for _, s := range v.Statuses {
				if s.ID == wamid && s.Status == status {
					r.mu.Unlock()
					return s
				}
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no %s status for %s", status, wamid)
	return cloudapi.Status{}
}

// orderReady is a utility template in the public create shape.
func orderReady(lang string) map[string]any {
	return map[string]any{
		"name": "order_ready", "language": lang, "category": "UTILITY",
		"components": []any{
			map[string]any{"type": "HEADER", "format": "TEXT", "text": "Bestellung {{1}}", "example": map[string]any{"header_text": []string{"#1234"}}},
			map[string]any{"type": "BODY", "text": "Hallo {{1}}, Ihre Bestellung {{2}} liegt für Sie bereit. 🌷",
				"example": map[string]any{"body_text": [][]string{{"Ann", "#1234"}}}},
			map[string]any{"type": "FOOTER", "text": "Blumen Anna"},
			map[string]any{"type": "BUTTONS", "buttons": []any{
				map[string]any{"type": "QUICK_REPLY", "text": "Danke"},
				map[string]any{"type": "URL", "text": "Ansehen", "url": "https://blumen.test/o/{{1}}", "example": []string{"https://blumen.test/o/1234"}},
			}},
		},
	}
}

// sendOrderReady is a send of order_ready with body parameters.
func sendOrderReady(to string, body ...string) map[string]any {
	params := []any{}
	for _, b := range body {
		params = append(params, map[string]any{"type": "text", "text": b})
	}
	return map[string]any{"messaging_product": "whatsapp", "to": to, "type": "template",
		"template": map[string]any{"name": "order_ready", "language": map[string]any{"code": "de"},
			"components": []any{
				map[string]any{"type": "header", "parameters": []any{map[string]any{"type": "text", "text": "#42"}}},
				map[string]any{"type": "body", "parameters": params},
				map[string]any{"type": "button", "sub_type": "url", "index": 1, "parameters": []any{map[string]any{"type": "text", "text": "42"}}},
			}}}
}

func TestTemplates(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		hook := newChangeReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930222222", "webhook_url": hook.srv.URL}, hook)
		waba, number, tok := biz.WABA, biz.Number, biz.Token
		base := "/v21.0/" + waba + "/message_templates"

		// Create: reviewed at once, and the business hears of it.
		code, out := api(t, s, http.MethodPost, base, tok, orderReady("de"))
		if code != 200 || out["status"] != "APPROVED" || out["category"] != "UTILITY" {
			t.Fatalf("create: %d %v", code, out)
		}
		id := out["id"].(string)
		ev := hook.templateEvent(id, "APPROVED")
		if ev.Name != "order_ready" || ev.Language != "de" || ev.Reason != "NONE" || ev.Category != "UTILITY" || ev.RejectionInfo != nil {
			t.Fatalf("approved webhook: %+v", ev)
		}
		// The same name in another language is another template.
		code, out = api(t, s, http.MethodPost, base, tok, orderReady("en_US"))
		if code != 200 || out["status"] != "APPROVED" {
			t.Fatalf("create en_US: %d %v", code, out)
		}
		enID := out["id"].(string)

		// A template the review rejects, with the reason in the webhook.
		bad := orderReady("de")
		bad["name"] = "bad_one"
		bad["components"].([]any)[1] = map[string]any{"type": "BODY", "text": "{{1}}, Ihre Bestellung {{2}} ist da.",
			"example": map[string]any{"body_text": [][]string{{"Ann", "#1"}}}}
		code, out = api(t, s, http.MethodPost, base, tok, bad)
		if code != 200 || out["status"] != "REJECTED" {
			t.Fatalf("create bad: %d %v", code, out)
		}
		badID := out["id"].(string)
		ev = hook.templateEvent(badID, "REJECTED")
		if ev.Reason != "INVALID_FORMAT" || ev.RejectionInfo == nil || !strings.Contains(ev.RejectionInfo.Recommendation, "starts or ends") {
			t.Fatalf("rejected webhook: %+v", ev)
		}

		// Requests the API refuses, in the public shape.
		badName := orderReady("de")
		badName["name"] = "Order Ready"
		noScope := map[string]any{}
		if c := s.Call(t, http.MethodPost, "/admin/v1/tokens", s.Token, map[string]any{"business_id": waba, "scopes": "messaging"}, &noScope); c != 200 {
			t.Fatalf("messaging token: %d", c)
		}
		for _, c := range []struct {
			name, method, path, token string
			body                      any
			status, code, subcode     int
		}{
			{"bad name", http.MethodPost, base, tok, badName, 400, 100, 0},
			{"name exists in the language", http.MethodPost, base, tok, orderReady("de"), 400, 100, 2388024},
			{"unknown key", http.MethodPost, base, tok, map[string]any{"name": "x", "languag": "de"}, 400, 100, 0},
			{"no token", http.MethodPost, base, "", orderReady("fr"), 401, 190, 0},
			{"messaging scope only", http.MethodGet, base, noScope["access_token"].(string), nil, 403, 10, 0},
			{"unknown business", http.MethodGet, "/v21.0/123456/message_templates", tok, nil, 400, 100, 33},
			{"bad limit", http.MethodGet, base + "?limit=many", tok, nil, 400, 100, 0},
			{"bad status", http.MethodGet, base + "?status=SHINY", tok, nil, 400, 100, 0},
			{"bad field", http.MethodGet, base + "?fields=name,colour", tok, nil, 400, 100, 0},
			{"delete without a name", http.MethodDelete, base, tok, nil, 400, 131008, 0},
			{"delete an unknown name", http.MethodDelete, base + "?name=nothing", tok, nil, 404, 100, 33},
			{"unsupported method", http.MethodPut, base, tok, nil, 400, 100, 0},
		} {
			code, out := api(t, s, c.method, c.path, c.token, c.body)
			e, _ := out["error"].(map[string]any)
			sub, _ := e["error_subcode"].(float64)
			if code != c.status || errCode(out) != c.code || int(sub) != c.subcode {
				t.Errorf("%s: %d %v, want %d code %d subcode %d", c.name, code, out, c.status, c.code, c.subcode)
			}
		}

		// List, with filters, fields and paging.
		code, out = api(t, s, http.MethodGet, base+"?limit=2", tok, nil)
		data, _ := out["data"].([]any)
		paging, _ := out["paging"].(map[string]any)
		next, _ := paging["next"].(string)
		if code != 200 || len(data) != 2 || next == "" {
			t.Fatalf("list: %d %v", code, out)
		}
		first := data[0].(map[string]any)
		if first["id"] != id || first["name"] != "order_ready" || first["language"] != "de" || first["status"] != "APPROVED" ||
			first["parameter_format"] != "POSITIONAL" || first["rejected_reason"] != "NONE" || len(first["components"].([]any)) != 4 {
			t.Fatalf("listed template: %v", first)
		}
		nu, _ := url.Parse(next)
		code, out = api(t, s, http.MethodGet, nu.RequestURI(), tok, nil)
		data, _ = out["data"].([]any)
		if code != 200 || len(data) != 1 || data[0].(map[string]any)["id"] != badID {
			t.Fatalf("next page: %d %v", code, out)
		}
		code, out = api(t, s, http.MethodGet, base+"?status=REJECTED&fields=name,status", tok, nil)
		data, _ = out["data"].([]any)
		if code != 200 || len(data) != 1 || len(data[0].(map[string]any)) != 3 || data[0].(map[string]any)["status"] != "REJECTED" {
			t.Fatalf("rejected ones: %d %v", code, out)
		}
		code, out = api(t, s, http.MethodGet, base+"?name=order_ready&language=en_US", tok, nil)
		if data, _ = out["data"].([]any); code != 200 || len(data) != 1 || data[0].(map[string]any)["id"] != enID {
			t.Fatalf("by name and language: %d %v", code, out)
		}

		// Get one, with and without the version segment.
		code, out = api(t, s, http.MethodGet, "/v21.0/"+id, tok, nil)
		if code != 200 || out["name"] != "order_ready" || out["category"] != "UTILITY" {
			t.Fatalf("get: %d %v", code, out)
		}
		if code, out = api(t, s, http.MethodGet, "/"+id+"?fields=status", tok, nil); code != 200 || out["status"] != "APPROVED" || out["name"] != nil {
			t.Fatalf("get status: %d %v", code, out)
		}

		// Sending: Bob never wrote, so only a template can reach him.
		bob := newPerson(ctx, t, s, "+4915100000009")
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, map[string]any{
			"messaging_product": "whatsapp", "to": "4915100000009", "text": map[string]any{"body": "Hallo"}}); errCode(out) != 131047 {
			t.Fatalf("text outside the window: %d %v", code, out)
		}
		code, out = api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, sendOrderReady("4915100000009", "Bob", "#42"))
		msgs, _ := out["messages"].([]any)
		if code != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["message_status"] != "accepted" {
			t.Fatalf("send template: %d %v", code, out)
		}
		wamid := msgs[0].(map[string]any)["id"].(string)
		var got wire.Content
		for got.Type != wire.ContentTemplate { // after the hosted-service notice
			got = bob.next(t).Content
		}
		tp := got.Template
		if tp == nil || tp.Body != "Hallo Bob, Ihre Bestellung #42 liegt für Sie bereit. 🌷" || tp.Header == nil || tp.Header.Text != "Bestellung #42" ||
			tp.Footer != "Blumen Anna" || len(tp.Buttons) != 2 || tp.Buttons[1].URL != "https://blumen.test/o/42" || tp.Buttons[0].Type != "quick_reply" {
			t.Fatalf("Bob got %+v", tp)
		}
		st := hook.status(wamid, "sent")
		if st.Pricing == nil || !st.Pricing.Billable || st.Pricing.Category != "utility" || st.Pricing.Type != "regular" {
			t.Fatalf("sent status: %+v", st.Pricing)
		}
		hook.status(wamid, "delivered")
		// The delivered template is in the ledger once, at the sample
		// card's rate for Germany's utility messages.
		var usage map[string]any
		for i := 0; i < 100; i++ {
			if code := s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/usage", s.Token, nil, &usage); code != 200 {
				t.Fatalf("usage: %d", code)
			}
			if usage["entries"] == float64(1) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if usage["entries"] != float64(1) || usage["total"] != "0.055" || usage["currency"] != "USD" {
			t.Fatalf("usage after the delivered template: %v", usage)
		}

		// Sends that do not fit the template.
		for _, c := range []struct {
			name string
			body map[string]any
			code int
		}{
			{"too few parameters", sendOrderReady("4915100000009", "Bob"), 132000},
			{"too many parameters", sendOrderReady("4915100000009", "Bob", "#42", "x"), 132000},
			{"unknown template", func() map[string]any {
				b := sendOrderReady("4915100000009", "Bob", "#42")
				b["template"].(map[string]any)["name"] = "no_such_template"
				return b
			}(), 132001},
			{"unknown language", func() map[string]any {
				b := sendOrderReady("4915100000009", "Bob", "#42")
				b["template"].(map[string]any)["language"] = map[string]any{"code": "fr"}
				return b
			}(), 132001},
			{"rejected template", func() map[string]any {
				b := sendOrderReady("4915100000009", "Bob", "#42")
				b["template"].(map[string]any)["name"] = "bad_one"
				return b
			}(), 132001},
		} {
			if code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, c.body); errCode(out) != c.code {
				t.Errorf("%s: %d %v, want %d", c.name, code, out, c.code)
			}
		}

		// A self-hosted endpoint finds templates through this API.
		wabaID, _ := kontor.ParseID(waba)
		pt := &bizapi.PlatformTemplates{Base: s.URL, Token: tok, WABA: wabaID}
		def, status, err := pt.Lookup(ctx, "order_ready", "en-US")
		if err != nil || status != "APPROVED" || def.Language != "en_US" || def.Component("BODY") == nil || len(def.Component("BUTTONS").Buttons) != 2 {
			t.Fatalf("platform lookup: %+v %s %v", def, status, err)
		}
		if _, _, err := pt.Lookup(ctx, "nothing", "de"); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("platform lookup of an unknown template: %v", err)
		}
		if _, _, err := (&bizapi.PlatformTemplates{Base: s.URL, Token: "ktk_nope", WABA: pt.WABA}).Lookup(ctx, "order_ready", "de"); kontor.KindOf(err) != kontor.Unavailable {
			t.Fatalf("platform lookup with a bad token: %v", err)
		}
		// And lists them, for the console's template picker.
		lp, err := pt.List(ctx, wabaID, templates.Query{Statuses: []string{"APPROVED"}, Limit: templates.MaxLimit})
		found := false
		for _, tm := range lp.Templates {
			if tm.Status != templates.Approved || tm.Business != wabaID {
				t.Fatalf("platform list of approved templates: %+v", tm)
			}
			found = found || (tm.Name == "order_ready" && tm.Language == "en_US" && len(tm.Components) > 0 && tm.ID != 0)
		}
		if err != nil || !found {
			t.Fatalf("platform list: %+v %v", lp, err)
		}
		if lp, err := pt.List(ctx, wabaID, templates.Query{Name: "nothing"}); err != nil || len(lp.Templates) != 0 {
			t.Fatalf("platform list of an unknown name: %+v %v", lp, err)
		}
		if _, err := pt.List(ctx, wabaID+1, templates.Query{}); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("platform list of another business: %v", err)
		}
		if _, err := (&bizapi.PlatformTemplates{Base: s.URL, Token: "ktk_nope", WABA: pt.WABA}).List(ctx, pt.WABA, templates.Query{}); kontor.KindOf(err) != kontor.Unavailable {
			t.Fatalf("platform list with a bad token: %v", err)
		}

		// Edit the rejected template: reviewed again.
		fixed := orderReady("de")["components"]
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+badID, tok, map[string]any{"components": fixed}); code != 200 || out["success"] != true {
			t.Fatalf("edit: %d %v", code, out)
		}
		hook.templateEvent(badID, "APPROVED")
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+badID, tok, map[string]any{"category": "MARKETING"}); errCode(out) != 100 {
			t.Fatalf("recategorise an approved template: %d %v", code, out)
		}

		// Delete one language by hsm_id, then the name in every language,
		// then one by its own path.
		if code, out := api(t, s, http.MethodDelete, base+"?name=order_ready&hsm_id="+enID, tok, nil); code != 200 || out["success"] != true {
			t.Fatalf("delete en_US: %d %v", code, out)
		}
		hook.templateEvent(enID, "DELETED")
		if code, out := api(t, s, http.MethodGet, base+"?name=order_ready", tok, nil); code != 200 || len(out["data"].([]any)) != 1 {
			t.Fatalf("after deleting en_US: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodDelete, base+"?name=order_ready", tok, nil); code != 200 || out["success"] != true {
			t.Fatalf("delete by name: %d %v", code, out)
		}
		hook.templateEvent(id, "DELETED")
		if code, out := api(t, s, http.MethodGet, "/v21.0/"+id, tok, nil); code != 400 || errCode(out) != 100 {
			t.Fatalf("get a deleted template: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, sendOrderReady("4915100000009", "Bob", "#42")); errCode(out) != 132001 {
			t.Fatalf("send a deleted template: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodDelete, "/v21.0/"+badID, tok, nil); code != 200 || out["success"] != true {
			t.Fatalf("delete by id: %d %v", code, out)
		}
		if code, out := api(t, s, http.MethodGet, base, tok, nil); code != 200 || len(out["data"].([]any)) != 0 {
			t.Fatalf("all deleted: %d %v", code, out)
		}

		hook.mu.Lock()
		defer hook.mu.Unlock()
		if hook.bad != 0 {
			t.Fatalf("%d webhooks with a bad signature or non-ASCII bytes", hook.bad)
		}
	})
}
