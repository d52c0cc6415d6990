package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// productsPerPage is how many products a page of the catalog lists.
const productsPerPage = 25

// mountCatalog adds the catalog and inventory pages.
func (c *Console) mountCatalog(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/catalog", c.user(c.withShelf(consoleauth.ViewCatalog, c.catalog)))
	mux.Handle("POST /console/catalog/catalogs", c.post(c.createCatalog))
	mux.HandleFunc("GET /console/catalog/products/new", c.user(c.withCatalog(consoleauth.EditCatalog, c.newProduct)))
	mux.Handle("POST /console/catalog/products", c.post(c.withCatalog(consoleauth.EditCatalog, c.createProduct)))
	mux.HandleFunc("GET /console/catalog/products/{id}", c.user(c.withProduct(consoleauth.ViewCatalog, c.product)))
	mux.Handle("POST /console/catalog/products/{id}", c.post(c.withProduct(consoleauth.EditCatalog, c.saveProduct)))
	mux.Handle("POST /console/catalog/products/{id}/delete", c.post(c.withProduct(consoleauth.EditCatalog, c.deleteProduct)))
	mux.HandleFunc("GET /console/catalog/export", c.user(c.withCatalog(consoleauth.ViewCatalog, c.export)))
	mux.HandleFunc("GET /console/catalog/import", c.user(c.withCatalog(consoleauth.EditCatalog, c.importPage)))
	mux.Handle("POST /console/catalog/import", c.postFile(maxFeed, "The feed file is too large: it can have at most 64 MB. Split it into parts and import each.",
		c.withCatalog(consoleauth.EditCatalog, c.startImport)))
	mux.HandleFunc("GET /console/catalog/imports/{id}", c.user(c.importJobPage))
	mux.HandleFunc("GET /console/inventory", c.user(c.withShelf(consoleauth.ViewCatalog, c.inventory)))
	mux.HandleFunc("GET /console/inventory/{id}", c.user(c.withProduct(consoleauth.ViewCatalog, c.stockPage)))
	mux.Handle("POST /console/inventory/{id}/adjust", c.post(c.withProduct(consoleauth.AdjustStock, c.adjust)))
	mux.Handle("POST /console/inventory/{id}/threshold", c.post(c.withProduct(consoleauth.EditCatalog, c.setThreshold)))
}

// catalogFuncs are the template functions of the catalog pages.
func catalogFuncs() map[string]any {
	return map[string]any{
		"money": func(v int64, currency string) string { return commerce.FormatPrice(v, currency) },
		"amount": func(v int64, currency string) string {
			if v == 0 {
				return ""
			}
			return commerce.FormatAmount(v, currency)
		},
		"signed": func(n int) string { return fmt.Sprintf("%+d", n) },
		"reason": func(r string) string { return reasonWords[r] },
		"choice": func(name, label, value string, options []string, fe business.FieldErrors) choiceView {
			return choiceView{Name: name, Label: label, Value: value, Options: options, Err: fe.Of(name)}
		},
		"pct": func(n, of int64) int64 {
			if of <= 0 {
				return 0
			}
			return min(100, n*100/of)
		},
	}
}

// choiceView is one labelled select with its error.
type choiceView struct {
	Name, Label, Value, Err string
	Options                 []string
}

// shelf is the catalog a page is about, with the business's others.
type shelf struct {
	Catalogs []commerce.Catalog
	Catalog  commerce.Catalog
	Edit     bool // the user may edit the catalog
	Adjust   bool // the user may adjust stock
}

// chosenCatalog returns the business's catalogs and the one asked for by
// id, or the first; ok is false when the business has none (and id is
// empty).
func (c *Console) chosenCatalog(rq *req, id string) (shelf, bool, error) {
	s := shelf{Edit: consoleauth.Can(rq.user.Role, consoleauth.EditCatalog), Adjust: consoleauth.Can(rq.user.Role, consoleauth.AdjustStock)}
	cs, err := c.shop.Catalogs(rq.r.Context(), rq.biz.ID)
	if err != nil {
		return s, false, err
	}
	s.Catalogs = cs
	if id == "" {
		if len(cs) == 0 {
			return s, false, nil
		}
		s.Catalog = cs[0]
		return s, true, nil
	}
	for _, ct := range cs {
		if ct.ID.String() == id {
			s.Catalog = ct
			return s, true, nil
		}
	}
	return s, false, kontor.Errorf(kontor.NotFound, "console.catalog", "The business has no such catalog.")
}

