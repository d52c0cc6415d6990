package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// TestWebhooks runs the outbox's store tests on SQLite and, with
// KONTOR_TEST_POSTGRES, on PostgreSQL. (The Deliverer's tests in
// internal/webhook run on both too.)
func TestWebhooks(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"Claims", testWebhookClaims},
		{"URLs", testWebhookURLs},
		{"Settle", testWebhookSettle},
		{"ReplayPrune", testWebhookReplayPrune},
		{"Born", testWebhookBorn},
		{"BornTakenOver", testWebhookBornTakenOver},
		{"BornBatch", testWebhookBornBatch},
	} {
		t.Run("sqlite/"+tc.name, func(t *testing.T) {
			tc.fn(t, open(t, store.Config{DataDir: t.TempDir()}))
		})
		t.Run("postgres/"+tc.name, func(t *testing.T) {
			tc.fn(t, open(t, store.Config{URL: storetest.PostgresURL(t)}))
		})
	}
}

var t0 = time.UnixMilli(1_780_000_000_000)

func hooks(prefix, url string, n int) []webhook.Event {
	var out []webhook.Event
	for i := range n {
		out = append(out, webhook.Event{ID: fmt.Sprintf("%s%03d", prefix, i), App: 9, URL: url, Body: []byte(`{"n":"\u00e9"}`), Created: t0})
	}
	return out
}

func ids(ds []webhook.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}

