package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/templates"
)

var _ templates.Store = (*DB)(nil)

func init() {
	addMigration("templates 1", migration{sql: `
CREATE TABLE templates (
	id                BIGINT PRIMARY KEY,
	business_id       BIGINT NOT NULL,
	name              TEXT NOT NULL,
	language          TEXT NOT NULL,
	category          TEXT NOT NULL,
	previous_category TEXT NOT NULL DEFAULT '',
	parameter_format  TEXT NOT NULL,
	components        TEXT NOT NULL,
	status            TEXT NOT NULL,
	rejected_reason   TEXT NOT NULL DEFAULT 'NONE',
	created           BIGINT NOT NULL,
	updated           BIGINT NOT NULL,
	UNIQUE (business_id, name, language)
);
CREATE INDEX templates_business ON templates (business_id, id);
`})
}

const templateCols = `id, business_id, name, language, category, previous_category, parameter_format, components, status, rejected_reason, created, updated`

func scanTemplate(row interface{ Scan(...any) error }) (templates.Template, error) {
	var t templates.Template
	var id, biz, created, updated int64
	var components, status string
	err := row.Scan(&id, &biz, &t.Name, &t.Language, &t.Category, &t.PreviousCategory, &t.ParameterFormat, &components, &status,
		&t.RejectedReason, &created, &updated)
	if err != nil {
		return t, err
	}
	t.ID, t.Business, t.Status = kontor.ID(id), kontor.ID(biz), templates.Status(status)
	t.Created, t.Updated = time.UnixMilli(created), time.UnixMilli(updated)
	return t, jsonUnmarshal(components, &t.Components)
}

// CreateTemplate stores a new template; kontor.Conflict when the business
// has the name in that language already.
func (db *DB) CreateTemplate(ctx context.Context, t templates.Template) error {
	const op = "store.CreateTemplate"
	components, err := jsonMarshal(t.Components)
	if err != nil {
		return internal(op, err)
	}
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO templates (`+templateCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			int64(t.ID), int64(t.Business), t.Name, t.Language, t.Category, t.PreviousCategory, t.ParameterFormat, components,
			string(t.Status), t.RejectedReason, ms(t.Created), ms(t.Updated))
		if err != nil && isUnique(err) {
			return kontor.Errorf(kontor.Conflict, op, "the template %s exists in %s already", t.Name, t.Language)
		}
		return err
	})
}

// Template returns a template.
func (db *DB) Template(ctx context.Context, id kontor.ID) (templates.Template, error) {
	return db.template(ctx, "store.Template", `id = $1`, int64(id))
}

// TemplateByName returns a business's template of name in language.
func (db *DB) TemplateByName(ctx context.Context, biz kontor.ID, name, language string) (templates.Template, error) {
	return db.template(ctx, "store.TemplateByName", `business_id = $1 AND name = $2 AND language = $3`, int64(biz), name, language)
}

func (db *DB) template(ctx context.Context, op, where string, args ...any) (templates.Template, error) {
	t, err := scanTemplate(db.r.QueryRowContext(ctx, `SELECT `+templateCols+` FROM templates WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound(op, "no such template")
	}
	if err != nil {
		return t, internal(op, err)
	}
	return t, nil
}

// Templates lists a business's templates that pass f, in id order.
func (db *DB) Templates(ctx context.Context, biz kontor.ID, f templates.Filter) ([]templates.Template, error) {
	const op = "store.Templates"
	var q strings.Builder
	args := []any{int64(biz)}
	q.WriteString(`SELECT ` + templateCols + ` FROM templates WHERE business_id = $1`)
	where := func(cond string, v any) {
		args = append(args, v)
		fmt.Fprintf(&q, " AND "+cond, len(args))
	}
	if f.Name != "" {
		where("name = $%d", f.Name)
	}
	if f.Language != "" {
		where("language = $%d", f.Language)
	}
	if f.Category != "" {
		where("category = $%d", f.Category)
	}
	if len(f.Statuses) > 0 {
		marks := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			args = append(args, string(s))
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		q.WriteString(" AND status IN (" + strings.Join(marks, ",") + ")")
	}
	if f.After != 0 {
		where("id > $%d", int64(f.After))
	}
	order := "ASC"
	if f.Before != 0 {
		where("id < $%d", int64(f.Before))
		order = "DESC" // the last ones before it; turned around below
	}
	limit := f.Limit
	if limit <= 0 {
		limit = templates.MaxLimit
	}
	args = append(args, limit)
	fmt.Fprintf(&q, " ORDER BY id %s LIMIT $%d", order, len(args))
	rows, err := db.r.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []templates.Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	if f.Before != 0 {
		slices.Reverse(out)
	}
	return out, nil
}

// CountTemplates counts a business's templates.
func (db *DB) CountTemplates(ctx context.Context, biz kontor.ID) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates WHERE business_id = $1`, int64(biz)).Scan(&n); err != nil {
		return 0, internal("store.CountTemplates", err)
	}
	return n, nil
}

// UpdateTemplate writes a template's category, previous category,
// parameter format, components, status, rejected reason and updated time.
func (db *DB) UpdateTemplate(ctx context.Context, t templates.Template) error {
	const op = "store.UpdateTemplate"
	components, err := jsonMarshal(t.Components)
	if err != nil {
		return internal(op, err)
	}
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE templates SET category = $2, previous_category = $3, parameter_format = $4,
			components = $5, status = $6, rejected_reason = $7, updated = $8 WHERE id = $1`,
			int64(t.ID), t.Category, t.PreviousCategory, t.ParameterFormat, components, string(t.Status), t.RejectedReason, ms(t.Updated))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(op, "no template %s", t.ID)
		}
		return nil
	})
}

// DeleteTemplates deletes templates of a business.
func (db *DB) DeleteTemplates(ctx context.Context, biz kontor.ID, ids []kontor.ID) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{int64(biz)}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, int64(id))
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	return db.tx(ctx, "store.DeleteTemplates", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE business_id = $1 AND id IN (`+strings.Join(marks, ",")+`)`, args...)
		return err
	})
}