// ownProduct returns a product of one of the business's catalogs, with
// its catalog; any other is not found.
func (c *Console) ownProduct(rq *req, id string) (commerce.Product, shelf, error) {
	const op = "console.product"
	notFound := kontor.Errorf(kontor.NotFound, op, "There is no such product in the business's catalogs. It may have been deleted.")
	pid, err := kontor.ParseID(id)
	if err != nil {
		return commerce.Product{}, shelf{}, notFound
	}
	p, err := c.shop.Product(rq.r.Context(), pid)
	if kontor.KindOf(err) == kontor.NotFound {
		return p, shelf{}, notFound
	}
	if err != nil {
		return p, shelf{}, err
	}
	s, _, err := c.chosenCatalog(rq, p.Catalog.String())
	if kontor.KindOf(err) == kontor.NotFound {
		return commerce.Product{}, shelf{}, notFound
	}
	return p, s, err
}

// withShelf wraps a page or form about one of the business's catalogs,
// the one its catalog parameter names (of the query, or of the form of a
// POST) or the first: the user may do a, and a catalog named is the
// business's. has is false when the business has no catalog (and none
// is named).
func (c *Console) withShelf(a consoleauth.Action, h func(rq *req, s shelf, has bool)) func(*req) {
	return func(rq *req) {
		if !rq.allow(c, a) {
			return
		}
		id := rq.r.URL.Query().Get("catalog")
		if rq.r.Method == http.MethodPost {
			id = rq.r.PostForm.Get("catalog")
		}
		s, has, err := c.chosenCatalog(rq, id)
		if err != nil {
			c.fail(rq.w, rq.r, err)
			return
		}
		h(rq, s, has)
	}
}

// withCatalog is withShelf for pages and forms that need a catalog: a
// business without one is told to make one.
func (c *Console) withCatalog(a consoleauth.Action, h func(rq *req, s shelf)) func(*req) {
	return c.withShelf(a, func(rq *req, s shelf, has bool) {
		if !has {
			c.fail(rq.w, rq.r, kontor.Errorf(kontor.NotFound, "console.catalog", "The business has no catalog yet. Make one on the catalog page first."))
			return
		}
		h(rq, s)
	})
}

// withProduct wraps a page or form of one product, the one of the path's
// id: the user may do a, and the product is in one of the business's
// catalogs (s is its catalog).
func (c *Console) withProduct(a consoleauth.Action, h func(rq *req, p commerce.Product, s shelf)) func(*req) {
	return func(rq *req) {
		if !rq.allow(c, a) {
			return
		}
		p, s, err := c.ownProduct(rq, rq.r.PathValue("id"))
		if err != nil {
			c.fail(rq.w, rq.r, err)
			return
		}
		h(rq, p, s)
	}
}

// catalogData fills the catalog page.
type catalogData struct {
	shelf
	Has      bool // the business has a catalog
	Products []commerce.Product
	Query    string
	Prev     template.URL // the link to the previous page, or ""
	Next     template.URL
	Pictures map[kontor.ID]string // product → the path of its picture kept here
}

