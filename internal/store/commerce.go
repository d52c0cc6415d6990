package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

func init() {
	addMigration("commerce 1", migration{sql: `
CREATE TABLE catalogs (
	id          BIGINT PRIMARY KEY,
	business_id BIGINT NOT NULL,
	name        TEXT NOT NULL,
	created     BIGINT NOT NULL
);
CREATE INDEX catalogs_business ON catalogs (business_id);
CREATE TABLE products (
	id            BIGINT PRIMARY KEY,
	catalog_id    BIGINT NOT NULL,
	retailer_id   TEXT NOT NULL,
	name          TEXT NOT NULL,
	description   TEXT NOT NULL,
	price         BIGINT NOT NULL,
	sale_price    BIGINT NOT NULL,
	currency      TEXT NOT NULL,
	availability  TEXT NOT NULL,
	condition     TEXT NOT NULL,
	brand         TEXT NOT NULL,
	category      TEXT NOT NULL,
	url           TEXT NOT NULL,
	image_url     TEXT NOT NULL,
	item_group_id TEXT NOT NULL,
	inventory     INTEGER NOT NULL,
	created       BIGINT NOT NULL,
	updated       BIGINT NOT NULL,
	UNIQUE (catalog_id, retailer_id)
);
CREATE TABLE commerce_settings (
	number_id       BIGINT PRIMARY KEY,
	catalog_visible BOOLEAN NOT NULL,
	cart_enabled    BOOLEAN NOT NULL
);
`})
}

