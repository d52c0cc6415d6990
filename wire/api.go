package wire

import "github.com/kontor-chat/kontor"

// The device HTTP API. Every path is under /v1; bodies are JSON. Calls that
// act for a device carry "Authorization: Bearer CREDENTIAL".

// CodeRequest asks for a one-time registration code: POST /v1/register/code.
type CodeRequest struct {
	Phone kontor.Phone `json:"phone"`
}

// CodeResponse answers CodeRequest.
type CodeResponse struct {
	ExpiresIn int `json:"expires_in"` // seconds
}

// VerifyRequest registers the number with the code: POST /v1/register/verify.
// It makes a new account, or moves an existing one to a new primary device
// (its other devices are signed out and their queues dropped).
type VerifyRequest struct {
	Phone      kontor.Phone `json:"phone"`
	Code       string       `json:"code"`
	DeviceName string       `json:"device_name,omitempty"`
}

// DeviceCredentials is what a device keeps to act as itself.
type DeviceCredentials struct {
	Phone      kontor.Phone `json:"phone"`
	DeviceID   int          `json:"device_id"`
	Credential string       `json:"credential"`
}

// LinkCodeResponse answers POST /v1/devices/link-code (primary device only).
type LinkCodeResponse struct {
	Code      string `json:"code"`
	ExpiresIn int    `json:"expires_in"`
}

// LinkRequest turns a link code into a new linked device: POST /v1/devices/link.
type LinkRequest struct {
	Phone      kontor.Phone `json:"phone"`
	Code       string       `json:"code"`
	DeviceName string       `json:"device_name,omitempty"`
}

// Device describes one device of an account.
type Device struct {
	DeviceID int    `json:"device_id"`
	Name     string `json:"name,omitempty"`
	Created  int64  `json:"created"`             // Unix ms
	LastSeen int64  `json:"last_seen,omitempty"` // Unix ms
}

// DevicesResponse answers GET /v1/devices (own devices) and
// GET /v1/accounts/{phone}/devices (anyone's device ids).
type DevicesResponse struct {
	Phone   kontor.Phone `json:"phone"`
	Devices []Device     `json:"devices"`
}

// SettingsRequest changes account settings: PUT /v1/settings.
type SettingsRequest struct {
	// LastSeen is who may see when this account was last online: "everyone"
	// or "nobody".
	LastSeen string `json:"last_seen,omitempty"`
}

// APIError is the body of every non-2xx answer of the device HTTP API.
type APIError struct {
	Error APIErrorBody `json:"error"`
}

// APIErrorBody says what went wrong.
type APIErrorBody struct {
	Code    string `json:"code"` // a kontor.Kind name: invalid, not_found, rate_limited, …
	Message string `json:"message"`
}

// MediaUploaded answers POST /v1/media?kind=KIND&to=+E164, whose body is the
// blob's bytes (encrypted by the device). Kind is image, video, audio,
// document or sticker; to is the person the blob is for. Only the devices
// of the uploader's and that person's accounts can download it, with
// GET /v1/media/{id}; it is deleted once all of them have, or at Expires.
type MediaUploaded struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Size    int64  `json:"size"`
	Expires int64  `json:"expires"` // Unix ms
}

// BlocksResponse answers GET /v1/blocks: the numbers this account blocked.
// PUT /v1/blocks/{phone} blocks a number (its messages no longer reach any
// device of the account; the sender is not told) and DELETE lifts it.
type BlocksResponse struct {
	Blocked []kontor.Phone `json:"blocked"`
}

// BusinessInfo answers GET /v1/businesses/{phone}: what the platform says
// of a business number (404 when the number is no business's). Name is
// the verified name; Hosted is true when the number's endpoint runs on
// the platform (the Cloud mode), so the service of Operator can read its
// chats; Catalog and CartEnabled say whether it shows its catalog and
// takes orders in the chat.
type BusinessInfo struct {
	Phone       kontor.Phone `json:"phone"`
	Name        string       `json:"name"`
	Hosted      bool         `json:"hosted"`
	Operator    string       `json:"operator,omitempty"`
	Catalog     bool         `json:"catalog"`
	CartEnabled bool         `json:"cart_enabled"`
}

// ShopCatalog answers GET /v1/shops/{phone}/catalog: the products a
// business shows people in the chat (when its number shows its catalog).
// Prices are in minor units of Currency; PriceText writes them for people.
// More is true when ?after=LAST_PRODUCT_ID gives more.
type ShopCatalog struct {
	Business    kontor.Phone  `json:"business"`
	Name        string        `json:"name,omitempty"`
	CatalogID   string        `json:"catalog_id"`
	CartEnabled bool          `json:"cart_enabled"`
	Products    []ShopProduct `json:"products"`
	More        bool          `json:"more,omitempty"`
}

// UnitPrice is what one item costs now: the sale price when there is one.
func (p ShopProduct) UnitPrice() int64 {
	if p.SalePrice > 0 {
		return p.SalePrice
	}
	return p.Price
}

// ShopProduct is one product as people see it.
type ShopProduct struct {
	ID           string `json:"id"`
	RetailerID   string `json:"retailer_id"`
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	Price        int64  `json:"price"`
	SalePrice    int64  `json:"sale_price,omitempty"`
	Currency     string `json:"currency"`
	PriceText    string `json:"price_text"`
	Availability string `json:"availability"`
	ImageURL     string `json:"image_url,omitempty"`
	URL          string `json:"url,omitempty"`
}

// PlaceOrder is POST /v1/shops/{phone}/orders: reserve the stock of a cart
// (retailer id → quantity) at the business's current prices.
type PlaceOrder struct {
	Items map[string]int `json:"items"`
	Text  string         `json:"text,omitempty"`
}

// OrderPlaced answers PlaceOrder: Status "placed" with the order, or
// "refused" with the items that are short (nothing is reserved then).
type OrderPlaced struct {
	OrderID  string      `json:"order_id,omitempty"`
	Status   string      `json:"status"`
	Total    int64       `json:"total,omitempty"` // minor units
	Currency string      `json:"currency,omitempty"`
	Expires  int64       `json:"expires,omitempty"` // Unix ms: unpaid, the stock goes back
	Short    []ShortItem `json:"short,omitempty"`
	Items    []OrderItem `json:"items,omitempty"`
}

// ShortItem is an item the stock cannot cover.
type ShortItem struct {
	RetailerID string `json:"retailer_id"`
	Wanted     int    `json:"wanted"`
	Available  int    `json:"available"`
}
