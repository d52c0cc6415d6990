package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/keys"
	"github.com/kontor-chat/kontor/internal/media"
	"github.com/kontor-chat/kontor/internal/realip"
	"github.com/kontor-chat/kontor/wire"
)

// API is the device HTTP API under /v1: registration, devices, settings.
type API struct {
	Ident *identity.Service
	// Keys is the key directory (end-to-end encryption).
	Keys *keys.Service
	// Media keeps attachments.
	Media *media.Service
	// Shops shows businesses' catalogs to people.
	Shops Shops
	// Businesses, when set, says whether a number is a business
	// (GET /v1/businesses/{phone}).
	Businesses Businesses
	// Pay lets people pay their orders (POST /v1/orders/{id}/pay) and
	// takes providers' webhooks (POST /v1/payments/webhook/{provider}).
	Pay Payer
	// Reports, when set, takes people's reports of business numbers
	// (POST /v1/reports/{phone}).
	Reports Reporter
	// Dev, when set, serves GET /dev/otp (loopback clients only).
	Dev *identity.DevSender
	// Proxies are the reverse proxies whose X-Forwarded-For is believed:
	// code requests are limited per client address (none when zero).
	Proxies realip.Proxies
	Log     *slog.Logger
}

// Shops finds the catalog a business shows in the chat.
type Shops interface {
	Catalog(ctx context.Context, phone kontor.Phone, after kontor.ID, limit int) (wire.ShopCatalog, error)
	// PlaceOrder reserves the stock of a cart; a refusal names the short
	// items (Status "refused") without an error.
	PlaceOrder(ctx context.Context, customer, phone kontor.Phone, req wire.PlaceOrder) (wire.OrderPlaced, error)
}

// Businesses tells people what the platform publishes of a business
// number; NotFound when the number is no business's.
type Businesses interface {
	Business(ctx context.Context, phone kontor.Phone) (wire.BusinessInfo, error)
}

// Mount adds the API's routes to mux.
func (a *API) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/register/code", a.requestCode)
	mux.HandleFunc("POST /v1/register/verify", a.verify)
	mux.HandleFunc("GET /v1/devices", a.auth(a.ownDevices))
	mux.HandleFunc("GET /v1/accounts/{phone}/devices", a.auth(a.devices))
	mux.HandleFunc("POST /v1/devices/link-code", a.auth(a.linkCode))
	mux.HandleFunc("POST /v1/devices/link", a.link)
	mux.HandleFunc("DELETE /v1/devices/{num}", a.auth(a.removeDevice))
	mux.HandleFunc("DELETE /v1/account", a.auth(a.deleteAccount))
	mux.HandleFunc("PUT /v1/settings", a.auth(a.settings))
	mux.HandleFunc("GET /v1/blocks", a.auth(a.blocks))
	mux.HandleFunc("PUT /v1/blocks/{phone}", a.auth(a.block))
	mux.HandleFunc("DELETE /v1/blocks/{phone}", a.auth(a.block))
	if a.Keys != nil {
		mux.HandleFunc("PUT /v1/keys", a.auth(a.uploadKeys))
		mux.HandleFunc("GET /v1/keys", a.auth(a.keyStatus))
		mux.HandleFunc("GET /v1/keys/{phone}", a.auth(a.bundles))
		mux.HandleFunc("GET /v1/keys/{phone}/{num}", a.auth(a.bundles))
	}
	if a.Shops != nil {
		mux.HandleFunc("GET /v1/shops/{phone}/catalog", a.auth(a.shopCatalog))
		mux.HandleFunc("POST /v1/shops/{phone}/orders", a.auth(a.placeOrder))
	}
	if a.Businesses != nil {
		mux.HandleFunc("GET /v1/businesses/{phone}", a.auth(a.business))
	}
	if a.Reports != nil {
		mux.HandleFunc("POST /v1/reports/{phone}", a.auth(a.report))
	}
	if a.Pay != nil {
		mux.HandleFunc("POST /v1/orders/{id}/pay", a.auth(a.payOrder))
		mux.HandleFunc("GET /v1/orders/{id}/payment", a.auth(a.orderPayment))
		mux.HandleFunc("POST /v1/payments/webhook/{provider}", a.paymentWebhook)
	}
	if a.Media != nil {
		mux.HandleFunc("POST /v1/media", a.auth(a.uploadMedia))
		mux.HandleFunc("GET /v1/media/{id}", a.auth(a.downloadMedia))
	}
	if a.Dev != nil {
		mux.HandleFunc("GET /dev/otp", a.devOTP)
	}
}

type authed func(w http.ResponseWriter, r *http.Request, d identity.Device, acct identity.Account)

