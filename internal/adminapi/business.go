package adminapi

import (
	"net/http"
	"strconv"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/gateway"
)

// mountBusiness adds the routes for businesses, tokens and partners.
func (a *API) mountBusiness(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/v1/businesses", a.operator(a.createBusiness))
	mux.HandleFunc("GET /admin/v1/businesses", a.operator(a.listBusinesses))
	mux.HandleFunc("POST /admin/v1/tokens", a.operator(a.createToken))
	mux.HandleFunc("GET /admin/v1/tokens", a.operator(a.listTokens))
	mux.HandleFunc("DELETE /admin/v1/tokens/{id}", a.operator(a.revokeToken))
	mux.HandleFunc("POST /admin/v1/businesses/{id}/webhook", a.operator(a.setWebhook))
	mux.HandleFunc("POST /admin/v1/numbers/{id}", a.operator(a.setNumber))
	mux.HandleFunc("GET /admin/v1/webhooks/dead", a.operator(a.deadLetters))
	mux.HandleFunc("POST /admin/v1/webhooks/replay", a.operator(a.replay))
	mux.HandleFunc("POST /admin/v1/partners", a.operator(a.createPartner))
	mux.HandleFunc("POST /admin/v1/partners/{id}/grants", a.operator(a.grant))
	mux.HandleFunc("DELETE /admin/v1/partners/{id}/grants/{business}", a.operator(a.ungrant))
}

func (a *API) createBusiness(w http.ResponseWriter, r *http.Request) {
	var req business.CreateRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	c, err := a.Business.Create(r.Context(), req)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	if !c.SelfHosted {
		// A hosted endpoint's device stays with the platform.
		if a.Hosted != nil {
			if err := a.Hosted(r.Context(), c); err != nil {
				gateway.WriteError(w, a.Log, err)
				return
			}
		}
		c.Device = nil
	}
	gateway.WriteJSON(w, http.StatusOK, c)
}

// BusinessInfo describes a business for operators.
type BusinessInfo struct {
	ID         kontor.ID    `json:"waba_id"`
	Name       string       `json:"name"`
	SelfHosted bool         `json:"self_hosted"`
	WebhookURL string       `json:"webhook_url,omitempty"`
	Numbers    []NumberInfo `json:"phone_numbers"`
	Created    int64        `json:"created"`
}

// NumberInfo describes a business number.
type NumberInfo struct {
	ID    kontor.ID    `json:"phone_number_id"`
	Phone kontor.Phone `json:"phone"`
}

func (a *API) listBusinesses(w http.ResponseWriter, r *http.Request) {
	st := a.Business.Store()
	bs, err := st.Businesses(r.Context())
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	out := []BusinessInfo{}
	for _, b := range bs {
		ns, err := st.Numbers(r.Context(), b.ID)
		if err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
		bi := BusinessInfo{ID: b.ID, Name: b.Name, SelfHosted: b.SelfHosted, WebhookURL: b.WebhookURL, Numbers: []NumberInfo{}, Created: b.Created.Unix()}
		for _, n := range ns {
			bi.Numbers = append(bi.Numbers, NumberInfo{ID: n.ID, Phone: n.Phone})
		}
		out = append(out, bi)
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var req business.TokenRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	t, err := a.Business.CreateToken(r.Context(), req)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, t)
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	biz, err1 := optionalID(r.URL.Query().Get("business_id"))
	partner, err2 := optionalID(r.URL.Query().Get("partner_id"))
	if err1 != nil || err2 != nil || (biz == 0) == (partner == 0) {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.tokens", "give one of business_id, partner_id"))
		return
	}
	ts, err := a.Business.Tokens(r.Context(), biz, partner)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"data": ts})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r.PathValue("id"))
	if err != nil || id == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.tokens", "bad token id %q", r.PathValue("id")))
		return
	}
	if err := a.Business.RevokeToken(r.Context(), id); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (a *API) createPartner(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	p, err := a.Business.CreatePartner(r.Context(), req.Name)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"partner_id": p.ID, "name": p.Name})
}

func (a *API) grant(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r.PathValue("id"))
	var req struct {
		Business kontor.ID `json:"business_id"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if err != nil || id == 0 || req.Business == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.grant", "give the partner id in the path and business_id in the body"))
		return
	}
	if err := a.Business.Grant(r.Context(), id, req.Business); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (a *API) ungrant(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r.PathValue("id"))
	biz, err2 := optionalID(r.PathValue("business"))
	if err != nil || err2 != nil || id == 0 || biz == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.ungrant", "give the partner id and the business id in the path"))
		return
	}
	if err := a.Business.Ungrant(r.Context(), id, biz); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}

func optionalID(s string) (kontor.ID, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, kontor.Errorf(kontor.Invalid, "admin", "%q is not an id", s)
	}
	return kontor.ID(n), nil
}

func (a *API) setWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r.PathValue("id"))
	var req struct {
		URL         string `json:"webhook_url"`
		VerifyToken string `json:"verify_token"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if err != nil || id == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.webhook", "bad business id %q", r.PathValue("id")))
		return
	}
	if err := a.Business.SetWebhook(r.Context(), id, req.URL, req.VerifyToken); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}

// DeadLetter is a webhook given up on, for operators.
type DeadLetter struct {
	ID           string `json:"id"`
	App          string `json:"app_id"`
	URL          string `json:"url"`
	Attempts     int    `json:"attempts"`
	LastStatus   int    `json:"last_status"`
	LastResponse string `json:"last_response,omitempty"`
	Created      int64  `json:"created"`
}

func (a *API) deadLetters(w http.ResponseWriter, r *http.Request) {
	if a.Webhooks == nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.NotFound, "admin.webhooks", "webhook delivery is not running on this node"))
		return
	}
	app, err := optionalID(r.URL.Query().Get("app_id"))
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	ds, err := a.Webhooks.DeadLetters(r.Context(), app, 1000)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	out := make([]DeadLetter, 0, len(ds))
	for _, d := range ds {
		out = append(out, DeadLetter{ID: d.ID, App: d.App.String(), URL: d.URL, Attempts: d.Attempts, LastStatus: d.LastStatus,
			LastResponse: d.LastResponse, Created: d.Created.Unix()})
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (a *API) replay(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []string `json:"ids"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if a.Webhooks == nil || len(req.IDs) == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.replay", "give the ids of dead letters to send again"))
		return
	}
	n, err := a.Webhooks.Replay(r.Context(), req.IDs)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"replayed": n})
}

func (a *API) setNumber(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r.PathValue("id"))
	var req struct {
		MPS  int    `json:"mps,omitempty"`
		Tier string `json:"tier,omitempty"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if err != nil || id == 0 || (req.MPS == 0 && req.Tier == "") {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.number", "give the phone number id in the path and mps and/or tier"))
		return
	}
	if req.MPS != 0 {
		if err := a.Business.SetThroughput(r.Context(), id, req.MPS); err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
	}
	if req.Tier != "" {
		if err := a.Business.SetTier(r.Context(), id, req.Tier); err != nil {
			gateway.WriteError(w, a.Log, err)
			return
		}
	}
	gateway.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}
