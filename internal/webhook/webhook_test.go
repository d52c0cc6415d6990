package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// TestSignedDelivery: each event is POSTed once with its raw body, JSON
// content type, its id, and X-Hub-Signature-256 over the raw body under the
// app's secret, which a receiver checks as the public SDKs do; the console
// sees the answer.
func TestSignedDelivery(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		const secret = "0123456789abcdef0123456789abcdef"
		var mu sync.Mutex
		got := map[string]string{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(body)
			want := "sha256=" + hex.EncodeToString(m.Sum(nil))
			switch {
			case r.Method != http.MethodPost:
				t.Errorf("method %s", r.Method)
			case r.Header.Get("Content-Type") != "application/json":
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			case !hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(want)):
				t.Errorf("signature %q, want %q", r.Header.Get("X-Hub-Signature-256"), want)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			got[r.Header.Get(webhook.IDHeader)] += string(body)
			mu.Unlock()
			_, _ = io.WriteString(w, "ok")
		}))
		defer srv.Close()
		d := start(t, webhook.Config{}, db, newSecrets(1, secret), nil)
		evs := []webhook.Event{
			event("wamid.1", srv.URL+"/hook"),
			event("wamid.2", srv.URL+"/hook"),
			{ID: "wamid.3", App: 1, URL: srv.URL + "/hook", Body: []byte(`{"text":{"body":"Gr\u00fc\u00dfe \ud83d\ude00"}}`)},
		}
		if err := d.Enqueue(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "3 deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
		for _, ev := range evs {
			dl := settled(t, db, 1, ev.ID, 1)
			if dl.State != webhook.Delivered || dl.LastStatus != 200 || dl.LastResponse != "ok" || dl.Done.IsZero() {
				t.Errorf("%s: %+v", ev.ID, dl)
			}
			mu.Lock()
			if got[ev.ID] != string(ev.Body) {
				t.Errorf("%s: body %q, want %q", ev.ID, got[ev.ID], ev.Body)
			}
			mu.Unlock()
		}
	})
}

// TestRetryThenSuccess: a 500 is retried after 5 s, then 10 s (less
// jitter), and a 200 ends it; each attempt's answer is kept.
func TestRetryThenSuccess(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) <= 2 {
				http.Error(w, "busy", http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, "thanks")
		}))
		defer srv.Close()
		c := newClock()
		t0 := c.Now()
		d := start(t, webhook.Config{}, db, newSecrets(1, "s"), c)
		if err := d.Enqueue(t.Context(), []webhook.Event{event("e1", srv.URL)}); err != nil {
			t.Fatal(err)
		}
		dl := settled(t, db, 1, "e1", 1)
		if dl.State != webhook.Pending || dl.LastStatus != 500 || dl.LastResponse != "busy\n" {
			t.Fatalf("after the first attempt: %+v", dl)
		}
		if w := dl.Next.Sub(t0); w < 4*time.Second || w > 5*time.Second {
			t.Fatalf("first retry after %v, want 4-5 s", w)
		}
		time.Sleep(30 * time.Millisecond) // polls, but nothing is due
		if n := calls.Load(); n != 1 {
			t.Fatalf("%d attempts before the retry was due", n)
		}
		c.Set(dl.Next)
		d.Notify()
		dl2 := settled(t, db, 1, "e1", 2)
		if w := dl2.Next.Sub(dl.Next); dl2.State != webhook.Pending || w < 8*time.Second || w > 10*time.Second {
			t.Fatalf("after the second attempt: %+v (waits %v, want 8-10 s)", dl2, w)
		}
		c.Set(dl2.Next)
		d.Notify()
		dl3 := settled(t, db, 1, "e1", 3)
		if dl3.State != webhook.Delivered || dl3.LastStatus != 200 || dl3.LastResponse != "thanks" || !dl3.Done.Equal(dl2.Next) {
			t.Fatalf("after the third attempt: %+v", dl3)
		}
		if n := calls.Load(); n != 3 {
			t.Fatalf("%d POSTs, want 3", n)
		}
	})
}

