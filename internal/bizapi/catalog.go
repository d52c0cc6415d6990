package bizapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// Commerce keeps catalogs, products and the commerce settings of numbers
// (internal/commerce.Service).
type Commerce interface {
	CreateCatalog(ctx context.Context, business kontor.ID, name string) (commerce.Catalog, error)
	Catalog(ctx context.Context, id kontor.ID) (commerce.Catalog, error)
	Catalogs(ctx context.Context, business kontor.ID) ([]commerce.Catalog, error)
	CreateProduct(ctx context.Context, catalog kontor.ID, p commerce.Product) (commerce.Product, error)
	Product(ctx context.Context, id kontor.ID) (commerce.Product, error)
	Products(ctx context.Context, catalog kontor.ID, page commerce.Page) ([]commerce.Product, bool, error)
	UpdateProduct(ctx context.Context, id kontor.ID, c commerce.Patch) (commerce.Product, error)
	DeleteProduct(ctx context.Context, id kontor.ID) error
	Settings(ctx context.Context, number kontor.ID) (commerce.Settings, error)
	SetSettings(ctx context.Context, number kontor.ID, s commerce.Settings) error
}

// commerceEdge serves /{catalog-id}/products,
// /{phone-number-id}/whatsapp_commerce_settings and
// /{waba-id}/product_catalogs.
func (a *API) commerceEdge(w http.ResponseWriter, r *http.Request, id kontor.ID, edge string) {
	switch edge {
	case "products":
		a.catalogProducts(w, r, id)
	case "product_catalogs":
		a.productCatalogs(w, r, id)
	default:
		a.commerceSettings(w, r, id)
	}
}

// productCatalogs serves GET /{waba-id}/product_catalogs (the business's
// catalogs) and POST with a name (a new catalog → {id}).
func (a *API) productCatalogs(w http.ResponseWriter, r *http.Request, waba kontor.ID) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s/product_catalogs", r.Method, waba))
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
	if r.Method == http.MethodPost {
		body, cerr := a.readBody(r)
		if cerr != nil {
			a.fail(w, cerr)
			return
		}
		name := r.URL.Query().Get("name")
		if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
			var in struct {
				Name string `json:"name"`
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: %v", err))
				return
			}
			name = in.Name
		} else if form, err := url.ParseQuery(string(b)); err == nil && form.Get("name") != "" {
			name = form.Get("name")
		}
		c, err := a.Commerce.CreateCatalog(r.Context(), waba, name)
		if err != nil {
			a.failErr(w, err)
			return
		}
		a.ok(w, map[string]any{"id": c.ID})
		return
	}
	cs, err := a.Commerce.Catalogs(r.Context(), waba)
	if err != nil {
		a.failErr(w, err)
		return
	}
	data := make([]any, 0, len(cs))
	for _, c := range cs {
		data = append(data, map[string]any{"id": c.ID, "name": c.Name})
	}
	a.ok(w, map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]string{"before": "", "after": ""}}})
}

// catalog finds a catalog and checks the caller may manage its business.
func (a *API) catalog(w http.ResponseWriter, r *http.Request, id kontor.ID) (commerce.Catalog, bool) {
	c, err := a.Commerce.Catalog(r.Context(), id)
	if err != nil {
		a.failCommerce(w, err, id)
		return c, false
	}
	if err := a.Auth.Check(r.Context(), token(r), c.Business, business.ScopeManagement); err != nil {
		a.failErr(w, err)
		return c, false
	}
	return c, true
}

// catalogProducts serves /{catalog-id}/products: GET lists, POST creates.
func (a *API) catalogProducts(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s/products", r.Method, id))
		return
	}
	c, ok := a.catalog(w, r, id)
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		in, cerr := a.productInput(r)
		if cerr != nil {
			a.fail(w, cerr)
			return
		}
		var p commerce.Product
		in.apply(&p)
		p, err := a.Commerce.CreateProduct(r.Context(), c.ID, p)
		if err != nil {
			a.failCommerce(w, err, c.ID)
			return
		}
		a.ok(w, map[string]any{"id": p.ID})
		return
	}
	q := r.URL.Query()
	fields, cerr := productFields(q.Get("fields"))
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	page := commerce.Page{Limit: 25}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: limit must be a number from 1 to 1000."))
			return
		}
		page.Limit = n
	}
	var err1, err2 error
	page.After, err1 = parseCursor(q.Get("after"))
	page.Before, err2 = parseCursor(q.Get("before"))
	if err1 != nil || err2 != nil || (page.After != 0 && page.Before != 0) {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: after and before take a cursor from paging.cursors, one at a time."))
		return
	}
	ps, more, err := a.Commerce.Products(r.Context(), c.ID, page)
	if err != nil {
		a.failCommerce(w, err, c.ID)
		return
	}
	data := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		data = append(data, productJSON(p, fields))
	}
	cursors := map[string]string{"before": "", "after": ""}
	paging := map[string]any{"cursors": cursors}
	if len(ps) > 0 {
		cursors["before"], cursors["after"] = cursor(ps[0].ID), cursor(ps[len(ps)-1].ID)
		backward := page.Before != 0
		if backward || more { // going back, the page we came from is next
			paging["next"] = a.pageURL(r, "after", cursors["after"])
		}
		if page.After != 0 || (backward && more) {
			paging["previous"] = a.pageURL(r, "before", cursors["before"])
		}
	}
	a.ok(w, map[string]any{"data": data, "paging": paging})
}

