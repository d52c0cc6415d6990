package commerce

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
)

// Catalog is a business's product catalog.
type Catalog struct {
	ID       kontor.ID
	Business kontor.ID
	Name     string
	Created  time.Time
}

// Settings are the commerce settings of a business phone number, as in
// the public whatsapp_commerce_settings: whether people see the catalog
// in the chat and whether they can fill a cart. Both are off until the
// business turns them on.
type Settings struct {
	CatalogVisible bool
	CartEnabled    bool
}

// Availability values, as in the public catalog API and feeds.
var Availabilities = []string{"in stock", "out of stock", "preorder", "available for order", "discontinued"}

// Conditions, as in the public catalog API and feeds.
var Conditions = []string{"new", "refurbished", "used", "used_like_new", "used_good", "used_fair"}

// Product is an item in a catalog.
type Product struct {
	ID           kontor.ID
	Catalog      kontor.ID
	RetailerID   string // the business's own id, unique in the catalog
	Name         string
	Description  string
	Price        int64 // minor units of Currency
	SalePrice    int64 // minor units; 0: not on sale
	Currency     string
	Availability string
	Condition    string
	Brand        string
	Category     string
	URL          string
	ImageURL     string
	ItemGroupID  string // variants of one product share it
	Inventory    int    // units in stock for selling in the chat
	Created      time.Time
	Updated      time.Time
}

// UnitPrice is what one item costs now: the sale price when there is one.
func (p Product) UnitPrice() int64 {
	if p.SalePrice > 0 {
		return p.SalePrice
	}
	return p.Price
}

// Limits of product fields.
const (
	MaxRetailerID  = 100
	MaxName        = 200
	MaxDescription = 9999
	MaxBrand       = 100
	MaxCategory    = 250
	MaxURL         = 2048
	MaxInventory   = 1_000_000_000
)

// FieldError says which field of a product is wrong and why. Field is the
// API's name of it (retailer_id, name, price…).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// invalid wraps a field error as a kontor Invalid error.
func invalid(op string, fe *FieldError) error {
	return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: fmt.Sprintf("parameter %s is not valid: %s", fe.Field, fe.Reason), Err: fe}
}

// Normalize fills the defaults (availability "in stock", condition "new"),
// upper-cases the currency and trims the text fields.
func (p *Product) Normalize() {
	for _, s := range []*string{&p.RetailerID, &p.Name, &p.Brand, &p.Category, &p.URL, &p.ImageURL, &p.ItemGroupID} {
		*s = strings.TrimSpace(*s)
	}
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	p.Availability = strings.ToLower(strings.TrimSpace(p.Availability))
	p.Condition = strings.ToLower(strings.TrimSpace(p.Condition))
	if p.Availability == "" {
		p.Availability = "in stock"
	}
	if p.Condition == "" {
		p.Condition = "new"
	}
}