// TestBackoff: 5 s doubling, capped at an hour.
func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{0, 5 * time.Second},
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{4, 40 * time.Second},
		{5, 80 * time.Second},
		{6, 160 * time.Second},
		{7, 320 * time.Second},
		{8, 640 * time.Second},
		{9, 1280 * time.Second},
		{10, 2560 * time.Second},
		{11, time.Hour},
		{12, time.Hour},
		{200, time.Hour},
		{1 << 30, time.Hour},
	} {
		if got := webhook.Backoff(tc.attempt, 5*time.Second, time.Hour); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

// TestDeadLetter: an event that always fails is retried, hourly at last,
// until the next attempt would be more than 7 days after it was enqueued;
// then it is a dead letter, listed, and a replay delivers it.
func TestDeadLetter(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		var ok atomic.Bool
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if !ok.Load() {
				http.Error(w, "down", http.StatusBadGateway)
			}
		}))
		defer srv.Close()
		c := newClock()
		t0 := c.Now()
		d := start(t, webhook.Config{}, db, newSecrets(1, "s"), c)
		if err := d.Enqueue(t.Context(), []webhook.Event{event("e1", srv.URL)}); err != nil {
			t.Fatal(err)
		}
		var dl webhook.Delivery
		var prev time.Time
		for n := 1; ; n++ {
			dl = settled(t, db, 1, "e1", n)
			if dl.State == webhook.Dead {
				break
			}
			if n > 1 {
				if w := dl.Next.Sub(prev); w > time.Hour || (n > 12 && w < 48*time.Minute) {
					t.Fatalf("attempt %d: waits %v", n, w)
				}
			}
			if dl.Next.Sub(t0) > 7*24*time.Hour {
				t.Fatalf("attempt %d planned %v after enqueue", n+1, dl.Next.Sub(t0))
			}
			prev = dl.Next
			c.Set(dl.Next)
			d.Notify()
		}
		// 5+10+…+2560 s, then hours of 80-100 % jitter up to 7 days.
		if dl.Attempts < 170 || dl.Attempts > 220 || int(calls.Load()) != dl.Attempts {
			t.Fatalf("dead after %d attempts (%d POSTs)", dl.Attempts, calls.Load())
		}
		if age := dl.Done.Sub(t0); age > 7*24*time.Hour || age < 7*24*time.Hour-time.Hour {
			t.Fatalf("dead %v after enqueue", age)
		}
		dead, err := d.DeadLetters(t.Context(), 0, 10)
		if err != nil || len(dead) != 1 || dead[0].ID != "e1" || dead[0].LastStatus != 502 {
			t.Fatalf("Dead: %+v, %v", dead, err)
		}
		if dead, err := d.DeadLetters(t.Context(), 2, 10); err != nil || len(dead) != 0 {
			t.Fatalf("Dead of app 2: %+v, %v", dead, err)
		}

		ok.Store(true)
		n, err := d.Replay(t.Context(), []string{"e1", "unknown"})
		if err != nil || n != 1 {
			t.Fatalf("Replay: %d, %v", n, err)
		}
		dl = settled(t, db, 1, "e1", 1)
		if dl.State != webhook.Delivered || !dl.Started.Equal(c.Now()) {
			t.Fatalf("after replay: %+v", dl)
		}
		if dead, _ := d.DeadLetters(t.Context(), 0, 10); len(dead) != 0 {
			t.Fatalf("still dead: %+v", dead)
		}
		// A delivered event can be replayed too; a pending one is left alone.
		ok.Store(false)
		if n, err := d.Replay(t.Context(), []string{"e1"}); err != nil || n != 1 {
			t.Fatalf("Replay delivered: %d, %v", n, err)
		}
		settled(t, db, 1, "e1", 1)
		if n, err := d.Replay(t.Context(), []string{"e1"}); err != nil || n != 0 {
			t.Fatalf("Replay pending: %d, %v", n, err)
		}
	})
}

// TestStableIDs: enqueueing an id that is already in the outbox, in the
// same call or later, before or after delivery, sends nothing more.
func TestStableIDs(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		var mu sync.Mutex
		var bodies []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
		}))
		defer srv.Close()
		d := start(t, webhook.Config{}, db, newSecrets(1, "s"), nil)
		first := webhook.Event{ID: "wamid.X", App: 1, URL: srv.URL, Body: []byte(`{"n":1}`)}
		second := first
		second.Body = []byte(`{"n":2}`)
		if err := d.Enqueue(t.Context(), []webhook.Event{first, second, first}); err != nil {
			t.Fatal(err)
		}
		settled(t, db, 1, "wamid.X", 1)
		if err := d.Enqueue(t.Context(), []webhook.Event{second}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // several polls
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) != 1 || bodies[0] != `{"n":1}` {
			t.Fatalf("received %q, want the first body once", bodies)
		}
	})
}

