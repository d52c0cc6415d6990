package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// The product search index: a row for each beginning of each word of a
// product's name and retailer id (commerce.SearchTokens), written in the
// transaction that writes the product. A search of several words walks
// the rows of its rarest word in product id order and keeps the products
// that have the others, so a page costs its LIMIT of index reads plus the
// products skipped, never a scan of the catalog.
func init() {
	addMigration("search 1", migration{
		sqlite: `
CREATE TABLE product_words (
	catalog_id BIGINT NOT NULL,
	token      TEXT NOT NULL,
	product_id BIGINT NOT NULL,
	PRIMARY KEY (catalog_id, token, product_id)
) WITHOUT ROWID;
CREATE INDEX product_words_product ON product_words (product_id);
`,
		postgres: `
CREATE TABLE product_words (
	catalog_id BIGINT NOT NULL,
	token      TEXT NOT NULL,
	product_id BIGINT NOT NULL,
	PRIMARY KEY (catalog_id, token, product_id)
);
CREATE INDEX product_words_product ON product_words (product_id);
`,
		fill: fillProductWords,
	})
	// Without the index by product id: a product's rows are found by its
	// words, which its stored name and retailer id give, so a write of
	// the index touches one tree instead of two (a feed import of 100,000
	// products wrote 1.5 million rows twice). The rows are rebuilt, so
	// that they are exactly the words of what is stored.
	addMigration("search 2", migration{
		sql: `
DROP INDEX product_words_product;
DELETE FROM product_words;
`,
		fill: fillProductWords,
	})
}

// indexed is what the index needs of a product.
type indexed struct {
	id, catalog      kontor.ID
	name, retailerID string
}

// fillProductWords indexes the products stored before the index existed,
// 1,000 at a time in id order.
func fillProductWords(ctx context.Context, tx *sql.Tx, d dialect) error {
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT id, catalog_id, name, retailer_id FROM products WHERE id > $1 ORDER BY id LIMIT 1000`, after)
		if err != nil {
			return err
		}
		var ps []indexed
		for rows.Next() {
			var id, cat int64
			var p indexed
			if err := rows.Scan(&id, &cat, &p.name, &p.retailerID); err != nil {
				rows.Close()
				return err
			}
			p.id, p.catalog = kontor.ID(id), kontor.ID(cat)
			ps = append(ps, p)
			after = id
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ps) == 0 {
			return nil
		}
		if err := insertWords(ctx, tx, d, ps); err != nil {
			return err
		}
	}
}

// wordsChunk is how many index rows one statement inserts.
const wordsChunk = 5000

// word is one row of the index.
type word struct {
	catalog int64
	token   string
	product int64
}

// insertWords adds the index rows of products that have none. The rows
// go in sorted as the index is (each statement then writes a few runs of
// neighbouring pages, not a page per row), many a statement: through one
// JSON list on SQLite (one parameter, parsed in SQLite, where thousands
// of parameters bind slowly), through arrays on PostgreSQL.
func insertWords(ctx context.Context, tx *sql.Tx, d dialect, ps []indexed) error {
	return insertRows(ctx, tx, d, wordRows(ps))
}

// wordRows returns the index rows of products, sorted as the index is.
func wordRows(ps []indexed) []word {
	var ws []word
	for _, p := range ps {
		for _, t := range commerce.SearchTokens(p.name, p.retailerID) {
			ws = append(ws, word{int64(p.catalog), t, int64(p.id)})
		}
	}
	slices.SortFunc(ws, compareWords)
	return ws
}

// compareWords orders index rows as the index does.
func compareWords(a, b word) int {
	if a.catalog != b.catalog {
		return cmp.Compare(a.catalog, b.catalog)
	}
	if a.token != b.token {
		return strings.Compare(a.token, b.token)
	}
	return cmp.Compare(a.product, b.product)
}

// insertRows adds sorted index rows.
func insertRows(ctx context.Context, tx *sql.Tx, d dialect, ws []word) error {
	for len(ws) > 0 {
		chunk := ws[:min(len(ws), wordsChunk)]
		ws = ws[len(chunk):]
		if d.name != "postgres" {
			// {"catalog": {"token": [product, …], …}, …}: the values
			// come out of json_each as they are, without a lookup.
			js, err := groupedJSON(chunk)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO product_words (catalog_id, token, product_id)
				SELECT c.key, t.key, p.value FROM json_each($1) c, json_each(c.value) t, json_each(t.value) p
				WHERE true ON CONFLICT DO NOTHING`, string(js)); err != nil {
				return err
			}
			continue
		}
		cats, toks, pids := make([]int64, len(chunk)), make([]string, len(chunk)), make([]int64, len(chunk))
		for i, w := range chunk {
			cats[i], toks[i], pids[i] = w.catalog, w.token, w.product
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO product_words (catalog_id, token, product_id)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`, cats, toks, pids); err != nil {
			return err
		}
	}
	return nil
}

// groupedJSON writes sorted index rows nested by catalog and token, in
// their order: {"catalog": {"token": [product, …], …}, …}. It is written
// by hand (json.Marshal of the nesting cost a tenth of a feed import); a
// token is letters and digits, and goes through json.Marshal only if it
// holds a character JSON escapes.
func groupedJSON(ws []word) ([]byte, error) {
	b := make([]byte, 0, 16*len(ws))
	b = append(b, '{')
	for i := 0; i < len(ws); {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(strconv.AppendInt(append(b, '"'), ws[i].catalog, 10), `":{`...)
		j := i
		for j < len(ws) && ws[j].catalog == ws[i].catalog {
			if j > i {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSONString(b, ws[j].token); err != nil {
				return nil, err
			}
			b = append(b, ':', '[')
			k := j
			for k < len(ws) && ws[k].catalog == ws[i].catalog && ws[k].token == ws[j].token {
				if k > j {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, ws[k].product, 10)
				k++
			}
			b = append(b, ']')
			j = k
		}
		b = append(b, '}')
		i = j
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf && !utf8.ValidString(s) {
			js, err := json.Marshal(s)
			return append(b, js...), err
		}
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c == 0x7f {
			js, err := json.Marshal(s)
			return append(b, js...), err
		}
	}
	return append(append(append(b, '"'), s...), '"'), nil
}

