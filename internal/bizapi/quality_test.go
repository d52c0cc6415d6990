package bizapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// qualityEvent is the value of a phone_number_quality_update.
type qualityEvent struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	Event              string `json:"event"`
	CurrentLimit       string `json:"current_limit"`
	OldLimit           string `json:"old_limit"`
	MaxDaily           string `json:"max_daily_conversations_per_business"`
	QualityRating      string `json:"quality_rating"`
}

// qualityEvents are the phone_number_quality_update values received so far.
func (r *changeReceiver) qualityEvents() []qualityEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []qualityEvent
	for _, c := range r.got {
		var v qualityEvent
		if c.Field == cloudapi.FieldPhoneNumberQuality && json.Unmarshal(c.Value, &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

// waitQuality waits until n quality events came.
func (r *changeReceiver) waitQuality(what string, n int) []qualityEvent {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if evs := r.qualityEvents(); len(evs) >= n {
			return evs
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("no %s webhook: got %+v", what, r.qualityEvents())
	return nil
}

// operatorPerson is someone whose account the operator made (no one-time
// code: a test needs more people than one address may ask codes for).
func operatorPerson(ctx context.Context, t *testing.T, s *kontortest.Server, phone string) *person {
	t.Helper()
	return &person{c: kontortest.NewOperatorPerson(ctx, t, s.URL, s.Token, phone).C}
}

// TestQuality: a hosted business that reaches half its messaging limit
// with a good rating moves up a tier; people blocking it turn its rating
// RED, which moves it down; each change reaches the business as a signed
// phone_number_quality_update, and the Business API shows the state.
func TestQuality(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s := kontortest.Start(t, append(opts, kontortest.WithConfig(func(c *config.Config) { c.QualityEvery = 50 * time.Millisecond }))...)
		hook := newChangeReceiver(t)
		const phone = "+4930444444"
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": phone, "webhook_url": hook.srv.URL}, hook)
		waba, number, tok := biz.WABA, biz.Number, biz.Token
		want := func(evs []qualityEvent, i int, event, limit, old, rating string) {
			t.Helper()
			e := evs[i]
			if e.Event != event || e.CurrentLimit != limit || e.MaxDaily != limit || e.OldLimit != old || e.QualityRating != rating ||
				e.DisplayPhoneNumber != "4930444444" {
				t.Fatalf("quality event %d: %+v, want %s %s (from %q) %s", i, e, event, limit, old, rating)
			}
		}
		state := func(quality, tier string) {
			t.Helper()
			code, out := api(t, s, http.MethodGet, "/v21.0/"+number, tok, nil)
			if code != 200 || out["quality_rating"] != quality || out["messaging_limit_tier"] != tier {
				t.Fatalf("GET number: %d %v, want %s %s", code, out, quality, tier)
			}
			code, out = api(t, s, http.MethodGet, "/v21.0/"+waba+"/phone_numbers", tok, nil)
			data, _ := out["data"].([]any)
			if code != 200 || len(data) != 1 || data[0].(map[string]any)["quality_rating"] != quality || data[0].(map[string]any)["messaging_limit_tier"] != tier {
				t.Fatalf("GET phone_numbers: %d %v, want %s %s", code, out, quality, tier)
			}
		}
		state("GREEN", "TIER_250")

		// The operator lowers the limit to 50 people a day: a webhook too.
		if code := s.Call(t, http.MethodPost, "/admin/v1/numbers/"+number, s.Token, map[string]any{"tier": "TIER_50"}, nil); code != 200 {
			t.Fatalf("set tier: %d", code)
		}
		evs := hook.waitQuality("operator's downgrade", 1)
		want(evs, 0, "DOWNGRADE", "TIER_50", "TIER_250", "GREEN")
		state("GREEN", "TIER_50")

		// The business writes first to 25 people (half of 50), with a
		// template: business-initiated messages.
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+waba+"/message_templates", tok, orderReady("de")); code != 200 || out["status"] != "APPROVED" {
			t.Fatalf("template: %d %v", code, out)
		}
		people := make([]*person, 25)
		for i := range people {
			p := fmt.Sprintf("+49151000020%02d", i)
			people[i] = operatorPerson(ctx, t, s, p)
			if code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, sendOrderReady(p[1:], "Ann", "#1")); code != 200 {
				t.Fatalf("send to %s: %d %v", p, code, out)
			}
		}
		for _, p := range people {
			p.next(t)
		}
		evs = hook.waitQuality("upgrade", 2)
		want(evs, 1, "UPGRADE", "TIER_250", "TIER_50", "GREEN")
		state("GREEN", "TIER_250")

		// Reporting needs a business number.
		for _, tc := range []struct {
			phone string
			kind  kontor.Kind
		}{{"+4915100002001", kontor.NotFound}, {"nope", kontor.Invalid}} {
			if err := people[0].c.API().Report(ctx, kontor.Phone(tc.phone)); kontor.KindOf(err) != tc.kind {
				t.Fatalf("report %s: %v, want %v", tc.phone, err, tc.kind)
			}
		}
		// Two of the 25 block the business, a third reports it (12 %):
		// RED, and one tier down.
		for _, p := range people[:2] {
			if err := p.c.API().Block(ctx, kontor.Phone(phone)); err != nil {
				t.Fatal(err)
			}
		}
		if err := people[2].c.API().Report(ctx, kontor.Phone(phone)); err != nil {
			t.Fatal(err)
		}
		evs = hook.waitQuality("flagged and downgrade", 4)
		if evs[2].Event == "DOWNGRADE" { // one change, two webhooks: in any order, as the public service
			evs[2], evs[3] = evs[3], evs[2]
		}
		want(evs, 2, "FLAGGED", "TIER_50", "", "RED")
		want(evs, 3, "DOWNGRADE", "TIER_50", "TIER_250", "RED")
		state("RED", "TIER_50")

		// The two unblock: one report is below the minimum, the rating
		// recovers; the tier stays until the business reaches half of it
		// again.
		for _, p := range people[:2] {
			if err := p.c.API().Unblock(ctx, kontor.Phone(phone)); err != nil {
				t.Fatal(err)
			}
		}
		evs = hook.waitQuality("unflagged", 5)
		want(evs, 4, "UNFLAGGED", "TIER_50", "", "GREEN")
		state("GREEN", "TIER_50")
		// Many sweeps ran in between, and each change was told once.
		if len(evs) != 5 {
			t.Fatalf("quality events: %+v", evs)
		}
		hook.mu.Lock()
		bad := hook.bad
		hook.mu.Unlock()
		if bad != 0 {
			t.Fatalf("%d webhooks were unsigned, badly signed or not ASCII", bad)
		}
	})
}
