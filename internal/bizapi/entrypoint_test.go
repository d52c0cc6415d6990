package bizapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// inbound waits for the messages webhook of a person's message from
// (digits) whose text is body.
func (r *changeReceiver) inbound(from, body string) cloudapi.WebhookMessage {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, c := range r.got {
			var v cloudapi.MessagesValue
			if c.Field != cloudapi.FieldMessages || json.Unmarshal(c.Value, &v) != nil {
				continue
			}
			for _, m := range v.Messages {
				if m.From == from && m.Text != nil && m.Text.Body == body {
					r.mu.Unlock()
					return m
				}
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no webhook for the message %q from %s", body, from)
	return cloudapi.WebhookMessage{}
}

// TestFreeEntryPoint: a person starts a chat from an ad (a first message
// with a referral): the business's webhook carries the referral; the
// business's answer opens the 72-hour free entry-point window, and every
// template it sends in it is free (billable false, free_entry_point),
// also after the 24-hour service window closed; nothing of it is in the
// ledger. After the 72 hours (a clock moved on) the same template is
// charged, as is the one to a person who came without a referral.
func TestFreeEntryPoint(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		clock := &kontortest.Clock{}
		s := kontortest.Start(t, append(opts, kontortest.WithClock(clock))...)
		hook := newChangeReceiver(t)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Anna", "phone": "+4930555555", "webhook_url": hook.srv.URL}, hook)
		waba, number, tok := biz.WABA, biz.Number, biz.Token
		sale := orderReady("de")
		sale["name"], sale["category"] = "spring_sale", "MARKETING"
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+waba+"/message_templates", tok, sale); code != 200 || out["status"] != "APPROVED" {
			t.Fatalf("template: %d %v", code, out)
		}
		sendSale := func(to string) map[string]any {
			m := sendOrderReady(to, "Ann", "#42")
			m["template"].(map[string]any)["name"] = "spring_sale"
			return m
		}

		ann := newPerson(ctx, t, s, "+4915100000001")
		bob := newPerson(ctx, t, s, "+4915100000002")
		ref := &wire.Referral{SourceType: wire.ReferralAd, SourceID: "120208", SourceURL: "https://fb.me/spring", Headline: "Tulpen -20%", CTWAClid: "ARAkLkA8"}
		if _, err := ann.c.Send(ctx, "+4930555555", wire.Content{V: 1, Type: wire.ContentText, Text: "Gibt es noch Tulpen?", Referral: ref}); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.c.Send(ctx, "+4930555555", wire.Content{V: 1, Type: wire.ContentText, Text: "Gibt es noch Rosen?"}); err != nil {
			t.Fatal(err)
		}
		if m := hook.inbound("4915100000001", "Gibt es noch Tulpen?"); m.Referral == nil || *m.Referral != *ref {
			t.Fatalf("the webhook of the message from the ad has referral %+v, want %+v", m.Referral, ref)
		}
		if m := hook.inbound("4915100000002", "Gibt es noch Rosen?"); m.Referral != nil {
			t.Fatalf("a message without a referral has one in its webhook: %+v", m.Referral)
		}
		for got := ann.next(t); got.Content.Type != wire.ContentBusinessNotice; got = ann.next(t) {
		}
		for got := bob.next(t); got.Content.Type != wire.ContentBusinessNotice; got = bob.next(t) {
		}

		send := func(p *person, to string, body map[string]any) string {
			t.Helper()
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, body)
			if code != 200 {
				t.Fatalf("send to %s: %d %v", to, code, out)
			}
			wamid := out["messages"].([]any)[0].(map[string]any)["id"].(string)
			for got := p.next(t); got.Content.Type != wire.ContentTemplate && got.Content.Text == ""; got = p.next(t) {
			}
			return wamid
		}
		expect := func(what, wamid string, billable bool, typ string) {
			t.Helper()
			for _, status := range []string{"sent", "delivered"} {
				st := hook.status(wamid, status)
				if p := st.Pricing; p == nil || p.Billable != billable || p.Type != typ || p.Category != "marketing" || p.PricingModel != "PMP" {
					t.Errorf("%s, %s: pricing %+v, want billable %v type %s", what, status, st.Pricing, billable, typ)
				}
			}
		}
		// The answer inside the service window opens the entry-point window.
		expect("the answer to the ad", send(ann, "ann", sendSale("4915100000001")), false, "free_entry_point")
		expect("a template to a person without a referral", send(bob, "bob", sendSale("4915100000002")), true, "regular")

		// 30 hours on: the service window closed, the entry-point window not.
		clock.Advance(30 * time.Hour)
		code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", tok, map[string]any{"messaging_product": "whatsapp",
			"to": "4915100000001", "type": "text", "text": map[string]any{"body": "Noch da?"}})
		if code != 400 || errCode(out) != 131047 {
			t.Fatalf("a free-form message after the service window: %d %v", code, out)
		}
		expect("a template 30 hours later", send(ann, "ann", sendSale("4915100000001")), false, "free_entry_point")

		// 73 hours after the answer: charged again.
		clock.Advance(43 * time.Hour)
		expect("a template 73 hours later", send(ann, "ann", sendSale("4915100000001")), true, "regular")

		// The ledger: bob's template and the last one, nothing else.
		var usage map[string]any
		for i := 0; ; i++ {
			s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/usage?from=2000-01-01&to=2100-01-01", s.Token, nil, &usage)
			if usage["entries"] == float64(2) {
				break
			}
			if i == 100 {
				t.Fatalf("usage: %v", usage)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // nothing more comes
		s.Call(t, http.MethodGet, "/admin/v1/businesses/"+waba+"/usage?from=2000-01-01&to=2100-01-01", s.Token, nil, &usage)
		if usage["entries"] != float64(2) {
			t.Errorf("usage: %v, want 2 entries", usage)
		}
	})
}