func (c *Console) catalog(rq *req, s shelf, has bool) {
	q := rq.r.URL.Query()
	d := catalogData{shelf: s, Has: has, Query: strings.TrimSpace(q.Get("q"))}
	pg := rq.page("Catalog", "catalog")
	if !has {
		pg.Data = d
		c.render(rq.w, rq.r, http.StatusOK, "catalog", pg)
		return
	}
	page := commerce.Page{Limit: productsPerPage}
	var status int
	var err error
	link := func(k string, id kontor.ID) template.URL {
		v := url.Values{"catalog": {s.Catalog.ID.String()}, k: {id.String()}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		return pageLink("/console/catalog", v)
	}
	page.After, page.Before, err = cursors(q)
	switch {
	case err != nil:
	default:
		// A search pages like the whole catalog: the store's search
		// index gives one page of matches in id order.
		var more bool
		page.Query = d.Query
		d.Products, more, err = c.shop.Products(rq.r.Context(), s.Catalog.ID, page)
		if err == nil && len(d.Products) > 0 {
			first, last := d.Products[0].ID, d.Products[len(d.Products)-1].ID
			if (page.Before != 0 && more) || page.After != 0 {
				d.Prev = link("before", first)
			}
			if (page.Before == 0 && more) || page.Before != 0 {
				d.Next = link("after", last)
			}
		}
	}
	if err != nil {
		status, pg.Error = c.message(err)
		d.Products = nil
	} else {
		status = http.StatusOK
	}
	for _, p := range d.Products {
		if src := c.picture(rq.r, p.ImageURL); src != "" {
			if d.Pictures == nil {
				d.Pictures = map[kontor.ID]string{}
			}
			d.Pictures[p.ID] = src
		}
	}
	pg.Data = d
	c.render(rq.w, rq.r, status, "catalog", pg)
}

// pageLink is a link to a page of a list: a fixed path and a query made
// by url.Values, so it is safe to use as is (html/template would otherwise
// escape the query's & and = as part of one value).
func pageLink(path string, q url.Values) template.URL {
	return template.URL(path + "?" + q.Encode())
}

// cursors reads the after and before of a paged list.
func cursors(q url.Values) (after, before kontor.ID, err error) {
	for _, c := range []struct {
		name string
		dst  *kontor.ID
	}{{"after", &after}, {"before", &before}} {
		if v := q.Get(c.name); v != "" {
			if *c.dst, err = kontor.ParseID(v); err != nil {
				return 0, 0, kontor.Errorf(kontor.Invalid, "console.page", "The page link is damaged. Go back to the first page.")
			}
		}
	}
	return after, before, nil
}

func (c *Console) createCatalog(rq *req) {
	if !rq.allow(c, consoleauth.EditCatalog) {
		return
	}
	ct, err := c.shop.CreateCatalog(rq.r.Context(), rq.biz.ID, rq.r.PostForm.Get("name"))
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.log.Info("console catalog created", "business", rq.biz.ID, "user", rq.user.ID, "catalog", ct.ID)
	rq.redirect("/console/catalog", "catalog&catalog="+ct.ID.String())
}

// productForm is the product form as typed, with what the page shows
// beside it.
type productForm struct {
	shelf
	Product  commerce.Product // the stored product (edit) or zero (new)
	New      bool
	Variants []commerce.Product // others of its item group

	RetailerID, Name, Description, Currency, Price, SalePrice string
	Availability, Condition, Brand, Category, URL, ImageURL   string
	Group, Inventory                                          string

	Availabilities, Conditions []string

	Picture  string // the path of the product's picture kept here, or ""
	Pictures bool   // the platform keeps pictures (MountImages)
}

func (c *Console) formOf(s shelf, p commerce.Product) productForm {
	f := productForm{shelf: s, Product: p, RetailerID: p.RetailerID, Name: p.Name, Description: p.Description, Currency: p.Currency,
		Availability: p.Availability, Condition: p.Condition, Brand: p.Brand, Category: p.Category, URL: p.URL, ImageURL: p.ImageURL,
		Group: p.ItemGroupID, Inventory: strconv.Itoa(p.Inventory)}
	if p.Currency != "" {
		f.Price = commerce.FormatAmount(p.Price, p.Currency)
		if p.SalePrice != 0 {
			f.SalePrice = commerce.FormatAmount(p.SalePrice, p.Currency)
		}
	}
	return f
}

func (f *productForm) lists() {
	f.Availabilities, f.Conditions = commerce.Availabilities, commerce.Conditions
}

// readProduct reads the product form into f and a product, checking
// every field in words a person understands.
func readProduct(form url.Values, f *productForm) (commerce.Product, business.FieldErrors) {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	f.RetailerID, f.Name, f.Description, f.Currency = get("retailer_id"), get("name"), strings.TrimSpace(form.Get("description")), strings.ToUpper(get("currency"))
	f.Price, f.SalePrice, f.Availability, f.Condition = get("price"), get("sale_price"), get("availability"), get("condition")
	f.Brand, f.Category, f.URL, f.ImageURL, f.Group = get("brand"), get("category"), get("url"), get("image_url"), get("retailer_product_group_id")
	if f.New {
		f.Inventory = get("inventory")
	}
	var errs business.FieldErrors
	add := func(field, msg string) { errs = append(errs, business.FieldError{Field: field, Msg: msg}) }
	text := func(field, v, what string, max int, required bool) {
		switch {
		case required && v == "":
			add(field, "Enter the "+what+".")
		case !utf8.ValidString(v):
			add(field, "The "+what+" has characters that cannot be read.")
		case utf8.RuneCountInString(v) > max:
			add(field, fmt.Sprintf("The %s can have at most %d characters; it has %d.", what, max, utf8.RuneCountInString(v)))
		case field != "description" && strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
			add(field, "The "+what+" cannot have line breaks or tabs.")
		}
	}
	text("retailer_id", f.RetailerID, "retailer id", commerce.MaxRetailerID, true)
	text("name", f.Name, "name", commerce.MaxName, true)
	text("description", f.Description, "description", commerce.MaxDescription, false)
	p := commerce.Product{RetailerID: f.RetailerID, Name: f.Name, Description: f.Description, Currency: f.Currency,
		Availability: f.Availability, Condition: f.Condition, Brand: f.Brand, Category: f.Category, URL: f.URL, ImageURL: f.ImageURL,
		ItemGroupID: f.Group}
	exp, known := commerce.Exponent(f.Currency)
	switch {
	case f.Currency == "":
		add("currency", "Enter the currency as its three-letter code, such as EUR or USD.")
	case !known:
		add("currency", fmt.Sprintf("%q is not a currency code kontor knows; use an ISO 4217 code such as EUR, USD or JPY.", f.Currency))
	}
	amount := func(field, v, what string) int64 {
		n, err := commerce.ParseAmount(v, exp)
		if err != nil {
			add(field, "The "+what+" is not an amount: "+err.Error()+".")
		}
		return n
	}
	switch {
	case f.Price == "":
		add("price", "Enter the price, such as 9.99.")
	case known:
		p.Price = amount("price", f.Price, "price")
	}
	if f.SalePrice != "" && known {
		p.SalePrice = amount("sale_price", f.SalePrice, "sale price")
		if p.SalePrice != 0 && errs.Of("price") == "" && p.SalePrice >= p.Price {
			add("sale_price", "The sale price must be lower than the price. Leave it empty when the product is not on sale.")
		}
	}
	if !contains(commerce.Availabilities, f.Availability) {
		add("availability", "Choose the availability from the list.")
	}
	if !contains(commerce.Conditions, f.Condition) {
		add("condition", "Choose the condition from the list.")
	}
	text("brand", f.Brand, "brand", commerce.MaxBrand, false)
	text("category", f.Category, "category", commerce.MaxCategory, false)
	for _, u := range []struct{ field, v, what string }{{"url", f.URL, "product page"}, {"image_url", f.ImageURL, "image address"}} {
		if u.v == "" {
			continue
		}
		pu, err := url.Parse(u.v)
		if len(u.v) > commerce.MaxURL || err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add(u.field, fmt.Sprintf("The %s is not a web address; write it in full, starting with https://.", u.what))
		}
	}
	text("retailer_product_group_id", f.Group, "variant group", commerce.MaxRetailerID, false)
	if f.New {
		n, err := strconv.Atoi(f.Inventory)
		if f.Inventory == "" {
			n, err = 0, nil
		}
		if err != nil || n < 0 || n > commerce.MaxInventory {
			add("inventory", fmt.Sprintf("Enter the units in stock as a whole number from 0 to %d.", commerce.MaxInventory))
		}
		p.Inventory = n
	}
	return p, errs
}