// cursor is the opaque paging cursor of a product id.
func cursor(id kontor.ID) string { return base64.RawURLEncoding.EncodeToString([]byte(id.String())) }

func parseCursor(s string) (kontor.ID, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	return kontor.ParseID(string(b))
}

// commerceObject serves GET, POST and DELETE /{product-id} and GET
// /{catalog-id}; it returns false when id is neither.
func (a *API) commerceObject(w http.ResponseWriter, r *http.Request, id kontor.ID) bool {
	if a.Commerce == nil {
		return false
	}
	p, err := a.Commerce.Product(r.Context(), id)
	if err != nil {
		if r.Method != http.MethodGet {
			return false
		}
		if _, err := a.Commerce.Catalog(r.Context(), id); err != nil {
			return false
		}
		c, ok := a.catalog(w, r, id)
		if ok {
			a.ok(w, map[string]any{"id": c.ID, "name": c.Name})
		}
		return true
	}
	if _, ok := a.catalog(w, r, p.Catalog); !ok {
		return true
	}
	switch r.Method {
	case http.MethodGet:
		fields, cerr := productFields(r.URL.Query().Get("fields"))
		if cerr != nil {
			a.fail(w, cerr)
			return true
		}
		a.ok(w, productJSON(p, fields))
	case http.MethodPost:
		in, cerr := a.productInput(r)
		if cerr != nil {
			a.fail(w, cerr)
			return true
		}
		if _, err := a.Commerce.UpdateProduct(r.Context(), id, in.patch()); err != nil {
			a.failCommerce(w, err, id)
			return true
		}
		a.ok(w, cloudapi.SuccessResponse{Success: true})
	case http.MethodDelete:
		if err := a.Commerce.DeleteProduct(r.Context(), id); err != nil {
			a.failCommerce(w, err, id)
			return true
		}
		a.ok(w, cloudapi.SuccessResponse{Success: true})
	default:
		return false
	}
	return true
}

// commerceSettings serves GET|POST /{phone-number-id}/whatsapp_commerce_settings.
func (a *API) commerceSettings(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s/whatsapp_commerce_settings", r.Method, id))
		return
	}
	n, ok := a.number(w, r, id, business.ScopeManagement)
	if !ok {
		return
	}
	s, err := a.Commerce.Settings(r.Context(), n.ID)
	if err != nil {
		a.failErr(w, err)
		return
	}
	if r.Method == http.MethodGet {
		a.ok(w, map[string]any{"data": []any{map[string]any{"is_cart_enabled": s.CartEnabled, "is_catalog_visible": s.CatalogVisible, "id": n.ID}}})
		return
	}
	// The public call takes the settings in the query; a form or JSON
	// body is read as well.
	vals := r.URL.Query()
	body, cerr := a.readBody(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	if b := bytes.TrimSpace(body); len(b) > 0 {
		if b[0] == '{' {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: the body is not a JSON object: %v", err))
				return
			}
			for k, v := range m {
				vals.Set(k, fmt.Sprint(v))
			}
		} else if form, err := url.ParseQuery(string(b)); err == nil {
			for k, v := range form {
				vals[k] = v
			}
		}
	}
	set := false
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"is_cart_enabled", &s.CartEnabled}, {"is_catalog_visible", &s.CatalogVisible}} {
		v := vals.Get(f.name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			a.fail(w, cloudapi.Invalid(f.name, "true or false"))
			return
		}
		*f.dst, set = b, true
	}
	if !set {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeMissingParameter, "Give is_cart_enabled or is_catalog_visible (true or false)."))
		return
	}
	if err := a.Commerce.SetSettings(r.Context(), n.ID, s); err != nil {
		a.failErr(w, err)
		return
	}
	a.ok(w, cloudapi.SuccessResponse{Success: true})
}