// TestPerURL: a receiver that hangs gets at most PerURL POSTs at a time,
// and the other receivers' events go out meanwhile.
func TestPerURL(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		release := make(chan struct{})
		var now, peak atomic.Int32
		var slowDone, fastDone atomic.Int32
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := now.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			now.Add(-1)
			slowDone.Add(1)
		}))
		defer slow.Close()
		defer close(release)
		fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fastDone.Add(1) }))
		defer fast.Close()
		d := start(t, webhook.Config{Workers: 4, PerURL: 2}, db, newSecrets(1, "s"), nil)
		var evs []webhook.Event
		for i := range 10 {
			evs = append(evs, event(fmt.Sprintf("slow%d", i), slow.URL))
		}
		if err := d.Enqueue(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "2 POSTs at the slow receiver", func() bool { return now.Load() == 2 })
		evs = evs[:0]
		for i := range 40 {
			evs = append(evs, event(fmt.Sprintf("fast%d", i), fast.URL))
		}
		if err := d.Enqueue(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the fast receiver's events", func() bool { return fastDone.Load() == 40 })
		if p := peak.Load(); p != 2 {
			t.Fatalf("%d POSTs at once at the slow receiver, want 2", p)
		}
		for range 10 {
			release <- struct{}{}
		}
		waitFor(t, "the slow receiver's events", func() bool { return slowDone.Load() == 10 })
		if p := peak.Load(); p != 2 {
			t.Fatalf("%d POSTs at once at the slow receiver, want 2", p)
		}
	})
}

// TestFailures: other statuses, redirects, timeouts and refused
// connections are failed attempts, retried, with what happened kept.
func TestFailures(t *testing.T) {
	db := openDB(t, "sqlite:"+t.TempDir()+"/kontor.db")
	mux := http.NewServeMux()
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/302", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // then the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("\xff\x00" + strings.Repeat("é", 1000)))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	c := newClock()
	d := start(t, webhook.Config{Timeout: 100 * time.Millisecond}, db, newSecrets(1, "s"), c)
	for _, tc := range []struct {
		url, response string
		status        int
	}{
		{srv.URL + "/404", "404 page not found\n", 404},
		{srv.URL + "/302", "", 302},
		{srv.URL + "/slow", "no answer within 100ms", 0},
		{gone.URL, "connection refused", 0},
		{srv.URL + "/binary", "\uFFFD" + strings.Repeat("é", 254), 503},
	} {
		id := "e" + tc.url[strings.LastIndex(tc.url, "/")+1:]
		if err := d.Enqueue(t.Context(), []webhook.Event{event(id, tc.url)}); err != nil {
			t.Fatal(err)
		}
		dl := settled(t, db, 1, id, 1)
		if dl.State != webhook.Pending || dl.LastStatus != tc.status || !strings.Contains(dl.LastResponse, tc.response) || len(dl.LastResponse) > 512 {
			t.Errorf("%s: state %v, status %d, response %q", tc.url, dl.State, dl.LastStatus, dl.LastResponse)
		}
	}
}

