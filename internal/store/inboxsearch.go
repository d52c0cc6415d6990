package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/inbox"
)

// The inbox search index: rows of the words (folded as commerce.Fold
// folds product names) of a conversation, under one of four kinds, the
// token's first two letters:
//
//	"n:" the peer's number and profile name: the first ShortPrefix
//	     beginnings and the whole of each word (commerce.IndexTokens, as
//	     the product index holds them);
//	"d:" the number's digits from each place but the first, while at
//	     least digitRun of them remain: a run of digitRun or more digits
//	     inside the number is a beginning of one of them;
//	"l:" the last message's text (IndexTokens; replaced when the last
//	     message changes);
//	"m:" the text of every message (IndexTokens; only added).
//
// A word typed of at most ShortPrefix letters is a token; a longer one is
// the range of whole words it begins (searchInbox).
//
// A background indexer (IndexInbox, run by inbox.StartIndexer) fills it
// from the inbox log, never the endpoint's write transaction: it reads the
// messages logged since its cursor, in the order they were committed, and
// writes their rows and the new cursor in one transaction, so a restart
// resumes where the last batch ended. The order: SQLite has one writer, so
// the log's rowid grows in commit order (no row of the log is deleted, and
// a VACUUM, which may renumber rowids, would need the cursor reset to 0:
// the index then fills again); PostgreSQL gets a column holding
// the writing transaction's id (inbox_messages.xid), and the indexer reads
// only transactions older than every one still running, so one that
// commits late is never skipped.
func init() {
	addMigration("inbox search 1", migration{
		sqlite: `
CREATE TABLE inbox_words (
	number_id BIGINT NOT NULL,
	token     TEXT NOT NULL,
	peer      TEXT NOT NULL,
	PRIMARY KEY (number_id, token, peer)
) WITHOUT ROWID;
` + inboxSearchTables,
		postgres: `
CREATE TABLE inbox_words (
	number_id BIGINT NOT NULL,
	token     TEXT NOT NULL,
	peer      TEXT NOT NULL,
	PRIMARY KEY (number_id, token, peer)
);
ALTER TABLE inbox_messages ADD COLUMN xid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX inbox_messages_xid ON inbox_messages (xid, number_id, msg_id);
` + inboxSearchTables,
	})
	// The short beginnings and whole words instead of every beginning
	// (as "search 3" did for products), and the number's digit runs as
	// "d:" rows. The index is emptied and the cursor set back to the
	// start of the log: the indexer fills it again in the background
	// (searches find less until it has caught up). On PostgreSQL the
	// tokens are in byte order ("C"), so that the words a typed word
	// begins are one range of the primary key whatever the database's
	// collation.
	addMigration("inbox search 2", migration{
		sqlite: `
DELETE FROM inbox_words;
` + inboxSearchRestart,
		postgres: `
DROP TABLE inbox_words;
CREATE TABLE inbox_words (
	number_id BIGINT NOT NULL,
	token     TEXT COLLATE "C" NOT NULL,
	peer      TEXT NOT NULL,
	PRIMARY KEY (number_id, token, peer)
);
` + inboxSearchRestart,
	})
}

// inboxSearchRestart makes the indexer start again from the beginning of
// the log, as for a new index.
const inboxSearchRestart = `
DELETE FROM inbox_search_convs;
UPDATE inbox_search_cursor SET seq = 0, number_id = 0, msg_id = 0 WHERE id = 1;
`

// inboxSearchTables: what each conversation's "n:" and "l:" rows were
// made of (to delete exactly those when they change), and the cursor.
const inboxSearchTables = `
CREATE TABLE inbox_search_convs (
	number_id BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	name      TEXT NOT NULL,
	last      TEXT NOT NULL,
	PRIMARY KEY (number_id, peer)
);
CREATE TABLE inbox_search_cursor (
	id        INTEGER PRIMARY KEY,
	seq       BIGINT NOT NULL,
	number_id BIGINT NOT NULL,
	msg_id    BIGINT NOT NULL
);
INSERT INTO inbox_search_cursor (id, seq, number_id, msg_id) VALUES (1, 0, 0, 0);
`

// digitRun is the shortest run of digits inside a number that finds it
// (any beginning of the number finds it too).
const digitRun = 5