// deleteWords removes the index rows of products, as they were stored
// (their words are those of the name and retailer id they had).
func deleteWords(ctx context.Context, tx *sql.Tx, d dialect, ps []indexed) error {
	return deleteRows(ctx, tx, d, wordRows(ps))
}

// deleteRows removes index rows by their key: through one JSON list on
// SQLite, through arrays on PostgreSQL.
func deleteRows(ctx context.Context, tx *sql.Tx, d dialect, ws []word) error {
	for len(ws) > 0 {
		chunk := ws[:min(len(ws), wordsChunk)]
		ws = ws[len(chunk):]
		if d.name != "postgres" {
			js, err := groupedJSON(chunk)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM product_words WHERE (catalog_id, token, product_id) IN
				(SELECT c.key, t.key, p.value FROM json_each($1) c, json_each(c.value) t, json_each(t.value) p)`, string(js)); err != nil {
				return err
			}
			continue
		}
		cats, toks, pids := make([]int64, len(chunk)), make([]string, len(chunk)), make([]int64, len(chunk))
		for i, w := range chunk {
			cats[i], toks[i], pids[i] = w.catalog, w.token, w.product
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_words w USING unnest($1::bigint[], $2::text[], $3::bigint[]) AS d (c, t, p)
			WHERE w.catalog_id = d.c AND w.token = d.t AND w.product_id = d.p`, cats, toks, pids); err != nil {
			return err
		}
	}
	return nil
}

