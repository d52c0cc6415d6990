package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
)

// indexInbox runs the inbox search indexer until it has read every
// logged message and says how many it indexed. On PostgreSQL it waits
// while older transactions (the parallel tests') are open.
func (e *env) indexInbox() int {
	e.t.Helper()
	total := 0
	for deadline := time.Now().Add(20 * time.Second); ; {
		n, err := e.db.IndexInbox(e.ctx, inbox.IndexBatch)
		if err != nil {
			e.t.Fatalf("IndexInbox: %v", err)
		}
		total += n
		if n == inbox.IndexBatch {
			continue
		}
		behind, err := e.db.InboxIndexBehind(e.ctx)
		if err != nil {
			e.t.Fatalf("InboxIndexBehind: %v", err)
		}
		if behind == 0 {
			return total
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the inbox search index is still %d messages behind", behind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testInboxSearch: the search index is filled by the indexer (not by the
// log's writes), in batches that resume from the stored cursor (every
// IndexInbox call starts from the database alone, as after a restart);
// the last message's and the profile name's rows follow their changes;
// a search finds only the number's own conversations; pages of a rare
// word (read from its rows) and of a common one (the list walked newest
// first) are newest first, without gaps or repeats.
func testInboxSearch(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300011")
	_, other := e.newBusiness("+4930300012")
	const ana, ben kontor.Phone = "+4917655500123", "+4917655500456"
	a := inboundMsg(n.ID, e.ids.Next(), ana, "Wo ist meine Bestellung?", t0)
	a.ProfileName = "Zoë Brandt"
	w := endpoint.InboxWrites{Messages: []endpoint.InboxMessage{
		a,
		inboundMsg(n.ID, e.ids.Next(), ben, "Hallo", t0.Add(time.Second)),
		outboundMsg(n.ID, e.ids.Next(), ben, "Guten Tag!", t0.Add(2*time.Second)),
		inboundMsg(other.ID, e.ids.Next(), ana, "Bestellung Zoë", t0),
	}}
	if err := e.db.PutInbox(e.ctx, w); err != nil {
		t.Fatal(err)
	}
	search := func(number kontor.ID, s string, want ...kontor.Phone) {
		t.Helper()
		inMessages := strings.HasPrefix(s, "all:")
		got, err := e.db.InboxConversations(e.ctx, inbox.Query{Number: number, Search: strings.TrimPrefix(s, "all:"), InMessages: inMessages})
		if err != nil {
			t.Fatalf("search %q: %v", s, err)
		}
		var peers []kontor.Phone
		for _, c := range got {
			if c.Number != number {
				t.Fatalf("search %q of number %d found a conversation of number %d", s, number, c.Number)
			}
			peers = append(peers, c.Peer)
		}
		if !slices.Equal(peers, want) {
			t.Fatalf("search %q found %v, want %v", s, peers, want)
		}
	}
	// Logging wrote no index rows: the indexer has not run.
	search(n.ID, "bestellung")

	if behind, err := e.db.InboxIndexBehind(e.ctx); err != nil || behind != 4 {
		t.Fatalf("InboxIndexBehind = %d, %v; want 4", behind, err)
	}
	// A batch of at most 3, then the rest from where it stopped.
	first := 0
	for deadline := time.Now().Add(20 * time.Second); first == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if first, err = e.db.IndexInbox(e.ctx, 3); err != nil {
			t.Fatal(err)
		}
	}
	if first == 0 || first > 3 {
		t.Fatalf("IndexInbox(3) indexed %d messages", first)
	}
	if got := e.indexInbox(); got != 4-first {
		t.Fatalf("the second run indexed %d messages, want the %d left", got, 4-first)
	}
	if got := e.indexInbox(); got != 0 {
		t.Fatalf("a caught-up indexer indexed %d messages again", got)
	}
	search(n.ID, "bestellung", ana)
	search(n.ID, "BESTELL meine", ana)
	search(n.ID, "zoe", ana)             // the profile name, folded
	search(n.ID, "brandt wo", ana)       // name and message
	search(n.ID, "4917655500", ben, ana) // a beginning of the numbers
	search(n.ID, "00456", ben)           // five digits inside the number
	search(n.ID, "456")                  // fewer: only as a beginning
	search(n.ID, "guten", ben)           // the last message, sent
	search(n.ID, "hallo")                // not the last one
	search(n.ID, "all:hallo", ben)       // but one of all
	search(n.ID, "stellung")             // beginnings of words only
	search(n.ID, "?!")                   // no word: nothing
	search(n.ID, "all:bestellung zoe", ana)
	search(other.ID, "bestellung", ana) // the other number's own
	search(other.ID, "wo")
	search(other.ID, "all:brandt")

	// New messages: only they are read; the last message's and the
	// profile name's rows change.
	b := inboundMsg(n.ID, e.ids.Next(), ana, "Neue Adresse", t0.Add(3*time.Second))
	b.ProfileName = "Zoë Weber"
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{b}}); err != nil {
		t.Fatal(err)
	}
	search(n.ID, "adresse")
	if got := e.indexInbox(); got != 1 {
		t.Fatalf("indexed %d messages after one more was logged, want 1", got)
	}
	search(n.ID, "adresse", ana)
	search(n.ID, "bestellung")
	search(n.ID, "all:bestellung", ana)
	search(n.ID, "weber", ana)
	search(n.ID, "brandt")
	search(n.ID, "zoe", ana)

	// Many conversations: "hallo" is in more than the rare-word limit of
	// them, "nummer 7" in few.
	_, big := e.newBusiness("+4930300013")
	type conv struct {
		peer kontor.Phone
		at   time.Time
		text string
	}
	var convs []conv
	w = endpoint.InboxWrites{}
	for i := range 1200 {
		c := conv{kontor.Phone(fmt.Sprintf("+491701%06d", i)), t0.Add(time.Duration(i%400) * time.Second), fmt.Sprintf("Hallo Nummer %d", i)}
		convs = append(convs, c)
		w.Messages = append(w.Messages, inboundMsg(big.ID, e.ids.Next(), c.peer, c.text, c.at))
	}
	if err := e.db.PutInbox(e.ctx, w); err != nil {
		t.Fatal(err)
	}
	if got := e.indexInbox(); got != 1200 {
		t.Fatalf("indexed %d messages, want 1200", got)
	}
	slices.SortFunc(convs, func(a, b conv) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(string(b.peer), string(a.peer))
	})
	for _, tc := range []struct {
		q     string
		match func(c conv) bool
	}{
		{"hallo", func(conv) bool { return true }},
		{"all:nummer 7", func(c conv) bool { return strings.HasPrefix(strings.Fields(c.text)[2], "7") }},
		{"nummer 11", func(c conv) bool { return strings.HasPrefix(strings.Fields(c.text)[2], "11") }},
	} {
		var want, got []kontor.Phone
		for _, c := range convs {
			if tc.match(c) {
				want = append(want, c.peer)
			}
		}
		q := inbox.Query{Number: big.ID, Search: strings.TrimPrefix(tc.q, "all:"), InMessages: strings.HasPrefix(tc.q, "all:"), Limit: 70}
		for range 100 {
			page, err := e.db.InboxConversations(e.ctx, q)
			if err != nil {
				t.Fatalf("search %q: %v", tc.q, err)
			}
			for _, c := range page {
				got = append(got, c.Peer)
			}
			if len(page) < q.Limit {
				break
			}
			last := page[len(page)-1]
			q.Before = inbox.Cursor{At: last.LastAt, Peer: last.Peer}
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q paged through %d conversations, want %d (newest first, each once)", tc.q, len(got), len(want))
		}
	}
}