func (a *API) auth(h authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			WriteError(w, a.Log, kontor.Errorf(kontor.Unauthenticated, "api", "send the device credential as Authorization: Bearer CREDENTIAL"))
			return
		}
		d, acct, err := a.Ident.Authenticate(r.Context(), strings.TrimSpace(cred))
		if err != nil {
			WriteError(w, a.Log, err)
			return
		}
		h(w, r, d, acct)
	}
}

func (a *API) requestCode(w http.ResponseWriter, r *http.Request) {
	var req wire.CodeRequest
	if !ReadJSON(w, r, a.Log, &req) {
		return
	}
	ttl, err := a.Ident.RequestCode(r.Context(), string(req.Phone), a.Proxies.ClientString(r))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.CodeResponse{ExpiresIn: int(ttl.Seconds())})
}

func (a *API) verify(w http.ResponseWriter, r *http.Request) {
	var req wire.VerifyRequest
	if !ReadJSON(w, r, a.Log, &req) {
		return
	}
	c, err := a.Ident.Verify(r.Context(), string(req.Phone), req.Code, req.DeviceName)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, creds(c))
}

func creds(c identity.Credentials) wire.DeviceCredentials {
	return wire.DeviceCredentials{Phone: c.Phone, DeviceID: c.DeviceNum, Credential: c.Credential}
}

func (a *API) ownDevices(w http.ResponseWriter, r *http.Request, _ identity.Device, acct identity.Account) {
	a.writeDevices(w, r.Context(), string(acct.Phone), true)
}

func (a *API) devices(w http.ResponseWriter, r *http.Request, _ identity.Device, _ identity.Account) {
	a.writeDevices(w, r.Context(), r.PathValue("phone"), false)
}

func (a *API) writeDevices(w http.ResponseWriter, ctx context.Context, phone string, detail bool) {
	acct, ds, err := a.Ident.Devices(ctx, phone)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	resp := wire.DevicesResponse{Phone: acct.Phone, Devices: []wire.Device{}}
	for _, d := range ds {
		wd := wire.Device{DeviceID: d.Num}
		if detail {
			wd.Name, wd.Created = d.Name, d.Created.UnixMilli()
			if !d.LastSeen.IsZero() {
				wd.LastSeen = d.LastSeen.UnixMilli()
			}
		}
		resp.Devices = append(resp.Devices, wd)
	}
	WriteJSON(w, http.StatusOK, resp)
}

func (a *API) uploadKeys(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	var up wire.KeysUpload
	if !ReadJSON(w, r, a.Log, &up) {
		return
	}
	st, err := a.Keys.Upload(r.Context(), d.ID, up)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (a *API) keyStatus(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	st, err := a.Keys.Status(r.Context(), d.ID)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (a *API) bundles(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	num := 0
	if s := r.PathValue("num"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "api", "device id %q is not a positive number", s))
			return
		}
		num = n
	}
	b, err := a.Keys.Bundles(r.Context(), d.ID, r.PathValue("phone"), num)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, b)
}

func (a *API) shopCatalog(w http.ResponseWriter, r *http.Request, _ identity.Device, _ identity.Account) {
	phone, err := kontor.ParsePhone(r.PathValue("phone"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	var after kontor.ID
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = kontor.ParseID(s); err != nil {
			WriteError(w, a.Log, err)
			return
		}
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "api", "limit must be 1 to 500"))
			return
		}
		limit = n
	}
	c, err := a.Shops.Catalog(r.Context(), phone, after, limit)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, c)
}