// Validate checks a normalized product; the error names the first wrong
// field.
func (p *Product) Validate() *FieldError {
	text := []struct {
		field, v string
		max      int
		required bool
	}{
		{"retailer_id", p.RetailerID, MaxRetailerID, true},
		{"name", p.Name, MaxName, true},
		{"description", p.Description, MaxDescription, false},
		{"brand", p.Brand, MaxBrand, false},
		{"category", p.Category, MaxCategory, false},
		{"retailer_product_group_id", p.ItemGroupID, MaxRetailerID, false},
	}
	for _, t := range text {
		if t.required && t.v == "" {
			return &FieldError{t.field, "required"}
		}
		if !utf8.ValidString(t.v) {
			return &FieldError{t.field, "not valid UTF-8"}
		}
		if n := utf8.RuneCountInString(t.v); n > t.max {
			return &FieldError{t.field, fmt.Sprintf("at most %d characters, got %d", t.max, n)}
		}
		if t.field != "description" && strings.ContainsFunc(t.v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return &FieldError{t.field, "control characters are not allowed"}
		}
	}
	if p.Currency == "" {
		return &FieldError{"currency", "required"}
	}
	if _, ok := Exponent(p.Currency); !ok {
		return &FieldError{"currency", fmt.Sprintf("%q is not an ISO 4217 currency code", p.Currency)}
	}
	if p.Price < 0 || p.Price > MaxPrice {
		return &FieldError{"price", fmt.Sprintf("an integer in minor units from 0 to %d", int64(MaxPrice))}
	}
	if p.SalePrice < 0 || p.SalePrice > MaxPrice {
		return &FieldError{"sale_price", "an integer in minor units, 0 for none"}
	}
	if p.SalePrice != 0 && p.SalePrice >= p.Price {
		return &FieldError{"sale_price", "must be lower than the price"}
	}
	if !contains(Availabilities, p.Availability) {
		return &FieldError{"availability", fmt.Sprintf("%q is not one of %s", p.Availability, quoted(Availabilities))}
	}
	if !contains(Conditions, p.Condition) {
		return &FieldError{"condition", fmt.Sprintf("%q is not one of %s", p.Condition, quoted(Conditions))}
	}
	for _, u := range []struct{ field, v string }{{"url", p.URL}, {"image_url", p.ImageURL}} {
		if u.v == "" {
			continue
		}
		if len(u.v) > MaxURL {
			return &FieldError{u.field, fmt.Sprintf("at most %d bytes", MaxURL)}
		}
		pu, err := url.Parse(u.v)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return &FieldError{u.field, fmt.Sprintf("%q is not an http(s) URL", u.v)}
		}
	}
	if p.Inventory < 0 || p.Inventory > MaxInventory {
		return &FieldError{"inventory", fmt.Sprintf("a quantity from 0 to %d", MaxInventory)}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func quoted(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// ProductFields are the names of a product's fields, as the API and
// UpsertProducts call them (the retailer id is the key, not a field).
var ProductFields = []string{"name", "description", "price", "currency", "sale_price", "availability", "condition",
	"brand", "category", "url", "image_url", "retailer_product_group_id", "inventory"}

// Page asks for a page of products in id order: after or before a cursor
// (at most one), at most Limit of them. Query, when set, keeps the
// products that have, for each of its words, a word of their name or
// retailer id beginning with it (case and accents ignored; see
// SearchQuery), found through the store's search index; Group keeps the
// variants of one item group.
type Page struct {
	After, Before kontor.ID
	Limit         int
	Query         string
	Group         string
}

// MaxQuery is the longest product search.
const MaxQuery = 100

// Store keeps catalogs and products. Implemented by internal/store.
type Store interface {
	CreateCatalog(ctx context.Context, c Catalog) error
	Catalog(ctx context.Context, id kontor.ID) (Catalog, error)
	// Catalogs lists a business's catalogs, oldest first.
	Catalogs(ctx context.Context, business kontor.ID) ([]Catalog, error)
	// CreateProduct stores a new product; a retailer id taken in the
	// catalog is a Conflict.
	CreateProduct(ctx context.Context, p Product) error
	// UpsertProducts creates or replaces products by their catalog and
	// retailer id in one transaction, keeping a replaced product's id and
	// created time; it returns how many were new. When fields (API names
	// from ProductFields) is not nil, an existing product changes only in
	// those fields (and a sale price that the new price or currency
	// makes wrong is dropped).
	UpsertProducts(ctx context.Context, ps []Product, fields []string) (created int, err error)
	Product(ctx context.Context, id kontor.ID) (Product, error)
	// ProductByRetailerID finds a product by its catalog and retailer id.
	ProductByRetailerID(ctx context.Context, catalog kontor.ID, retailerID string) (Product, error)
	// Products lists a catalog's products in id order.
	Products(ctx context.Context, catalog kontor.ID, page Page) ([]Product, error)
	// RetailerIDs maps every retailer id of a catalog to its product id.
	RetailerIDs(ctx context.Context, catalog kontor.ID) (map[string]kontor.ID, error)
	// UpdateProduct replaces a product's fields but its inventory, which
	// orders may have changed since p was read; with inventory it also
	// sets the inventory to p.Inventory, in the same transaction, as a
	// correction in the stock history.
	UpdateProduct(ctx context.Context, p Product, inventory bool) error
	DeleteProducts(ctx context.Context, catalog kontor.ID, ids []kontor.ID) (int, error)
	CommerceSettings(ctx context.Context, number kontor.ID) (Settings, error)
	PutCommerceSettings(ctx context.Context, number kontor.ID, s Settings) error
}

// Businesses finds the businesses catalogs belong to.
type Businesses interface {
	Business(ctx context.Context, id kontor.ID) (business.Business, error)
}

// Service manages catalogs and products.
type Service struct {
	store Store
	biz   Businesses
	ids   *kontor.IDs
	clock kontor.Clock
}

// New returns the service.
func New(store Store, biz Businesses, ids *kontor.IDs, clock kontor.Clock) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Service{store: store, biz: biz, ids: ids, clock: clock}
}

// CreateCatalog makes a catalog for a business; the name defaults to the
// business's.
func (s *Service) CreateCatalog(ctx context.Context, biz kontor.ID, name string) (Catalog, error) {
	const op = "commerce.CreateCatalog"
	b, err := s.biz.Business(ctx, biz)
	if err != nil {
		return Catalog{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = b.Name + " catalog"
	}
	if utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		return Catalog{}, kontor.Errorf(kontor.Invalid, op, "a catalog name has at most 200 characters")
	}
	c := Catalog{ID: s.ids.Next(), Business: b.ID, Name: name, Created: s.clock.Now()}
	return c, s.store.CreateCatalog(ctx, c)
}

// Catalog returns a catalog.
func (s *Service) Catalog(ctx context.Context, id kontor.ID) (Catalog, error) {
	return s.store.Catalog(ctx, id)
}

// Catalogs lists a business's catalogs.
func (s *Service) Catalogs(ctx context.Context, business kontor.ID) ([]Catalog, error) {
	return s.store.Catalogs(ctx, business)
}

// CreateProduct adds a product to a catalog; its retailer id must be new
// there.
func (s *Service) CreateProduct(ctx context.Context, catalog kontor.ID, p Product) (Product, error) {
	const op = "commerce.CreateProduct"
	if _, err := s.store.Catalog(ctx, catalog); err != nil {
		return Product{}, err
	}
	p.Normalize()
	if fe := p.Validate(); fe != nil {
		return Product{}, invalid(op, fe)
	}
	now := s.clock.Now()
	p.ID, p.Catalog, p.Created, p.Updated = s.ids.Next(), catalog, now, now
	if err := s.store.CreateProduct(ctx, p); err != nil {
		return Product{}, err
	}
	return p, nil
}

// UpsertProduct creates or replaces the product with p's retailer id.
func (s *Service) UpsertProduct(ctx context.Context, catalog kontor.ID, p Product) (created bool, err error) {
	const op = "commerce.UpsertProduct"
	if _, err := s.store.Catalog(ctx, catalog); err != nil {
		return false, err
	}
	p.Normalize()
	if fe := p.Validate(); fe != nil {
		return false, invalid(op, fe)
	}
	now := s.clock.Now()
	p.ID, p.Catalog, p.Created, p.Updated = s.ids.Next(), catalog, now, now
	n, err := s.store.UpsertProducts(ctx, []Product{p}, nil)
	return n == 1, err
}

// Product returns a product.
func (s *Service) Product(ctx context.Context, id kontor.ID) (Product, error) {
	return s.store.Product(ctx, id)
}

// Products lists a page of a catalog's products; more says whether there
// are more in the direction asked.
func (s *Service) Products(ctx context.Context, catalog kontor.ID, page Page) (ps []Product, more bool, err error) {
	if page.After != 0 && page.Before != 0 {
		return nil, false, kontor.Errorf(kontor.Invalid, "commerce.Products", "give one of after, before")
	}
	if page.Limit <= 0 {
		page.Limit = 25
	}
	if page.Limit > 1000 {
		return nil, false, kontor.Errorf(kontor.Invalid, "commerce.Products", "limit is at most 1000")
	}
	page.Query = strings.TrimSpace(page.Query)
	if utf8.RuneCountInString(page.Query) > MaxQuery || !utf8.ValidString(page.Query) {
		return nil, false, kontor.Errorf(kontor.Invalid, "commerce.Products", "a search has at most %d characters", MaxQuery)
	}
	want := page.Limit
	page.Limit++
	ps, err = s.store.Products(ctx, catalog, page)
	if err != nil {
		return nil, false, err
	}
	if len(ps) > want {
		if page.Before != 0 {
			ps = ps[1:]
		} else {
			ps = ps[:want]
		}
		more = true
	}
	return ps, more, nil
}

// Patch changes some fields of a product; nil fields stay.
type Patch struct {
	RetailerID, Name, Description, Currency, Availability, Condition *string
	Brand, Category, URL, ImageURL, ItemGroupID                      *string
	Price, SalePrice                                                 *int64
	Inventory                                                        *int
}

// Apply sets the fields c gives on p.
func (c Patch) Apply(p *Product) {
	for _, f := range []struct {
		v   *string
		dst *string
	}{{c.RetailerID, &p.RetailerID}, {c.Name, &p.Name}, {c.Description, &p.Description}, {c.Currency, &p.Currency},
		{c.Availability, &p.Availability}, {c.Condition, &p.Condition}, {c.Brand, &p.Brand}, {c.Category, &p.Category},
		{c.URL, &p.URL}, {c.ImageURL, &p.ImageURL}, {c.ItemGroupID, &p.ItemGroupID}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if c.Price != nil {
		p.Price = *c.Price
	}
	if c.SalePrice != nil {
		p.SalePrice = *c.SalePrice
	}
	if c.Inventory != nil {
		p.Inventory = *c.Inventory
	}
}

// UpdateProduct changes a product.
func (s *Service) UpdateProduct(ctx context.Context, id kontor.ID, c Patch) (Product, error) {
	const op = "commerce.UpdateProduct"
	p, err := s.store.Product(ctx, id)
	if err != nil {
		return Product{}, err
	}
	c.Apply(&p)
	p.Normalize()
	if fe := p.Validate(); fe != nil {
		return Product{}, invalid(op, fe)
	}
	p.Updated = s.clock.Now()
	if err := s.store.UpdateProduct(ctx, p, c.Inventory != nil); err != nil {
		return Product{}, err
	}
	return p, nil
}

// DeleteProduct removes a product.
func (s *Service) DeleteProduct(ctx context.Context, id kontor.ID) error {
	p, err := s.store.Product(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.store.DeleteProducts(ctx, p.Catalog, []kontor.ID{id})
	return err
}

// Settings returns a number's commerce settings.
func (s *Service) Settings(ctx context.Context, number kontor.ID) (Settings, error) {
	return s.store.CommerceSettings(ctx, number)
}

// SetSettings changes a number's commerce settings.
func (s *Service) SetSettings(ctx context.Context, number kontor.ID, st Settings) error {
	return s.store.PutCommerceSettings(ctx, number, st)
}