// TestSecrets: the secret is looked up at delivery, so a rotation applies
// to events already queued; an app that is gone makes dead letters.
func TestSecrets(t *testing.T) {
	db := openDB(t, "sqlite:"+t.TempDir()+"/kontor.db")
	var mu sync.Mutex
	var sigs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sigs = append(sigs, r.Header.Get(webhook.SignatureHeader))
		mu.Unlock()
	}))
	defer srv.Close()
	c := newClock()
	s := newSecrets(1, "old")
	d := start(t, webhook.Config{}, db, s, c)
	body := []byte(`{"a":1}`)
	if err := d.Enqueue(t.Context(), []webhook.Event{{ID: "e1", App: 1, URL: srv.URL, Body: body}}); err != nil {
		t.Fatal(err)
	}
	settled(t, db, 1, "e1", 1)
	s.Set(1, "new")
	c.Add(6 * time.Second) // past SecretTTL
	if err := d.Enqueue(t.Context(), []webhook.Event{{ID: "e2", App: 1, URL: srv.URL, Body: body}}); err != nil {
		t.Fatal(err)
	}
	settled(t, db, 1, "e2", 1)
	mu.Lock()
	if len(sigs) != 2 || sigs[0] != webhook.Signature("old", body) || sigs[1] != webhook.Signature("new", body) {
		t.Errorf("signatures %q", sigs)
	}
	mu.Unlock()

	if err := d.Enqueue(t.Context(), []webhook.Event{{ID: "e3", App: 7, URL: srv.URL, Body: body}}); err != nil {
		t.Fatal(err)
	}
	dl := settled(t, db, 7, "e3", 0)
	if dl.State != webhook.Dead || !strings.HasPrefix(dl.LastResponse, "app not found") {
		t.Errorf("event of a missing app: %+v", dl)
	}
}

// TestCheck: events that cannot be sent as they are refused at Enqueue.
func TestCheck(t *testing.T) {
	good := webhook.Event{ID: "wamid.HBgL", App: 1, URL: "https://example.com/hook", Body: []byte(`{"a":"\u00e9"}`)}
	if err := webhook.Check(good); err != nil {
		t.Fatalf("Check(good): %v", err)
	}
	for name, mod := range map[string]func(*webhook.Event){
		"no id":       func(e *webhook.Event) { e.ID = "" },
		"long id":     func(e *webhook.Event) { e.ID = strings.Repeat("x", 201) },
		"space in id": func(e *webhook.Event) { e.ID = "a b" },
		"no app":      func(e *webhook.Event) { e.App = 0 },
		"non-ASCII":   func(e *webhook.Event) { e.Body = []byte(`{"a":"é"}`) },
		"not JSON":    func(e *webhook.Event) { e.Body = []byte(`{"a":`) },
		"empty body":  func(e *webhook.Event) { e.Body = nil },
		"ftp":         func(e *webhook.Event) { e.URL = "ftp://example.com/" },
		"no host":     func(e *webhook.Event) { e.URL = "https:///hook" },
	} {
		ev := good
		mod(&ev)
		if err := webhook.Check(ev); kontor.KindOf(err) != kontor.Invalid {
			t.Errorf("%s: Check = %v, want an Invalid error", name, err)
		}
	}
	d := webhook.New(webhook.Config{}, nil, nil, nil, nil, nil)
	if err := d.Enqueue(context.Background(), []webhook.Event{good, {ID: "x"}}); kontor.KindOf(err) != kontor.Invalid {
		t.Errorf("Enqueue of a bad event: %v", err)
	}
}

// TestClose: Close gives back the events waiting for a worker and the one
// whose POST it cancelled; another Deliverer sends them at once, long
// before their leases would have ended.
func TestClose(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		var hang atomic.Bool
		hang.Store(true)
		var mu sync.Mutex
		got := map[string]int{}
		started := make(chan struct{}, 100)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hang.Load() {
				_, _ = io.ReadAll(r.Body) // then the server notices the client leaving
				started <- struct{}{}
				<-r.Context().Done()
				return
			}
			mu.Lock()
			got[r.Header.Get(webhook.IDHeader)]++
			mu.Unlock()
		}))
		defer srv.Close()
		d := webhook.New(webhook.Config{Workers: 1, Poll: 10 * time.Millisecond}, db, newSecrets(1, "s"), nil, nil, nil)
		d.Start()
		var evs []webhook.Event
		for i := range 5 {
			evs = append(evs, event(fmt.Sprintf("e%d", i), srv.URL))
		}
		if err := d.Enqueue(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := d.Close(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Close = %v, want the deadline", err)
		}
		hang.Store(false)
		start(t, webhook.Config{}, db, newSecrets(1, "s"), nil)
		waitFor(t, "the 5 events", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 5 })
		for _, ev := range evs {
			if dl := settled(t, db, 1, ev.ID, 1); dl.State != webhook.Delivered {
				t.Errorf("%s: %+v", ev.ID, dl)
			}
		}
	})
}

// metrics counts what a Deliverer reports.
type metrics struct {
	enqueued, delivered, failed atomic.Int64
}

