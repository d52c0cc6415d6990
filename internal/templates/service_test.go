package templates_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
	"github.com/kontor-chat/kontor/internal/templates"
)

// hookLog keeps the changes the service reports.
type hookLog struct {
	mu      sync.Mutex
	changes []templates.Change
}

func (h *hookLog) hook(_ context.Context, c templates.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.changes = append(h.changes, c)
}

func (h *hookLog) last(t *testing.T) templates.Change {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.changes) == 0 {
		t.Fatal("the hook heard of no change")
	}
	return h.changes[len(h.changes)-1]
}

func (h *hookLog) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.changes)
}

// backends runs a test on the real store: SQLite, and PostgreSQL when
// KONTOR_TEST_POSTGRES is set.
func backends(t *testing.T, run func(t *testing.T, db *store.DB)) {
	open := func(t *testing.T, cfg store.Config) *store.DB {
		db, err := store.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("sqlite", func(t *testing.T) { run(t, open(t, store.Config{DataDir: t.TempDir()})) })
	t.Run("postgres", func(t *testing.T) { run(t, open(t, store.Config{URL: storetest.PostgresURL(t)})) })
}

func code(t *testing.T, err error) (int, int) {
	t.Helper()
	var ce *cloudapi.Error
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.As(err, &ce) {
		t.Fatalf("not a public error: %v", err)
	}
	return ce.Code, ce.Subcode
}

func TestService(t *testing.T) {
	backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		h := &hookLog{}
		ids := kontor.NewIDs(nil, 1)
		s := templates.New(db, ids, nil, nil, h.hook)
		biz := ids.Next()

		// Created and approved at once; the hook hears of it.
		tm, err := s.Create(ctx, biz, valid())
		if err != nil {
			t.Fatal(err)
		}
		if tm.Status != templates.Approved || tm.RejectedReason != "NONE" || tm.Category != "UTILITY" || tm.Business != biz {
			t.Fatalf("created: %+v", tm)
		}
		if c := h.last(t); c.Event != "APPROVED" || c.Template.ID != tm.ID || c.Reason != "NONE" {
			t.Fatalf("change: %+v", c)
		}
		got, err := s.Get(ctx, tm.ID)
		if err != nil || got.Name != "order_update" || len(got.Components) != 4 || got.Components[3].Buttons[1].URL != "https://x.test/t/{{1}}" {
			t.Fatalf("get: %+v %v", got, err)
		}
		def, st, err := s.Find(ctx, biz, "order_update", "en-US")
		if err != nil || st != templates.Approved || def.Component("BODY").Text != "Hi {{1}}, your order {{2}} is ready." {
			t.Fatalf("find: %+v %s %v", def, st, err)
		}
		if _, _, err := s.Find(ctx, biz, "order_update", "de"); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("find in another language: %v", err)
		}

		// A name is unique per language.
		if c, sub := code(t, func() error { _, err := s.Create(ctx, biz, valid()); return err }()); c != 100 || sub != templates.SubcodeNameExists {
			t.Fatalf("duplicate: %d %d", c, sub)
		}
		de := valid()
		de.Language = "de"
		deT, err := s.Create(ctx, biz, de)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, ids.Next(), valid()); err != nil {
			t.Fatalf("another business may use the name: %v", err)
		}

		// Rejected by the review, with the reason and what to change.
		bad := valid()
		bad.Name = "bad_one"
		bad.Components[1].Text = "{{1}}, your order {{2}} is ready."
		bt, err := s.Create(ctx, biz, bad)
		if err != nil {
			t.Fatal(err)
		}
		if c := h.last(t); bt.Status != templates.Rejected || bt.RejectedReason != "INVALID_FORMAT" || c.Event != "REJECTED" || !strings.Contains(c.Detail, "starts or ends") {
			t.Fatalf("rejected: %+v %+v", bt, c)
		}
		// An edit fixes it and is reviewed again.
		fixed := valid().Components
		et, err := s.Edit(ctx, bt.ID, templates.EditRequest{Components: fixed})
		if err != nil || et.Status != templates.Approved || h.last(t).Event != "APPROVED" || h.last(t).Template.ID != bt.ID {
			t.Fatalf("edit: %+v %v", et, err)
		}
		if c, sub := code(t, func() error { _, err := s.Edit(ctx, bt.ID, templates.EditRequest{Category: "MARKETING"}); return err }()); c != 100 || sub != templates.SubcodeNotEditable {
			t.Fatalf("category of an approved template: %d %d", c, sub)
		}
		if c, _ := code(t, func() error { _, err := s.Edit(ctx, bt.ID, templates.EditRequest{}); return err }()); c != cloudapi.CodeMissingParameter {
			t.Fatalf("empty edit: %d", c)
		}

		// Recategorised when the business allows it.
		promo := valid()
		promo.Name, promo.AllowCategoryChange = "promo", true
		promo.Components[2].Text = "Summer sale"
		pt, err := s.Create(ctx, biz, promo)
		if err != nil || pt.Status != templates.Approved || pt.Category != "MARKETING" || pt.PreviousCategory != "UTILITY" {
			t.Fatalf("recategorised: %+v %v", pt, err)
		}

		// Operators pause and disable; sending finds the status.
		if _, err := s.SetStatus(ctx, tm.ID, templates.Paused, ""); err != nil {
			t.Fatal(err)
		}
		if _, st, _ := s.Find(ctx, biz, "order_update", "en_US"); st != templates.Paused || h.last(t).Event != "PAUSED" {
			t.Fatalf("paused: %s %+v", st, h.last(t))
		}
		if _, err := s.SetStatus(ctx, tm.ID, templates.Pending, ""); kontor.KindOf(err) != kontor.Invalid {
			t.Fatalf("set pending: %v", err)
		}
		if _, err := s.SetStatus(ctx, deT.ID, templates.Disabled, ""); err != nil {
			t.Fatal(err)
		}
		if c, sub := code(t, func() error { _, err := s.Edit(ctx, deT.ID, templates.EditRequest{Components: fixed}); return err }()); c != 100 || sub != templates.SubcodeNotEditable {
			t.Fatalf("edit a disabled one: %d %d", c, sub)
		}
		if c, _ := code(t, s.Delete(ctx, biz, "order_update", 0)); c != 100 {
			t.Fatalf("delete a disabled one: %d", c)
		}
		if _, err := s.SetStatus(ctx, deT.ID, templates.Approved, ""); err != nil {
			t.Fatal(err)
		}

		// Listing: filters, and paging both ways.
		for i := range 3 {
			r := valid()
			r.Name = "more_" + string(rune('a'+i))
			if _, err := s.Create(ctx, biz, r); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.List(ctx, biz, templates.Query{})
		if err != nil || len(all.Templates) != 7 || all.HasNext || all.HasPrevious {
			t.Fatalf("list: %d %+v %v", len(all.Templates), all, err)
		}
		var seen []kontor.ID
		p := templates.Page{HasNext: true}
		for after := ""; p.HasNext; after = p.After {
			if p, err = s.List(ctx, biz, templates.Query{Limit: 3, After: after}); err != nil {
				t.Fatal(err)
			}
			for _, x := range p.Templates {
				seen = append(seen, x.ID)
			}
		}
		if len(seen) != 7 || seen[0] != all.Templates[0].ID || seen[6] != all.Templates[6].ID {
			t.Fatalf("paged: %v", seen)
		}
		back, err := s.List(ctx, biz, templates.Query{Limit: 2, Before: p.After})
		if err != nil || len(back.Templates) != 2 || back.Templates[1].ID != all.Templates[5].ID || !back.HasPrevious || !back.HasNext {
			t.Fatalf("before: %+v %v", back, err)
		}
		if p, err := s.List(ctx, biz, templates.Query{Name: "order_update"}); err != nil || len(p.Templates) != 2 {
			t.Fatalf("by name: %+v %v", p, err)
		}
		if p, err := s.List(ctx, biz, templates.Query{Statuses: []string{"paused", "REJECTED"}}); err != nil || len(p.Templates) != 1 || p.Templates[0].ID != tm.ID {
			t.Fatalf("by status: %+v %v", p, err)
		}
		if p, err := s.List(ctx, biz, templates.Query{Language: "de", Category: "utility"}); err != nil || len(p.Templates) != 1 {
			t.Fatalf("by language: %+v %v", p, err)
		}
		for _, q := range []templates.Query{{Statuses: []string{"GONE"}}, {After: "nope"}, {Limit: 1001}, {After: all.After, Before: all.Before}} {
			if c, _ := code(t, func() error { _, err := s.List(ctx, biz, q); return err }()); c != 100 {
				t.Fatalf("list %+v: %d", q, c)
			}
		}

		// Deleting one language, then the name in every language.
		n := h.count()
		if err := s.Delete(ctx, biz, "order_update", deT.ID); err != nil {
			t.Fatal(err)
		}
		if c := h.last(t); c.Event != "DELETED" || c.Template.ID != deT.ID || h.count() != n+1 {
			t.Fatalf("deleted: %+v", c)
		}
		if _, err := s.Get(ctx, deT.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("get deleted: %v", err)
		}
		if err := s.Delete(ctx, biz, "order_update", deT.ID); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("delete again: %v", err)
		}
		if err := s.Delete(ctx, biz, "more_a", 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, biz, "nothing", 0); kontor.KindOf(err) != kontor.NotFound {
			t.Fatalf("delete unknown: %v", err)
		}
		if c, _ := code(t, s.Delete(ctx, biz, "", 0)); c != cloudapi.CodeMissingParameter {
			t.Fatalf("delete without a name: %d", c)
		}
		// The name is free again.
		if _, err := s.Create(ctx, biz, de); err != nil {
			t.Fatalf("create again: %v", err)
		}
	})
}