// CreateCatalog stores a catalog.
func (db *DB) CreateCatalog(ctx context.Context, c commerce.Catalog) error {
	return db.tx(ctx, "store.CreateCatalog", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO catalogs (id, business_id, name, created) VALUES ($1,$2,$3,$4)`,
			int64(c.ID), int64(c.Business), c.Name, ms(c.Created))
		return err
	})
}

// Catalog returns a catalog.
func (db *DB) Catalog(ctx context.Context, id kontor.ID) (commerce.Catalog, error) {
	var c commerce.Catalog
	var cid, biz, created int64
	err := db.readRow(ctx, `SELECT id, business_id, name, created FROM catalogs WHERE id = $1`, int64(id)).Scan(&cid, &biz, &c.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("store.Catalog", "no catalog %s", id)
	}
	if err != nil {
		return c, internal("store.Catalog", err)
	}
	c.ID, c.Business, c.Created = kontor.ID(cid), kontor.ID(biz), time.UnixMilli(created)
	return c, nil
}

// Catalogs lists a business's catalogs.
func (db *DB) Catalogs(ctx context.Context, biz kontor.ID) ([]commerce.Catalog, error) {
	rows, err := db.readRows(ctx, `SELECT id, business_id, name, created FROM catalogs WHERE business_id = $1 ORDER BY id`, int64(biz))
	if err != nil {
		return nil, internal("store.Catalogs", err)
	}
	defer rows.Close()
	var out []commerce.Catalog
	for rows.Next() {
		var c commerce.Catalog
		var id, b, created int64
		if err := rows.Scan(&id, &b, &c.Name, &created); err != nil {
			return nil, internal("store.Catalogs", err)
		}
		c.ID, c.Business, c.Created = kontor.ID(id), kontor.ID(b), time.UnixMilli(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.Catalogs", err)
	}
	return out, nil
}

const productCols = `id, catalog_id, retailer_id, name, description, price, sale_price, currency, availability, condition,
	brand, category, url, image_url, item_group_id, inventory, created, updated`

func productArgs(p commerce.Product) []any {
	return []any{int64(p.ID), int64(p.Catalog), p.RetailerID, p.Name, p.Description, p.Price, p.SalePrice, p.Currency,
		p.Availability, p.Condition, p.Brand, p.Category, p.URL, p.ImageURL, p.ItemGroupID, p.Inventory, ms(p.Created), ms(p.Updated)}
}

func scanProduct(row interface{ Scan(...any) error }) (commerce.Product, error) {
	var p commerce.Product
	var id, cat, created, updated int64
	err := row.Scan(&id, &cat, &p.RetailerID, &p.Name, &p.Description, &p.Price, &p.SalePrice, &p.Currency, &p.Availability,
		&p.Condition, &p.Brand, &p.Category, &p.URL, &p.ImageURL, &p.ItemGroupID, &p.Inventory, &created, &updated)
	p.ID, p.Catalog, p.Created, p.Updated = kontor.ID(id), kontor.ID(cat), time.UnixMilli(created), time.UnixMilli(updated)
	return p, err
}

const insertProduct = `INSERT INTO products (` + productCols + `) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)`

// CreateProduct stores a new product; a retailer id taken in the catalog
// is a Conflict.
func (db *DB) CreateProduct(ctx context.Context, p commerce.Product) error {
	return db.tx(ctx, "store.CreateProduct", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertProduct, productArgs(p)...); err != nil {
			if isUnique(err) {
				return kontor.Errorf(kontor.Conflict, "store.CreateProduct", "the catalog has a product with retailer_id %q already", p.RetailerID)
			}
			return err
		}
		return insertWords(ctx, tx, db.d, []indexed{{p.ID, p.Catalog, p.Name, p.RetailerID}})
	})
}

// productColumn is the column of a product field (commerce.ProductFields).
var productColumn = map[string]string{"name": "name", "description": "description", "price": "price", "currency": "currency",
	"sale_price": "sale_price", "availability": "availability", "condition": "condition", "brand": "brand", "category": "category",
	"url": "url", "image_url": "image_url", "retailer_product_group_id": "item_group_id", "inventory": "inventory"}

// UpsertProducts creates or replaces products by catalog and retailer id,
// in one transaction; a replaced product keeps its id and created time,
// and changes only in fields when they are given. The retailer ids of ps
// must differ (one statement cannot change a row twice).
func (db *DB) UpsertProducts(ctx context.Context, ps []commerce.Product, fields []string) (int, error) {
	const op = "store.UpsertProducts"
	if fields == nil {
		fields = commerce.ProductFields
	}
	set := []string{"updated = excluded.updated"}
	sale := false
	for _, f := range fields {
		c, ok := productColumn[f]
		if !ok {
			return 0, kontor.Errorf(kontor.Internal, op, "no product field %q", f)
		}
		set = append(set, c+" = excluded."+c)
		sale = sale || f == "sale_price"
	}
	if !sale { // a kept sale price must stay below the price, in the same currency
		set = append(set, `sale_price = CASE WHEN products.currency = excluded.currency AND products.sale_price < excluded.price
			THEN products.sale_price ELSE 0 END`)
	}
	renamed := slices.Contains(fields, "name")
	conflict := ` ON CONFLICT (catalog_id, retailer_id) DO UPDATE SET ` + strings.Join(set, ", ") + ` RETURNING id, retailer_id`
	created := 0
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		created = 0
		// The search index: new products get their words; a replaced
		// product's words change only with its name (the retailer id
		// is what it was found by).
		// A replaced product's words as they were come from its stored
		// name, read (and on PostgreSQL locked) before the upsert.
		var stored map[productKey]indexed
		if renamed {
			var err error
			if stored, err = db.storedWords(ctx, tx, ps); err != nil {
				return err
			}
		}
		var fresh, was, is []indexed
		var lost []indexed
		word := func(p commerce.Product, id kontor.ID) {
			if id == p.ID {
				created++
				fresh = append(fresh, indexed{id, p.Catalog, p.Name, p.RetailerID})
			} else if renamed {
				old, ok := stored[productKey{p.Catalog, p.RetailerID}]
				if !ok || old.id != id { // stored by another writer since the read
					lost = append(lost, indexed{id: id, catalog: p.Catalog})
					old = indexed{}
				}
				was, is = append(was, old), append(is, indexed{id, p.Catalog, p.Name, p.RetailerID})
			}
		}
		words := func() error {
			if err := insertWords(ctx, tx, db.d, fresh); err != nil {
				return err
			}
			if err := scrubWords(ctx, tx, lost); err != nil {
				return err
			}
			return reindexWords(ctx, tx, db.d, was, is)
		}
		if db.d.name != "postgres" {
			// SQLite is in process: a prepared statement per row is
			// fastest (a statement of many rows binds slowly).
			st, err := tx.PrepareContext(ctx, insertProduct+conflict)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, p := range ps {
				var id int64
				var rid string
				if err := st.QueryRowContext(ctx, productArgs(p)...).Scan(&id, &rid); err != nil {
					return err
				}
				word(p, kontor.ID(id))
			}
			return words()
		}
		// PostgreSQL: many rows a statement, one round trip per chunk.
		for len(ps) > 0 {
			chunk := ps[:min(len(ps), upsertChunk)]
			ps = ps[len(chunk):]
			args := make([]any, 0, len(chunk)*18)
			proposed := make(map[string]commerce.Product, len(chunk))
			for _, p := range chunk {
				args = append(args, productArgs(p)...)
				proposed[p.RetailerID] = p
			}
			rows, err := tx.QueryContext(ctx, `INSERT INTO products (`+productCols+`) VALUES `+values(len(chunk), 18, 1)+conflict, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				var rid string
				if err := rows.Scan(&id, &rid); err != nil {
					rows.Close()
					return err
				}
				word(proposed[rid], kontor.ID(id))
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return words()
	})
	return created, err
}

// productKey is a product's key in its catalog.
type productKey struct {
	catalog    kontor.ID
	retailerID string
}

// storedWords returns what the search index holds of the stored products
// that ps would replace, by key; on PostgreSQL it locks them, so that
// their names stay as read until the transaction ends.
func (db *DB) storedWords(ctx context.Context, tx *sql.Tx, ps []commerce.Product) (map[productKey]indexed, error) {
	var rows *sql.Rows
	var err error
	if db.d.name == "postgres" {
		cats, rids := make([]int64, len(ps)), make([]string, len(ps))
		for i, p := range ps {
			cats[i], rids[i] = int64(p.Catalog), p.RetailerID
		}
		rows, err = tx.QueryContext(ctx, `SELECT p.id, p.catalog_id, p.name, p.retailer_id FROM unnest($1::bigint[], $2::text[]) AS k (c, r)
			JOIN products p ON p.catalog_id = k.c AND p.retailer_id = k.r FOR UPDATE OF p`, cats, rids)
	} else {
		keys := make([][2]any, len(ps))
		for i, p := range ps {
			keys[i] = [2]any{int64(p.Catalog), p.RetailerID}
		}
		js, jerr := json.Marshal(keys)
		if jerr != nil {
			return nil, jerr
		}
		rows, err = tx.QueryContext(ctx, `SELECT p.id, p.catalog_id, p.name, p.retailer_id FROM json_each($1) k
			JOIN products p ON p.catalog_id = k.value ->> 0 AND p.retailer_id = k.value ->> 1`, string(js))
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[productKey]indexed)
	for rows.Next() {
		var id, cat int64
		var p indexed
		if err := rows.Scan(&id, &cat, &p.name, &p.retailerID); err != nil {
			return nil, err
		}
		p.id, p.catalog = kontor.ID(id), kontor.ID(cat)
		out[productKey{p.catalog, p.retailerID}] = p
	}
	return out, rows.Err()
}

// upsertChunk is how many products one statement upserts (18 parameters
// each, well below both engines' limits).
const upsertChunk = 500

// Product returns a product.
func (db *DB) Product(ctx context.Context, id kontor.ID) (commerce.Product, error) {
	p, err := scanProduct(db.r.QueryRowContext(ctx, `SELECT `+productCols+` FROM products WHERE id = $1`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("store.Product", "no product %s", id)
	}
	if err != nil {
		return p, internal("store.Product", err)
	}
	return p, nil
}

// Products lists a page of a catalog's products in id order.
func (db *DB) Products(ctx context.Context, catalog kontor.ID, page commerce.Page) ([]commerce.Product, error) {
	cursor, where, order := int64(page.After), ` AND id > $2`, ` ORDER BY id`
	if page.Before != 0 {
		cursor, where, order = int64(page.Before), ` AND id < $2`, ` ORDER BY id DESC`
	}
	args := []any{int64(catalog), cursor, page.Limit}
	if page.Group != "" {
		args = append(args, page.Group)
		where += fmt.Sprintf(` AND item_group_id = $%d AND item_group_id <> ''`, len(args)) // the second term lets SQLite use products_group
	}
	q := `SELECT ` + productCols + ` FROM products WHERE catalog_id = $1` + where + order + ` LIMIT $3`
	if page.Query != "" {
		// The search index (search.go) gives the page's ids in order.
		words := commerce.SearchQuery(page.Query)
		if len(words) == 0 {
			return nil, nil // nothing to look for: no letter or digit
		}
		ids, err := db.searchIDs(ctx, catalog, words, page)
		if err != nil {
			return nil, internal("store.Products", err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		args = []any{int64(catalog)}
		for _, id := range ids {
			args = append(args, id)
		}
		q = `SELECT ` + productCols + ` FROM products WHERE catalog_id = $1 AND id IN ` + values(1, len(ids), 2) + order
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("store.Products", err)
	}
	defer rows.Close()
	var out []commerce.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, internal("store.Products", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.Products", err)
	}
	if page.Before != 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// RetailerIDs maps a catalog's retailer ids to their product ids.
func (db *DB) RetailerIDs(ctx context.Context, catalog kontor.ID) (map[string]kontor.ID, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT retailer_id, id FROM products WHERE catalog_id = $1`, int64(catalog))
	if err != nil {
		return nil, internal("store.RetailerIDs", err)
	}
	defer rows.Close()
	out := map[string]kontor.ID{}
	for rows.Next() {
		var rid string
		var id int64
		if err := rows.Scan(&rid, &id); err != nil {
			return nil, internal("store.RetailerIDs", err)
		}
		out[rid] = kontor.ID(id)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.RetailerIDs", err)
	}
	return out, nil
}

