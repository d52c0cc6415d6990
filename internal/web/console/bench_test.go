package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/web/console"
	"github.com/kontor-chat/kontor/internal/webhook"
)

type benchAccounts struct{ n int }

func (a *benchAccounts) RegisterDirect(_ context.Context, phone, _ string) (business.Device, error) {
	a.n++
	return business.Device{Account: kontor.ID(1000 + a.n), Phone: kontor.Phone(phone), DeviceID: 1, Credential: "kd_x"}, nil
}

// BenchmarkPages measures the settings pages as an owner sees them, on
// SQLite, through the console's real handlers and store: the session is
// looked up, the business and the page's data read, the template rendered.
// The business has one number, 50 tokens, 20 recent deliveries and 30 users.
// Besides ns/op it reports the 99th percentile of one page's time.
//
//	go test -run '^$' -bench Pages -benchtime 2000x ./internal/web/console
func BenchmarkPages(b *testing.B) {
	mux, tok, _ := benchConsole(b)
	for _, page := range []string{"sign-in", "profile", "numbers", "tokens", "webhooks", "app", "users", "account"} {
		b.Run(page, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/console/"+page, nil)
				if page != "sign-in" {
					req.AddCookie(&http.Cookie{Name: "kontor_console", Value: tok})
				}
				w := httptest.NewRecorder()
				start := time.Now()
				mux.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", page, w.Code, w.Body)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkSignIn measures a sign-in: the form's checks, one argon2id
// check with the default costs, a new session.
//
//	go test -run '^$' -bench SignIn -benchtime 200x ./internal/web/console
func BenchmarkSignIn(b *testing.B) {
	mux, _, email := benchConsole(b)
	get := httptest.NewRecorder()
	mux.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/console/sign-in", nil))
	pre := get.Result().Cookies()[0]
	form := url.Values{"csrf": {consoleauth.CSRFToken(pre.Value)}, "email": {email}, "password": {"a long enough password"}, "next": {"/console/"}}.Encode()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/console/sign-in", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(pre)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther {
			b.Fatalf("sign-in: %d %s", w.Code, w.Body)
		}
	}
}

// benchConsole makes the benchmarks' business and returns the console's
// mux, the owner's session token and email.
func benchConsole(b *testing.B) (*http.ServeMux, string, string) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ids := kontor.NewIDs(nil, 1)
	biz := business.New(db, &benchAccounts{}, ids, nil, nil)
	auth := consoleauth.New(consoleauth.Config{}, db, ids, nil, nil)
	hooks := webhook.New(webhook.Config{}, db, nil, nil, nil, nil)
	c, err := biz.Create(ctx, business.CreateRequest{Name: "Blumen Berta", Phone: "+4930123456", WebhookURL: "https://hooks.blumen.example/in"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		if _, err := biz.CreateToken(ctx, business.TokenRequest{Business: c.WABAID, Scopes: "messaging", TTL: "720h", Label: fmt.Sprintf("token %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := biz.SetProfile(ctx, c.WABAID, c.PhoneNumberID, business.Profile{About: "Fresh flowers", Description: strings.Repeat("Blumen. ", 50),
		Websites: []string{"https://blumen.example"}, Vertical: "RETAIL"}); err != nil {
		b.Fatal(err)
	}
	owner, _, err := auth.Create(ctx, consoleauth.CreateUser{Business: c.WABAID, Email: "berta@blumen.example", Role: "owner", Password: "a long enough password"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 29 {
		if _, _, err := auth.Create(ctx, consoleauth.CreateUser{Business: c.WABAID, Email: fmt.Sprintf("agent%d@blumen.example", i), Role: "agent"}); err != nil {
			b.Fatal(err)
		}
	}
	// 20 delivered events with their answers.
	now := time.Now()
	var evs []webhook.Event
	for i := range 20 {
		evs = append(evs, webhook.Event{ID: fmt.Sprintf("ev-%d", i), App: c.AppID, URL: "https://hooks.blumen.example/in", Body: []byte(`{"object":"whatsapp_business_account"}`), Created: now})
	}
	if _, err := db.EnqueueWebhooks(ctx, evs, now, webhook.Lease{}); err != nil {
		b.Fatal(err)
	}
	ds, err := db.DueWebhooks(ctx, webhook.Claim{Now: now, Until: now.Add(time.Minute), Token: 7, Want: []webhook.Want{{URL: evs[0].URL, Limit: 100}}})
	if err != nil || len(ds) != 20 {
		b.Fatalf("claimed %d: %v", len(ds), err)
	}
	var rs []webhook.Result
	for _, d := range ds {
		rs = append(rs, webhook.Result{ID: d.ID, Lease: 7, Outcome: webhook.OutcomeDelivered, At: now, Status: 200, Response: `{"ok":true}`, Tried: true})
	}
	if err := db.SettleWebhooks(ctx, rs); err != nil {
		b.Fatal(err)
	}

	con, err := console.New(console.Config{Auth: auth, Business: biz, Outbox: hooks})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Mount(mux)
	tok, _, err := auth.SignIn(ctx, owner.Email, "a long enough password", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	return mux, tok, owner.Email
}
