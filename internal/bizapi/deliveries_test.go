package bizapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestDeliveryReports: the platform's side of a self-hosted endpoint's
// metering (POST /{number}/deliveries, GET /{number}/credit) refuses
// reports it can tell are wrong, with a message that says why, charges a
// good one once, and answers 131042 when the credit is spent; the end to
// end run with a real kontor endpoint is e2etest.TestSelfHostedMetering.
func TestDeliveryReports(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		self := newBusiness(t, s, map[string]any{"name": "Eigen", "phone": "+4930999991", "self_hosted": true})
		hosted := newBusiness(t, s, map[string]any{"name": "Gehostet", "phone": "+4930999992"})
		if code := s.Call(t, http.MethodPost, "/admin/v1/accounts", s.Token, map[string]string{"phone": "+4915100000071"}, nil); code != 200 {
			t.Fatalf("account: %d", code)
		}
		number, tok := self.Number, self.Token
		ids := kontor.NewIDs(kontor.SystemClock{}, 7)
		now := time.Now()
		good := func() map[string]any {
			return map[string]any{"message_id": cloudapi.MessageID(ids.Next()), "to": "4915100000071", "category": "marketing",
				"sent": now.UnixMilli(), "delivered": now.Add(time.Second).UnixMilli()}
		}
		with := func(k string, v any) map[string]any {
			m := good()
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		for _, tc := range []struct {
			name, number, token string
			body                map[string]any
			status              int
			says                string
		}{
			{"no token", number, "", good(), 401, "access token"},
			{"another business's token", number, hosted.Token, good(), 403, ""},
			{"a hosted number", hosted.Number, hosted.Token, good(), 400, "hosted endpoint"},
			{"no message id", number, tok, with("message_id", nil), 400, "message_id"},
			{"not a wamid", number, tok, with("message_id", "42"), 400, "message_id"},
			{"unknown category", number, tok, with("category", "promo"), 400, "category"},
			{"not a phone", number, tok, with("to", "12ab"), 400, "to"},
			{"a business number", number, tok, with("to", "4930999992"), 400, "business number"},
			{"the number itself", number, tok, with("to", "4930999991"), 400, "this business number"},
			{"no such person", number, tok, with("to", "4915100000099"), 400, "no one"},
			{"an id from the future", number, tok, with("message_id", cloudapi.MessageID(kontor.NewIDs(fixedClock(now.Add(time.Hour)), 1).Next())), 400, "future"},
			{"sent far from its id", number, tok, with("sent", now.Add(-time.Hour).UnixMilli()), 400, "away from"},
			{"delivered before sent", number, tok, with("delivered", now.Add(-time.Minute).UnixMilli()), 400, "delivered"},
			{"delivered in the future", number, tok, with("delivered", now.Add(time.Hour).UnixMilli()), 400, "future"},
			{"an unknown field", number, tok, with("text", "hello"), 400, "unknown field"},
		} {
			var out map[string]any
			code := s.Call(t, http.MethodPost, "/v21.0/"+tc.number+"/deliveries", tc.token, tc.body, &out)
			if code != tc.status || !strings.Contains(strings.ToLower(errText(out)), strings.ToLower(tc.says)) {
				t.Errorf("%s: %d %v, want %d saying %q", tc.name, code, out, tc.status, tc.says)
			}
		}
		var u map[string]any
		if s.Call(t, http.MethodGet, "/admin/v1/businesses/"+self.WABA+"/usage?from=2000-01-01&to=2100-01-01", s.Token, nil, &u); u["entries"] != 0.0 {
			t.Fatalf("refused reports charged: %v", u)
		}

		// The endpoint's client of it.
		nid, _ := kontor.ParseID(number)
		pm := &bizapi.PlatformMeter{Base: s.URL, Token: tok, Number: nid}
		d := endpoint.Delivery{ID: ids.Next(), Peer: "+4915100000071", Category: "marketing", Sent: now, Delivered: now.Add(time.Second)}
		for i := range 2 { // a repeat answers the same and charges nothing more
			dec, err := pm.Report(ctx, d)
			if err != nil || dec != (billing.Decision{Billable: true, Category: "marketing", Type: "regular"}) {
				t.Fatalf("report %d: %+v %v", i, dec, err)
			}
		}
		free := d
		free.ID, free.Category, free.InWindow = ids.Next(), "service", true
		if dec, err := pm.Report(ctx, free); err != nil || dec.Billable || dec.Type != "free_customer_service" {
			t.Fatalf("a free reply: %+v %v", dec, err)
		}
		if s.Call(t, http.MethodGet, "/admin/v1/businesses/"+self.WABA+"/usage?from=2000-01-01&to=2100-01-01", s.Token, nil, &u); u["entries"] != 1.0 {
			t.Fatalf("after a billable report twice and a free one: %v", u)
		}
		if err := pm.Credit(ctx); err != nil {
			t.Fatalf("credit without an account: %v", err)
		}
		if code := s.Call(t, http.MethodPut, "/admin/v1/businesses/"+self.WABA+"/credit", s.Token, map[string]any{"mode": "prepaid", "currency": "USD"}, nil); code != 200 {
			t.Fatalf("credit: %d", code)
		}
		time.Sleep(2100 * time.Millisecond) // what the node and the client keep
		if err := pm.Credit(ctx); !errors.Is(err, billing.ErrNoCredit) {
			t.Fatalf("credit spent: %v", err)
		}
		var out map[string]any
		if code := s.Call(t, http.MethodGet, "/v21.0/"+number+"/credit", tok, nil, &out); code != 400 || out["error"].(map[string]any)["code"] != 131042.0 {
			t.Fatalf("GET credit with the credit spent: %d %v", code, out)
		}
	})
}