// UpdateProduct replaces a product's fields but the inventory, and sets
// the inventory too, as a correction move, when inventory is true.
func (db *DB) UpdateProduct(ctx context.Context, p commerce.Product, inventory bool) error {
	return db.tx(ctx, "store.UpdateProduct", func(tx *sql.Tx) error {
		// The words it had, from its name and retailer id as stored.
		old := indexed{id: p.ID, catalog: p.Catalog}
		lock := ""
		if db.d.name == "postgres" {
			lock = " FOR UPDATE"
		}
		err := tx.QueryRowContext(ctx, `SELECT name, retailer_id FROM products WHERE id = $1 AND catalog_id = $2`+lock, int64(p.ID), int64(p.Catalog)).
			Scan(&old.name, &old.retailerID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("store.UpdateProduct", "no product %s", p.ID)
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE products SET retailer_id = $3, name = $4, description = $5, price = $6, sale_price = $7,
			currency = $8, availability = $9, condition = $10, brand = $11, category = $12, url = $13, image_url = $14,
			item_group_id = $15, updated = $16 WHERE id = $1 AND catalog_id = $2`,
			int64(p.ID), int64(p.Catalog), p.RetailerID, p.Name, p.Description, p.Price, p.SalePrice, p.Currency, p.Availability,
			p.Condition, p.Brand, p.Category, p.URL, p.ImageURL, p.ItemGroupID, ms(p.Updated))
		if err != nil {
			if isUnique(err) {
				return kontor.Errorf(kontor.Conflict, "store.UpdateProduct", "the catalog has a product with retailer_id %q already", p.RetailerID)
			}
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.UpdateProduct", "no product %s", p.ID)
		}
		if err := reindexWords(ctx, tx, db.d, []indexed{old}, []indexed{{p.ID, p.Catalog, p.Name, p.RetailerID}}); err != nil {
			return err
		}
		if inventory {
			return db.setStock(ctx, tx, p.ID, p.Inventory, p.Updated)
		}
		return nil
	})
}

// DeleteProducts removes products of a catalog and returns how many went.
func (db *DB) DeleteProducts(ctx context.Context, catalog kontor.ID, ids []kontor.ID) (int, error) {
	n := 0
	err := db.tx(ctx, "store.DeleteProducts", func(tx *sql.Tx) error {
		// Each product's words go by its name and retailer id as stored.
		st, err := tx.PrepareContext(ctx, `DELETE FROM products WHERE id = $1 AND catalog_id = $2 RETURNING name, retailer_id`)
		if err != nil {
			return err
		}
		defer st.Close()
		n = 0
		var gone []indexed
		for _, id := range ids {
			p := indexed{id: id, catalog: catalog}
			err := st.QueryRowContext(ctx, int64(id), int64(catalog)).Scan(&p.name, &p.retailerID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			n++
			gone = append(gone, p)
		}
		return deleteWords(ctx, tx, db.d, gone)
	})
	return n, err
}

// CommerceSettings returns a number's commerce settings (both off unless set).
func (db *DB) CommerceSettings(ctx context.Context, number kontor.ID) (commerce.Settings, error) {
	var s commerce.Settings
	err := db.readRow(ctx, `SELECT catalog_visible, cart_enabled FROM commerce_settings WHERE number_id = $1`, int64(number)).
		Scan(&s.CatalogVisible, &s.CartEnabled)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, internal("store.CommerceSettings", err)
	}
	return s, nil
}

// PutCommerceSettings sets a number's commerce settings.
func (db *DB) PutCommerceSettings(ctx context.Context, number kontor.ID, s commerce.Settings) error {
	return db.tx(ctx, "store.PutCommerceSettings", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO commerce_settings (number_id, catalog_visible, cart_enabled) VALUES ($1,$2,$3)
			ON CONFLICT (number_id) DO UPDATE SET catalog_visible = excluded.catalog_visible, cart_enabled = excluded.cart_enabled`,
			int64(number), s.CatalogVisible, s.CartEnabled)
		return err
	})
}

var _ commerce.Store = (*DB)(nil)

// Pages of a catalog in id order (without it, a page of a catalog read the
// whole catalog through its retailer-id index and sorted it), the variants
// of an item group, and the low-stock list without reading the products
// that are not low (a partial index holds only those at or below their
// threshold).
func init() {
	addMigration("stock 2", migration{sql: `
CREATE INDEX products_catalog ON products (catalog_id, id, retailer_id, name);
CREATE INDEX products_group ON products (catalog_id, item_group_id, id) WHERE item_group_id <> '';
CREATE INDEX products_low ON products (catalog_id, id) WHERE low_stock >= 0 AND inventory <= low_stock;
`})
}