func (m *metrics) WebhooksEnqueued(n int) { m.enqueued.Add(int64(n)) }

func (m *metrics) WebhookAttempt(o webhook.Outcome, status int, took time.Duration) {
	if o == webhook.OutcomeDelivered {
		m.delivered.Add(1)
	} else {
		m.failed.Add(1)
	}
}

// TestTwoDeliverers: two nodes' Deliverers on one database never POST one
// event twice, at once or one after the other.
func TestTwoDeliverers(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		dbs := []*store.DB{open(), open()}
		var mu sync.Mutex
		count := map[string]int{}
		inflight := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(webhook.IDHeader)
			mu.Lock()
			count[id]++
			inflight[id]++
			if inflight[id] > 1 {
				t.Errorf("%s POSTed twice at once", id)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inflight[id]--
			mu.Unlock()
		}))
		defer srv.Close()
		var ds []*webhook.Deliverer
		ms := []*metrics{{}, {}}
		for i, db := range dbs {
			d := webhook.New(webhook.Config{Workers: 8, PerURL: 8, Batch: 16, Poll: 5 * time.Millisecond}, db, newSecrets(1, "s"), ms[i], nil, nil)
			d.Start()
			defer d.Close(context.Background())
			ds = append(ds, d)
		}
		const n = 2000
		for i := 0; i < n; i += 100 {
			var evs []webhook.Event
			for k := i; k < i+100; k++ {
				evs = append(evs, event(fmt.Sprintf("e%d", k), fmt.Sprintf("%s/%d", srv.URL, k%4)))
			}
			if err := ds[i/100%2].Enqueue(t.Context(), evs); err != nil {
				t.Fatal(err)
			}
			ds[(i/100+1)%2].Notify()
		}
		waitFor(t, "every event", func() bool { mu.Lock(); defer mu.Unlock(); return len(count) == n })
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		for id, c := range count {
			if c != 1 {
				t.Errorf("%s POSTed %d times", id, c)
			}
		}
		a, b := ms[0].delivered.Load(), ms[1].delivered.Load()
		if a+b != n || a == 0 || b == 0 {
			t.Errorf("the Deliverers delivered %d and %d events, want %d in all, by both", a, b, n)
		}
		t.Logf("delivered %d and %d", a, b)
	})
}

