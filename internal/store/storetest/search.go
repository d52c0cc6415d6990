package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/store"
)

// search returns the names of a page of a search of a catalog; every
// product found must belong to it.
func (e *env) search(catalog kontor.ID, page commerce.Page) []string {
	e.t.Helper()
	if page.Limit == 0 {
		page.Limit = 100
	}
	got, err := e.db.Products(e.ctx, catalog, page)
	if err != nil {
		e.t.Fatalf("search %+v: %v", page, err)
	}
	var out []string
	for _, p := range got {
		if p.Catalog != catalog {
			e.t.Fatalf("search %+v of catalog %s found %q of catalog %s", page, catalog, p.Name, p.Catalog)
		}
		out = append(out, p.Name)
	}
	return out
}

// testSearchIndex: the search index follows every write of a product in
// its transaction (create, edit, upsert of a feed in both its modes,
// delete), folds case and accents, pages by id with several words, and
// never shows another catalog's or business's products.
func testSearchIndex(t *testing.T, e *env) {
	bizA, bizB := e.ids.Next(), e.ids.Next()
	mk := func(biz kontor.ID) commerce.Catalog {
		c := commerce.Catalog{ID: e.ids.Next(), Business: biz, Name: "c", Created: t0}
		if err := e.db.CreateCatalog(e.ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	catA, catA2, catB := mk(bizA), mk(bizA), mk(bizB)
	product := func(cat commerce.Catalog, rid, name string) commerce.Product {
		return commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: rid, Name: name, Price: 100, Currency: "EUR",
			Availability: "in stock", Condition: "new", Created: t0, Updated: t0}
	}
	// The same words in every catalog: only the one searched answers.
	var cb commerce.Product
	for _, c := range []commerce.Catalog{catA, catA2, catB} {
		p := product(c, "CB-1", "Crème Brûlée")
		if err := e.db.CreateProduct(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		if c.ID == catA.ID {
			cb = p
		}
	}
	want := func(cat commerce.Catalog, q string, names ...string) {
		t.Helper()
		if got := e.search(cat.ID, commerce.Page{Query: q}); !slices.Equal(got, names) {
			t.Errorf("search %q: %q, want %q", q, got, names)
		}
	}
	for _, q := range []string{"creme", "CRÈME", "brûl", "BRULEE cr", "cb", "cb-1", "CB 1"} {
		want(catA, q, "Crème Brûlée")
	}
	want(catA, "cb-2")
	want(catA, "crèmes")

	// An edit: the old words go, the new ones come, in one step.
	cb.Name, cb.RetailerID = "Lemon tart", "LT-7"
	if err := e.db.UpdateProduct(e.ctx, cb, false); err != nil {
		t.Fatal(err)
	}
	want(catA, "creme")
	want(catA, "cb")
	want(catA, "lemon lt-7", "Lemon tart")
	want(catA2, "creme", "Crème Brûlée") // the other catalogs keep theirs
	want(catB, "lemon")

	// A feed: new products, a replaced name, and an update of the price
	// alone, which leaves the words as they were.
	feed := []commerce.Product{product(catA, "LT-7", "Lemon cake"), product(catA, "SC-1", "Straßen Café"), product(catA, "OB-1", "Øl bottle")}
	if n, err := e.db.UpsertProducts(e.ctx, feed, nil); err != nil || n != 2 {
		t.Fatalf("upsert: %d %v", n, err)
	}
	want(catA, "lemon", "Lemon cake")
	want(catA, "tart")
	want(catA, "strassen cafe", "Straßen Café")
	want(catA, "ol", "Øl bottle")
	price := []commerce.Product{product(catA, "LT-7", "Not a new name"), product(catA, "NEW-1", "Fresh bread")}
	if _, err := e.db.UpsertProducts(e.ctx, price, []string{"price"}); err != nil {
		t.Fatal(err)
	}
	want(catA, "lemon", "Lemon cake")
	want(catA, "not")
	want(catA, "fresh", "Fresh bread") // a new product has its words whatever the fields
	rename := []commerce.Product{product(catA, "LT-7", "Orange cake")}
	if _, err := e.db.UpsertProducts(e.ctx, rename, []string{"name"}); err != nil {
		t.Fatal(err)
	}
	want(catA, "lemon")
	want(catA, "cake", "Orange cake")

	// Delete: gone from the search; a delete naming the wrong catalog
	// deletes nothing, and the words stay.
	got, err := e.db.Products(e.ctx, catA.ID, commerce.Page{Query: "fresh", Limit: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("fresh: %v %v", got, err)
	}
	if n, err := e.db.DeleteProducts(e.ctx, catB.ID, []kontor.ID{got[0].ID}); err != nil || n != 0 {
		t.Fatalf("delete from another catalog: %d %v", n, err)
	}
	want(catA, "fresh", "Fresh bread")
	if n, err := e.db.DeleteProducts(e.ctx, catA.ID, []kontor.ID{got[0].ID}); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	want(catA, "fresh")
	want(catA, "bread")

	// Many matches, several words: pages in id order, both ways, whichever
	// word is rarer.
	var many []commerce.Product
	var names []string
	for i := range 120 {
		p := product(catA2, fmt.Sprintf("item-%03d", i), fmt.Sprintf("Item %d", i))
		if i%3 == 0 {
			p.Name += " blue"
		}
		many = append(many, p)
	}
	if _, err := e.db.UpsertProducts(e.ctx, many, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		if i%3 == 0 && (i == 1 || i/10 == 1 || i/100 == 1) {
			names = append(names, many[i].Name)
		}
	}
	for _, q := range []string{"item 1 blue", "blue 1 it", "BLUE item-1"} {
		if got := e.search(catA2.ID, commerce.Page{Query: q}); !slices.Equal(got, names) {
			t.Errorf("%q: %q, want %q", q, got, names)
		}
	}
	var paged []string
	var after kontor.ID
	for range 20 {
		ps, err := e.db.Products(e.ctx, catA2.ID, commerce.Page{Query: "item blue", After: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			paged = append(paged, p.Name)
		}
		after = ps[len(ps)-1].ID
	}
	if len(paged) != 40 || paged[0] != "Item 0 blue" || paged[39] != "Item 117 blue" {
		t.Errorf("paged: %d %q", len(paged), paged)
	}
	back, err := e.db.Products(e.ctx, catA2.ID, commerce.Page{Query: "blue item", Before: many[117].ID, Limit: 2})
	if err != nil || len(back) != 2 || back[0].Name != "Item 111 blue" || back[1].Name != "Item 114 blue" {
		t.Errorf("before: %v %v", back, err)
	}
	want(catB, "item")
}

// testSearchBackfill: the "search 1" migration indexes the products a
// database held before it, "search 2" rebuilds a "search 1" index (stale
// rows, an index by product) into rows by words alone, and "search 3"
// rebuilds a "search 2" index (every beginning of every word) into the
// short beginnings and whole words, in byte order on PostgreSQL; every
// later write keeps exactly the words of the stored products, no row left
// over.
func testSearchBackfill(t *testing.T, url string) {
	db, closeDB := open(t, url)
	cat := commerce.Catalog{ID: 1, Business: 2, Name: "c", Created: t0}
	if err := db.CreateCatalog(t.Context(), cat); err != nil {
		t.Fatal(err)
	}
	var ps []commerce.Product
	for i := range 2500 { // more than one step of the backfill
		ps = append(ps, commerce.Product{ID: kontor.ID(10 + i), Catalog: cat.ID, RetailerID: fmt.Sprintf("r-%d", i), Name: fmt.Sprintf("Pâté %d", i),
			Price: 100, Currency: "EUR", Availability: "in stock", Condition: "new", Created: t0, Updated: t0})
	}
	if _, err := db.UpsertProducts(t.Context(), ps, nil); err != nil {
		t.Fatal(err)
	}
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	sqlite := strings.HasPrefix(url, "sqlite:")
	r := raw(t, url)
	exec := func(qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := r.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := r.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// rows says the index holds exactly the words of ps, and no index by
	// product.
	rows := func(ps []commerce.Product) {
		t.Helper()
		want := 0
		for _, p := range ps {
			want += len(commerce.IndexTokens(p.Name, p.RetailerID))
		}
		if n := count("SELECT count(*) FROM product_words"); n != want {
			t.Errorf("%d index rows, want %d", n, want)
		}
		q := "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'product_words_product'"
		if sqlite {
			q = "SELECT count(*) FROM sqlite_master WHERE name = 'product_words_product'"
		}
		if n := count(q); n != 0 {
			t.Errorf("the index by product is still there")
		}
	}
	found := func(db *store.DB, want map[string]int) {
		t.Helper()
		for q, n := range want {
			got, err := db.Products(t.Context(), cat.ID, commerce.Page{Query: q, Limit: 100})
			if err != nil || len(got) != n {
				t.Errorf("%q: %d found, %v; want %d", q, len(got), err, n)
			}
		}
	}
	exec("DROP TABLE product_words", "DELETE FROM schema_parts WHERE name IN ('search 1', 'search 2', 'search 3')")
	db, closeDB = open(t, url)
	found(db, map[string]int{"pate": 100, "pate 2499": 1, "r-2000": 1, "PÂTÉ 249": 11})
	rows(ps)
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}

	// A database at "search 1": its index by product, a stale row, a
	// missing one.
	exec("CREATE INDEX product_words_product ON product_words (product_id)",
		"INSERT INTO product_words (catalog_id, token, product_id) VALUES (1, 'stale', 10)",
		"DELETE FROM product_words WHERE token = 'pate' AND product_id = 11",
		"DELETE FROM schema_parts WHERE name = 'search 2'")
	db, closeDB = open(t, url)
	found(db, map[string]int{"stale": 0, "pate 249": 11})
	rows(ps)
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}

	// A database at "search 2": every beginning of every word, as
	// commerce.SearchTokens gives them.
	exec("DELETE FROM product_words", "DELETE FROM schema_parts WHERE name = 'search 3'")
	for _, p := range ps[:50] {
		for _, tok := range commerce.SearchTokens(p.Name+" Pâtisserie", p.RetailerID) { // and a longer word, stale
			if _, err := r.ExecContext(t.Context(), "INSERT INTO product_words (catalog_id, token, product_id) VALUES ($1, $2, $3)", int64(cat.ID), tok, int64(p.ID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	db, _ = open(t, url)
	found(db, map[string]int{"pate": 100, "pate 2499": 1, "r-2000": 1, "PÂTÉ 249": 11, "patis": 0})
	rows(ps)
	if !sqlite {
		var coll string
		if err := r.QueryRowContext(t.Context(), "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'product_words' AND column_name = 'token'").Scan(&coll); err != nil || coll != "C" {
			t.Errorf("product_words.token's collation: %q %v, want C", coll, err)
		}
	}

	// Writes after it: a feed that renames some and keeps others, an
	// edit, a delete; the rows stay those of the products.
	feed := []commerce.Product{ps[0], ps[1], ps[2]}
	feed[0].Name, feed[1].Name = "Terrine 0", "Pâté 1 fine"
	for i := range feed {
		feed[i].ID = kontor.ID(90000 + i)
	}
	if _, err := db.UpsertProducts(t.Context(), feed, nil); err != nil {
		t.Fatal(err)
	}
	ps[0].Name, ps[1].Name = feed[0].Name, feed[1].Name
	ps[3].Name, ps[3].RetailerID = "Rillettes", "RL-3"
	if err := db.UpdateProduct(t.Context(), ps[3], false); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteProducts(t.Context(), cat.ID, []kontor.ID{ps[4].ID, ps[5].ID, 1}); err != nil || n != 2 {
		t.Fatalf("delete: %d %v", n, err)
	}
	found(db, map[string]int{"terrine": 1, "fine": 1, "pate 0": 0, "rill rl 3": 1, "pate 249": 11})
	rows(append(ps[:4:4], ps[6:]...))
}

// testSearchLongWords: a word typed longer than the short beginnings the
// index holds (commerce.ShortPrefix) finds the products with a word that
// begins with it, whichever way its list is made: a range of few rows
// read whole, a common word's list among few, the short beginning's list
// checked product by product when thousands of words begin with it. Every
// search agrees with commerce.MatchesSearch over the products, pages the
// same both ways, and never finds another catalog's products (theirs have
// the same words, with ids in between).
func testSearchLongWords(t *testing.T, e *env) {
	if commerce.ShortPrefix >= 3 {
		t.Fatalf("the words below assume a ShortPrefix below 3, not %d", commerce.ShortPrefix)
	}
	catA := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "a", Created: t0}
	catB := commerce.Catalog{ID: e.ids.Next(), Business: e.ids.Next(), Name: "b", Created: t0}
	for _, c := range []commerce.Catalog{catA, catB} {
		if err := e.db.CreateCatalog(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	product := func(cat commerce.Catalog, rid, name string) commerce.Product {
		return commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: rid, Name: name, Price: 100, Currency: "EUR",
			Availability: "in stock", Condition: "new", Created: t0, Updated: t0}
	}
	// 4,200 products: "widget" in all (one common word), "widgets" in a
	// tenth, 4,200 words "codeNNNN" (more words and rows than a range
	// reads whole, 4,096), "blue" in a third.
	var as, bs []commerce.Product
	for i := range 4200 {
		name := fmt.Sprintf("Widget code%04d", i)
		if i%3 == 0 {
			name += " blue"
		}
		if i%10 == 0 {
			name += " widgets"
		}
		as = append(as, product(catA, fmt.Sprintf("w-%d", i), name))
		if i%50 == 0 {
			bs = append(bs, product(catB, fmt.Sprintf("w-%d", i), name))
		}
	}
	for _, n := range [][2]string{{"gr-1", "Ἀθῆναι σουβενίρ"}, {"jp-1", "日本茶葉 緑茶"}, {"x-1", "abc𠀋d"}, {"x-3", "abd"}, {"x-4", "Cod fillet"}, {"x-5", "Codfish"}} {
		as = append(as, product(catA, n[0], n[1]))
		bs = append(bs, product(catB, n[0], n[1]))
	}
	for _, ps := range [][]commerce.Product{as, bs} {
		if _, err := e.db.UpsertProducts(e.ctx, ps, nil); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(as, func(a, b commerce.Product) int { return cmp.Compare(a.ID, b.ID) })
	for _, tc := range []struct {
		q     string
		n     int // the products found, as MatchesSearch counts them
		limit int
	}{
		{"widg", 4200, 500}, // one word of 4,200 rows and one of 420
		{"WIDGETS", 420, 50},
		{"widgetsx", 0, 10},
		{"code", 4200, 700}, // 4,200 words: checked, "cod" and "codfish" skipped
		{"cod", 4202, 1000},
		{"codf", 1, 10},
		{"code01", 100, 7}, // 100 words read whole
		{"code4199", 1, 10},
		{"codex", 0, 10},
		{"widget code41 blue", 33, 5},
		{"blue code0 widgets", 34, 4},
		{"w-41 code", 111, 9}, // "41" and the numbers it begins
		{"wid code", 4200, 1000},
		{"αθην", 1, 10},
		{"ΑΘΗΝΑΙ σουβ", 1, 10},
		{"日本茶葉", 1, 10},
		{"日本茶", 1, 10},
		{"緑茶", 1, 10},
		{"abc𠀋", 1, 10},
		{"abc𠀋d", 1, 10},
		{"abc𠀋e", 0, 10},
		{"ab", 2, 10},
		{"abc", 1, 10},
		{"wid", 4200, 2000}, // "widget" and "widgets" merged
	} {
		words := commerce.SearchQuery(tc.q)
		var want []kontor.ID
		for _, p := range as {
			if commerce.MatchesSearch(p.Name, p.RetailerID, words) {
				want = append(want, p.ID)
			}
		}
		if len(want) != tc.n {
			t.Fatalf("%q: MatchesSearch finds %d, the case says %d", tc.q, len(want), tc.n)
		}
		var got []kontor.ID
		page := commerce.Page{Query: tc.q, Limit: tc.limit}
		for range len(want)/tc.limit + 2 {
			ps, err := e.db.Products(e.ctx, catA.ID, page)
			if err != nil {
				t.Fatalf("%q: %v", tc.q, err)
			}
			for _, p := range ps {
				if p.Catalog != catA.ID {
					t.Fatalf("%q found %q of another catalog", tc.q, p.Name)
				}
				got = append(got, p.ID)
			}
			if len(ps) < tc.limit {
				break
			}
			page.After = ps[len(ps)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %d found (%v…), want %d (%v…)", tc.q, len(got), got[:min(len(got), 3)], len(want), want[:min(len(want), 3)])
			continue
		}
		if len(want) < 2 {
			continue
		}
		// Backwards from the middle: the page before it.
		mid := len(want) / 2
		back, err := e.db.Products(e.ctx, catA.ID, commerce.Page{Query: tc.q, Limit: tc.limit, Before: want[mid]})
		if err != nil {
			t.Fatalf("%q before: %v", tc.q, err)
		}
		var ids []kontor.ID
		for _, p := range back {
			ids = append(ids, p.ID)
		}
		if w := want[max(0, mid-tc.limit):mid]; !slices.Equal(ids, w) {
			t.Errorf("%q before the middle: %v, want %v", tc.q, ids, w)
		}
	}
}