// fixedClock is always at one time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func errText(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	if e == nil {
		return ""
	}
	msg, _ := e["message"].(string)
	if data, ok := e["error_data"].(map[string]any); ok {
		d, _ := data["details"].(string)
		msg += " " + d
	}
	return msg
}

// TestPlatformMeterAnswers: the endpoint's client retries while the
// platform cannot answer, and tells refusals apart.
func TestPlatformMeterAnswers(t *testing.T) {
	ctx := context.Background()
	d := endpoint.Delivery{ID: 1 << 30, Peer: "+4915100000071", Category: "marketing", Sent: time.Now(), Delivered: time.Now()}
	for _, tc := range []struct {
		name    string
		answers []string // one per call: "503", or a status and body
		calls   int
		check   func(error) bool
	}{
		{"ok after two failures", []string{"503", "502", `200 {"pricing":{"billable":true,"category":"marketing","type":"regular"}}`}, 3, func(err error) bool { return err == nil }},
		{"unavailable after the retries", []string{"503", "503", "503"}, 3, func(err error) bool { return kontor.KindOf(err) == kontor.Unavailable }},
		{"credit spent", []string{`400 {"error":{"code":131042,"error_data":{"details":"spent"}}}`}, 1, func(err error) bool { return errors.Is(err, billing.ErrNoCredit) }},
		{"refused for good", []string{`400 {"error":{"code":100,"error_data":{"details":"bad"}}}`}, 1, func(err error) bool { return kontor.KindOf(err) == kontor.Invalid }},
		{"the token refused", []string{`401 {"error":{"code":190,"error_data":{"details":"bad token"}}}`}, 1, func(err error) bool { return kontor.KindOf(err) == kontor.Unavailable }},
		{"not the Cloud API", []string{"404 nope"}, 1, func(err error) bool { return kontor.KindOf(err) == kontor.Unavailable }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				a := tc.answers[min(i, len(tc.answers)-1)]
				code, body, _ := strings.Cut(a, " ")
				switch code {
				case "200":
					w.WriteHeader(200)
				case "400":
					w.WriteHeader(400)
				case "401":
					w.WriteHeader(401)
				case "404":
					w.WriteHeader(404)
				case "502":
					w.WriteHeader(502)
				default:
					w.WriteHeader(503)
				}
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			pm := &bizapi.PlatformMeter{Base: srv.URL, Token: "t", Number: 5, Retries: []time.Duration{time.Millisecond, time.Millisecond}}
			_, err := pm.Report(ctx, d)
			if !tc.check(err) || int(n.Load()) != tc.calls {
				t.Fatalf("err %v after %d calls, want %d", err, n.Load(), tc.calls)
			}
		})
	}
}

// TestPlatformMeterCredit: a send waits for the credit check, so it is
// asked once, not retried; a yes is kept for CreditFor.
func TestPlatformMeterCredit(t *testing.T) {
	var n atomic.Int32
	status := atomic.Int32{}
	status.Store(503)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"paid_messages":true}`))
	}))
	defer srv.Close()
	pm := &bizapi.PlatformMeter{Base: srv.URL, Token: "t", Number: 5, CreditFor: time.Hour}
	if err := pm.Credit(context.Background()); kontor.KindOf(err) != kontor.Unavailable || n.Load() != 1 {
		t.Fatalf("unavailable: %v after %d calls", err, n.Load())
	}
	status.Store(200)
	for range 3 {
		if err := pm.Credit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 2 {
		t.Fatalf("%d calls, want 2 (the yes kept)", n.Load())
	}
}
