package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// BenchmarkDeliver measures webhooks per second end to end with the default
// Config: a producer enqueues b.N events of a typical messages webhook's size
// in batches of 100 (as group commits would), and the Deliverer claims,
// signs, POSTs them to a receiver on the loopback and records each answer
// (the clock stops once Close has recorded the last). The "paced" cases'
// producer keeps at most 500 events ahead of the receiver, as a business
// endpoint that the outbox keeps up with: its events are born claimed and
// go out from memory (Deliverer.NewLease); the others enqueue everything
// at once, and most events wait in the outbox to be claimed.
// Run it with a fixed count, e.g.
//
//	go test -run '^$' -bench Deliver -benchtime 50000x ./internal/webhook
func BenchmarkDeliver(b *testing.B) {
	for _, ahead := range []int{0, 500} {
		suffix := ""
		if ahead > 0 {
			suffix = "-paced"
		}
		b.Run("sqlite"+suffix, func(b *testing.B) {
			benchDeliver(b, openDB(b, "sqlite:"+filepath.Join(b.TempDir(), "kontor.db")), ahead)
		})
		b.Run("postgres"+suffix, func(b *testing.B) {
			benchDeliver(b, openDB(b, storetest.PostgresURL(b)), ahead)
		})
	}
}

// benchDeliver enqueues b.N events, at most ahead (0: any number) more than
// the receiver has had.
func benchDeliver(b *testing.B, db *store.DB, ahead int) {
	var got atomic.Int64
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if got.Add(1) == int64(b.N) {
			close(all)
		}
	}))
	defer srv.Close()
	d := webhook.New(webhook.Config{}, db, newSecrets(1, "0123456789abcdef0123456789abcdef"), nil, nil, nil)
	d.Start()
	closed := false
	defer func() {
		if !closed {
			_ = d.Close(b.Context())
		}
	}()
	body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color? %s"}}]},"field":"messages"}]}]}`, "\\u00e9")
	const batch = 100
	evs := make([]webhook.Event, 0, batch)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += batch {
		for ahead > 0 && int64(i)-got.Load() > int64(ahead) {
			time.Sleep(100 * time.Microsecond)
		}
		evs = evs[:0]
		for k := i; k < min(i+batch, b.N); k++ {
			evs = append(evs, webhook.Event{ID: fmt.Sprintf("wamid.%d.%d", b.N, k), App: 1, URL: srv.URL + "/hook", Body: body})
		}
		if err := d.Enqueue(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d delivered", got.Load(), b.N)
	}
	closed = true
	if err := d.Close(b.Context()); err != nil { // records the last answers
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "webhooks/s")
}
