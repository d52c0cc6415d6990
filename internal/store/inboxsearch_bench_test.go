package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/store"
)

// BenchmarkIndexInbox is the inbox search indexer's work per message
// (SQLite): batches of inbox.IndexBatch messages logged to 50 people of one
// number, alternately the person's and the business's, then indexed (the
// "m:" rows of every message, the "l:" rows of each conversation whose
// last message changed). "repeated" has four texts, the same in every
// batch (so after the first batch the rows are there already, and each
// conversation's last message is the same text); "unique" has a text
// of its own in every message, as `kontor bench --api` sends ("bench k
// nanoseconds"). Only the indexing is timed; cpu-ns/msg is the process's
// CPU per message indexed, the logging included, index-cpu-ns/msg that of
// IndexInbox alone; rows/msg the index's rows at the end per message.
func BenchmarkIndexInbox(b *testing.B) {
	repeated := []string{
		"Hallo, habt ihr noch rote Tulpen?",
		"Ja, 20 Stück für 12,50 €. Sollen wir liefern?",
		"Bitte bis Freitag, Bestellung 4711-0815",
		"bench 123456 1764547200123456789",
	}
	for _, tc := range []struct {
		name string
		text func(k int) string
	}{
		{"repeated", func(k int) string { return repeated[k%len(repeated)] }},
		{"unique", func(k int) string { return fmt.Sprintf("bench %d %d", k, 1764547200123456789+int64(k)*1234567) }},
	} {
		b.Run(tc.name, func(b *testing.B) { benchIndexInbox(b, tc.text) })
	}
}

func benchIndexInbox(b *testing.B, text func(k int) string) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	number := ids.Next()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	indexed, k := 0, 0
	var indexCPU time.Duration
	for range b.N {
		b.StopTimer()
		var w endpoint.InboxWrites
		for i := range inbox.IndexBatch {
			at = at.Add(time.Millisecond)
			m := endpoint.InboxMessage{Number: number, ID: ids.Next(), Peer: kontor.Phone(fmt.Sprintf("+49176%08d", i%50)),
				Type: "text", Text: text(k), JSON: []byte(`{"type":"text"}`), At: at}
			k++
			if i%2 == 1 {
				m.Outgoing, m.Status = true, endpoint.InboxSent
			}
			w.Messages = append(w.Messages, m)
		}
		if err := db.PutInbox(ctx, w); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime(b)
		n, err := db.IndexInbox(ctx, inbox.IndexBatch)
		indexCPU += cpuTime(b) - c0
		if err != nil || n != inbox.IndexBatch {
			b.Fatalf("IndexInbox indexed %d of %d: %v", n, inbox.IndexBatch, err)
		}
		indexed += n
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(indexed), "cpu-ns/msg")
	b.ReportMetric(float64(indexCPU)/float64(indexed), "index-cpu-ns/msg")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(indexed), "ns/msg")
	r, err := sql.Open("sqlite", filepath.Join(dir, "kontor.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var rows int
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox_words`).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows)/float64(indexed), "rows/msg")
}
