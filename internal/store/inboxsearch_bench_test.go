package store_test

import (
	"context"
	"fmt"
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
// last message changed). Only the indexing is timed; cpu-ns/msg is the
// process's CPU per message indexed, the logging included.
func BenchmarkIndexInbox(b *testing.B) {
	texts := []string{
		"Hallo, habt ihr noch rote Tulpen?",
		"Ja, 20 Stück für 12,50 €. Sollen wir liefern?",
		"Bitte bis Freitag, Bestellung 4711-0815",
		"bench 123456 1764547200123456789",
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
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
	indexed := 0
	for range b.N {
		b.StopTimer()
		var w endpoint.InboxWrites
		for i := range inbox.IndexBatch {
			at = at.Add(time.Millisecond)
			m := endpoint.InboxMessage{Number: number, ID: ids.Next(), Peer: kontor.Phone(fmt.Sprintf("+49176%08d", i%50)),
				Type: "text", Text: texts[i%len(texts)], JSON: []byte(`{"type":"text"}`), At: at}
			if i%2 == 1 {
				m.Outgoing, m.Status = true, endpoint.InboxSent
			}
			w.Messages = append(w.Messages, m)
		}
		if err := db.PutInbox(ctx, w); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := db.IndexInbox(ctx, inbox.IndexBatch)
		if err != nil || n != inbox.IndexBatch {
			b.Fatalf("IndexInbox indexed %d of %d: %v", n, inbox.IndexBatch, err)
		}
		indexed += n
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(indexed), "cpu-ns/msg")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(indexed), "ns/msg")
}
