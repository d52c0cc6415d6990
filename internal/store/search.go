package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// The product search index: a row for each of the first few beginnings
// and the whole of each word of a product's name and retailer id
// (commerce.IndexTokens), written in the transaction that writes the
// product. A search of several words walks the rows of its words in
// product id order together and keeps the products that have them all, so
// a page costs its LIMIT of index reads plus the jumps between them, never
// a scan of the catalog; a word longer than the beginnings held is the
// merge of the whole words it begins (wordList).
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
	// The first commerce.ShortPrefix beginnings of each word and the
	// whole word instead of every beginning: a product of the feed
	// benchmark ("Product 12345", sku-12345) has 9 rows instead of 15
	// (see docs/performance.md). On PostgreSQL the tokens are in byte
	// order ("C"), as on SQLite and in Go, so that the words a typed word
	// begins are one range of the primary key whatever the database's
	// collation.
	addMigration("search 3", migration{
		sqlite: `DELETE FROM product_words;`,
		postgres: `
DROP TABLE product_words;
CREATE TABLE product_words (
	catalog_id BIGINT NOT NULL,
	token      TEXT COLLATE "C" NOT NULL,
	product_id BIGINT NOT NULL,
	PRIMARY KEY (catalog_id, token, product_id)
);
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
		for _, t := range commerce.IndexTokens(p.name, p.retailerID) {
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
// their order: {"catalog": {"token": [product, …], …}, …} (nestedJSON).
func groupedJSON(ws []word) ([]byte, error) {
	return nestedJSON(ws, func(w word) (int64, string) { return w.catalog, w.token },
		func(b []byte, w word) ([]byte, error) { return strconv.AppendInt(b, w.product, 10), nil })
}

// nestedJSON writes index rows, sorted by their key (an id and a token),
// nested by id and token: {"id": {"token": [value, …], …}, …}, so that
// SQLite's json_each gives the values as they are, without a lookup. It
// is written by hand (json.Marshal of the nesting cost a tenth of a feed
// import); a token is letters and digits, and goes through json.Marshal
// only if it holds a character JSON escapes.
func nestedJSON[R any](rows []R, key func(R) (int64, string), value func([]byte, R) ([]byte, error)) ([]byte, error) {
	b := make([]byte, 0, 16*len(rows))
	b = append(b, '{')
	var err error
	for i := 0; i < len(rows); {
		id, _ := key(rows[i])
		if i > 0 {
			b = append(b, ',')
		}
		b = append(strconv.AppendInt(append(b, '"'), id, 10), `":{`...)
		j := i
		for j < len(rows) {
			jid, tok := key(rows[j])
			if jid != id {
				break
			}
			if j > i {
				b = append(b, ',')
			}
			if b, err = appendJSONString(b, tok); err != nil {
				return nil, err
			}
			b = append(b, ':', '[')
			k := j
			for k < len(rows) {
				if kid, ktok := key(rows[k]); kid != id || ktok != tok {
					break
				}
				if k > j {
					b = append(b, ',')
				}
				if b, err = value(b, rows[k]); err != nil {
					return nil, err
				}
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

// A word typed of more than commerce.ShortPrefix letters is not a token
// of the index but the beginning of whole words, the tokens of its range
// (from the word to wordEnd). Its list is the merge of theirs, in one of
// three ways, by how common the beginning is:
//   - a range of at most rangeWords words (one word, or a common word such
//     as "product" in most of a catalog) merges the words' lists, each
//     read a batch at a time as any word's;
//   - a range of more words but at most rangeRows index rows (the
//     numbers "12300" to "12399") is read at once, its ids sorted in
//     memory;
//   - a beginning of more words and rows than that (a word of
//     ShortPrefix+1 letters that begins thousands of numbers or words) is
//     looked up by its first ShortPrefix letters, and each product found
//     with every other word is checked against its stored name and
//     retailer id (commerce.MatchesSearch): the work is the products that
//     have the other words and that short beginning, a read each.
const (
	rangeRows  = 4096
	rangeWords = 32
)

// idList is a sorted list of product ids that a search walks.
type idList interface {
	// seek returns the first id of the list at or past x (in the
	// page's order); ok is false when the list holds none.
	seek(ctx context.Context, r *sql.DB, x int64) (id int64, ok bool, err error)
}

// merged is the union of several lists.
type merged struct {
	desc  bool
	lists []*postings
}

func (m *merged) seek(ctx context.Context, r *sql.DB, x int64) (int64, bool, error) {
	var first int64
	found := false
	for _, p := range m.lists {
		y, ok, err := p.seek(ctx, r, x)
		if err != nil {
			return 0, false, err
		}
		if ok && (!found || (!m.desc && y < first) || (m.desc && y > first)) {
			first, found = y, true
		}
	}
	return first, found, nil
}

// wordEnd returns the least string above every string that begins with w,
// in the byte order of the index (SQLite's BINARY, PostgreSQL's "C"): w
// with its last letter raised by one. It is valid UTF-8, as PostgreSQL
// wants of a text parameter.
func wordEnd(w string) string {
	for w != "" {
		r, n := utf8.DecodeLastRuneInString(w)
		w = w[:len(w)-n]
		switch {
		case r == 0xD7FF:
			return w + "\uE000" // past the surrogates, which UTF-8 cannot hold
		case r < utf8.MaxRune:
			return w + string(r+1)
		}
	}
	// Only the highest letters: above every token, which holds at most
	// MaxWordIndexed of them.
	return strings.Repeat(string(utf8.MaxRune), commerce.MaxWordIndexed+1)
}

// The three ways of a word's list.
const (
	rangeMerged  = iota // its words' lists merged
	rangeRead           // read whole
	rangeChecked        // each product to be checked against the word
)

// wordList returns the list of the products of a catalog that have a word
// beginning with w, longer than commerce.ShortPrefix, and its way.
func (db *DB) wordList(ctx context.Context, catalog kontor.ID, w string, desc bool, cmp, order string) (idList, int, error) {
	end := wordEnd(w)
	words, err := db.rangeTokens(ctx, "product_words", "catalog_id", int64(catalog), w, end)
	if err != nil {
		return nil, 0, err
	}
	if len(words) <= rangeWords {
		m := &merged{desc: desc}
		for _, t := range words {
			m.lists = append(m.lists, tokenList(catalog, t, desc, cmp, order))
		}
		return m, rangeMerged, nil
	}
	ids, err := db.readIDs(ctx, `SELECT product_id FROM product_words WHERE catalog_id = $1 AND token >= $2 AND token < $3 LIMIT $4`,
		int64(catalog), w, end, rangeRows+1)
	if err != nil {
		return nil, 0, err
	}
	if len(ids) > rangeRows {
		return tokenList(catalog, firstLetters(w, commerce.ShortPrefix), desc, cmp, order), rangeChecked, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if desc {
		slices.Reverse(ids)
	}
	return &postings{desc: desc, buf: ids, end: true}, rangeRead, nil
}

// rangeTokens returns the tokens of an index table (product_words,
// inbox_words) under one key from lo up to hi, in order, each found by one
// step of the index (a loose index scan): at most rangeWords+1 of them.
func (db *DB) rangeTokens(ctx context.Context, table, key string, id int64, lo, hi string) ([]string, error) {
	return db.readStrings(ctx, `WITH RECURSIVE w (token, n) AS (
		SELECT (SELECT token FROM `+table+` WHERE `+key+` = $1 AND token >= $2 AND token < $3 ORDER BY token LIMIT 1), 1
		UNION ALL
		SELECT (SELECT token FROM `+table+` WHERE `+key+` = $1 AND token > w.token AND token < $3 ORDER BY token LIMIT 1), w.n + 1
		FROM w WHERE w.token IS NOT NULL AND w.n <= $4)
		SELECT token FROM w WHERE token IS NOT NULL`, id, lo, hi, rangeWords)
}

// tokenList returns the list of the products of a catalog whose index
// holds a token, read a batch at a time.
func tokenList(catalog kontor.ID, token string, desc bool, cmp, order string) *postings {
	return &postings{desc: desc, args: []any{int64(catalog), token},
		q: `SELECT product_id FROM product_words WHERE catalog_id = $1 AND token = $2 AND product_id ` + cmp + ` $3 ORDER BY product_id` + order + ` LIMIT $4`}
}

// firstLetters returns the first n letters of w.
func firstLetters(w string, n int) string {
	for i := range w {
		if n == 0 {
			return w[:i]
		}
		n--
	}
	return w
}

// readIDs returns the ids a query gives.
func (db *DB) readIDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	return readColumn[int64](db.r.QueryContext(ctx, q, args...))
}

// readColumn returns the values of a query of one column.
func readColumn[T any](rows *sql.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// searchIDs returns the ids of a page of a search: the products of the
// catalog that have every word (and are of the group, when given), after
// (or before) the page's cursor, at most page.Limit, in the page's order.
// Each word's rows and the group's products are sorted lists; a leapfrog
// join walks them together, each skipping to where the others are, so a
// page reads about its matches and the jumps between them, never a
// common word's rows up to where a rare one begins. A word of at most
// commerce.ShortPrefix letters is a token's list; a longer one is the
// merge of its words' lists (wordList).
func (db *DB) searchIDs(ctx context.Context, catalog kontor.ID, words []string, page commerce.Page) ([]int64, error) {
	desc, x, step := page.Before != 0, int64(page.After)+1, int64(1)
	cmp, order := ">=", ""
	if desc {
		x, step, cmp, order = int64(page.Before)-1, -1, "<=", " DESC"
	}
	words = slices.Clone(words)
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) }) // the longest is likely the rarest
	var lists, unsure []idList
	var check []string // the words whose lists give products to check
	for _, w := range words {
		if utf8.RuneCountInString(w) <= commerce.ShortPrefix {
			lists = append(lists, tokenList(catalog, w, desc, cmp, order))
			continue
		}
		l, way, err := db.wordList(ctx, catalog, w, desc, cmp, order)
		switch {
		case err != nil:
			return nil, err
		case way == rangeChecked:
			unsure, check = append(unsure, l), append(check, w)
		case way == rangeRead:
			lists = append([]idList{l}, lists...) // in memory, and likely rare
		default:
			lists = append(lists, l)
		}
	}
	lists = append(lists, unsure...) // the least selective
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
		found, err := db.hasWords(ctx, x, check)
		if err != nil {
			return out, err
		}
		if found {
			out = append(out, x)
		}
		x += step
	}
	return out, nil
}

// hasWords says whether a product's stored name and retailer id have a
// word beginning with each of words (all when there are none).
func (db *DB) hasWords(ctx context.Context, id int64, words []string) (bool, error) {
	if len(words) == 0 {
		return true, nil
	}
	var name, rid string
	err := db.r.QueryRowContext(ctx, `SELECT name, retailer_id FROM products WHERE id = $1`, id).Scan(&name, &rid)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // deleted since its index rows were read
	}
	return err == nil && commerce.MatchesSearch(name, rid, words), err
}
