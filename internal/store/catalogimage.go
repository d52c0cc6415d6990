package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

func init() {
	// Product pictures kept by the platform (commerce.Image): public
	// catalog content, small (at most 5 MB), shared by every node through
	// the database rather than a node's disk.
	addMigration("catalog images 1", migration{sql: `
CREATE TABLE catalog_images (
	id           TEXT PRIMARY KEY,
	business_id  BIGINT NOT NULL,
	content_type TEXT NOT NULL,
	data         BYTEA NOT NULL,
	created      BIGINT NOT NULL
);
CREATE INDEX catalog_images_business ON catalog_images (business_id);
`})
}

// PutCatalogImage stores a product picture; an id in use is a conflict.
func (db *DB) PutCatalogImage(ctx context.Context, im commerce.Image) error {
	const op = "store.PutCatalogImage"
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO catalog_images (id, business_id, content_type, data, created) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (id) DO NOTHING`, im.ID, int64(im.Business), im.Type, im.Data, ms(im.Created))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return kontor.Errorf(kontor.Conflict, op, "picture %s exists", im.ID)
		}
		return nil
	})
}

// CatalogImage returns a product picture; kontor.NotFound when there is none.
func (db *DB) CatalogImage(ctx context.Context, id string) (commerce.Image, error) {
	const op = "store.CatalogImage"
	var im commerce.Image
	var biz, created int64
	err := db.r.QueryRowContext(ctx, `SELECT id, business_id, content_type, data, created FROM catalog_images WHERE id = $1`, id).
		Scan(&im.ID, &biz, &im.Type, &im.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return im, notFound(op, "no picture %s", id)
	}
	if err != nil {
		return im, internal(op, err)
	}
	im.Business, im.Created = kontor.ID(biz), time.UnixMilli(created)
	return im, nil
}

// DeleteCatalogImage removes business's picture id; another business's
// picture, or none, is left as it is and is no error.
func (db *DB) DeleteCatalogImage(ctx context.Context, business kontor.ID, id string) error {
	return db.tx(ctx, "store.DeleteCatalogImage", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM catalog_images WHERE id = $1 AND business_id = $2`, id, int64(business))
		return err
	})
}