func (a *API) business(w http.ResponseWriter, r *http.Request, _ identity.Device, _ identity.Account) {
	phone, err := kontor.ParsePhone(r.PathValue("phone"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	info, err := a.Businesses.Business(r.Context(), phone)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, info)
}

func (a *API) placeOrder(w http.ResponseWriter, r *http.Request, _ identity.Device, acct identity.Account) {
	phone, err := kontor.ParsePhone(r.PathValue("phone"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	var req wire.PlaceOrder
	if !ReadJSON(w, r, a.Log, &req) {
		return
	}
	out, err := a.Shops.PlaceOrder(r.Context(), acct.Phone, phone, req)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	status := http.StatusOK
	if out.Status == "refused" {
		status = http.StatusConflict
	}
	WriteJSON(w, status, out)
}

func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request, d identity.Device, acct identity.Account) {
	q := r.URL.Query()
	b, err := a.Media.Upload(r.Context(), media.Uploader{Device: d.ID, Account: acct.ID}, q.Get("kind"), q.Get("to"), r.Body)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.MediaUploaded{ID: b.ID, Kind: string(b.Kind), Size: b.Size, Expires: b.Expires.UnixMilli()})
}

func (a *API) downloadMedia(w http.ResponseWriter, r *http.Request, d identity.Device, acct identity.Account) {
	by := media.Uploader{Device: d.ID, Account: acct.ID}
	rc, b, err := a.Media.Open(r.Context(), by, r.PathValue("id"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(b.Size, 10))
	w.Header().Set("Cache-Control", "private, no-store")
	n, err := io.Copy(w, rc)
	if err != nil || n != b.Size {
		return // the device did not get it all; it fetches again
	}
	// Counted once the whole blob went out; the client checks the digest.
	if err := a.Media.Fetched(context.WithoutCancel(r.Context()), by, b); err != nil {
		a.Log.Warn("recording a media download failed", "media", b.ID, "err", err)
	}
}

func (a *API) linkCode(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	code, ttl, err := a.Ident.LinkCode(r.Context(), d)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.LinkCodeResponse{Code: code, ExpiresIn: int(ttl.Seconds())})
}

func (a *API) link(w http.ResponseWriter, r *http.Request) {
	var req wire.LinkRequest
	if !ReadJSON(w, r, a.Log, &req) {
		return
	}
	c, err := a.Ident.Link(r.Context(), string(req.Phone), req.Code, req.DeviceName)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, creds(c))
}

func (a *API) removeDevice(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	num, err := strconv.Atoi(r.PathValue("num"))
	if err != nil || num < 1 {
		WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "api", "%q is not a device number", r.PathValue("num")))
		return
	}
	if err := a.Ident.RemoveDevice(r.Context(), d, num); err != nil {
		WriteError(w, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	if err := a.Ident.DeleteAccount(r.Context(), d); err != nil {
		WriteError(w, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) settings(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	var req wire.SettingsRequest
	if !ReadJSON(w, r, a.Log, &req) {
		return
	}
	if req.LastSeen != "" {
		if err := a.Ident.SetLastSeenPrivacy(r.Context(), d, req.LastSeen); err != nil {
			WriteError(w, a.Log, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) blocks(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	ps, err := a.Ident.Blocked(r.Context(), d)
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.BlocksResponse{Blocked: ps})
}

func (a *API) block(w http.ResponseWriter, r *http.Request, d identity.Device, _ identity.Account) {
	var err error
	if r.Method == http.MethodDelete {
		err = a.Ident.Unblock(r.Context(), d, r.PathValue("phone"))
	} else {
		err = a.Ident.Block(r.Context(), d, r.PathValue("phone"))
	}
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) devOTP(w http.ResponseWriter, r *http.Request) {
	if !a.Proxies.Client(r).IsLoopback() { // behind a proxy on loopback: the client it names
		WriteError(w, a.Log, kontor.Errorf(kontor.Forbidden, "api", "/dev/otp answers loopback clients only"))
		return
	}
	p, err := kontor.ParsePhone(r.URL.Query().Get("phone"))
	if err != nil {
		WriteError(w, a.Log, err)
		return
	}
	code, ok := a.Dev.Last(p)
	if !ok {
		WriteError(w, a.Log, kontor.Errorf(kontor.NotFound, "api", "no code was sent to %s", p))
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"phone": string(p), "code": code})
}

// maxBody is the largest JSON body the device API reads.
const maxBody = 64 << 10

// ReadJSON decodes the request body into v, answering a clear error and
// returning false when it is not a JSON object of the right shape.
func ReadJSON(w http.ResponseWriter, r *http.Request, log *slog.Logger, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		WriteError(w, log, kontor.Errorf(kontor.Invalid, "api", "the request body is over %d bytes or could not be read", maxBody))
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, log, kontor.Errorf(kontor.Invalid, "api", "the request body is not valid JSON for this call: %v", err))
		return false
	}
	return true
}

// WriteJSON writes v as the JSON response body with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusOf is the one table from error kinds to HTTP statuses of the device
// and admin APIs.
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

// WriteError writes err in the API's error shape; internal causes are logged,
// not shown.
func WriteError(w http.ResponseWriter, log *slog.Logger, err error) {
	kind := kontor.KindOf(err)
	msg := kontor.MessageOf(err)
	var ke *kontor.Error
	if kind == kontor.Internal || !errors.As(err, &ke) || msg == "" {
		if kind == kontor.Internal {
			log.Error("internal error", "err", err)
			msg = "something went wrong on the server"
		} else if msg == "" {
			msg = kind.String()
		}
	}
	WriteJSON(w, statusOf[kind], wire.APIError{Error: wire.APIErrorBody{Code: kind.String(), Message: msg}})
}
