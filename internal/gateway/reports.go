package gateway

import (
	"context"
	"net/http"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
)

// Reporter takes people's reports of business numbers, which lower the
// number's quality rating (business.Quality).
type Reporter interface {
	// Report records that account reported the business number phone;
	// kontor.NotFound when phone is not a business number.
	Report(ctx context.Context, account kontor.ID, phone kontor.Phone) error
}

// report is POST /v1/reports/{phone}: the device's account reports a
// business number (204; reporting again only renews the report).
func (a *API) report(w http.ResponseWriter, r *http.Request, _ identity.Device, acct identity.Account) {
	phone, err := kontor.ParsePhone(r.PathValue("phone"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	if err := a.Reports.Report(r.Context(), acct.ID, phone); err != nil {
		WriteError(w, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