// flexInt is an integer sent as a JSON number or a string of digits (form
// posts send strings).
type flexInt struct {
	v   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an integer (prices are in minor units: 999 for 9.99)", b)
	}
	f.v, f.set = v, true
	return nil
}

// productBody is a product create or update call.
type productBody struct {
	RetailerID   *string  `json:"retailer_id"`
	Name         *string  `json:"name"`
	Description  *string  `json:"description"`
	Price        *flexInt `json:"price"`
	Currency     *string  `json:"currency"`
	Availability *string  `json:"availability"`
	Condition    *string  `json:"condition"`
	ImageURL     *string  `json:"image_url"`
	URL          *string  `json:"url"`
	Brand        *string  `json:"brand"`
	Category     *string  `json:"category"`
	Inventory    *flexInt `json:"inventory"`
	SalePrice    *flexInt `json:"sale_price"`
	GroupID      *string  `json:"retailer_product_group_id"`
}

// productInput reads a product from a JSON body or a form.
func (a *API) productInput(r *http.Request) (productBody, *cloudapi.Error) {
	var in productBody
	body, cerr := a.readBody(r)
	if cerr != nil {
		return in, cerr
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return in, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: the body is neither JSON nor a form.")
		}
		for k, v := range r.URL.Query() {
			if _, ok := form[k]; !ok {
				form[k] = v
			}
		}
		m := map[string]string{}
		for k := range form {
			if k != "access_token" {
				m[k] = form.Get(k)
			}
		}
		b, _ = json.Marshal(m)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return in, cloudapi.Invalid(ute.Field, "expected a "+ute.Type.String())
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return in, cloudapi.Unexpected(strings.Trim(name, `"`), "")
		}
		return in, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: %v", err)
	}
	return in, nil
}

// apply sets the given fields on p.
func (in productBody) apply(p *commerce.Product) { in.patch().Apply(p) }

// patch is the body as a change of the given fields.
func (in productBody) patch() commerce.Patch {
	c := commerce.Patch{RetailerID: in.RetailerID, Name: in.Name, Description: in.Description, Currency: in.Currency,
		Availability: in.Availability, Condition: in.Condition, Brand: in.Brand, Category: in.Category, URL: in.URL,
		ImageURL: in.ImageURL, ItemGroupID: in.GroupID}
	if in.Price != nil {
		c.Price = &in.Price.v
	}
	if in.SalePrice != nil {
		c.SalePrice = &in.SalePrice.v
	}
	if in.Inventory != nil {
		n := int(max(min(in.Inventory.v, commerce.MaxInventory+1), -1))
		c.Inventory = &n
	}
	return c
}

// productFieldNames are the fields a product has in the API, in order.
var productFieldNames = []string{"id", "retailer_id", "name", "description", "price", "currency", "sale_price", "availability",
	"condition", "brand", "category", "url", "image_url", "retailer_product_group_id", "inventory"}

// productFields reads the fields parameter; empty means all of them.
func productFields(s string) ([]string, *cloudapi.Error) {
	if strings.TrimSpace(s) == "" {
		return productFieldNames, nil
	}
	fs, cerr := parseFields(s, productFieldNames, "ProductItem")
	if cerr != nil {
		return nil, cerr
	}
	out := []string{"id"}
	for _, f := range fs {
		if f != "id" {
			out = append(out, f)
		}
	}
	return out, nil
}

// productJSON is a product in the API's shape, with the fields asked for;
// prices are integers in minor units, as they are given.
func productJSON(p commerce.Product, fields []string) map[string]any {
	all := map[string]any{"id": p.ID, "retailer_id": p.RetailerID, "name": p.Name, "description": p.Description,
		"price": p.Price, "currency": p.Currency, "sale_price": p.SalePrice, "availability": p.Availability,
		"condition": p.Condition, "brand": p.Brand, "category": p.Category, "url": p.URL, "image_url": p.ImageURL,
		"retailer_product_group_id": p.ItemGroupID, "inventory": p.Inventory}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		out[f] = all[f]
	}
	return out
}

// failCommerce answers a commerce error: a wrong field names the
// parameter (131008 when missing, 131009 when not valid), an unknown
// object is 100 with subcode 33.
func (a *API) failCommerce(w http.ResponseWriter, err error, id kontor.ID) {
	var fe *commerce.FieldError
	switch {
	case errors.As(err, &fe) && fe.Reason == "required":
		a.fail(w, cloudapi.Missing(fe.Field))
	case errors.As(err, &fe):
		a.fail(w, cloudapi.Invalid(fe.Field, fe.Reason))
	case kontor.KindOf(err) == kontor.NotFound:
		a.fail(w, notFound(id))
	default:
		a.failErr(w, err)
	}
}
