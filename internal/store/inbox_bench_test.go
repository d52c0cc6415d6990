package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// BenchmarkInboxReads is what the console reads of one conversation in a
// number's inbox log of 2,000 conversations of 50 messages and one of
// 10,000 (110,000 messages), logged interleaved as they come: the newest
// page (InboxMessages before 0), the page before a message in the middle,
// and the conversation's stamp (InboxStamp, which the console polls), and
// the stamp of the long conversation; on SQLite, and on PostgreSQL with
// KONTOR_TEST_POSTGRES.
func BenchmarkInboxReads(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchInboxReads(b, store.Config{DataDir: b.TempDir()}) })
	b.Run("postgres", func(b *testing.B) { benchInboxReads(b, store.Config{URL: storetest.PostgresURL(b)}) })
}

// analyze has PostgreSQL gather the statistics that autovacuum would
// after a bulk load (without them its plans are those of an empty log).
func analyze(b *testing.B, cfg store.Config) {
	if cfg.URL == "" {
		return
	}
	c, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// benchLog is the log BenchmarkInboxReads reads.
type benchLog struct {
	number kontor.ID
	middle kontor.ID // a message of peer(7) in the middle of its conversation
	at     time.Time // of the last message
	ids    *kontor.IDs
}

const benchConvs, benchMsgs, benchLong = 2000, 100000, 10000

// benchPeer is the i-th message's conversation of the short ones;
// benchLongPeer is the long one.
func benchPeer(i int) kontor.Phone { return kontor.Phone(fmt.Sprintf("+49176%08d", i%benchConvs)) }

const benchLongPeer = kontor.Phone("+4917699999999")

// fillInboxLog logs benchMsgs messages to benchConvs conversations and
// benchLong to benchLongPeer (every 11th), half of them outgoing, and
// indexes the threads.
func fillInboxLog(tb testing.TB, db *store.DB) benchLog {
	ctx := context.Background()
	l := benchLog{ids: kontor.NewIDs(nil, 1), at: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l.number = l.ids.Next()
	var w endpoint.InboxWrites
	short := 0
	for i := range benchMsgs + benchLong {
		l.at = l.at.Add(time.Millisecond)
		p := benchLongPeer
		if i%11 != 10 {
			p = benchPeer(short)
			short++
		}
		m := endpoint.InboxMessage{Number: l.number, ID: l.ids.Next(), Peer: p, Type: "text",
			Text: "Ihre Bestellung liegt bereit.", JSON: []byte(`{"type":"text","text":{"body":"Ihre Bestellung liegt bereit."}}`), At: l.at}
		if i%2 == 1 {
			m.Outgoing, m.Status = true, endpoint.InboxSent
		}
		if p != benchLongPeer && short-1 == benchMsgs/2+7 {
			l.middle = m.ID
		}
		w.Messages = append(w.Messages, m)
		if len(w.Messages) == 500 {
			if err := db.PutInbox(ctx, w); err != nil {
				tb.Fatal(err)
			}
			w.Messages = w.Messages[:0]
		}
	}
	if err := db.PutInbox(ctx, w); err != nil {
		tb.Fatal(err)
	}
	indexThreads(tb, db)
	return l
}

func benchInboxReads(b *testing.B, cfg store.Config) {
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := fillInboxLog(b, db)
	analyze(b, cfg)
	number, peer := l.number, benchPeer
	reads := func(b *testing.B, tail int) {
		for _, bc := range []struct {
			name string
			read func() error
		}{
			{"newest-page", func() error {
				got, err := db.InboxMessages(ctx, number, peer(7), 0, inbox.PageSize)
				if err == nil && len(got) != min(inbox.PageSize, benchMsgs/benchConvs) {
					err = fmt.Errorf("got %d messages", len(got))
				}
				return err
			}},
			{"page-before", func() error {
				got, err := db.InboxMessages(ctx, number, peer(7), l.middle, inbox.PageSize)
				if err == nil && len(got) != min(inbox.PageSize, benchMsgs/benchConvs/2) {
					err = fmt.Errorf("got %d messages", len(got))
				}
				return err
			}},
			{"stamp", func() error {
				_, err := db.InboxStamp(ctx, number, peer(7))
				return err
			}},
			{"stamp-10k", func() error {
				_, err := db.InboxStamp(ctx, number, benchLongPeer)
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
	var w endpoint.InboxWrites
	at := l.at
	for i := range store.InboxThreadsLag {
		at = at.Add(time.Millisecond)
		w.Messages = append(w.Messages, endpoint.InboxMessage{Number: number, ID: l.ids.Next(), Peer: peer(8 + i%(benchConvs-8)), Type: "text",
			Text: "Danke!", JSON: []byte(`{"type":"text","text":{"body":"Danke!"}}`), At: at})
	}
	if err := db.PutInbox(ctx, w); err != nil {
		b.Fatal(err)
	}
	b.Run("tail", func(b *testing.B) { reads(b, store.InboxThreadsLag) })
}

// indexThreads runs the threads' indexer until it has caught up.
func indexThreads(b testing.TB, db *store.DB) {
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
