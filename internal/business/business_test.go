package business_test

import (
	"context"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/store"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// accounts hands out accounts without a server.
type accounts struct{ n int }

func (a *accounts) RegisterDirect(_ context.Context, phone, _ string) (business.Device, error) {
	a.n++
	return business.Device{Account: kontor.ID(1000 + a.n), Phone: kontor.Phone(phone), DeviceID: 1, Credential: "kd_x"}, nil
}

// service is a business.Service on a fresh SQLite store, with the clock
// and the ids it uses.
type service struct {
	*business.Service
	db    *store.DB
	clock *clock
	ids   *kontor.IDs
}

// newService opens a store in a temporary directory, closed when the test
// ends, and a service on it whose clock starts at start.
func newService(t *testing.T, start time.Time) service {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: start}
	ids := kontor.NewIDs(c, 1)
	return service{Service: business.New(db, &accounts{}, ids, c, nil), db: db, clock: c, ids: ids}
}

func TestAccess(t *testing.T) {
	ctx := context.Background()
	f := newService(t, time.Now())
	svc, c := f.Service, f.clock
	a, err := svc.Create(ctx, business.CreateRequest{Name: "A", Phone: "+493010000"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Create(ctx, business.CreateRequest{Name: "B", Phone: "+493020000"})
	if err != nil {
		t.Fatal(err)
	}
	msgOnly, err := svc.CreateToken(ctx, business.TokenRequest{Business: a.WABAID, Scopes: "messaging", TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePartner(ctx, "Agentur")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := svc.CreateToken(ctx, business.TokenRequest{Partner: p.ID, Scopes: "messaging,management"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Grant(ctx, p.ID, b.WABAID); err != nil {
		t.Fatal(err)
	}
	revoked, _ := svc.CreateToken(ctx, business.TokenRequest{Business: a.WABAID, Scopes: "messaging"})
	if err := svc.RevokeToken(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		token string
		biz   kontor.ID
		scope business.Scope
		later time.Duration
		want  kontor.Kind // 0 (Internal) means allowed
		ok    bool
	}{
		{"own token, both scopes", a.AccessToken, a.WABAID, business.ScopeMessaging | business.ScopeManagement, 0, 0, true},
		{"own token, other business", a.AccessToken, b.WABAID, business.ScopeMessaging, 0, kontor.Forbidden, false},
		{"messaging token sends", msgOnly.Token, a.WABAID, business.ScopeMessaging, 0, 0, true},
		{"messaging token manages", msgOnly.Token, a.WABAID, business.ScopeManagement, 0, kontor.Forbidden, false},
		{"expired", msgOnly.Token, a.WABAID, business.ScopeMessaging, 2 * time.Hour, kontor.Unauthenticated, false},
		{"revoked", revoked.Token, a.WABAID, business.ScopeMessaging, 0, kontor.Unauthenticated, false},
		{"partner, granted", pt.Token, b.WABAID, business.ScopeManagement, 0, 0, true},
		{"partner, not granted", pt.Token, a.WABAID, business.ScopeMessaging, 0, kontor.Forbidden, false},
		{"garbage", "ktk_nothing", a.WABAID, business.ScopeMessaging, 0, kontor.Unauthenticated, false},
		{"another kind of credential", "kd_1_abc", a.WABAID, business.ScopeMessaging, 0, kontor.Unauthenticated, false},
	} {
		c.t = time.Now().Add(tc.later)
		caller, err := svc.Authenticate(ctx, tc.token)
		if err == nil {
			err = svc.Allowed(ctx, caller, tc.biz, tc.scope)
		}
		if (err == nil) != tc.ok || (err != nil && kontor.KindOf(err) != tc.want) {
			t.Errorf("%s: %v (kind %v), want ok=%v kind %v", tc.name, err, kontor.KindOf(err), tc.ok, tc.want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	for in, want := range map[string]business.Scope{
		"messaging":             business.ScopeMessaging,
		"management":            business.ScopeManagement,
		"messaging, management": business.ScopeMessaging | business.ScopeManagement,
		"":                      0,
		"admin":                 0,
	} {
		got, err := business.ParseScopes(in)
		if got != want || (want == 0) != (err != nil) {
			t.Errorf("ParseScopes(%q) = %v, %v", in, got, err)
		}
	}
}
