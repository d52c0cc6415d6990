package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// API calls the device HTTP API of one server. Calls that act for a device
// need Credential; registration and linking do not. The zero HTTP client
// means one with a 30-second timeout.
//
// Errors are *kontor.Error values whose Kind is the server's error code
// (kontor.RateLimited for "rate_limited", …) and whose message is the
// server's; network failures are kontor.Unavailable.
type API struct {
	Server     string // base URL, e.g. http://127.0.0.1:8080
	Credential string // the device credential, for authenticated calls
	HTTP       *http.Client
}

// RequestCode asks for a one-time registration code for phone and returns
// how long it is valid.
func (a *API) RequestCode(ctx context.Context, phone kontor.Phone) (time.Duration, error) {
	var r wire.CodeResponse
	if err := a.do(ctx, "client.RequestCode", http.MethodPost, "/v1/register/code", false, wire.CodeRequest{Phone: phone}, &r); err != nil {
		return 0, err
	}
	return time.Duration(r.ExpiresIn) * time.Second, nil
}

// DevOTP fetches the last code sent to phone from a server started with
// --dev (loopback clients only). Other servers answer NotFound or Forbidden.
func (a *API) DevOTP(ctx context.Context, phone kontor.Phone) (string, error) {
	var r struct {
		Code string `json:"code"`
	}
	if err := a.do(ctx, "client.DevOTP", http.MethodGet, "/dev/otp?phone="+url.QueryEscape(string(phone)), false, nil, &r); err != nil {
		return "", err
	}
	return r.Code, nil
}

// Verify registers phone with code and returns the new primary device's
// credentials.
func (a *API) Verify(ctx context.Context, phone kontor.Phone, code, deviceName string) (wire.DeviceCredentials, error) {
	var c wire.DeviceCredentials
	err := a.do(ctx, "client.Verify", http.MethodPost, "/v1/register/verify", false, wire.VerifyRequest{Phone: phone, Code: code, DeviceName: deviceName}, &c)
	return c, err
}

// LinkCode asks for a code that links a new device to this account
// (primary device only).
func (a *API) LinkCode(ctx context.Context) (wire.LinkCodeResponse, error) {
	var r wire.LinkCodeResponse
	err := a.do(ctx, "client.LinkCode", http.MethodPost, "/v1/devices/link-code", true, nil, &r)
	return r, err
}

// Link turns a link code into the credentials of a new linked device.
func (a *API) Link(ctx context.Context, phone kontor.Phone, code, deviceName string) (wire.DeviceCredentials, error) {
	var c wire.DeviceCredentials
	err := a.do(ctx, "client.Link", http.MethodPost, "/v1/devices/link", false, wire.LinkRequest{Phone: phone, Code: code, DeviceName: deviceName}, &c)
	return c, err
}

// Devices lists this account's own devices, with names and times.
func (a *API) Devices(ctx context.Context) (wire.DevicesResponse, error) {
	var r wire.DevicesResponse
	err := a.do(ctx, "client.Devices", http.MethodGet, "/v1/devices", true, nil, &r)
	return r, err
}

// AccountDevices lists the device ids of the account of phone; the error
// is kontor.NotFound when no account has that number.
func (a *API) AccountDevices(ctx context.Context, phone kontor.Phone) (wire.DevicesResponse, error) {
	var r wire.DevicesResponse
	err := a.do(ctx, "client.AccountDevices", http.MethodGet, "/v1/accounts/"+url.PathEscape(string(phone))+"/devices", true, nil, &r)
	return r, err
}

// RemoveDevice signs out a device of this account: the primary device may
// remove any, another device only itself.
func (a *API) RemoveDevice(ctx context.Context, deviceID int) error {
	return a.do(ctx, "client.RemoveDevice", http.MethodDelete, "/v1/devices/"+strconv.Itoa(deviceID), true, nil, nil)
}

// DeleteAccount deletes this account and signs out all its devices.
func (a *API) DeleteAccount(ctx context.Context) error {
	return a.do(ctx, "client.DeleteAccount", http.MethodDelete, "/v1/account", true, nil, nil)
}

// SetLastSeen says who may see when this account was last online:
// "everyone" or "nobody".
func (a *API) SetLastSeen(ctx context.Context, who string) error {
	return a.do(ctx, "client.SetLastSeen", http.MethodPut, "/v1/settings", true, wire.SettingsRequest{LastSeen: who}, nil)
}

