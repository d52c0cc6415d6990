package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

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

// wordsChunk is how many index rows one PostgreSQL statement inserts.
const wordsChunk = 5000

// insertWords adds the index rows of products that have none.
func insertWords(ctx context.Context, tx *sql.Tx, d dialect, ps []indexed) error {
	if len(ps) == 0 {
		return nil
	}
	if d.name != "postgres" {
		st, err := tx.PrepareContext(ctx, `INSERT INTO product_words (catalog_id, token, product_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, p := range ps {
			for _, t := range commerce.SearchTokens(p.name, p.retailerID) {
				if _, err := st.ExecContext(ctx, int64(p.catalog), t, int64(p.id)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var cats, pids []int64
	var toks []string
	flush := func() error {
		if len(toks) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO product_words (catalog_id, token, product_id)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`, cats, toks, pids)
		cats, toks, pids = cats[:0], toks[:0], pids[:0]
		return err
	}
	for _, p := range ps {
		for _, t := range commerce.SearchTokens(p.name, p.retailerID) {
			cats, toks, pids = append(cats, int64(p.catalog)), append(toks, t), append(pids, int64(p.id))
		}
		if len(toks) >= wordsChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// deleteWords removes the index rows of products.
func deleteWords(ctx context.Context, tx *sql.Tx, d dialect, ids []kontor.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if d.name == "postgres" {
		list := make([]int64, len(ids))
		for i, id := range ids {
			list[i] = int64(id)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM product_words WHERE product_id = ANY($1)`, list)
		return err
	}
	st, err := tx.PrepareContext(ctx, `DELETE FROM product_words WHERE product_id = $1`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, id := range ids {
		if _, err := st.ExecContext(ctx, int64(id)); err != nil {
			return err
		}
	}
	return nil
}

// reindexWords replaces the index rows of products.
func reindexWords(ctx context.Context, tx *sql.Tx, d dialect, ps []indexed) error {
	ids := make([]kontor.ID, len(ps))
	for i, p := range ps {
		ids[i] = p.id
	}
	if err := deleteWords(ctx, tx, d, ids); err != nil {
		return err
	}
	return insertWords(ctx, tx, d, ps)
}

// rareFirst is the most index rows counted for a word when choosing which
// word of a search leads on SQLite (a count stops early for a rare word;
// past it, a search of two common words that seldom meet reads many rows).
const rareFirst = 10_000

// searchWords orders the words of a search so that the rarest leads. On
// SQLite, which keeps no statistics, it counts (at most rareFirst rows
// each; among words past that, the longest first). PostgreSQL's planner
// knows the common words from its statistics and joins the words' rows in
// id order itself (a merge join), where counting would read them all.
func (db *DB) searchWords(ctx context.Context, catalog kontor.ID, words []string) ([]string, error) {
	out := slices.Clone(words)
	if len(words) < 2 {
		return out, nil
	}
	n := make(map[string]int, len(words))
	if db.d.name != "postgres" {
		for _, w := range words {
			var c int
			if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM product_words WHERE catalog_id = $1 AND token = $2 LIMIT $3) s`,
				int64(catalog), w, rareFirst).Scan(&c); err != nil {
				return nil, err
			}
			n[w] = c
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		if n[a] != n[b] {
			return n[a] - n[b]
		}
		return len(b) - len(a)
	})
	return out, nil
}

// searchIDs is the subquery of the ids of a page of a search: the rows of
// words[0] after (or before) the cursor $2 that the other words have too,
// at most $3, in the order asked. Its parameters follow args.
func searchIDs(words []string, cmp, order, group string, args []any) (string, []any) {
	args = append(args, words[0])
	q := fmt.Sprintf(`SELECT w.product_id FROM product_words w WHERE w.catalog_id = $1 AND w.token = $%d AND w.product_id %s $2`, len(args), cmp)
	for _, w := range words[1:] {
		args = append(args, w)
		q += fmt.Sprintf(` AND EXISTS (SELECT 1 FROM product_words x WHERE x.catalog_id = $1 AND x.token = $%d AND x.product_id = w.product_id)`, len(args))
	}
	if group != "" {
		args = append(args, group)
		q += fmt.Sprintf(` AND EXISTS (SELECT 1 FROM products g WHERE g.id = w.product_id AND g.item_group_id = $%d)`, len(args))
	}
	return q + ` ORDER BY w.product_id` + order + ` LIMIT $3`, args
}