// TestDeadline: events that waited for a worker so long that their lease
// could end during the POST are given back to the outbox unsent, and go
// out after the next search for due events.
func TestDeadline(t *testing.T) {
	db := openDB(t, "sqlite:"+t.TempDir()+"/kontor.db")
	unblock := make(chan struct{})
	first := make(chan struct{})
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(webhook.IDHeader)
		if id == "e0" {
			close(first)
			<-unblock
		}
		mu.Lock()
		got[id]++
		mu.Unlock()
	}))
	defer srv.Close()
	c := newClock()
	d := start(t, webhook.Config{Workers: 1, Poll: time.Hour}, db, newSecrets(1, "s"), c)
	if err := d.Enqueue(t.Context(), []webhook.Event{event("e0", srv.URL), event("e1", srv.URL), event("e2", srv.URL)}); err != nil {
		t.Fatal(err)
	}
	<-first
	c.Add(101 * time.Second) // past Lease (2 min) - 2 × Timeout (10 s)
	close(unblock)
	settled(t, db, 1, "e0", 1)
	waitFor(t, "e1 and e2 to be due again", func() bool {
		urls, err := db.DueWebhookURLs(context.Background(), c.Now(), "", 10)
		return err == nil && len(urls) == 1
	})
	mu.Lock()
	if len(got) != 1 {
		t.Fatalf("received %v before the search, want e0 only", got)
	}
	mu.Unlock()
	d.Notify()
	for _, id := range []string{"e1", "e2"} {
		if dl := settled(t, db, 1, id, 1); dl.State != webhook.Delivered {
			t.Fatalf("%s: %+v", id, dl)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got["e0"] != 1 || got["e1"] != 1 || got["e2"] != 1 {
		t.Fatalf("received %v, want each once", got)
	}
}

// TestPrune: delivered events stay KeepDelivered, dead letters KeepDead.
func TestPrune(t *testing.T) {
	db := openDB(t, "sqlite:"+t.TempDir()+"/kontor.db")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newClock()
	d := start(t, webhook.Config{KeepDelivered: time.Hour, KeepDead: 2 * time.Hour, PruneEvery: 5 * time.Millisecond}, db, newSecrets(1, "s"), c)
	lost := event("lost", srv.URL)
	lost.App = 7 // no such app: a dead letter at once
	if err := d.Enqueue(t.Context(), []webhook.Event{event("ok", srv.URL), lost}); err != nil {
		t.Fatal(err)
	}
	settled(t, db, 1, "ok", 1)
	settled(t, db, 7, "lost", 0)
	count := func(app kontor.ID) int {
		ds, err := d.Recent(t.Context(), app, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	c.Add(90 * time.Minute)
	waitFor(t, "the delivered event to go", func() bool { return count(1) == 0 })
	if count(7) != 1 {
		t.Fatal("the dead letter went early")
	}
	c.Add(time.Hour)
	waitFor(t, "the dead letter to go", func() bool { return count(7) == 0 })
}

// claims counts what a Store's claims return.
type claims struct {
	webhook.Store
	n atomic.Int64
}

func (c *claims) DueWebhooks(ctx context.Context, cl webhook.Claim) ([]webhook.Delivery, error) {
	ds, err := c.Store.DueWebhooks(ctx, cl)
	c.n.Add(int64(len(ds)))
	return ds, err
}

// TestBornClaimed: events a running Deliverer enqueues are born claimed by
// it and go out from memory, with no claim, once each; a failed one is
// claimed for its retry as usual.
func TestBornClaimed(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := &claims{Store: open()}
		var mu sync.Mutex
		got := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(webhook.IDHeader)
			mu.Lock()
			got[id]++
			n := got[id]
			mu.Unlock()
			if id == "e7" && n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		defer srv.Close()
		c := newClock()
		d := start(t, webhook.Config{Poll: time.Hour}, db, newSecrets(1, "s"), c)
		var evs []webhook.Event
		for i := range 50 {
			evs = append(evs, event(fmt.Sprintf("e%d", i), srv.URL))
		}
		if err := d.Enqueue(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			want := webhook.Delivered
			if ev.ID == "e7" {
				want = webhook.Pending
			}
			if dl := settled(t, db, 1, ev.ID, 1); dl.State != want {
				t.Fatalf("%s: %+v", ev.ID, dl)
			}
		}
		if n := db.n.Load(); n != 0 {
			t.Fatalf("claims returned %d events, want none: every event was born claimed", n)
		}
		c.Add(6 * time.Second) // past the first retry's backoff (5 s)
		d.Notify()
		if dl := settled(t, db, 1, "e7", 2); dl.State != webhook.Delivered {
			t.Fatalf("e7 after its retry: %+v", dl)
		}
		if n := db.n.Load(); n != 1 {
			t.Fatalf("claims returned %d events, want e7's retry", n)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			if want := 1 + btoi(ev.ID == "e7"); got[ev.ID] != want {
				t.Errorf("%s POSTed %d times, want %d", ev.ID, got[ev.ID], want)
			}
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBornNoRoom: events there is no room for (Batch per URL, MaxHeld in
// all) are not born claimed but claimed as usual; born-claimed events
// beyond the room their lease held are given back to the outbox, due at
// once; every event goes out once.
func TestBornNoRoom(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := &claims{Store: open()}
		unblock := make(chan struct{})
		var mu sync.Mutex
		got := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-unblock
			mu.Lock()
			got[r.Header.Get(webhook.IDHeader)]++
			mu.Unlock()
		}))
		defer srv.Close()
		defer func() {
			select {
			case <-unblock:
			default:
				close(unblock)
			}
		}()
		d := start(t, webhook.Config{Workers: 2, PerURL: 2, Batch: 4, MaxHeld: 8, Poll: time.Hour}, db, newSecrets(1, "s"), nil)
		var all []webhook.Event
		// 20 events for /a, more than Batch: due, and claimed 4 at a time.
		var evs []webhook.Event
		for i := range 20 {
			evs = append(evs, event(fmt.Sprintf("a%02d", i), srv.URL+"/a"))
		}
		all = append(all, evs...)
		if err := d.Enqueue(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "4 of /a claimed", func() bool { return db.n.Load() == 4 })
		// A lease held room for one event of /b, and six were written under
		// it: four fit in /b's Batch, two are given back.
		evs = nil
		for i := range 6 {
			evs = append(evs, event(fmt.Sprintf("b%d", i), srv.URL+"/b"))
		}
		if l := d.NewLease(all[:1]); !l.IsZero() {
			t.Fatalf("a lease for /a with Batch of its events held: %+v", l)
		}
		l := d.NewLease(evs[:1])
		if l.IsZero() {
			t.Fatal("no lease for one event with room for four")
		}
		all = append(all, evs...)
		added, err := db.EnqueueWebhooks(t.Context(), evs, time.Now(), l)
		if err != nil || len(added) != 6 {
			t.Fatal(added, err)
		}
		d.Enqueued(added, l)
		waitFor(t, "two of /b given back", func() bool {
			urls, err := db.DueWebhookURLs(context.Background(), time.Now(), "", 10)
			return err == nil && slices.Contains(urls, srv.URL+"/b")
		})
		if l := d.NewLease(evs[:1]); !l.IsZero() {
			t.Fatalf("a lease with MaxHeld events held: %+v", l)
		}
		close(unblock)
		for _, ev := range all {
			if dl := settled(t, db, 1, ev.ID, 1); dl.State != webhook.Delivered {
				t.Fatalf("%s: %+v", ev.ID, dl)
			}
		}
		mu.Lock()
		for _, ev := range all {
			if got[ev.ID] != 1 {
				t.Errorf("%s POSTed %d times", ev.ID, got[ev.ID])
			}
		}
		mu.Unlock()
		if n := db.n.Load(); n != 22 {
			t.Errorf("claims returned %d events, want 22 (all but the four born claimed)", n)
		}
		stopped := webhook.New(webhook.Config{}, db, newSecrets(1, "s"), nil, nil, nil)
		if l := stopped.NewLease(evs[:1]); !l.IsZero() {
			t.Fatalf("a Deliverer not started gave the lease %+v", l)
		}
		if l := d.NewLease(evs[:1]); l.IsZero() || l.Until.Before(time.Now().Add(time.Minute)) {
			t.Fatalf("a running Deliverer's lease: %+v", l)
		} else {
			d.Enqueued(nil, l) // the write failed: the room is given back
		}
	})
}

// TestBornTakenOver: events born claimed by a node that crashed before
// sending them go out from another node once their lease ends, not
// before.
func TestBornTakenOver(t *testing.T) {
	backends(t, func(t *testing.T, open func() *store.DB) {
		db := open()
		var mu sync.Mutex
		got := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.Header.Get(webhook.IDHeader)]++
			mu.Unlock()
		}))
		defer srv.Close()
		c := newClock()
		var evs []webhook.Event
		for i := range 10 {
			ev := event(fmt.Sprintf("e%d", i), srv.URL)
			ev.Created = c.Now()
			evs = append(evs, ev)
		}
		// The crashed node wrote them under its lease and went away.
		lease := webhook.Lease{Token: 77, Until: c.Now().Add(2 * time.Minute)}
		if _, err := db.EnqueueWebhooks(t.Context(), evs, c.Now(), lease); err != nil {
			t.Fatal(err)
		}
		d := start(t, webhook.Config{Poll: 5 * time.Millisecond}, db, newSecrets(1, "s"), c)
		d.Notify()
		time.Sleep(30 * time.Millisecond) // several polls
		mu.Lock()
		if len(got) != 0 {
			t.Fatalf("received %v while the crashed node's lease ran", got)
		}
		mu.Unlock()
		c.Set(lease.Until)
		for _, ev := range evs {
			if dl := settled(t, db, 1, ev.ID, 1); dl.State != webhook.Delivered {
				t.Fatalf("%s: %+v", ev.ID, dl)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			if got[ev.ID] != 1 {
				t.Errorf("%s POSTed %d times", ev.ID, got[ev.ID])
			}
		}
	})
}