// maxAnswer is the largest answer body the API reads.
const maxAnswer = 4 << 20

func (a *API) do(ctx context.Context, op, method, path string, auth bool, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.Server, "/")+path, body)
	if err != nil {
		return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "bad server URL " + strconv.Quote(a.Server), Err: err}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		if a.Credential == "" {
			return kontor.Errorf(kontor.Unauthenticated, op, "this call needs a device credential")
		}
		req.Header.Set("Authorization", "Bearer "+a.Credential)
	}
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "could not reach the server at " + a.Server, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "reading the server's answer", Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return answerError(op, resp.StatusCode, b)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "the server's answer is not the expected JSON", Err: err}
	}
	return nil
}

// kindOfCode maps an error code of the device API to its kind.
func kindOfCode(code string) (kontor.Kind, bool) {
	for k := kontor.Internal; k <= kontor.Unavailable; k++ {
		if k.String() == code {
			return k, true
		}
	}
	return kontor.Internal, false
}

// kindOfStatus is the fallback when an answer carries no error body (a
// proxy, or a path the server does not serve).
func kindOfStatus(status int) kontor.Kind {
	switch status {
	case http.StatusBadRequest:
		return kontor.Invalid
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return kontor.NotFound
	case http.StatusConflict:
		return kontor.Conflict
	case http.StatusUnauthorized:
		return kontor.Unauthenticated
	case http.StatusForbidden:
		return kontor.Forbidden
	case http.StatusTooManyRequests:
		return kontor.RateLimited
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return kontor.Unavailable
	}
	return kontor.Internal
}

func answerError(op string, status int, body []byte) error {
	var ae wire.APIError
	if json.Unmarshal(body, &ae) == nil && ae.Error.Code != "" {
		kind, ok := kindOfCode(ae.Error.Code)
		if !ok {
			kind = kindOfStatus(status)
		}
		msg := ae.Error.Message
		if msg == "" {
			msg = ae.Error.Code
		}
		return &kontor.Error{Kind: kind, Op: op, Msg: msg}
	}
	return &kontor.Error{Kind: kindOfStatus(status), Op: op, Msg: fmt.Sprintf("the server answered HTTP %d", status)}
}

// UploadKeys sets this device's keys in the server's key directory.
func (a *API) UploadKeys(ctx context.Context, up wire.KeysUpload) (wire.KeysStatus, error) {
	var s wire.KeysStatus
	err := a.do(ctx, "client.UploadKeys", http.MethodPut, "/v1/keys", true, up, &s)
	return s, err
}

// KeysStatus says how many one-time prekeys the server still holds for this
// device, and which signed prekey.
func (a *API) KeysStatus(ctx context.Context) (wire.KeysStatus, error) {
	var s wire.KeysStatus
	err := a.do(ctx, "client.KeysStatus", http.MethodGet, "/v1/keys", true, nil, &s)
	return s, err
}

// Bundles fetches the key bundles of phone's devices; deviceID 0 means every
// current device that has keys. Each one-time prekey in the answer is used up.
func (a *API) Bundles(ctx context.Context, phone kontor.Phone, deviceID int) (wire.BundlesResponse, error) {
	p := "/v1/keys/" + url.PathEscape(string(phone))
	if deviceID != 0 {
		p += "/" + strconv.Itoa(deviceID)
	}
	var r wire.BundlesResponse
	err := a.do(ctx, "client.Bundles", http.MethodGet, p, true, nil, &r)
	return r, err
}

// Block stops messages from phone reaching this account (the sender is not
// told); Unblock lifts it.
func (a *API) Block(ctx context.Context, phone kontor.Phone) error {
	return a.do(ctx, "client.Block", http.MethodPut, "/v1/blocks/"+url.PathEscape(string(phone)), true, nil, nil)
}

// Unblock lets messages from phone reach this account again.
func (a *API) Unblock(ctx context.Context, phone kontor.Phone) error {
	return a.do(ctx, "client.Unblock", http.MethodDelete, "/v1/blocks/"+url.PathEscape(string(phone)), true, nil, nil)
}

// Report reports the business number phone: it lowers the number's
// quality rating as a block does (the two count once together).
func (a *API) Report(ctx context.Context, phone kontor.Phone) error {
	return a.do(ctx, "client.Report", http.MethodPost, "/v1/reports/"+url.PathEscape(string(phone)), true, nil, nil)
}

