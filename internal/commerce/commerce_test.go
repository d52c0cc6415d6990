package commerce_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type accounts struct{ n int }

func (a *accounts) RegisterDirect(_ context.Context, phone, _ string) (business.Device, error) {
	a.n++
	return business.Device{Account: kontor.ID(1000 + a.n), Phone: kontor.Phone(phone), DeviceID: 1, Credential: "kd_x"}, nil
}

// env is a commerce service on SQLite with one business and its catalog.
type env struct {
	db      *store.DB
	svc     *commerce.Service
	waba    kontor.ID
	catalog kontor.ID
}

func newEnv(t testing.TB) *env { return newEnvDB(t, "") }

// eachBackend runs fn on SQLite, and on PostgreSQL when
// KONTOR_TEST_POSTGRES is set.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnvDB(t, storetest.PostgresURL(t))) })
}

func newEnvDB(t testing.TB, url string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: url, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Now()}
	ids := kontor.NewIDs(c, 1)
	biz := business.New(db, &accounts{}, ids, c, nil)
	b, err := biz.Create(ctx, business.CreateRequest{Name: "Blumen Anna", Phone: "+493010000"})
	if err != nil {
		t.Fatal(err)
	}
	svc := commerce.New(db, db, ids, c)
	cat, err := svc.CreateCatalog(ctx, b.WABAID, "")
	if err != nil {
		t.Fatal(err)
	}
	if cat.Name != "Blumen Anna catalog" || cat.Business != b.WABAID {
		t.Fatalf("catalog: %+v", cat)
	}
	return &env{db: db, svc: svc, waba: b.WABAID, catalog: cat.ID}
}

func good() commerce.Product {
	return commerce.Product{RetailerID: "rose-red", Name: "Red rose", Description: "One red rose", Price: 299, Currency: "EUR",
		Availability: "in stock", Condition: "new", Brand: "Anna", Category: "Flowers", URL: "https://anna.example/rose",
		ImageURL: "https://anna.example/rose.jpg", ItemGroupID: "rose", Inventory: 40}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		name  string
		edit  func(p *commerce.Product)
		field string // "" when valid
	}{
		{"good", func(*commerce.Product) {}, ""},
		{"defaults", func(p *commerce.Product) { p.Availability, p.Condition = "", "" }, ""},
		{"lower-case currency", func(p *commerce.Product) { p.Currency = "eur" }, ""},
		{"zero-decimal currency", func(p *commerce.Product) { p.Currency = "JPY" }, ""},
		{"no retailer id", func(p *commerce.Product) { p.RetailerID = " " }, "retailer_id"},
		{"long retailer id", func(p *commerce.Product) { p.RetailerID = long }, "retailer_id"},
		{"control in retailer id", func(p *commerce.Product) { p.RetailerID = "a\x00b" }, "retailer_id"},
		{"no name", func(p *commerce.Product) { p.Name = "" }, "name"},
		{"long name", func(p *commerce.Product) { p.Name = long }, "name"},
		{"bad UTF-8", func(p *commerce.Product) { p.Name = "\xff" }, "name"},
		{"long description", func(p *commerce.Product) { p.Description = strings.Repeat("d", 10000) }, "description"},
		{"no currency", func(p *commerce.Product) { p.Currency = "" }, "currency"},
		{"unknown currency", func(p *commerce.Product) { p.Currency = "XYZ" }, "currency"},
		{"negative price", func(p *commerce.Product) { p.Price = -1 }, "price"},
		{"huge price", func(p *commerce.Product) { p.Price = commerce.MaxPrice + 1 }, "price"},
		{"sale above price", func(p *commerce.Product) { p.SalePrice = 300 }, "sale_price"},
		{"negative sale", func(p *commerce.Product) { p.SalePrice = -5 }, "sale_price"},
		{"availability", func(p *commerce.Product) { p.Availability = "soon" }, "availability"},
		{"condition", func(p *commerce.Product) { p.Condition = "broken" }, "condition"},
		{"url scheme", func(p *commerce.Product) { p.URL = "ftp://x/y" }, "url"},
		{"image url", func(p *commerce.Product) { p.ImageURL = "rose.jpg" }, "image_url"},
		{"negative inventory", func(p *commerce.Product) { p.Inventory = -1 }, "inventory"},
		{"huge inventory", func(p *commerce.Product) { p.Inventory = commerce.MaxInventory + 1 }, "inventory"},
	} {
		p := good()
		tc.edit(&p)
		p.Normalize()
		fe := p.Validate()
		switch {
		case tc.field == "" && fe != nil:
			t.Errorf("%s: %v", tc.name, fe)
		case tc.field != "" && (fe == nil || fe.Field != tc.field || fe.Reason == ""):
			t.Errorf("%s: got %v, want an error on %s", tc.name, fe, tc.field)
		}
	}
}