// TestURLWithPassword: a webhook URL with a user name and password is
// POSTed with them as basic authentication, as net/http's client does.
func TestURLWithPassword(t *testing.T) {
	db := openDB(t, "sqlite:"+filepath.Join(t.TempDir(), "kontor.db"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "hook" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	d := start(t, webhook.Config{}, db, newSecrets(1, "s"), nil)
	url := "http://hook:s3cret@" + strings.TrimPrefix(srv.URL, "http://") + "/hook"
	if err := d.Enqueue(t.Context(), []webhook.Event{event("wamid.auth", url)}); err != nil {
		t.Fatal(err)
	}
	if dl := settled(t, db, 1, "wamid.auth", 1); dl.State != webhook.Delivered || dl.LastStatus != 200 {
		t.Errorf("state %v, status %d, response %q", dl.State, dl.LastStatus, dl.LastResponse)
	}
}

// settleCalls wraps the outbox and keeps the outcomes of the results it
// was given, by the method that took them.
type settleCalls struct {
	webhook.Store // without SettleWebhooksLater unless later is set
	later         webhook.LaterStore
	mu            sync.Mutex
	now, deferred []webhook.Outcome
}

func (s *settleCalls) SettleWebhooks(ctx context.Context, rs []webhook.Result) error {
	s.mu.Lock()
	for _, r := range rs {
		s.now = append(s.now, r.Outcome)
	}
	s.mu.Unlock()
	return s.Store.SettleWebhooks(ctx, rs)
}

// laterStore is settleCalls with SettleWebhooksLater.
type laterStore struct{ *settleCalls }

func (s laterStore) SettleWebhooksLater(rs []webhook.Result) {
	s.mu.Lock()
	for _, r := range rs {
		s.deferred = append(s.deferred, r.Outcome)
	}
	s.mu.Unlock()
	s.later.SettleWebhooksLater(rs)
}

// TestSettleLater: with a LaterStore, the results of delivered events go
// to SettleWebhooksLater and every other result to SettleWebhooks; a plain
// Store gets them all through SettleWebhooks. Either way each event ends
// as its answers say.
func TestSettleLater(t *testing.T) {
	for _, tc := range []struct {
		name  string
		later bool
	}{{"later", true}, {"plain", false}} {
		t.Run(tc.name, func(t *testing.T) {
			backends(t, func(t *testing.T, open func() *store.DB) {
				db := open()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasPrefix(r.Header.Get(webhook.IDHeader), "bad") {
						http.Error(w, "no", http.StatusBadRequest)
					}
				}))
				defer srv.Close()
				calls := &settleCalls{Store: db}
				var s webhook.Store = calls
				if tc.later {
					calls.later = db
					s = laterStore{calls}
				}
				if _, ok := s.(webhook.LaterStore); ok != tc.later {
					t.Fatalf("the wrapped store is a LaterStore: %v, want %v", ok, tc.later)
				}
				d := start(t, webhook.Config{}, s, newSecrets(1, "s"), nil)
				var evs []webhook.Event
				for i := range 20 {
					id := fmt.Sprintf("ok%02d", i)
					if i%5 == 0 {
						id = fmt.Sprintf("bad%02d", i)
					}
					evs = append(evs, event(id, srv.URL))
				}
				if err := d.Enqueue(t.Context(), evs); err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					want := webhook.Delivered
					if strings.HasPrefix(ev.ID, "bad") {
						want = webhook.Pending // to be retried
					}
					if dl := settled(t, db, 1, ev.ID, 1); dl.State != want {
						t.Errorf("%s: %v, want %v", ev.ID, dl.State, want)
					}
				}
				calls.mu.Lock()
				defer calls.mu.Unlock()
				count := func(os []webhook.Outcome, o webhook.Outcome) int {
					n := 0
					for _, x := range os {
						if x == o {
							n++
						}
					}
					return n
				}
				wantLater, wantNow := 16, 4
				if !tc.later {
					wantLater, wantNow = 0, 20
				}
				if got := count(calls.deferred, webhook.OutcomeDelivered); got != wantLater || len(calls.deferred) != wantLater {
					t.Errorf("SettleWebhooksLater got %v, want %d delivered results", calls.deferred, wantLater)
				}
				if got := count(calls.now, webhook.OutcomeRetry); got != 4 || len(calls.now) != wantNow {
					t.Errorf("SettleWebhooks got %v, want %d results, 4 of them retries", calls.now, wantNow)
				}
			})
		})
	}
}