// Blocked lists the numbers this account blocked.
func (a *API) Blocked(ctx context.Context) ([]kontor.Phone, error) {
	var r wire.BlocksResponse
	err := a.do(ctx, "client.Blocked", http.MethodGet, "/v1/blocks", true, nil, &r)
	return r.Blocked, err
}

// Business says what the platform publishes of the number phone: the
// error is kontor.NotFound when it is no business's. The answer comes
// from the server, not from the peer, so a peer cannot make itself one.
func (a *API) Business(ctx context.Context, phone kontor.Phone) (wire.BusinessInfo, error) {
	var b wire.BusinessInfo
	err := a.do(ctx, "client.Business", http.MethodGet, "/v1/businesses/"+url.PathEscape(string(phone)), true, nil, &b)
	return b, err
}

// ShopCatalog fetches the products the business at phone shows in the
// chat, after the product id after ("" for the first page).
func (a *API) ShopCatalog(ctx context.Context, phone kontor.Phone, after string) (wire.ShopCatalog, error) {
	p := "/v1/shops/" + url.PathEscape(string(phone)) + "/catalog"
	if after != "" {
		p += "?after=" + url.QueryEscape(after)
	}
	var c wire.ShopCatalog
	err := a.do(ctx, "client.ShopCatalog", http.MethodGet, p, true, nil, &c)
	return c, err
}

// WholeCatalog fetches every page of a business's catalog.
func (a *API) WholeCatalog(ctx context.Context, phone kontor.Phone) (wire.ShopCatalog, error) {
	c, err := a.ShopCatalog(ctx, phone, "")
	for err == nil && c.More && len(c.Products) > 0 {
		var next wire.ShopCatalog
		next, err = a.ShopCatalog(ctx, phone, c.Products[len(c.Products)-1].ID)
		c.Products, c.More = append(c.Products, next.Products...), next.More
	}
	return c, err
}

// Order makes the content of an order for a business from its catalog:
// items maps retailer ids to quantities. Prices are the catalog's (sale
// price when on sale); an unknown retailer id is an error. Set the
// content's Order.OrderID to the id PlaceOrder gave.
func Order(c wire.ShopCatalog, items map[string]int, text string) (wire.Content, error) {
	byID := map[string]wire.ShopProduct{}
	for _, p := range c.Products {
		byID[p.RetailerID] = p
	}
	o := &wire.Order{CatalogID: c.CatalogID}
	ids := make([]string, 0, len(items))
	for id := range items {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p, ok := byID[id]
		if !ok {
			return wire.Content{}, fmt.Errorf("%s has no product %q", c.Business, id)
		}
		if items[id] < 1 {
			return wire.Content{}, fmt.Errorf("the quantity of %q must be at least 1", id)
		}
		o.Items = append(o.Items, wire.OrderItem{RetailerID: id, Quantity: items[id], Price: p.UnitPrice(), Currency: p.Currency})
	}
	if len(o.Items) == 0 {
		return wire.Content{}, fmt.Errorf("an order needs at least one item")
	}
	ct := wire.Content{V: wire.ContentVersion, Type: wire.ContentOrder, Text: text, Order: o}
	return ct, ct.Check()
}

// PlaceOrder reserves the stock of a cart at the business at phone. A
// refusal (short stock) comes back as an OrderPlaced with Status
// "refused", not as an error.
func (a *API) PlaceOrder(ctx context.Context, phone kontor.Phone, items map[string]int, text string) (wire.OrderPlaced, error) {
	const op = "client.PlaceOrder"
	b, err := json.Marshal(wire.PlaceOrder{Items: items, Text: text})
	if err != nil {
		return wire.OrderPlaced{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(a.Server, "/")+"/v1/shops/"+url.PathEscape(string(phone))+"/orders", bytes.NewReader(b))
	if err != nil {
		return wire.OrderPlaced{}, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "bad server URL", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if a.Credential == "" {
		return wire.OrderPlaced{}, kontor.Errorf(kontor.Unauthenticated, op, "this call needs a device credential")
	}
	req.Header.Set("Authorization", "Bearer "+a.Credential)
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return wire.OrderPlaced{}, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "could not reach the server at " + a.Server, Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var out wire.OrderPlaced
	if (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusConflict) && json.Unmarshal(body, &out) == nil && out.Status != "" {
		return out, nil
	}
	return out, answerError(op, resp.StatusCode, body)
}
