package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/store"
)

// threadLog is what a test logged, to check a store's reads of each
// conversation against.
type threadLog struct {
	msgs map[convOf][]endpoint.InboxMessage
}

type convOf struct {
	number kontor.ID
	peer   kontor.Phone
}

func (l *threadLog) add(ms ...endpoint.InboxMessage) {
	if l.msgs == nil {
		l.msgs = map[convOf][]endpoint.InboxMessage{}
	}
	for _, m := range ms {
		k := convOf{m.Number, m.Peer}
		l.msgs[k] = append(l.msgs[k], m)
	}
}

// check reads every conversation of l from db in pages of limit, newest
// page first then each page before the oldest message read, and fails
// unless they are the conversation's messages, each once, in order
// (oldest first by time, then id).
func (l *threadLog) check(t *testing.T, db *store.DB, what string, limit int) {
	t.Helper()
	for k, ms := range l.msgs {
		want := make([]kontor.ID, len(ms))
		slices.SortFunc(ms, func(a, b endpoint.InboxMessage) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		for i, m := range ms {
			want[i] = m.ID
		}
		var got []kontor.ID
		before := kontor.ID(0)
		for range len(ms) + 2 {
			page, err := db.InboxMessages(t.Context(), k.number, k.peer, before, limit)
			if err != nil {
				t.Fatalf("%s: InboxMessages: %v", what, err)
			}
			if len(page) > limit {
				t.Fatalf("%s: a page of %d messages, limit %d", what, len(page), limit)
			}
			ids := make([]kontor.ID, len(page))
			for i, m := range page {
				if m.Number != k.number || m.Peer != k.peer {
					t.Fatalf("%s: conversation %s of %d read a message of %s of %d", what, k.peer, k.number, m.Peer, m.Number)
				}
				ids[i] = m.ID
			}
			got = append(ids, got...)
			if len(page) < limit {
				break
			}
			before = page[0].ID
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: conversation %s of %d read %d messages %v, want %d %v", what, k.peer, k.number, len(got), got, len(want), want)
		}
	}
}

// threadMsgs makes n messages of number to peers in turn, times from at
// one step each, two messages sharing each time (the page's order then
// rests on the id).
func threadMsgs(e *env, number kontor.ID, peers []kontor.Phone, n int, at time.Time) []endpoint.InboxMessage {
	out := make([]endpoint.InboxMessage, n)
	for i := range out {
		p := peers[i%len(peers)]
		when := at.Add(time.Duration(i/2) * time.Millisecond)
		if i%3 == 0 {
			out[i] = outboundMsg(number, e.ids.Next(), p, fmt.Sprint("Antwort ", i), when)
		} else {
			out[i] = inboundMsg(number, e.ids.Next(), p, fmt.Sprint("Frage ", i), when)
		}
	}
	return out
}

// testInboxThreads: a conversation's pages and stamp are right (every
// message once, in order) whatever the threads' indexer has written: none
// of the log, a batch ending at every place of it (the cursor's boundary),
// all of it, and more logged after; a status that changes a message of the
// tail or of the rows moves the stamp; a reader that finds the log more
// than store.InboxThreadsLag messages past the cursor catches the indexer
// up.
func testInboxThreads(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300021")
	_, other := e.newBusiness("+4930300022")
	peers := []kontor.Phone{"+4917655500101", "+4917655500102", "+4917655500103"}
	var log threadLog
	put := func(ms []endpoint.InboxMessage) {
		t.Helper()
		// In batches of 4, as group commits log them.
		for len(ms) > 0 {
			b := ms[:min(4, len(ms))]
			ms = ms[len(b):]
			if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: b}); err != nil {
				t.Fatal(err)
			}
			log.add(b...)
		}
	}
	put(threadMsgs(e, n.ID, peers, 20, t0))
	put(threadMsgs(e, other.ID, peers[:1], 5, t0))
	log.check(t, e.db, "nothing indexed", 3)
	stamps := map[kontor.Phone]int64{}
	for _, p := range peers {
		s, err := e.db.InboxStamp(e.ctx, n.ID, p)
		if err != nil || s == 0 {
			t.Fatalf("InboxStamp = %d, %v", s, err)
		}
		stamps[p] = s
	}

	// A batch of one message at a time: each read with the cursor at
	// another place of the log.
	for i := 0; ; i++ {
		k, err := e.db.IndexInboxThreads(e.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			behind, err := e.db.InboxThreadsBehind(e.ctx, -1)
			if err != nil {
				t.Fatal(err)
			}
			if behind == 0 {
				break
			}
			if i > 2000 {
				t.Fatalf("the threads' indexer is still %d messages behind", behind)
			}
			time.Sleep(10 * time.Millisecond) // PostgreSQL: an older transaction is open
			continue
		}
		log.check(t, e.db, fmt.Sprintf("after %d batches", i+1), 3)
	}
	for _, p := range peers {
		if s, err := e.db.InboxStamp(e.ctx, n.ID, p); err != nil || s != stamps[p] {
			t.Fatalf("InboxStamp of %s indexed = %d, %v; before %d", p, s, err, stamps[p])
		}
	}
	log.check(t, e.db, "all indexed, one page", 50)

	// More logged: the tail again, after the rows.
	more := threadMsgs(e, n.ID, peers, 10, t0.Add(time.Minute))
	put(more)
	log.check(t, e.db, "a tail after the rows", 4)

	// A status of a message of the rows and one of the tail each move
	// their conversation's stamp.
	first := log.msgs[convOf{n.ID, peers[0]}][0] // of the rows
	last := more[9]                              // of the tail
	if !first.Outgoing || !last.Outgoing {
		t.Fatalf("test messages: outgoing %v %v, want both", first.Outgoing, last.Outgoing)
	}
	for i, m := range []endpoint.InboxMessage{first, last} {
		s0, err := e.db.InboxStamp(e.ctx, n.ID, m.Peer)
		if err != nil {
			t.Fatal(err)
		}
		st := endpoint.InboxStatus{Number: n.ID, ID: m.ID, Status: endpoint.InboxRead, At: t0.Add(time.Hour + time.Duration(i)*time.Second)}
		if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Statuses: []endpoint.InboxStatus{st}}); err != nil {
			t.Fatal(err)
		}
		if s1, err := e.db.InboxStamp(e.ctx, n.ID, m.Peer); err != nil || s1 <= s0 {
			t.Fatalf("a status of message %v left the stamp at %d (before %d), %v", m.ID, s1, s0, err)
		}
	}

	// The indexer far behind: reads are right, and one catches it up
	// (on PostgreSQL once the parallel tests' older transactions end).
	put(threadMsgs(e, n.ID, peers, store.InboxThreadsLag+inbox.IndexBatch+7, t0.Add(2*time.Minute)))
	behind, err := e.db.InboxThreadsBehind(e.ctx, -1)
	if err != nil || behind <= store.InboxThreadsLag {
		t.Fatalf("InboxThreadsBehind = %d, %v; want more than %d", behind, err, store.InboxThreadsLag)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := e.db.InboxMessages(e.ctx, n.ID, peers[1], 0, inbox.PageSize); err != nil {
			t.Fatal(err)
		}
		if behind, err = e.db.InboxThreadsBehind(e.ctx, -1); err != nil {
			t.Fatal(err)
		}
		if behind <= store.InboxThreadsLag {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after reads the threads' indexer is %d messages behind, want at most %d", behind, store.InboxThreadsLag)
		}
	}
	log.check(t, e.db, "after the reader caught up", inbox.PageSize)
}

