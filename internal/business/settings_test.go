package business_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
)

func TestCheckProfile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     business.Profile
		fields string // the fields with problems, in order
	}{
		{"empty", business.Profile{}, ""},
		{"full", business.Profile{About: strings.Repeat("ü", 139), Address: "Hauptstr. 1", Description: "Blumen", Email: "shop@blumen.example",
			Websites: []string{"https://blumen.example", "http://b.example/x"}, Vertical: "retail"}, ""},
		{"about too long", business.Profile{About: strings.Repeat("a", 140)}, "about"},
		{"description too long", business.Profile{Description: strings.Repeat("a", 513)}, "description"},
		{"address too long", business.Profile{Address: strings.Repeat("a", 257)}, "address"},
		{"bad email", business.Profile{Email: "shop at blumen"}, "email"},
		{"unknown vertical", business.Profile{Vertical: "FLOWERS"}, "vertical"},
		{"three websites", business.Profile{Websites: []string{"https://a.example", "https://b.example", "https://c.example"}}, "websites"},
		{"ftp website", business.Profile{Websites: []string{"ftp://a.example"}}, "websites"},
		{"not a URL", business.Profile{Websites: []string{"blumen"}}, "websites"},
		{"blank websites dropped", business.Profile{Websites: []string{" ", ""}}, ""},
		{"invalid UTF-8", business.Profile{About: "\xff"}, "about"},
		{"several", business.Profile{About: strings.Repeat("a", 140), Email: "x", Vertical: "NOPE"}, "about,email,vertical"},
	} {
		p, err := business.CheckProfile(tc.in)
		var fe business.FieldErrors
		errors.As(err, &fe)
		var got []string
		for _, f := range fe {
			got = append(got, f.Field)
			if f.Msg == "" || !strings.HasSuffix(f.Msg, ".") {
				t.Errorf("%s: message %q is not a sentence", tc.name, f.Msg)
			}
		}
		if strings.Join(got, ",") != tc.fields {
			t.Errorf("%s: problems with %v, want %q (%v)", tc.name, got, tc.fields, err)
		}
		if tc.fields != "" && kontor.KindOf(err) != kontor.Invalid {
			t.Errorf("%s: kind %v, want Invalid", tc.name, kontor.KindOf(err))
		}
		if tc.name == "full" && (p.Vertical != "RETAIL" || len(p.Websites) != 2) {
			t.Errorf("full: %+v", p)
		}
		if tc.name == "blank websites dropped" && len(p.Websites) != 0 {
			t.Errorf("blank websites kept: %q", p.Websites)
		}
	}
}

func TestSettings(t *testing.T) {
	ctx := t.Context()
	f := newService(t, time.Now())
	svc, db := f.Service, f.db
	a, _ := svc.Create(ctx, business.CreateRequest{Name: "A", Phone: "+493010000", WebhookURL: "http://127.0.0.1:1/hook"})
	b, _ := svc.Create(ctx, business.CreateRequest{Name: "B", Phone: "+493020000"})

	// A business changes only its own numbers and tokens.
	if _, err := svc.SetProfile(ctx, a.WABAID, b.PhoneNumberID, business.Profile{About: "x"}); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("profile of another business's number: %v", err)
	}
	if _, err := svc.SetProfile(ctx, a.WABAID, a.PhoneNumberID, business.Profile{About: "Blumen", Websites: []string{" https://a.example "}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.Profile(ctx, a.PhoneNumberID); p.About != "Blumen" || len(p.Websites) != 1 || p.Websites[0] != "https://a.example" {
		t.Errorf("stored profile %+v", p)
	}
	bt, _ := svc.Tokens(ctx, b.WABAID, 0)
	if err := svc.RevokeOwnToken(ctx, a.WABAID, bt[0].ID); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("revoking another business's token: %v", err)
	}
	if bt, _ := svc.Tokens(ctx, b.WABAID, 0); bt[0].Revoked {
		t.Error("another business's token was revoked")
	}
	at, _ := svc.Tokens(ctx, a.WABAID, 0)
	if err := svc.RevokeOwnToken(ctx, a.WABAID, at[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, a.AccessToken); kontor.KindOf(err) != kontor.Unauthenticated {
		t.Errorf("a revoked token authenticates: %v", err)
	}

	// Rotation replaces the secret the deliverer reads.
	app, err := svc.RotateSecret(ctx, a.WABAID)
	if err != nil || app.ID != a.AppID || app.Secret == a.AppSecret || len(app.Secret) != 32 {
		t.Fatalf("RotateSecret: %+v %v", app, err)
	}
	if s, _ := db.AppSecret(ctx, a.AppID); s != app.Secret {
		t.Errorf("stored secret %q, want the new one", s)
	}
	if s, _ := db.AppSecret(ctx, b.AppID); s != b.AppSecret {
		t.Error("another business's secret changed")
	}

	// The test event: the public shape, for the business's number.
	ev, err := svc.TestEvent(ctx, a.WABAID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ev.ID, "test-wamid.") || ev.App != a.AppID || ev.URL != "http://127.0.0.1:1/hook" {
		t.Errorf("test event %+v", ev)
	}
	var body map[string]any
	if err := json.Unmarshal(ev.Body, &body); err != nil || body["object"] != "whatsapp_business_account" ||
		!strings.Contains(string(ev.Body), `"phone_number_id":"`+a.PhoneNumberID.String()+`"`) || !strings.Contains(string(ev.Body), `"from":"16315551181"`) {
		t.Errorf("test event body %s", ev.Body)
	}
	if _, err := svc.TestEvent(ctx, b.WABAID, 0); kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), "webhook URL") {
		t.Errorf("test event without a webhook URL: %v", err)
	}
	if _, err := svc.TestEvent(ctx, a.WABAID, b.PhoneNumberID); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("test event for another business's number: %v", err)
	}
}
