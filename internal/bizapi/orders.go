package bizapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// Orders finds and moves the orders people placed (a kontor extension:
// the public API has no order objects), and changes them as the
// business's payment requests and order news say (ordermsg.go).
type Orders interface {
	Order(ctx context.Context, id kontor.ID) (commerce.Order, error)
	Move(ctx context.Context, business, id kontor.ID, to string) (commerce.Order, error)
	RequestPayment(ctx context.Context, business, id kontor.ID, customer kontor.Phone, r commerce.PaymentRequest) (commerce.Order, error)
	UpdateOrder(ctx context.Context, business, id kontor.ID, customer kontor.Phone, status string) (commerce.Order, error)
}

// orderObject serves GET /{order-id} and POST /{order-id} {"status": …};
// it reports whether id named an order.
func (a *API) orderObject(w http.ResponseWriter, r *http.Request, id kontor.ID) bool {
	if a.Orders == nil || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
		return false
	}
	o, err := a.Orders.Order(r.Context(), id)
	if err != nil {
		return false
	}
	if err := a.Auth.Check(r.Context(), token(r), o.Business, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return true
	}
	if r.Method == http.MethodPost {
		body, cerr := a.readBody(r)
		if cerr != nil {
			a.fail(w, cerr)
			return true
		}
		var in struct {
			Status string `json:"status"`
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || in.Status == "" {
			a.fail(w, cloudapi.Missing("status"))
			return true
		}
		if o, err = a.Orders.Move(r.Context(), o.Business, id, in.Status); err != nil {
			if kontor.KindOf(err) == kontor.Conflict {
				a.fail(w, cloudapi.Invalid("status", kontor.MessageOf(err)))
				return true
			}
			a.failErr(w, err)
			return true
		}
	}
	a.ok(w, orderJSON(o))
	return true
}

// orderJSON is an order in the API's shape: amounts in major units as the
// public order webhook writes them.
func orderJSON(o commerce.Order) map[string]any {
	items := make([]map[string]any, 0, len(o.Items))
	for _, it := range o.Items {
		items = append(items, map[string]any{"product_retailer_id": it.RetailerID, "name": it.Name, "quantity": it.Quantity,
			"item_price": cloudapi.MajorUnits(it.Price, o.Currency), "currency": o.Currency})
	}
	return map[string]any{"id": o.ID, "status": o.State, "catalog_id": o.Catalog, "customer": strings.TrimPrefix(string(o.Customer), "+"),
		"currency": o.Currency, "subtotal": cloudapi.MajorUnits(o.Subtotal, o.Currency), "tax": cloudapi.MajorUnits(o.Tax, o.Currency),
		"shipping": cloudapi.MajorUnits(o.Shipping, o.Currency), "discount": cloudapi.MajorUnits(o.Discount, o.Currency), "total": cloudapi.MajorUnits(o.Total, o.Currency),
		"text": o.Text, "product_items": items, "created": o.Created.Unix(), "expires": o.Expires.Unix()}
}