// testInboxThreadsMigration: "inbox threads 1" writes the rows of a log
// logged before it (with the index inbox_messages_peer) at once, so that
// reads are right from the start; a cursor behind rows that exist (as the
// migration leaves it on PostgreSQL) doubles no message, and the indexer
// passing it again writes no row twice.
func testInboxThreadsMigration(t *testing.T, url string) {
	db, closeDB := open(t, url)
	e := newEnv(t, db)
	const number = 7
	peers := []kontor.Phone{"+4917655500201", "+4917655500202", "+4917655500203"}
	msgs := threadMsgs(e, number, peers, 60, t0)
	var log threadLog
	for i := 0; i < len(msgs); i += 7 {
		b := msgs[i:min(i+7, len(msgs))]
		if err := db.PutInbox(t.Context(), endpoint.InboxWrites{Messages: b}); err != nil {
			t.Fatal(err)
		}
		log.add(b...)
	}
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	r := raw(t, url)
	exec := rawExec(t, r)
	// The schema before: the index, no threads.
	exec("DROP TABLE inbox_threads")
	exec("DROP TABLE inbox_threads_cursor")
	exec("CREATE INDEX inbox_messages_peer ON inbox_messages (number_id, peer, at, msg_id)")
	exec("DELETE FROM schema_parts WHERE name = 'inbox threads 1'")

	db, _ = open(t, url)
	log.check(t, db, "after the migration", 4)
	count := func() int {
		t.Helper()
		var n int
		if err := r.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM inbox_threads").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(); got != len(msgs) {
		t.Fatalf("the migration wrote %d thread rows, want %d", got, len(msgs))
	}
	var peerIndex int
	if err := r.QueryRowContext(t.Context(), indexExists(url), "inbox_messages_peer").Scan(&peerIndex); err != nil || peerIndex != 0 {
		t.Fatalf("inbox_messages_peer after the migration: %d, %v", peerIndex, err)
	}

	// The cursor back at the start: every message is in the tail and
	// has its row.
	exec("UPDATE inbox_threads_cursor SET seq = 0, number_id = 0, msg_id = 0 WHERE id = 1")
	log.check(t, db, "the cursor behind the rows", 4)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := db.IndexInboxThreads(t.Context(), 5); err != nil {
			t.Fatal(err)
		}
		behind, err := db.InboxThreadsBehind(t.Context(), -1)
		if err != nil {
			t.Fatal(err)
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the threads' indexer is still %d messages behind", behind)
		}
	}
	if got := count(); got != len(msgs) {
		t.Fatalf("after indexing again %d thread rows, want %d", got, len(msgs))
	}
	log.check(t, db, "indexed again", 4)
}

// indexExists is a query of one argument, an index's name, that counts
// the indexes of that name.
func indexExists(url string) string {
	if strings.HasPrefix(url, "sqlite:") {
		return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = $1"
	}
	return "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1"
}