func fieldErr(field, msg string) business.FieldError {
	return business.FieldError{Field: field, Msg: msg}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// saveError turns the service's answer to a product form into field
// errors where it names a field.
func (c *Console) saveError(err error) (int, string, business.FieldErrors) {
	status, msg := c.message(err)
	var fe *commerce.FieldError
	switch {
	case kontor.KindOf(err) == kontor.Conflict:
		return status, "The product is not saved.", business.FieldErrors{{Field: "retailer_id", Msg: "Another product of the catalog has this retailer id; choose another."}}
	case errors.As(err, &fe):
		field := fe.Field
		if field == "inventory" {
			field = "price" // not on the form; should not happen
		}
		return status, "The product is not saved.", business.FieldErrors{{Field: field, Msg: "This is not accepted: " + fe.Reason + "."}}
	}
	return status, msg, nil
}

func (c *Console) productPage(rq *req, status int, f productForm, pg Page) {
	f.lists()
	f.Picture, f.Pictures = c.picture(rq.r, f.Product.ImageURL), c.pictures != nil
	if !f.New && f.Product.ItemGroupID != "" {
		vs, _, err := c.shop.Products(rq.r.Context(), f.Product.Catalog, commerce.Page{Group: f.Product.ItemGroupID, Limit: 50})
		if err != nil {
			c.fail(rq.w, rq.r, err)
			return
		}
		for _, v := range vs {
			if v.ID != f.Product.ID {
				f.Variants = append(f.Variants, v)
			}
		}
	}
	pg.Data = f
	c.render(rq.w, rq.r, status, "product", pg)
}

func (c *Console) newProduct(rq *req, s shelf) {
	f := c.formOf(s, commerce.Product{Availability: "in stock", Condition: "new"})
	f.New, f.Inventory = true, "0"
	// The currency of the catalog's first product, as a start.
	if ps, _, err := c.shop.Products(rq.r.Context(), s.Catalog.ID, commerce.Page{Limit: 1}); err == nil && len(ps) == 1 {
		f.Currency = ps[0].Currency
	}
	if g := rq.r.URL.Query().Get("group"); g != "" && utf8.RuneCountInString(g) <= commerce.MaxRetailerID {
		f.Group = g
	}
	c.productPage(rq, http.StatusOK, f, rq.page("New product", "catalog"))
}

func (c *Console) createProduct(rq *req, s shelf) {
	f := productForm{shelf: s, New: true}
	p, errs := readProduct(rq.r.PostForm, &f)
	pg := rq.page("New product", "catalog")
	if len(errs) > 0 {
		pg.Error, pg.Fields = "The product is not saved. Please correct what is marked below.", errs
		c.productPage(rq, http.StatusBadRequest, f, pg)
		return
	}
	made, err := c.shop.CreateProduct(rq.r.Context(), s.Catalog.ID, p)
	if err != nil {
		var status int
		status, pg.Error, pg.Fields = c.saveError(err)
		c.productPage(rq, status, f, pg)
		return
	}
	c.log.Info("console product created", "business", rq.biz.ID, "user", rq.user.ID, "product", made.ID)
	rq.redirect("/console/catalog/products/"+made.ID.String(), "product-created")
}

func (c *Console) product(rq *req, p commerce.Product, s shelf) {
	c.productPage(rq, http.StatusOK, c.formOf(s, p), rq.page(p.Name, "catalog"))
}

func (c *Console) saveProduct(rq *req, old commerce.Product, s shelf) {
	f := c.formOf(s, old)
	p, errs := readProduct(rq.r.PostForm, &f)
	pg := rq.page(old.Name, "catalog")
	if len(errs) > 0 {
		pg.Error, pg.Fields = "The product is not saved. Please correct what is marked below.", errs
		c.productPage(rq, http.StatusBadRequest, f, pg)
		return
	}
	patch := commerce.Patch{RetailerID: &p.RetailerID, Name: &p.Name, Description: &p.Description, Currency: &p.Currency,
		Availability: &p.Availability, Condition: &p.Condition, Brand: &p.Brand, Category: &p.Category, URL: &p.URL,
		ImageURL: &p.ImageURL, ItemGroupID: &p.ItemGroupID, Price: &p.Price, SalePrice: &p.SalePrice}
	if _, err := c.shop.UpdateProduct(rq.r.Context(), old.ID, patch); err != nil {
		var status int
		status, pg.Error, pg.Fields = c.saveError(err)
		c.productPage(rq, status, f, pg)
		return
	}
	if p.ImageURL != old.ImageURL {
		c.dropPicture(rq, old.ImageURL)
	}
	c.log.Info("console product changed", "business", rq.biz.ID, "user", rq.user.ID, "product", old.ID)
	rq.redirect("/console/catalog/products/"+old.ID.String(), "product")
}

func (c *Console) deleteProduct(rq *req, p commerce.Product, s shelf) {
	if rq.r.PostForm.Get("confirm") != "yes" {
		pg := rq.page(p.Name, "catalog")
		pg.Error = "The product is not deleted. Tick “Yes, delete this product” to confirm."
		pg.Fields = business.FieldErrors{{Field: "confirm", Msg: "Tick the box to confirm that the product is to be deleted."}}
		c.productPage(rq, http.StatusBadRequest, c.formOf(s, p), pg)
		return
	}
	if err := c.shop.DeleteProduct(rq.r.Context(), p.ID); err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.dropPicture(rq, p.ImageURL)
	c.log.Info("console product deleted", "business", rq.biz.ID, "user", rq.user.ID, "product", p.ID)
	rq.redirect("/console/catalog", "product-deleted&catalog="+s.Catalog.ID.String())
}

func (c *Console) export(rq *req, s shelf) {
	format := rq.r.URL.Query().Get("format")
	if format == "" {
		format = commerce.FormatCSV
	}
	if format != commerce.FormatCSV && format != commerce.FormatTSV && format != commerce.FormatXML {
		c.fail(rq.w, rq.r, kontor.Errorf(kontor.Invalid, "console.export", "Choose the format of the export: CSV, TSV or XML."))
		return
	}
	types := map[string]string{commerce.FormatCSV: "text/csv", commerce.FormatTSV: "text/tab-separated-values", commerce.FormatXML: "application/xml"}
	h := rq.w.Header()
	h.Set("Content-Type", types[format]+"; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="catalog-%s.%s"`, s.Catalog.ID, format))
	h.Set("X-Content-Type-Options", "nosniff")
	if err := c.shop.Export(rq.r.Context(), s.Catalog.ID, rq.w, format); err != nil {
		// The header is sent; the download ends short, which the browser shows.
		c.log.Warn("console export", "business", rq.biz.ID, "catalog", s.Catalog.ID, "err", err)
	}
}