// scrubWords removes every index row of products whose stored words are
// not known (another writer replaced them between a read and a write):
// without an index by product it reads the rows of their catalog, so it
// is for that rare case only.
func scrubWords(ctx context.Context, tx *sql.Tx, ps []indexed) error {
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_words WHERE catalog_id = $1 AND product_id = $2`, int64(p.catalog), int64(p.id)); err != nil {
			return err
		}
	}
	return nil
}

// reindexWords changes the index rows of products from the words of old
// (as stored) to those of now (the same products, in any order): only the
// words that differ are written, none when the name and retailer id give
// the same words.
func reindexWords(ctx context.Context, tx *sql.Tx, d dialect, old, now []indexed) error {
	was, is := wordRows(old), wordRows(now)
	var gone, come []word
	for len(was) > 0 || len(is) > 0 {
		c := 1 // was is done: the rest of is comes
		if len(is) == 0 {
			c = -1
		} else if len(was) > 0 {
			c = compareWords(was[0], is[0])
		}
		switch {
		case c < 0:
			gone, was = append(gone, was[0]), was[1:]
		case c > 0:
			come, is = append(come, is[0]), is[1:]
		default:
			was, is = was[1:], is[1:]
		}
	}
	if err := deleteRows(ctx, tx, d, gone); err != nil {
		return err
	}
	return insertRows(ctx, tx, d, come)
}

// searchBatch is how many ids a search reads from one list at a time.
const searchBatch = 64

// postings reads one sorted list of product ids of a catalog (the rows of
// one word, or one item group's products) from a point on, a batch at a
// time, in the order of a page (descending before a cursor).
type postings struct {
	q    string // the query from $3 on, at most $4 ids
	args []any  // $1, $2
	desc bool
	buf  []int64
	i    int
	end  bool // the list holds nothing past buf
}

// seek returns the first id of the list at or past x; ok is false when
// the list holds none.
func (p *postings) seek(ctx context.Context, r *sql.DB, x int64) (id int64, ok bool, err error) {
	past := func(id int64) bool { return (!p.desc && id >= x) || (p.desc && id <= x) }
	for {
		for p.i < len(p.buf) && !past(p.buf[p.i]) {
			p.i++
		}
		if p.i < len(p.buf) {
			return p.buf[p.i], true, nil
		}
		if p.end {
			return 0, false, nil
		}
		rows, err := r.QueryContext(ctx, p.q, append(p.args, x, searchBatch)...)
		if err != nil {
			return 0, false, err
		}
		p.buf, p.i = p.buf[:0], 0
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, false, err
			}
			p.buf = append(p.buf, id)
		}
		if err := rows.Close(); err != nil {
			return 0, false, err
		}
		if err := rows.Err(); err != nil {
			return 0, false, err
		}
		p.end = len(p.buf) < searchBatch
		if len(p.buf) == 0 {
			return 0, false, nil
		}
	}
}

// searchIDs returns the ids of a page of a search: the products of the
// catalog that have every word (and are of the group, when given), after
// (or before) the page's cursor, at most page.Limit, in the page's order.
// Each word's rows and the group's products are sorted lists; a leapfrog
// join walks them together, each skipping to where the others are, so a
// page reads about its matches and the jumps between them, never a
// common word's rows up to where a rare one begins.
func (db *DB) searchIDs(ctx context.Context, catalog kontor.ID, words []string, page commerce.Page) ([]int64, error) {
	desc, x, step := page.Before != 0, int64(page.After)+1, int64(1)
	cmp, order := ">=", ""
	if desc {
		x, step, cmp, order = int64(page.Before)-1, -1, "<=", " DESC"
	}
	words = slices.Clone(words)
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) }) // the longest is likely the rarest
	var lists []*postings
	for _, w := range words {
		lists = append(lists, &postings{desc: desc, args: []any{int64(catalog), w},
			q: `SELECT product_id FROM product_words WHERE catalog_id = $1 AND token = $2 AND product_id ` + cmp + ` $3 ORDER BY product_id` + order + ` LIMIT $4`})
	}
	if page.Group != "" {
		lists = append(lists, &postings{desc: desc, args: []any{int64(catalog), page.Group},
			q: `SELECT id FROM products WHERE catalog_id = $1 AND item_group_id = $2 AND item_group_id <> '' AND id ` + cmp + ` $3 ORDER BY id` + order + ` LIMIT $4`})
	}
	var out []int64
	for len(out) < page.Limit {
		for agree, i := 0, 0; agree < len(lists); i = (i + 1) % len(lists) {
			y, ok, err := lists[i].seek(ctx, db.r, x)
			if err != nil || !ok {
				return out, err
			}
			if y == x {
				agree++
			} else {
				x, agree = y, 1
			}
		}
		out = append(out, x)
		x += step
	}
	return out, nil
}
