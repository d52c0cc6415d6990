package adminapi

import (
	"net/http"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/gateway"
)

// mountConsole adds the routes that make console users.
func (a *API) mountConsole(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/v1/console/users", a.operator(a.createConsoleUser))
	mux.HandleFunc("POST /admin/v1/console/links", a.operator(a.consoleLink))
}

// ConsoleUser describes a console user made by the operator. LinkToken,
// when set, is the single-use token of the set-password link
// (/console/link?token=…), shown once.
type ConsoleUser struct {
	ID          kontor.ID `json:"user_id"`
	Business    kontor.ID `json:"business_id"`
	Email       string    `json:"email"`
	Role        string    `json:"role"`
	LinkToken   string    `json:"link_token,omitempty"`
	LinkExpires int64     `json:"link_expires,omitempty"`
}

func (a *API) createConsoleUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Business kontor.ID `json:"business_id"`
		Email    string    `json:"email"`
		Role     string    `json:"role"`
		Password string    `json:"password,omitempty"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	u, tok, err := a.Console.Create(r.Context(), consoleauth.CreateUser{Business: req.Business, Email: req.Email, Role: req.Role, Password: req.Password})
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	out := ConsoleUser{ID: u.ID, Business: u.Business, Email: u.Email, Role: string(u.Role), LinkToken: tok}
	if tok != "" {
		out.LinkExpires = u.Created.Add(a.Console.Config().LinkTTL).Unix()
	}
	gateway.WriteJSON(w, http.StatusOK, out)
}

func (a *API) consoleLink(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email string `json:"email"`
	}
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	inv, tok, err := a.Console.ResetLink(r.Context(), req.Email)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, ConsoleUser{ID: inv.User, Business: inv.Business, Email: inv.Email, Role: string(inv.Role),
		LinkToken: tok, LinkExpires: inv.Expires.Unix()})
}
