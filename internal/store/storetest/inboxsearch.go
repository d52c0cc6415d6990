package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/store"
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

// testInboxSearchWords: what a search finds now that the index holds the
// first two beginnings and the whole of each word ("inbox search 2"):
// beginnings of 1, 2 and more letters, whole words, not a word longer
// than the one held, a beginning of more than 32 words (the range's
// conversations read at once), beginnings and digit runs of the number,
// case and accents folded, the last message's words apart from the
// earlier ones', and never another number's conversations.
func testInboxSearchWords(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300021")
	_, other := e.newBusiness("+4930300022")
	const a, b, c kontor.Phone = "+4917655500123", "+4915112345671", "+4930999888777"
	var zapf []string // 40 words that begin with "zapf"
	for i := range 40 {
		zapf = append(zapf, fmt.Sprintf("zapf%02d", i))
	}
	msgs := []endpoint.InboxMessage{
		inboundMsg(n.ID, e.ids.Next(), a, "Hallo, ich hätte gern Tulpen", t0),
		outboundMsg(n.ID, e.ids.Next(), a, "Gerne! Lieferung am Freitag, Bestellung 4711-0815", t0.Add(time.Second)),
		inboundMsg(n.ID, e.ids.Next(), b, "Straße Übersee 12", t0.Add(2*time.Second)),
		inboundMsg(n.ID, e.ids.Next(), b, "Danke schön", t0.Add(3*time.Second)),
		inboundMsg(n.ID, e.ids.Next(), c, strings.Join(zapf, " ")+" fertig", t0.Add(4*time.Second)),
		inboundMsg(other.ID, e.ids.Next(), a, "Tulpen Danke zapf00 Kai", t0),
	}
	msgs[0].ProfileName, msgs[2].ProfileName, msgs[4].ProfileName, msgs[5].ProfileName = "Zoë Brandt", "Kai Østergaard", "Zapfhahn", "Zoë"
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	e.indexInbox()
	for _, tc := range []struct {
		number kontor.ID
		q      string // "all:" searches every message
		want   []kontor.Phone
	}{
		{n.ID, "z", []kontor.Phone{c, a}}, // zapf…, Zoë: one letter
		{n.ID, "zo", []kontor.Phone{a}},   // two
		{n.ID, "zoe", []kontor.Phone{a}},  // a whole word past the two
		{n.ID, "ZOË", []kontor.Phone{a}},  // folded
		{n.ID, "bran", []kontor.Phone{a}}, // a beginning longer than two
		{n.ID, "brandt", []kontor.Phone{a}},
		{n.ID, "brandtner", nil}, // longer than the word
		{n.ID, "ostergaard", []kontor.Phone{b}},
		{n.ID, "øster", []kontor.Phone{b}},
		{n.ID, "a", []kontor.Phone{a}}, // am, not the a inside Kai
		{n.ID, "frei", []kontor.Phone{a}},
		{n.ID, "freitag", []kontor.Phone{a}},
		{n.ID, "freitagabend", nil},
		{n.ID, "bestellung 0815", []kontor.Phone{a}},
		{n.ID, "4711", []kontor.Phone{a}},
		{n.ID, "stellung", nil}, // beginnings only
		// The last message's words, not the earlier ones'.
		{n.ID, "tulpen", nil},
		{n.ID, "t", nil},
		{n.ID, "strasse", nil},
		{n.ID, "all:tulpen", []kontor.Phone{a}},
		{n.ID, "all:tulp", []kontor.Phone{a}},
		{n.ID, "all:tu", []kontor.Phone{a}},
		{n.ID, "all:t", []kontor.Phone{a}},
		{n.ID, "all:strasse", []kontor.Phone{b}},       // ß folded
		{n.ID, "all:ubersee danke", []kontor.Phone{b}}, // words of different messages
		{n.ID, "all:hatte gern brandt", []kontor.Phone{a}},
		// The number: any beginning, or a run of 5 or more digits.
		{n.ID, "49", []kontor.Phone{c, b, a}},
		{n.ID, "4917", []kontor.Phone{a}},
		{n.ID, "491511", []kontor.Phone{b}},
		{n.ID, "+4915112345671", []kontor.Phone{b}},
		{n.ID, "+49 1511 2345671", nil}, // 1511 is neither a beginning nor 5 digits
		{n.ID, "4915112345671", []kontor.Phone{b}},
		{n.ID, "12345", []kontor.Phone{b}}, // inside
		{n.ID, "45671", []kontor.Phone{b}}, // at the end
		{n.ID, "5671", nil},                // fewer than 5 inside
		{n.ID, "00123", []kontor.Phone{a}},
		{n.ID, "55500123", []kontor.Phone{a}},
		{n.ID, "98887", []kontor.Phone{c}},
		{n.ID, "988870", nil},
		{n.ID, "ka 49", []kontor.Phone{b}},
		{n.ID, "all:kai danke 4915", []kontor.Phone{b}},
		// A beginning of more than 32 words (of the last message; and
		// one of the name), alone and with others.
		{n.ID, "zap", []kontor.Phone{c}},
		{n.ID, "zapfh", []kontor.Phone{c}},
		{n.ID, "zap fertig", []kontor.Phone{c}},
		{n.ID, "fertig zap 4930", []kontor.Phone{c}},
		{n.ID, "zap danke", nil},
		{n.ID, "all:zapf zoe", nil},
		{n.ID, "zapf1", []kontor.Phone{c}},
		{n.ID, "zapf39", []kontor.Phone{c}},
		{n.ID, "zapf4", nil},
		{n.ID, "?! %", nil},
		// Another number's conversations are its own.
		{n.ID, "danke", []kontor.Phone{b}},
		{other.ID, "zap", []kontor.Phone{a}},
		{other.ID, "danke kai", []kontor.Phone{a}},
		{other.ID, "brandt", nil},
		{other.ID, "ostergaard", nil},
		{other.ID, "fertig", nil},
		{other.ID, "4915", nil},
	} {
		got, err := e.db.InboxConversations(e.ctx, inbox.Query{Number: tc.number, Search: strings.TrimPrefix(tc.q, "all:"), InMessages: strings.HasPrefix(tc.q, "all:")})
		if err != nil {
			t.Fatalf("search %q: %v", tc.q, err)
		}
		var peers []kontor.Phone
		for _, c := range got {
			if c.Number != tc.number {
				t.Fatalf("search %q of number %d found a conversation of number %d", tc.q, tc.number, c.Number)
			}
			peers = append(peers, c.Peer)
		}
		if !slices.Equal(peers, tc.want) {
			t.Errorf("search %q found %v, want %v", tc.q, peers, tc.want)
		}
	}
}

