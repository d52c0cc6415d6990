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

// BenchmarkInboxReads is what the console reads of one conversation
// (SQLite) in a number's inbox log of 2,000 conversations and 100,000
// messages, logged interleaved as they come: the newest page
// (InboxMessages before 0), the page before a message in the middle, and
// the conversation's stamp (InboxStamp, which the console polls).
func BenchmarkInboxReads(b *testing.B) {
	const convs, msgs = 2000, 100000
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	number := ids.Next()
	peer := func(i int) kontor.Phone { return kontor.Phone(fmt.Sprintf("+49176%08d", i%convs)) }
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var middle kontor.ID // a message of peer(7) in the middle of its conversation
	var w endpoint.InboxWrites
	for i := range msgs {
		at = at.Add(time.Millisecond)
		m := endpoint.InboxMessage{Number: number, ID: ids.Next(), Peer: peer(i), Type: "text",
			Text: "Ihre Bestellung liegt bereit.", JSON: []byte(`{"type":"text","text":{"body":"Ihre Bestellung liegt bereit."}}`), At: at}
		if i%2 == 1 {
			m.Outgoing, m.Status = true, endpoint.InboxSent
		}
		if i == msgs/2+7 {
			middle = m.ID
		}
		w.Messages = append(w.Messages, m)
		if len(w.Messages) == 500 {
			if err := db.PutInbox(ctx, w); err != nil {
				b.Fatal(err)
			}
			w.Messages = w.Messages[:0]
		}
	}
	if err := db.PutInbox(ctx, w); err != nil {
		b.Fatal(err)
	}
	indexThreads(b, db)
	reads := func(b *testing.B, tail int) {
		for _, bc := range []struct {
			name string
			read func() error
		}{
			{"newest-page", func() error {
				got, err := db.InboxMessages(ctx, number, peer(7), 0, inbox.PageSize)
				if err == nil && len(got) != min(inbox.PageSize, msgs/convs) {
					err = fmt.Errorf("got %d messages", len(got))
				}
				return err
			}},
			{"page-before", func() error {
				got, err := db.InboxMessages(ctx, number, peer(7), middle, inbox.PageSize)
				if err == nil && len(got) != min(inbox.PageSize, msgs/convs/2) {
					err = fmt.Errorf("got %d messages", len(got))
				}
				return err
			}},
			{"stamp", func() error {
				_, err := db.InboxStamp(ctx, number, peer(7))
				return err
			}},
		} {
			b.Run(bc.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					if err := bc.read(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
				if behind, err := db.InboxThreadsBehind(ctx, -1); err != nil || behind != tail {
					b.Fatalf("InboxThreadsBehind = %d, %v; want %d", behind, err, tail)
				}
			})
		}
	}
	reads(b, 0)
	// The longest tail a read scans (store.InboxThreadsLag messages to
	// other conversations logged after the threads' cursor).
	w.Messages = w.Messages[:0]
	for i := range store.InboxThreadsLag {
		at = at.Add(time.Millisecond)
		w.Messages = append(w.Messages, endpoint.InboxMessage{Number: number, ID: ids.Next(), Peer: peer(8 + i%(convs-8)), Type: "text",
			Text: "Danke!", JSON: []byte(`{"type":"text","text":{"body":"Danke!"}}`), At: at})
	}
	if err := db.PutInbox(ctx, w); err != nil {
		b.Fatal(err)
	}
	b.Run("tail", func(b *testing.B) { reads(b, store.InboxThreadsLag) })
}

// indexThreads runs the threads' indexer until it has caught up.
func indexThreads(b *testing.B, db *store.DB) {
	for {
		n, err := db.IndexInboxThreads(context.Background(), inbox.IndexBatch)
		if err != nil {
			b.Fatal(err)
		}
		if n < inbox.IndexBatch {
			return
		}
	}
}
