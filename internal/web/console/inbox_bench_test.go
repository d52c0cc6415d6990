package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/web/console"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// BenchmarkInbox measures the inbox pages as an agent sees them, on
// SQLite, through the console's real handlers and store, with 10,000
// conversations of 10 messages each (100,000 messages, a tenth of the
// conversations assigned to the agent) and a catalog of 100,000 products
// in the same store: the first page of the list, an older page, "assigned
// to me", a search that matches a name, one in the last messages, one in
// every message (all three read the inbox search index, filled first as
// the server's indexer fills it),
// one conversation (50 messages), and the live updates' stamp. Besides
// ns/op it reports the 99th percentile of one page's time.
//
//	go test -run '^$' -bench Inbox -benchtime 1000x ./internal/web/console
func BenchmarkInbox(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ids := kontor.NewIDs(nil, 1)
	biz := business.New(db, &benchAccounts{}, ids, nil, nil)
	auth := consoleauth.New(consoleauth.Config{}, db, ids, nil, nil)
	c, err := biz.Create(ctx, business.CreateRequest{Name: "Blumen Berta", Phone: "+4930123456"})
	if err != nil {
		b.Fatal(err)
	}
	agent, _, err := auth.Create(ctx, consoleauth.CreateUser{Business: c.WABAID, Email: "dana@blumen.example", Role: "agent", Password: "a long enough password"})
	if err != nil {
		b.Fatal(err)
	}
	cat := commerce.Catalog{ID: ids.Next(), Business: c.WABAID, Name: "Blumen", Created: time.Now()}
	if err := db.CreateCatalog(ctx, cat); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100_000; i += 5000 {
		ps := make([]commerce.Product, 0, 5000)
		for j := i; j < i+5000; j++ {
			ps = append(ps, commerce.Product{ID: ids.Next(), Catalog: cat.ID, RetailerID: fmt.Sprintf("sku-%06d", j), Name: fmt.Sprintf("Tulpe %d", j),
				Price: 499, Currency: "EUR", Availability: "in stock", Condition: "new", Inventory: 10, Created: time.Now(), Updated: time.Now()})
		}
		if _, err := db.UpsertProducts(ctx, ps, nil); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	number := c.PhoneNumberID
	const convs, perConv = 10_000, 10
	var midPeer kontor.Phone
	var midAt time.Time
	for i := 0; i < convs; i += 500 {
		var w endpoint.InboxWrites
		for j := i; j < i+500; j++ {
			peer := kontor.Phone(fmt.Sprintf("+491510%07d", j))
			for k := range perConv {
				at := now.Add(-time.Duration(convs-j)*time.Minute - time.Duration(perConv-k)*time.Second)
				m := endpoint.InboxMessage{Number: number, ID: ids.Next(), Peer: peer, Outgoing: k%2 == 1, Type: "text",
					Text: fmt.Sprintf("Nachricht %d von Kundin %d über Tulpen und Rosen", k, j), JSON: []byte(`{"type":"text"}`), At: at}
				if m.Outgoing {
					m.Status = endpoint.InboxDelivered
				}
				if k == 0 && j%100 == 0 {
					m.ProfileName = fmt.Sprintf("Kundin %d", j)
				}
				w.Messages = append(w.Messages, m)
			}
			if j == convs/2 {
				midPeer, midAt = peer, now.Add(-time.Duration(convs-j)*time.Minute-time.Second)
			}
		}
		if err := db.PutInbox(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	for j := 0; j < convs; j += 10 {
		if err := db.AssignInbox(ctx, number, kontor.Phone(fmt.Sprintf("+491510%07d", j)), agent.ID, now); err != nil {
			b.Fatal(err)
		}
	}
	// The search index, as the server's indexer fills it.
	start := time.Now()
	for {
		n, err := db.IndexInbox(ctx, inbox.IndexBatch)
		if err != nil {
			b.Fatal(err)
		}
		if n < inbox.IndexBatch {
			break
		}
	}
	if behind, err := db.InboxIndexBehind(ctx); err != nil || behind != 0 {
		b.Fatalf("the search index is %d messages behind (%v)", behind, err)
	}
	b.Logf("indexed %d messages for search in %v", convs*perConv, time.Since(start).Round(time.Millisecond))
	con, err := console.New(console.Config{Auth: auth, Business: biz, Outbox: webhook.New(webhook.Config{}, db, nil, nil, nil, nil)})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Mount(mux)
	console.NewInbox(con, console.InboxConfig{Inbox: inbox.New(db, ids, nil),
		Endpoint: func(context.Context, kontor.ID) (console.Sender, bool) { return nil, false }}).Mount(mux)
	tok, _, err := auth.SignIn(ctx, agent.Email, "a long enough password", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	n := number.String()
	pages := []struct{ name, path string }{
		{"list", "/console/inbox?number=" + n},
		{"older", fmt.Sprintf("/console/inbox?number=%s&before=%d.%s", n, midAt.UnixMilli(), midPeer.Digits())},
		{"mine", "/console/inbox?number=" + n + "&filter=me"},
		{"search-name", "/console/inbox?number=" + n + "&q=kundin+5000"},
		{"search-last", "/console/inbox?number=" + n + "&q=nachricht+9+von+kundin+20"},
		{"search-all", "/console/inbox?number=" + n + "&q=nachricht+4+von+kundin+20&all=1"},
		{"conversation", "/console/inbox/" + n + "/" + midPeer.Digits()},
		{"stamp-list", "/console/inbox/stamp?number=" + n},
		{"stamp-conversation", "/console/inbox/stamp?number=" + n + "&peer=" + midPeer.Digits()},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(&http.Cookie{Name: "kontor_console", Value: tok})
				w := httptest.NewRecorder()
				start := time.Now()
				mux.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", p.path, w.Code, w.Body)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