// testInboxSearchRebuild: the "inbox search 2" migration empties an
// "inbox search 1" index (every beginning of every word, a stale row) and
// sets the indexer back to the start of the log, which then fills the
// index with exactly the rows of the new kinds, in byte order on
// PostgreSQL.
func testInboxSearchRebuild(t *testing.T, url string) {
	db, closeDB := open(t, url)
	const number = 7
	peers := []kontor.Phone{"+4917655500123", "+4915112345671"}
	var msgs []endpoint.InboxMessage
	for i := range 30 {
		m := inboundMsg(number, kontor.ID(100+i), peers[i%2], fmt.Sprintf("Nachricht %d über Tulpen", i), t0.Add(time.Duration(i)*time.Second))
		m.ProfileName = "Zoë Brandt"
		msgs = append(msgs, m)
	}
	if err := db.PutInbox(t.Context(), endpoint.InboxWrites{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	index := func(db *store.DB) int {
		t.Helper()
		total := 0
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			n, err := db.IndexInbox(t.Context(), inbox.IndexBatch)
			if err != nil {
				t.Fatal(err)
			}
			total += n
			behind, err := db.InboxIndexBehind(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if behind == 0 {
				return total
			}
			if time.Now().After(deadline) {
				t.Fatalf("the index is still %d messages behind", behind)
			}
		}
	}
	index(db)
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	sqlite := strings.HasPrefix(url, "sqlite:")
	r := raw(t, url)
	exec := rawExec(t, r)
	// An "inbox search 1" index: every beginning of every word, and a
	// row of a word no message has.
	exec("DROP TABLE inbox_words")
	exec("CREATE TABLE inbox_words (number_id BIGINT NOT NULL, token TEXT NOT NULL, peer TEXT NOT NULL, PRIMARY KEY (number_id, token, peer))")
	for _, m := range msgs {
		for _, tok := range commerce.SearchTokens(m.Text, "") {
			exec("INSERT INTO inbox_words (number_id, token, peer) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", number, "m:"+tok, string(m.Peer))
		}
	}
	exec("INSERT INTO inbox_words (number_id, token, peer) VALUES ($1, 'm:stale', $2)", number, string(peers[0]))
	exec("DELETE FROM schema_parts WHERE name = 'inbox search 2'")

	db, _ = open(t, url)
	if behind, err := db.InboxIndexBehind(t.Context()); err != nil || behind != len(msgs) {
		t.Fatalf("after the migration the index is %d messages behind, %v; want all %d", behind, err, len(msgs))
	}
	if got := index(db); got != len(msgs) {
		t.Fatalf("the indexer read %d messages again, want %d", got, len(msgs))
	}
	// Exactly the new kinds' rows: the whole log's words, each
	// conversation's name, number and last message.
	want := map[string]bool{}
	add := func(peer kontor.Phone, kind string, toks ...string) {
		for _, tok := range toks {
			want[string(peer)+" "+kind+tok] = true
		}
	}
	for _, m := range msgs {
		add(m.Peer, "m:", commerce.IndexTokens(m.Text, "")...)
	}
	for i, p := range peers {
		d := p.Digits()
		add(p, "n:", commerce.IndexTokens("Zoë Brandt", d)...)
		for j := 1; j+5 <= len(d); j++ {
			add(p, "d:", d[j:])
		}
		add(p, "l:", commerce.IndexTokens(msgs[len(msgs)-2+i].Text, "")...)
	}
	rows, err := r.QueryContext(t.Context(), "SELECT peer, token FROM inbox_words WHERE number_id = $1", number)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for rows.Next() {
		var p, tok string
		if err := rows.Scan(&p, &tok); err != nil {
			t.Fatal(err)
		}
		got[p+" "+tok] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for k := range want {
		if !got[k] {
			t.Errorf("index row %q missing", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("index row %q left over", k)
		}
	}
	for q, n := range map[string]int{"stale": 0, "tulpen": 2, "nachricht 29": 1, "all:nachricht 3": 1, "all:ube 1": 2, "zoe 00123": 1} {
		got, err := db.InboxConversations(t.Context(), inbox.Query{Number: number, Search: strings.TrimPrefix(q, "all:"), InMessages: strings.HasPrefix(q, "all:")})
		if err != nil || len(got) != n {
			t.Errorf("search %q: %d found, %v; want %d", q, len(got), err, n)
		}
	}
	if !sqlite {
		var coll string
		if err := r.QueryRowContext(t.Context(), "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'inbox_words' AND column_name = 'token'").Scan(&coll); err != nil || coll != "C" {
			t.Errorf("inbox_words.token's collation: %q %v, want C", coll, err)
		}
	}
}