// testWebhookClaims: a claim takes at most its limit per URL, oldest
// first, under its lease; claimed events are not due again until the
// lease ends; an id enqueued twice is one event.
func testWebhookClaims(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if _, err := db.EnqueueWebhooks(ctx, hooks("a", "http://a/", 70), t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	dup := hooks("a", "http://a/", 1)
	dup[0].Body = []byte(`{"other":1}`)
	if _, err := db.EnqueueWebhooks(ctx, append(dup, hooks("b", "http://b/", 3)...), t0.Add(time.Second), webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	lease := t0.Add(2 * time.Minute)
	got, err := db.DueWebhooks(ctx, webhook.Claim{Now: t0, Until: lease, Token: 7, Want: []webhook.Want{{URL: "http://a/", Limit: 50}, {URL: "http://b/", Limit: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Fatalf("claimed %d, want 50 of a (b's are not due yet)", len(got))
	}
	for _, d := range got {
		if d.URL != "http://a/" || d.Lease != 7 || !d.Next.Equal(lease) || d.State != webhook.Pending || !d.Started.Equal(t0) || !d.Created.Equal(t0) {
			t.Fatalf("claimed %+v", d)
		}
		if d.ID == "a000" && string(d.Body) != `{"n":"\u00e9"}` {
			t.Fatalf("a000 has body %s: a duplicate enqueue replaced it", d.Body)
		}
	}
	now := t0.Add(time.Minute)
	got2, err := db.DueWebhooks(ctx, webhook.Claim{Now: now, Until: now.Add(2 * time.Minute), Token: 8, Want: []webhook.Want{{URL: "http://a/", Limit: 100}, {URL: "http://b/", Limit: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got2) != 23 || slices.ContainsFunc(got2, func(d webhook.Delivery) bool { return slices.Contains(ids(got), d.ID) }) {
		t.Fatalf("second claim: %v", ids(got2))
	}
	// After the first lease ends, its events are due again.
	got3, err := db.DueWebhooks(ctx, webhook.Claim{Now: lease, Until: lease.Add(time.Minute), Token: 9, Want: []webhook.Want{{URL: "http://a/", Limit: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got3), ids(got)) {
		t.Fatalf("after the lease: %v, want %v", ids(got3), ids(got))
	}
}

// testWebhookURLs: the URLs with due events, in pages after a cursor.
func testWebhookURLs(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var evs []webhook.Event
	for i := range 30 {
		evs = append(evs, hooks(fmt.Sprintf("u%02d-", i), fmt.Sprintf("http://h/%02d", i), 2)...)
	}
	if _, err := db.EnqueueWebhooks(ctx, evs, t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	// Claim all of URL 05: it has nothing due any more.
	if _, err := db.DueWebhooks(ctx, webhook.Claim{Now: t0, Until: t0.Add(time.Minute), Token: 1, Want: []webhook.Want{{URL: "http://h/05", Limit: 10}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DueWebhookURLs(ctx, t0.Add(-time.Second), "", 100); err != nil || len(got) != 0 {
		t.Fatalf("due before enqueue: %v %v", got, err)
	}
	var all []string
	after := ""
	for {
		got, err := db.DueWebhookURLs(ctx, t0, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
		if len(got) < 7 {
			break
		}
		after = got[len(got)-1]
	}
	var want []string
	for i := range 30 {
		if i != 5 {
			want = append(want, fmt.Sprintf("http://h/%02d", i))
		}
	}
	if !slices.Equal(all, want) {
		t.Fatalf("due URLs %v, want %v", all, want)
	}
}

// testWebhookSettle: results apply under their lease only; delivered and
// dead events are done, retries due again; the console lists them.
func testWebhookSettle(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if _, err := db.EnqueueWebhooks(ctx, hooks("s", "http://s/", 40), t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.DueWebhooks(ctx, webhook.Claim{Now: t0, Until: t0.Add(time.Minute), Token: 5, Want: []webhook.Want{{URL: "http://s/", Limit: 40}}})
	if err != nil || len(claimed) != 40 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	slices.SortFunc(claimed, func(a, b webhook.Delivery) int { return strings.Compare(a.ID, b.ID) })
	at := t0.Add(time.Second)
	var rs []webhook.Result
	for i, d := range claimed {
		r := webhook.Result{ID: d.ID, Lease: d.Lease, At: at.Add(time.Duration(i) * time.Millisecond), Status: 200, Response: "ok ü", Tried: true}
		switch {
		case i < 35: // delivered
		case i == 35:
			r.Outcome, r.Status, r.Next = webhook.OutcomeRetry, 500, at.Add(5*time.Second)
		case i == 36:
			r.Outcome, r.Status = webhook.OutcomeDead, 410
		case i == 37:
			r.Outcome, r.Next, r.Tried = webhook.OutcomeReleased, at, false
		case i == 38:
			r.Lease = 6 // a lost lease: ignored
		case i == 39:
			r.Outcome, r.Status, r.Tried, r.Response = webhook.OutcomeDead, 0, false, "app not found"
		}
		rs = append(rs, r)
	}
	if err := db.SettleWebhooks(ctx, rs); err != nil {
		t.Fatal(err)
	}
	recent, err := db.RecentWebhooks(ctx, 9, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 38 || recent[0].ID != "s039" { // not the released one nor the lost lease
		t.Fatalf("recent: %d, first %+v", len(recent), recent[0])
	}
	by := map[string]webhook.Delivery{}
	for _, d := range recent {
		by[d.ID] = d
	}
	if d := by["s000"]; d.State != webhook.Delivered || d.Attempts != 1 || d.LastStatus != 200 || d.LastResponse != "ok ü" || !d.Done.Equal(at) || d.Lease != 0 {
		t.Errorf("delivered: %+v", d)
	}
	if d := by["s035"]; d.State != webhook.Pending || d.Attempts != 1 || d.LastStatus != 500 || !d.Next.Equal(at.Add(5*time.Second)) || !d.Done.IsZero() {
		t.Errorf("retry: %+v", d)
	}
	if d := by["s036"]; d.State != webhook.Dead || d.Attempts != 1 || d.LastStatus != 410 || !d.Next.IsZero() {
		t.Errorf("dead: %+v", d)
	}
	if d := by["s039"]; d.State != webhook.Dead || d.Attempts != 0 || d.LastResponse != "app not found" {
		t.Errorf("dead without an attempt: %+v", d)
	}
	dead, err := db.DeadWebhooks(ctx, 0, 10)
	if err != nil || !slices.Equal(ids(dead), []string{"s036", "s039"}) || dead[0].ID != "s039" {
		t.Fatalf("dead: %v %v", ids(dead), err)
	}
	if dead, err := db.DeadWebhooks(ctx, 8, 10); err != nil || len(dead) != 0 {
		t.Fatalf("dead of another app: %v %v", ids(dead), err)
	}
	// Due at t0+1s: the released one; s038 waits for its lease (t0+1m); s035 for its retry.
	due, err := db.DueWebhooks(ctx, webhook.Claim{Now: at, Until: at.Add(time.Minute), Token: 11, Want: []webhook.Want{{URL: "http://s/", Limit: 40}}})
	if err != nil || !slices.Equal(ids(due), []string{"s037"}) || due[0].Attempts != 0 {
		t.Fatalf("due after settling: %v %v", ids(due), err)
	}
}

// testWebhookReplayPrune: replay makes done events pending with a fresh
// start; pruning deletes old delivered events and older dead letters.
func testWebhookReplayPrune(t *testing.T, db *store.DB) {
	ctx := context.Background()
	evs := hooks("r", "http://r/", 80)
	if _, err := db.EnqueueWebhooks(ctx, evs, t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.DueWebhooks(ctx, webhook.Claim{Now: t0, Until: t0.Add(time.Minute), Token: 3, Want: []webhook.Want{{URL: "http://r/", Limit: 80}}})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(claimed, func(a, b webhook.Delivery) int { return strings.Compare(a.ID, b.ID) })
	var rs []webhook.Result
	for i, d := range claimed {
		o := webhook.OutcomeDelivered
		if i%2 == 1 {
			o = webhook.OutcomeDead
		}
		rs = append(rs, webhook.Result{ID: d.ID, Lease: d.Lease, Outcome: o, At: t0.Add(time.Duration(i) * time.Second), Tried: true})
	}
	if err := db.SettleWebhooks(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// Replay 70 of them (more than one statement's worth), and two unknown ids.
	var replay []string
	for _, e := range evs[:70] {
		replay = append(replay, e.ID)
	}
	later := t0.Add(time.Hour)
	n, err := db.ReplayWebhooks(ctx, append(replay, "nope", "nada"), later)
	if err != nil || n != 70 {
		t.Fatalf("replay: %d %v", n, err)
	}
	if n, err := db.ReplayWebhooks(ctx, replay[:3], later); err != nil || n != 0 {
		t.Fatalf("replaying pending events: %d %v", n, err)
	}
	due, err := db.DueWebhooks(ctx, webhook.Claim{Now: later, Until: later.Add(time.Minute), Token: 4, Want: []webhook.Want{{URL: "http://r/", Limit: 100}}})
	if err != nil || len(due) != 70 {
		t.Fatalf("due after replay: %d %v", len(due), err)
	}
	for _, d := range due {
		if d.Attempts != 0 || !d.Started.Equal(later) || d.State != webhook.Pending || !d.Done.IsZero() {
			t.Fatalf("replayed: %+v", d)
		}
	}
	// Left done: r070…r079, delivered at t0+70s, 72s…, dead at t0+71s, 73s….
	n, err = db.PruneWebhooks(ctx, t0.Add(75*time.Second), t0.Add(72*time.Second), 100)
	if err != nil || n != 4 { // delivered 70, 72, 74; dead 71
		t.Fatalf("prune: %d %v", n, err)
	}
	n, err = db.PruneWebhooks(ctx, t0.Add(time.Hour), t0.Add(time.Hour), 3)
	if err != nil || n != 3 {
		t.Fatalf("prune with a limit: %d %v", n, err)
	}
	n, err = db.PruneWebhooks(ctx, t0.Add(time.Hour), t0.Add(time.Hour), 100)
	if err != nil || n != 3 {
		t.Fatalf("prune the rest: %d %v", n, err)
	}
}

// testWebhookBorn: events enqueued under a lease are born claimed: not
// due, not found by a search, settled under that lease like claimed ones;
// ids already there (or twice in one call) are not returned as added.
func testWebhookBorn(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if _, err := db.EnqueueWebhooks(ctx, hooks("x", "http://x/", 1), t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	lease := webhook.Lease{Token: 21, Until: t0.Add(2 * time.Minute)}
	evs := append(hooks("x", "http://x/", 40), hooks("x", "http://x/", 1)[0]) // x000 was there; x000 twice
	evs[5].ID = evs[6].ID                                                     // x006 twice
	added, err := db.EnqueueWebhooks(ctx, evs, t0, lease)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ev := range hooks("x", "http://x/", 40)[1:] {
		if ev.ID != "x005" {
			want = append(want, ev.ID)
		}
	}
	var got []string
	for _, ev := range added {
		got = append(got, ev.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("added %v, want %v", got, want)
	}
	// Only the event enqueued without a lease is due.
	due, err := db.DueWebhooks(ctx, webhook.Claim{Now: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute), Token: 22, Want: []webhook.Want{{URL: "http://x/", Limit: 100}}})
	if err != nil || !slices.Equal(ids(due), []string{"x000"}) {
		t.Fatalf("due while born claimed: %v %v", ids(due), err)
	}
	if urls, err := db.DueWebhookURLs(ctx, t0.Add(time.Minute), "", 10); err != nil || len(urls) != 0 {
		t.Fatalf("due URLs while born claimed: %v %v", urls, err)
	}
	// Results under the lease apply; under another token they do not.
	at := t0.Add(time.Second)
	rs := []webhook.Result{
		{ID: "x001", Lease: 21, Outcome: webhook.OutcomeDelivered, At: at, Status: 200, Tried: true},
		{ID: "x002", Lease: 21, Outcome: webhook.OutcomeRetry, At: at, Status: 503, Next: at.Add(5 * time.Second), Tried: true},
		{ID: "x003", Lease: 21, Outcome: webhook.OutcomeReleased, At: at, Next: at},
		{ID: "x004", Lease: 99, Outcome: webhook.OutcomeDelivered, At: at, Status: 200, Tried: true},
	}
	if err := db.SettleWebhooks(ctx, rs); err != nil {
		t.Fatal(err)
	}
	recent, err := db.RecentWebhooks(ctx, 9, 100)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]webhook.Delivery{}
	for _, d := range recent {
		by[d.ID] = d
	}
	if d := by["x001"]; d.State != webhook.Delivered || d.Attempts != 1 || !d.Started.Equal(t0) || d.Lease != 0 {
		t.Errorf("delivered: %+v", d)
	}
	if d := by["x002"]; d.State != webhook.Pending || d.Attempts != 1 || !d.Next.Equal(at.Add(5*time.Second)) {
		t.Errorf("retry: %+v", d)
	}
	if _, ok := by["x004"]; ok || len(recent) != 2 {
		t.Errorf("recent: %v (a result under another lease applied?)", ids(recent))
	}
	due, err = db.DueWebhooks(ctx, webhook.Claim{Now: at, Until: at.Add(time.Minute), Token: 23, Want: []webhook.Want{{URL: "http://x/", Limit: 100}}})
	if err != nil || !slices.Equal(ids(due), []string{"x003"}) || due[0].Attempts != 0 || !due[0].Started.Equal(t0) {
		t.Fatalf("due after giving one back: %+v %v", due, err)
	}
	// A business endpoint's batch is born claimed the same way.
	ev := webhook.Event{ID: "batch.1", App: 9, URL: "http://x/", Body: []byte(`{"b":1}`), Created: t0}
	added, err = db.PutEndpointBatch(ctx, nil, endpoint.InboxWrites{}, []webhook.Event{ev, ev}, t0, webhook.Lease{Token: 24, Until: t0.Add(time.Hour)})
	if err != nil || len(added) != 1 || added[0].ID != "batch.1" {
		t.Fatalf("PutEndpointBatch: %v %v", added, err)
	}
	if added, err := db.PutEndpointBatch(ctx, nil, endpoint.InboxWrites{}, []webhook.Event{ev}, t0, webhook.Lease{}); err != nil || len(added) != 0 {
		t.Fatalf("PutEndpointBatch again: %v %v", added, err)
	}
	if err := db.SettleWebhooks(ctx, []webhook.Result{{ID: "batch.1", Lease: 24, Outcome: webhook.OutcomeDead, At: at, Status: 410, Tried: true}}); err != nil {
		t.Fatal(err)
	}
	if dead, err := db.DeadWebhooks(ctx, 9, 10); err != nil || !slices.Equal(ids(dead), []string{"batch.1"}) {
		t.Fatalf("dead: %v %v", ids(dead), err)
	}
}

// testWebhookBornTakenOver: the born-claimed events of a node that
// crashed are due for any node once their lease ends, oldest first; the
// crashed node's late results then change nothing, and a dead letter
// among them can be replayed.
func testWebhookBornTakenOver(t *testing.T, db *store.DB) {
	ctx := context.Background()
	until := t0.Add(2 * time.Minute)
	if _, err := db.EnqueueWebhooks(ctx, hooks("c", "http://c/", 50), t0, webhook.Lease{Token: 31, Until: until}); err != nil {
		t.Fatal(err)
	}
	claim := func(now time.Time, token int64) []webhook.Delivery {
		t.Helper()
		got, err := db.DueWebhooks(ctx, webhook.Claim{Now: now, Until: now.Add(2 * time.Minute), Token: token, Want: []webhook.Want{{URL: "http://c/", Limit: 100}}})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := claim(until.Add(-time.Millisecond), 32); len(got) != 0 {
		t.Fatalf("claimed %d before the lease ended", len(got))
	}
	if urls, err := db.DueWebhookURLs(ctx, until, "", 10); err != nil || !slices.Equal(urls, []string{"http://c/"}) {
		t.Fatalf("due URLs at the lease's end: %v %v", urls, err)
	}
	got := claim(until, 33)
	if len(got) != 50 {
		t.Fatalf("taken over %d, want 50", len(got))
	}
	for _, d := range got {
		if d.Lease != 33 || d.Attempts != 0 || !d.Started.Equal(t0) || !d.Next.Equal(until.Add(2*time.Minute)) {
			t.Fatalf("taken over: %+v", d)
		}
	}
	// The crashed node's results come too late; the new claim's apply.
	at := until.Add(time.Second)
	var late, mine []webhook.Result
	for _, d := range got {
		late = append(late, webhook.Result{ID: d.ID, Lease: 31, Outcome: webhook.OutcomeDelivered, At: at, Status: 200, Tried: true})
		o := webhook.OutcomeDelivered
		if d.ID == "c007" {
			o = webhook.OutcomeDead
		}
		mine = append(mine, webhook.Result{ID: d.ID, Lease: 33, Outcome: o, At: at, Status: 500, Tried: true})
	}
	if err := db.SettleWebhooks(ctx, late); err != nil {
		t.Fatal(err)
	}
	if recent, err := db.RecentWebhooks(ctx, 9, 100); err != nil || len(recent) != 0 {
		t.Fatalf("late results applied: %v %v", ids(recent), err)
	}
	if err := db.SettleWebhooks(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if dead, err := db.DeadWebhooks(ctx, 9, 10); err != nil || !slices.Equal(ids(dead), []string{"c007"}) {
		t.Fatalf("dead: %v %v", ids(dead), err)
	}
	later := at.Add(time.Hour)
	if n, err := db.ReplayWebhooks(ctx, []string{"c007"}, later); err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	if got := claim(later, 34); !slices.Equal(ids(got), []string{"c007"}) || got[0].Attempts != 0 || !got[0].Started.Equal(later) {
		t.Fatalf("replayed: %+v", got)
	}
}

// testWebhookBornBatch: one SettleWebhooks call records the results of
// born-claimed and claimed events together (more than one statement's
// worth: the Deliverer's settler gathers them), each under its own lease.
func testWebhookBornBatch(t *testing.T, db *store.DB) {
	ctx := context.Background()
	born := webhook.Lease{Token: 41, Until: t0.Add(2 * time.Minute)}
	if _, err := db.EnqueueWebhooks(ctx, hooks("n", "http://n/", 60), t0, born); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnqueueWebhooks(ctx, hooks("o", "http://n/", 60), t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.DueWebhooks(ctx, webhook.Claim{Now: t0, Until: t0.Add(time.Minute), Token: 42, Want: []webhook.Want{{URL: "http://n/", Limit: 100}}})
	if err != nil || len(claimed) != 60 {
		t.Fatalf("claimed %d %v, want the 60 not born claimed", len(claimed), err)
	}
	at := t0.Add(time.Second)
	var rs []webhook.Result
	for i := range 60 {
		for _, r := range []webhook.Result{
			{ID: fmt.Sprintf("n%03d", i), Lease: 41, Outcome: webhook.OutcomeDelivered, At: at, Status: 200, Tried: true},
			{ID: fmt.Sprintf("o%03d", i), Lease: 42, Outcome: webhook.OutcomeDelivered, At: at, Status: 204, Tried: true},
		} {
			if i%10 == 9 {
				r.Outcome, r.Status, r.Next = webhook.OutcomeRetry, 500, at.Add(5*time.Second)
			}
			rs = append(rs, r)
		}
	}
	if err := db.SettleWebhooks(ctx, rs); err != nil {
		t.Fatal(err)
	}
	recent, err := db.RecentWebhooks(ctx, 9, 1000)
	if err != nil || len(recent) != 120 {
		t.Fatalf("recent: %d %v", len(recent), err)
	}
	counts := map[webhook.State]int{}
	for _, d := range recent {
		counts[d.State]++
		if d.Attempts != 1 || d.Lease != 0 {
			t.Fatalf("settled: %+v", d)
		}
	}
	if counts[webhook.Delivered] != 108 || counts[webhook.Pending] != 12 {
		t.Fatalf("states %v, want 108 delivered and 12 to retry", counts)
	}
	due, err := db.DueWebhooks(ctx, webhook.Claim{Now: at.Add(5 * time.Second), Until: at.Add(time.Hour), Token: 43, Want: []webhook.Want{{URL: "http://n/", Limit: 100}}})
	if err != nil || len(due) != 12 {
		t.Fatalf("due for their retry: %d %v", len(due), err)
	}
}

// TestWebhooksLater: results of delivered events given to
// SettleWebhooksLater ride the next router group commit (no transaction of
// their own), come back when that commit rolls back, are recorded alone
// when no commit comes in time, and at Close.
func TestWebhooksLater(t *testing.T) {
	for _, tc := range []struct {
		name  string
		later time.Duration
		fn    func(t *testing.T, db *store.DB, reopen func() *store.DB)
	}{
		{"RideTx", time.Hour, testLaterRideTx},
		{"RideEndpointBatch", time.Hour, testLaterRideEndpointBatch},
		{"RolledBack", time.Hour, testLaterRolledBack},
		{"Many", time.Hour, testLaterMany},
		{"Alone", 5 * time.Millisecond, testLaterAlone},
		{"AtOnce", -1, testLaterAtOnce},
		{"Close", time.Hour, testLaterClose},
	} {
		t.Run("sqlite/"+tc.name, func(t *testing.T) {
			cfg := store.Config{DataDir: t.TempDir(), SettleLater: tc.later}
			tc.fn(t, open(t, cfg), func() *store.DB { return open(t, cfg) })
		})
		t.Run("postgres/"+tc.name, func(t *testing.T) {
			cfg := store.Config{URL: storetest.PostgresURL(t), SettleLater: tc.later}
			tc.fn(t, open(t, cfg), func() *store.DB { return open(t, cfg) })
		})
	}
}

// bornDelivered enqueues n events of prefix born claimed under lease 77
// and returns their delivered results (the last one under a lost lease).
func bornDelivered(t *testing.T, db *store.DB, prefix string, n int) []webhook.Result {
	t.Helper()
	evs := hooks(prefix, "http://later/", n)
	if _, err := db.EnqueueWebhooks(t.Context(), evs, t0, webhook.Lease{Token: 77, Until: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var rs []webhook.Result
	for i, ev := range evs {
		r := webhook.Result{ID: ev.ID, Lease: 77, Outcome: webhook.OutcomeDelivered, At: t0.Add(time.Duration(i+1) * time.Millisecond), Status: 200, Tried: true}
		if i == n-1 {
			r.Lease = 78
		}
		rs = append(rs, r)
	}
	return rs
}

// delivered returns the ids of app 9's delivered events, checking each
// as SettleWebhooks would have recorded it.
func delivered(t *testing.T, db *store.DB) []string {
	t.Helper()
	recent, err := db.RecentWebhooks(t.Context(), 9, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range recent {
		if d.State != webhook.Delivered || d.Attempts != 1 || d.LastStatus != 200 || d.Lease != 0 || !d.Next.IsZero() || d.Done.IsZero() {
			t.Errorf("%s: %+v, want delivered once", d.ID, d)
		}
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}

// noop is a router group commit that writes nothing of its own.
func noop(router.Tx) error { return nil }

func testLaterRideTx(t *testing.T, db *store.DB, _ func() *store.DB) {
	rs := bornDelivered(t, db, "r", 3)
	db.SettleWebhooksLater(rs)
	rs[0].ID = "changed" // SettleWebhooksLater copied them
	if got := delivered(t, db); len(got) != 0 {
		t.Fatalf("recorded before any commit: %v", got)
	}
	if err := db.Tx(t.Context(), noop); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, db); !slices.Equal(got, []string{"r000", "r001"}) {
		t.Fatalf("after a group commit: delivered %v, want r000 r001 (r002's lease was lost)", got)
	}
	if n := db.Commits()["store.SettleWebhooks"]; n != 0 {
		t.Fatalf("%d settling transactions of their own, want 0", n)
	}
	// A lost lease stays pending under the lease it has: due when it ends.
	due, err := db.DueWebhooks(t.Context(), webhook.Claim{Now: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute), Token: 5,
		Want: []webhook.Want{{URL: "http://later/", Limit: 10}}})
	if err != nil || len(due) != 1 || due[0].ID != "r002" {
		t.Fatalf("due after the lease: %v %v, want r002", ids(due), err)
	}
}

func testLaterRideEndpointBatch(t *testing.T, db *store.DB, _ func() *store.DB) {
	db.SettleWebhooksLater(bornDelivered(t, db, "e", 3))
	if _, err := db.PutEndpointBatch(t.Context(), nil, endpoint.InboxWrites{}, hooks("new", "http://later/", 1), t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, db); !slices.Equal(got, []string{"e000", "e001"}) {
		t.Fatalf("after an endpoint's group commit: delivered %v, want e000 e001", got)
	}
	if n := db.Commits()["store.SettleWebhooks"]; n != 0 {
		t.Fatalf("%d settling transactions of their own, want 0", n)
	}
}

func testLaterRolledBack(t *testing.T, db *store.DB, _ func() *store.DB) {
	db.SettleWebhooksLater(bornDelivered(t, db, "b", 3))
	boom := errors.New("boom")
	if err := db.Tx(t.Context(), func(router.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want boom", err)
	}
	if got := delivered(t, db); len(got) != 0 {
		t.Fatalf("recorded by a commit that rolled back: %v", got)
	}
	if err := db.Tx(t.Context(), noop); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, db); !slices.Equal(got, []string{"b000", "b001"}) {
		t.Fatalf("after the next commit: delivered %v, want b000 b001", got)
	}
}

func testLaterMany(t *testing.T, db *store.DB, _ func() *store.DB) {
	db.SettleWebhooksLater(bornDelivered(t, db, "m", 301))
	for i, want := range []int{256, 300} { // a commit takes at most 256
		if err := db.Tx(t.Context(), noop); err != nil {
			t.Fatal(err)
		}
		if got := delivered(t, db); len(got) != want {
			t.Fatalf("after commit %d: %d delivered, want %d", i+1, len(got), want)
		}
	}
}

func testLaterAlone(t *testing.T, db *store.DB, _ func() *store.DB) {
	db.SettleWebhooksLater(bornDelivered(t, db, "a", 3))
	deadline := time.Now().Add(10 * time.Second)
	for len(delivered(t, db)) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("no group commit, and the results were not recorded alone either")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := db.Commits()["store.SettleWebhooks"]; n != 1 {
		t.Fatalf("%d settling transactions, want 1", n)
	}
}

func testLaterAtOnce(t *testing.T, db *store.DB, _ func() *store.DB) {
	db.SettleWebhooksLater(bornDelivered(t, db, "o", 3))
	if got := delivered(t, db); !slices.Equal(got, []string{"o000", "o001"}) {
		t.Fatalf("SettleLater < 0: delivered %v at once, want o000 o001", got)
	}
}

func testLaterClose(t *testing.T, db *store.DB, reopen func() *store.DB) {
	db.SettleWebhooksLater(bornDelivered(t, db, "c", 3))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, reopen()); !slices.Equal(got, []string{"c000", "c001"}) {
		t.Fatalf("after Close: delivered %v, want c000 c001", got)
	}
}