// numberTokens returns the index tokens of a peer's number and profile
// name, with their kind ("n:", "d:"), sorted.
func numberTokens(peer kontor.Phone, profile string) []string {
	d := peer.Digits()
	var out []string
	for _, t := range commerce.IndexTokens(profile, d) {
		out = append(out, "n:"+t)
	}
	for i := 1; i+digitRun <= len(d); i++ {
		out = append(out, "d:"+d[i:])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// textTokens returns the index tokens of a text under a kind, sorted.
func textTokens(kind, text string) []string {
	out := commerce.IndexTokens(text, "")
	for i, t := range out {
		out[i] = kind + t
	}
	return out
}

// inboxWord is one row of the index.
type inboxWord struct {
	number int64
	token  string
	peer   string
}

func compareInboxWords(a, b inboxWord) int {
	if c := cmp.Compare(a.number, b.number); c != 0 {
		return c
	}
	if c := strings.Compare(a.token, b.token); c != 0 {
		return c
	}
	return strings.Compare(a.peer, b.peer)
}

// indexCursor is where the indexer is in the log: SQLite's rowid, or
// PostgreSQL's (xid, number_id, msg_id).
type indexCursor struct{ seq, number, msg int64 }

// logged is a message the indexer reads.
type logged struct {
	at         indexCursor
	number     int64
	peer, text string
}

// IndexInbox indexes up to limit messages logged since the last call and
// says how many it indexed (inbox.Indexer): fewer than limit means it has
// caught up. It runs both of the log's background indexers, each with its
// cursor and transaction: the conversations' thread rows
// (IndexInboxThreads) and the search index, and says the larger count.
func (db *DB) IndexInbox(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = inbox.IndexBatch
	}
	threads, err := db.IndexInboxThreads(ctx, limit)
	if err != nil {
		return 0, err
	}
	n, err := db.indexSearch(ctx, limit)
	return max(n, threads), err
}

// indexSearch is IndexInbox for the search index.
func (db *DB) indexSearch(ctx context.Context, limit int) (int, error) {
	var n int
	err := db.tx(ctx, "store.IndexInbox", func(tx *sql.Tx) error {
		// Another node's indexer holding the cursor is at work: this one
		// has nothing to do.
		var cur indexCursor
		err := tx.QueryRowContext(ctx, `SELECT seq, number_id, msg_id FROM inbox_search_cursor WHERE id = 1`+db.d.skipLocked()).Scan(&cur.seq, &cur.number, &cur.msg)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		msgs, err := db.loggedSince(ctx, tx, cur, limit)
		if err != nil || len(msgs) == 0 {
			return err
		}
		n = len(msgs)
		if err := db.indexMessages(ctx, tx, msgs); err != nil {
			return err
		}
		last := msgs[len(msgs)-1].at
		_, err = tx.ExecContext(ctx, `UPDATE inbox_search_cursor SET seq = $1, number_id = $2, msg_id = $3 WHERE id = 1`,
			last.seq, last.number, last.msg)
		return err
	})
	return n, err
}

// InboxIndexBehind counts the logged messages the search index has not
// read yet (inbox.Indexer). On PostgreSQL they include those the indexer
// waits for: every transaction older than theirs must end first.
func (db *DB) InboxIndexBehind(ctx context.Context) (int, error) {
	q := `SELECT COUNT(*) FROM inbox_messages m, inbox_search_cursor k WHERE k.id = 1 AND m.rowid > k.seq`
	if db.d.name == "postgres" {
		q = `SELECT COUNT(*) FROM inbox_messages m, inbox_search_cursor k WHERE k.id = 1 AND (m.xid, m.number_id, m.msg_id) > (k.seq, k.number_id, k.msg_id)`
	}
	var n int
	if err := db.readRow(ctx, q).Scan(&n); err != nil {
		return 0, internal("store.InboxIndexBehind", err)
	}
	return n, nil
}

// loggedSince reads up to limit messages after the cursor, in commit order.
func (db *DB) loggedSince(ctx context.Context, tx *sql.Tx, cur indexCursor, limit int) ([]logged, error) {
	var rows *sql.Rows
	var err error
	if db.d.name == "postgres" {
		rows, err = tx.QueryContext(ctx, `SELECT xid, number_id, msg_id, peer, text FROM inbox_messages
			WHERE (xid, number_id, msg_id) > ($1, $2, $3) AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
			ORDER BY xid, number_id, msg_id LIMIT $4`, cur.seq, cur.number, cur.msg, limit)
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT rowid, number_id, msg_id, peer, text FROM inbox_messages
			WHERE rowid > $1 ORDER BY rowid LIMIT $2`, cur.seq, limit)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []logged
	for rows.Next() {
		var m logged
		if err := rows.Scan(&m.at.seq, &m.at.number, &m.at.msg, &m.peer, &m.text); err != nil {
			return nil, err
		}
		m.number = m.at.number
		out = append(out, m)
	}
	return out, rows.Err()
}

// indexMessages adds the "m:" rows of messages and brings the "n:", "d:" and
// "l:" rows of their conversations up to date: a read of the
// conversations of each number in the batch, one statement that deletes
// the rows gone and one that adds the new ones (per wordsChunk rows).
func (db *DB) indexMessages(ctx context.Context, tx *sql.Tx, msgs []logged) error {
	var add, del []inboxWord
	peers := map[int64][]string{} // the conversations of each number, once each
	seen := map[inboxWord]bool{}
	for _, m := range msgs {
		for _, t := range textTokens("m:", m.text) {
			add = append(add, inboxWord{m.number, t, m.peer})
		}
		if c := (inboxWord{number: m.number, peer: m.peer}); !seen[c] {
			seen[c] = true
			peers[m.number] = append(peers[m.number], m.peer)
		}
	}
	var changed []searchConv
	for number, ps := range peers {
		convs, err := db.searchConvs(ctx, tx, number, ps)
		if err != nil {
			return err
		}
		for _, c := range convs {
			if c.had && c.profile == c.oldName && c.last == c.oldLast {
				continue
			}
			// Only the rows that differ are written: the beginnings and
			// the words two texts share stay.
			diff := func(before, after []string) {
				if !c.had {
					before = nil
				}
				gone, come := sortedDiff(before, after)
				for _, t := range gone {
					del = append(del, inboxWord{number, t, c.peer})
				}
				for _, t := range come {
					add = append(add, inboxWord{number, t, c.peer})
				}
			}
			if !c.had || c.profile != c.oldName {
				peer := kontor.Phone(c.peer)
				diff(numberTokens(peer, c.oldName), numberTokens(peer, c.profile))
			}
			if !c.had || c.last != c.oldLast {
				diff(textTokens("l:", c.oldLast), textTokens("l:", c.last))
			}
			c.number = number
			changed = append(changed, c)
		}
	}
	if len(changed) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO inbox_search_convs (number_id, peer, name, last) VALUES ($1, $2, $3, $4)
			ON CONFLICT (number_id, peer) DO UPDATE SET name = excluded.name, last = excluded.last`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range changed {
			if _, err := st.ExecContext(ctx, c.number, c.peer, c.profile, c.last); err != nil {
				return err
			}
		}
	}
	// Sorted as the index is, so that each statement writes runs of
	// neighbouring pages.
	slices.SortFunc(del, compareInboxWords)
	if err := db.writeInboxWords(ctx, tx, del, true); err != nil {
		return err
	}
	slices.SortFunc(add, compareInboxWords)
	return db.writeInboxWords(ctx, tx, slices.Compact(add), false)
}

// sortedDiff returns the strings of sorted before that sorted after lacks,
// and those of after that before lacks.
func sortedDiff(before, after []string) (gone, come []string) {
	for len(before) > 0 || len(after) > 0 {
		switch {
		case len(after) == 0 || (len(before) > 0 && before[0] < after[0]):
			gone, before = append(gone, before[0]), before[1:]
		case len(before) == 0 || after[0] < before[0]:
			come, after = append(come, after[0]), after[1:]
		default:
			before, after = before[1:], after[1:]
		}
	}
	return gone, come
}

// searchConv is a conversation as the indexer sees it: its profile name
// and last text now, and what its rows were last made of.
type searchConv struct {
	number              int64
	peer, profile, last string
	oldName, oldLast    string
	had                 bool // it has rows
}

// searchConvs reads the conversations of peers of one number (those
// without a conversation are left out: a message without its
// conversation has nothing to show).
func (db *DB) searchConvs(ctx context.Context, tx *sql.Tx, number int64, peers []string) ([]searchConv, error) {
	const cols = `c.peer, c.profile_name, c.last_text, COALESCE(s.name, ''), COALESCE(s.last, ''), s.peer IS NOT NULL`
	var rows *sql.Rows
	var err error
	if db.d.name == "postgres" {
		rows, err = tx.QueryContext(ctx, `SELECT `+cols+` FROM inbox_conversations c
			LEFT JOIN inbox_search_convs s ON s.number_id = c.number_id AND s.peer = c.peer
			WHERE c.number_id = $1 AND c.peer = ANY($2::text[])`, number, peers)
	} else {
		js, jerr := json.Marshal(peers)
		if jerr != nil {
			return nil, jerr
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+cols+` FROM json_each($2) j CROSS JOIN inbox_conversations c
			LEFT JOIN inbox_search_convs s ON s.number_id = c.number_id AND s.peer = c.peer
			WHERE c.number_id = $1 AND c.peer = j.value`, number, string(js))
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []searchConv
	for rows.Next() {
		var c searchConv
		if err := rows.Scan(&c.peer, &c.profile, &c.last, &c.oldName, &c.oldLast, &c.had); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// writeInboxWords adds (or with remove, deletes) sorted index rows, many
// a statement: on SQLite through one JSON object nested by number and
// token, {"number": {"token": ["peer", …], …}, …}, whose values come out
// of json_each as they are (thousands of parameters bind slowly there,
// and ->> extraction cost a fifth of the indexer); on PostgreSQL through
// arrays.
func (db *DB) writeInboxWords(ctx context.Context, tx *sql.Tx, ws []inboxWord, remove bool) error {
	for len(ws) > 0 {
		part := ws[:min(len(ws), wordsChunk)]
		ws = ws[len(part):]
		if db.d.name != "postgres" {
			js, err := groupedInboxJSON(part)
			if err != nil {
				return err
			}
			q := `INSERT INTO inbox_words (number_id, token, peer)
				SELECT n.key, t.key, p.value FROM json_each($1) n, json_each(n.value) t, json_each(t.value) p
				WHERE true ON CONFLICT DO NOTHING`
			if remove {
				q = `DELETE FROM inbox_words WHERE (number_id, token, peer) IN
					(SELECT n.key, t.key, p.value FROM json_each($1) n, json_each(n.value) t, json_each(t.value) p)`
			}
			if _, err := tx.ExecContext(ctx, q, string(js)); err != nil {
				return err
			}
			continue
		}
		nums, toks, peers := make([]int64, len(part)), make([]string, len(part)), make([]string, len(part))
		for i, w := range part {
			nums[i], toks[i], peers[i] = w.number, w.token, w.peer
		}
		q := `INSERT INTO inbox_words (number_id, token, peer)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`
		if remove {
			q = `DELETE FROM inbox_words w USING unnest($1::bigint[], $2::text[], $3::text[]) AS d (n, t, p)
				WHERE w.number_id = d.n AND w.token = d.t AND w.peer = d.p`
		}
		if _, err := tx.ExecContext(ctx, q, nums, toks, peers); err != nil {
			return err
		}
	}
	return nil
}

// groupedInboxJSON writes sorted index rows nested by number and token,
// in their order (see writeInboxWords, nestedJSON).
func groupedInboxJSON(ws []inboxWord) ([]byte, error) {
	return nestedJSON(ws, func(w inboxWord) (int64, string) { return w.number, w.token },
		func(b []byte, w inboxWord) ([]byte, error) { return appendJSONString(b, w.peer) })
}

// rareWord is how many conversations a word may match for a search to
// start from its rows; a more common word's search walks the list newest
// first and looks each conversation up in the index, finding a match at
// least every few conversations.
const rareWord = 1000

// inboxTerm is where the index finds one word of a search: its tokens
// (with their kinds), each a point of the index, and the conversations
// (peers) of the wide ranges, read at once.
type inboxTerm struct {
	tokens []string
	peers  []string
	wide   bool // peers holds a range's conversations
}

// inboxTerm returns where a search word w of a number is found: under
// "n:" and kind ("l:" or "m:"), and under "d:" when w is digitRun digits
// or more. A word of at most commerce.ShortPrefix letters is a token of
// each kind; a longer one is the whole words of each kind it begins, the
// tokens of a range: listed one step of the index each (a loose index
// scan) when they are at most rangeWords, else the range's conversations
// read at once (a short beginning of many words: the range holds a few
// rows per conversation).
func (db *DB) inboxTerm(ctx context.Context, number int64, w, kind string) (inboxTerm, error) {
	var t inboxTerm
	kinds := []string{"n:", kind}
	if len(w) >= digitRun && strings.Trim(w, "0123456789") == "" {
		kinds = append(kinds, "d:")
	}
	short := utf8.RuneCountInString(w) <= commerce.ShortPrefix
	for _, k := range kinds {
		if short && k != "d:" {
			t.tokens = append(t.tokens, k+w)
			continue
		}
		lo, hi := k+w, k+wordEnd(w)
		ts, err := db.rangeTokens(ctx, "inbox_words", "number_id", number, lo, hi)
		if err != nil {
			return t, err
		}
		if len(ts) <= rangeWords {
			t.tokens = append(t.tokens, ts...)
			continue
		}
		ps, err := db.readStrings(ctx, `SELECT DISTINCT peer FROM inbox_words WHERE number_id = $1 AND token >= $2 AND token < $3`, number, lo, hi)
		if err != nil {
			return t, err
		}
		t.peers, t.wide = append(t.peers, ps...), true
	}
	slices.Sort(t.peers)
	t.peers = slices.Compact(t.peers)
	return t, nil
}

// count returns how many rows of the index hold the term's tokens, up to
// rareWord+1, plus the conversations of its wide ranges: at least how
// many conversations it finds, and 0 only when it finds none.
func (db *DB) count(ctx context.Context, number int64, t inboxTerm) (int, error) {
	n := len(t.peers)
	if len(t.tokens) == 0 || n > rareWord {
		return n, nil
	}
	var rows int
	err := db.readRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM inbox_words w WHERE w.number_id = $1 AND `+db.d.inList("w.token", "$2")+` LIMIT $3) x`,
		number, db.d.list(t.tokens), rareWord+1).Scan(&rows)
	return n + rows, err
}

// searchInbox is InboxConversations with a search: the conversations of
// the number that have every word (as a beginning of a word of the number,
// profile name and last message, or of a run of its digits; or of any
// message), newest first, one page after the cursor.
func (db *DB) searchInbox(ctx context.Context, q inbox.Query, limit int) ([]inbox.Conversation, error) {
	words := commerce.SearchQuery(q.Search)
	if len(words) == 0 {
		return nil, nil // nothing to find: no letter or digit
	}
	kind := "l:"
	if q.InMessages {
		kind = "m:"
	}
	number := int64(q.Number)
	args := []any{number, limit}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// Each word's term, and the rarest, counted up to rareWord.
	terms := make([]inboxTerm, len(words))
	rarest, fewest := -1, rareWord+1
	for i, w := range words {
		t, err := db.inboxTerm(ctx, number, w, kind)
		if err != nil {
			return nil, internal("store.InboxConversations", err)
		}
		n, err := db.count(ctx, number, t)
		if err != nil {
			return nil, internal("store.InboxConversations", err)
		}
		if n == 0 {
			return nil, nil
		}
		if n < fewest {
			rarest, fewest = i, n
		}
		terms[i] = t
	}
	cols := "c." + strings.ReplaceAll(conversationCols, ", ", ", c.")
	var sb strings.Builder
	if rarest >= 0 {
		// CROSS JOIN: SQLite then starts from the word's conversations.
		t := terms[rarest]
		var from []string
		if len(t.tokens) > 0 {
			from = append(from, `SELECT DISTINCT peer FROM inbox_words WHERE number_id = $1 AND `+db.d.inList("token", arg(db.d.list(t.tokens))))
		}
		if t.wide {
			from = append(from, db.d.listRows(arg(db.d.list(t.peers)), "peer"))
		}
		sb.WriteString(`SELECT ` + cols + ` FROM (` + strings.Join(from, ` UNION `) + `) r CROSS JOIN inbox_conversations c WHERE c.number_id = $1 AND c.peer = r.peer`)
	} else {
		sb.WriteString(`SELECT ` + cols + ` FROM inbox_conversations c WHERE c.number_id = $1`)
	}
	for i, t := range terms {
		if i == rarest {
			continue
		}
		var has []string
		if len(t.tokens) > 0 {
			has = append(has, `EXISTS (SELECT 1 FROM inbox_words w WHERE w.number_id = $1 AND `+db.d.inList("w.token", arg(db.d.list(t.tokens)))+` AND w.peer = c.peer)`)
		}
		if t.wide {
			has = append(has, db.d.inList("c.peer", arg(db.d.list(t.peers))))
		}
		sb.WriteString(` AND (` + strings.Join(has, ` OR `) + `)`)
	}
	return db.conversationPage(ctx, &sb, q, args)
}

// readStrings returns the strings a query gives, through a statement
// prepared once (readRows: q is one of a few fixed texts).
func (db *DB) readStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	return readColumn[string](db.readRows(ctx, q, args...))
}