func TestProducts(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p, err := e.svc.CreateProduct(ctx, e.catalog, good())
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Product(ctx, p.ID)
		if err != nil || got.RetailerID != "rose-red" || got.Price != 299 || got.Inventory != 40 || got.Catalog != e.catalog {
			t.Fatalf("product: %+v %v", got, err)
		}
		if _, err := e.svc.CreateProduct(ctx, e.catalog, good()); kontor.KindOf(err) != kontor.Conflict {
			t.Fatalf("duplicate retailer id: %v", err)
		}
		bad := good()
		bad.RetailerID, bad.Currency = "x", "XYZ"
		if _, err := e.svc.CreateProduct(ctx, e.catalog, bad); kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), "currency") {
			t.Fatalf("bad currency: %v", err)
		}
		if _, err := e.svc.CreateProduct(ctx, 12345, good()); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("unknown catalog: %v", err)
		}
		name, price := "Dark red rose", int64(349)
		up, err := e.svc.UpdateProduct(ctx, p.ID, commerce.Patch{Name: &name, Price: &price})
		if err != nil || up.Name != name || up.Price != 349 || up.Brand != "Anna" {
			t.Fatalf("update: %+v %v", up, err)
		}
		neg := -3
		if _, err := e.svc.UpdateProduct(ctx, p.ID, commerce.Patch{Inventory: &neg}); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("negative inventory: %v", err)
		}
		created, err := e.svc.UpsertProduct(ctx, e.catalog, good())
		if err != nil || created {
			t.Fatalf("upsert of an existing retailer id: %v %v", created, err)
		}
		if got, _ := e.svc.Product(ctx, p.ID); got.Name != "Red rose" || got.Price != 299 {
			t.Fatalf("upsert did not replace the product under its id: %+v", got)
		}
		// Paging, both ways.
		for i := range 6 {
			q := good()
			q.RetailerID = "tulip-" + string(rune('a'+i))
			if _, err := e.svc.CreateProduct(ctx, e.catalog, q); err != nil {
				t.Fatal(err)
			}
		}
		var all []string
		page := commerce.Page{Limit: 3}
		for {
			ps, more, err := e.svc.Products(ctx, e.catalog, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				all = append(all, p.RetailerID)
			}
			if !more {
				break
			}
			page.After = ps[len(ps)-1].ID
		}
		if strings.Join(all, ",") != "rose-red,tulip-a,tulip-b,tulip-c,tulip-d,tulip-e,tulip-f" {
			t.Fatalf("pages: %v", all)
		}
		ps, more, _ := e.svc.Products(ctx, e.catalog, commerce.Page{Limit: 3})
		back, moreBack, err := e.svc.Products(ctx, e.catalog, commerce.Page{Before: ps[2].ID, Limit: 1})
		if err != nil || !more || !moreBack || len(back) != 1 || back[0].ID != ps[1].ID {
			t.Fatalf("before: %+v %v %v", back, moreBack, err)
		}
		if err := e.svc.DeleteProduct(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Product(ctx, p.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("deleted product: %v", err)
		}
		if err := e.svc.DeleteProduct(ctx, p.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("deleting again: %v", err)
		}
		if _, err := e.svc.CreateCatalog(ctx, 999, "x"); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("catalog of an unknown business: %v", err)
		}
	})
}

func TestSettings(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s, err := e.svc.Settings(ctx, 77)
		if err != nil || s.CartEnabled || s.CatalogVisible {
			t.Fatalf("defaults: %+v %v", s, err)
		}
		if err := e.svc.SetSettings(ctx, 77, commerce.Settings{CatalogVisible: true, CartEnabled: true}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetSettings(ctx, 77, commerce.Settings{CatalogVisible: true}); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.svc.Settings(ctx, 77); !s.CatalogVisible || s.CartEnabled {
			t.Fatalf("settings: %+v", s)
		}
	})
}