func TestCountLimit(t *testing.T) {
	db, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	s := templates.New(db, ids, nil, nil, nil)
	s.MaxPerBusiness = 2
	biz := ids.Next()
	for i, lang := range []string{"en", "de", "fr"} {
		r := valid()
		r.Language = lang
		_, err := s.Create(t.Context(), biz, r)
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if c, sub := code(t, err); c != 100 || sub != templates.SubcodeCountLimit {
				t.Fatalf("over the limit: %d %d", c, sub)
			}
		}
	}
}

// TestWebhook: the public message_template_status_update body.
func TestWebhook(t *testing.T) {
	at := time.Unix(1751234563, 0)
	c := templates.Change{Template: templates.Template{ID: 1689556908129832, Business: 42, Name: "order_update", Language: "en_US", Category: "UTILITY"},
		Event: "REJECTED", Reason: "INVALID_FORMAT", Detail: "The body starts … “quoted”", At: at}
	id, body, err := c.Webhook()
	if err != nil {
		t.Fatal(err)
	}
	id2, _, _ := c.Webhook()
	if id != id2 || id != "template.1689556908129832.rejected.1751234563000" {
		t.Fatalf("id %q, again %q", id, id2)
	}
	for _, b := range body {
		if b > 0x7e {
			t.Fatalf("not ASCII: %s", body)
		}
	}
	var n struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Time    int64  `json:"time"`
			Changes []struct {
				Field string         `json:"field"`
				Value map[string]any `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	e := n.Entry[0]
	v := e.Changes[0].Value
	ri, _ := v["rejection_info"].(map[string]any)
	if n.Object != "whatsapp_business_account" || e.ID != "42" || e.Time != at.Unix() || e.Changes[0].Field != "message_template_status_update" ||
		v["event"] != "REJECTED" || v["message_template_id"] != float64(1689556908129832) || v["message_template_name"] != "order_update" ||
		v["message_template_language"] != "en-US" || v["reason"] != "INVALID_FORMAT" || v["message_template_category"] != "UTILITY" ||
		ri["reason"] != "INVALID_FORMAT" || ri["recommendation"] != c.Detail {
		t.Fatalf("webhook: %s", body)
	}
	c.Event, c.Reason = "APPROVED", "NONE"
	if _, body, _ := c.Webhook(); strings.Contains(string(body), "rejection_info") {
		t.Fatalf("approved with rejection_info: %s", body)
	}
}
