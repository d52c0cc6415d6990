package webhook_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(time.Now().UnixMilli())} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// secrets is an app directory whose secrets tests change.
type secrets struct {
	mu sync.Mutex
	m  map[kontor.ID]string
}

func newSecrets(kv ...any) *secrets {
	s := &secrets{m: map[kontor.ID]string{}}
	for i := 0; i < len(kv); i += 2 {
		s.m[kontor.ID(kv[i].(int))] = kv[i+1].(string)
	}
	return s
}

func (s *secrets) AppSecret(_ context.Context, app kontor.ID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[app]
	if !ok {
		return "", kontor.Errorf(kontor.NotFound, "test.AppSecret", "no app %d", app)
	}
	return v, nil
}

func (s *secrets) Set(app kontor.ID, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[app] = v
}

// backends runs fn on SQLite and, when KONTOR_TEST_POSTGRES is set, on
// PostgreSQL. open opens (another handle on) the same database.
func backends(t *testing.T, fn func(t *testing.T, open func() *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		u := "sqlite:" + filepath.Join(t.TempDir(), "kontor.db")
		fn(t, func() *store.DB { return openDB(t, u) })
	})
	t.Run("postgres", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		fn(t, func() *store.DB { return openDB(t, u) })
	})
}

func openDB(t testing.TB, u string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: u})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// start makes and starts a Deliverer, closed when the test ends.
func start(t testing.TB, cfg webhook.Config, db webhook.Store, s webhook.Secrets, c kontor.Clock) *webhook.Deliverer {
	t.Helper()
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Millisecond
	}
	d := webhook.New(cfg, db, s, nil, c, nil)
	d.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// event makes an event for app 1.
func event(id, url string) webhook.Event {
	return webhook.Event{ID: id, App: 1, URL: url, Body: []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","id":%q}`, id))}
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settled waits until event id has had n attempts and is not claimed, and
// returns it.
func settled(t testing.TB, db webhook.Store, app kontor.ID, id string, n int) webhook.Delivery {
	t.Helper()
	var got webhook.Delivery
	waitFor(t, fmt.Sprintf("%s to have %d attempts", id, n), func() bool {
		ds, err := db.RecentWebhooks(context.Background(), app, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.ID == id && d.Attempts == n && d.Lease == 0 {
				got = d
				return true
			}
		}
		return false
	})
	return got
}
