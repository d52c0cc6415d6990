package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
)

// The inbox log: conversations and their messages as the endpoint saw
// them (endpoint.InboxStore), and the console's notes and quick replies
// (inbox.Store). The conversation row is kept up to date on every new
// message, so the list is one indexed range scan with a LIMIT.
var (
	// inboxPutMessageSQLs log 1 … rowChunk messages in one statement and
	// return the ids of those not logged before.
	inboxPutMessageSQLs = chunkSQLs(`INSERT INTO inbox_messages (number_id, msg_id, peer, outgoing, type, text, body, status, status_rank, at, changed) VALUES `,
		11, ` ON CONFLICT (number_id, msg_id) DO NOTHING RETURNING number_id, msg_id`)
	// inboxConversationSQLs bring 1 … rowChunk conversations up to date,
	// each with the batch's new messages summed up (inboxConversations):
	// one row per conversation, as PostgreSQL's upsert requires.
	inboxConversationSQLs = chunkSQLs(`INSERT INTO inbox_conversations (number_id, peer, last_at, last_text, last_outgoing, unread, last_inbound, last_inbound_id, profile_name, updated) VALUES `,
		10, `
			ON CONFLICT (number_id, peer) DO UPDATE SET
			last_text = CASE WHEN excluded.last_at >= inbox_conversations.last_at THEN excluded.last_text ELSE inbox_conversations.last_text END,
			last_outgoing = CASE WHEN excluded.last_at >= inbox_conversations.last_at THEN excluded.last_outgoing ELSE inbox_conversations.last_outgoing END,
			last_at = CASE WHEN excluded.last_at > inbox_conversations.last_at THEN excluded.last_at ELSE inbox_conversations.last_at END,
			unread = inbox_conversations.unread + excluded.unread,
			last_inbound_id = CASE WHEN excluded.last_inbound > inbox_conversations.last_inbound THEN excluded.last_inbound_id ELSE inbox_conversations.last_inbound_id END,
			last_inbound = CASE WHEN excluded.last_inbound > inbox_conversations.last_inbound THEN excluded.last_inbound ELSE inbox_conversations.last_inbound END,
			profile_name = CASE WHEN excluded.profile_name <> '' THEN excluded.profile_name ELSE inbox_conversations.profile_name END,
			updated = CASE WHEN excluded.updated > inbox_conversations.updated THEN excluded.updated ELSE inbox_conversations.updated + 1 END`)
)

const (
	inboxStatusSQL = `UPDATE inbox_messages SET
			status = CASE WHEN status_rank < $4 THEN $3 ELSE status END,
			status_rank = CASE WHEN status_rank < $4 THEN $4 ELSE status_rank END,
			delivered_at = CASE WHEN ($3 = 'delivered' OR $3 = 'read') AND delivered_at = 0 THEN $5 ELSE delivered_at END,
			read_at = CASE WHEN $3 = 'read' AND read_at = 0 THEN $5 ELSE read_at END,
			failed_at = CASE WHEN $3 = 'failed' AND failed_at = 0 THEN $5 ELSE failed_at END,
			changed = CASE WHEN $5 > changed THEN $5 ELSE changed + 1 END
			WHERE number_id = $1 AND msg_id = $2 AND outgoing`
	// A status whose message is not logged yet (its send's commit is a
	// moment behind) waits here until the message comes.
	inboxEarlySQL = `INSERT INTO inbox_early (number_id, msg_id, status, at) SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT)
			WHERE NOT EXISTS (SELECT 1 FROM inbox_messages WHERE number_id = $1 AND msg_id = $2)
			ON CONFLICT (number_id, msg_id, status) DO NOTHING`
	inboxAnyEarlySQL = `SELECT 1 FROM inbox_early LIMIT 1`
)

func init() {
	addHotWrite(inboxStatusSQL, inboxEarlySQL, inboxAnyEarlySQL)
	addHotWrite(inboxPutMessageSQLs[1:]...)
	addHotWrite(inboxConversationSQLs[1:]...)
	// 2: the search columns go. Nothing has read them since the search
	// index (inboxsearch.go) took their place, and they were written
	// with every message. SQLite keeps each row's rowid through DROP
	// COLUMN, so the indexer's cursor stays valid.
	addMigration("inbox 2", migration{sql: `
ALTER TABLE inbox_messages DROP COLUMN search;
ALTER TABLE inbox_conversations DROP COLUMN search;
ALTER TABLE inbox_conversations DROP COLUMN last_search;
`})
	addMigration("inbox 1", migration{sql: `
CREATE TABLE inbox_conversations (
	number_id       BIGINT NOT NULL,
	peer            TEXT NOT NULL,
	last_at         BIGINT NOT NULL,
	last_text       TEXT NOT NULL DEFAULT '',
	last_outgoing   BOOLEAN NOT NULL DEFAULT FALSE,
	unread          INTEGER NOT NULL DEFAULT 0,
	last_inbound    BIGINT NOT NULL DEFAULT 0,
	last_inbound_id BIGINT NOT NULL DEFAULT 0,
	assigned        BIGINT NOT NULL DEFAULT 0,
	profile_name    TEXT NOT NULL DEFAULT '',
	search          TEXT NOT NULL DEFAULT '',
	last_search     TEXT NOT NULL DEFAULT '',
	updated         BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (number_id, peer)
);
CREATE INDEX inbox_conversations_recent ON inbox_conversations (number_id, last_at, peer);
CREATE INDEX inbox_conversations_unread ON inbox_conversations (number_id) WHERE unread > 0;
CREATE TABLE inbox_messages (
	number_id    BIGINT NOT NULL,
	msg_id       BIGINT NOT NULL,
	peer         TEXT NOT NULL,
	outgoing     BOOLEAN NOT NULL,
	type         TEXT NOT NULL,
	text         TEXT NOT NULL,
	search       TEXT NOT NULL,
	body         TEXT NOT NULL,
	status       TEXT NOT NULL DEFAULT '',
	status_rank  INTEGER NOT NULL DEFAULT 0,
	at           BIGINT NOT NULL,
	delivered_at BIGINT NOT NULL DEFAULT 0,
	read_at      BIGINT NOT NULL DEFAULT 0,
	failed_at    BIGINT NOT NULL DEFAULT 0,
	changed      BIGINT NOT NULL,
	PRIMARY KEY (number_id, msg_id)
);
CREATE INDEX inbox_messages_peer ON inbox_messages (number_id, peer, at, msg_id);
CREATE TABLE inbox_versions (
	number_id BIGINT PRIMARY KEY,
	version   BIGINT NOT NULL
);
CREATE TABLE inbox_early (
	number_id BIGINT NOT NULL,
	msg_id    BIGINT NOT NULL,
	status    TEXT NOT NULL,
	at        BIGINT NOT NULL,
	PRIMARY KEY (number_id, msg_id, status)
);
CREATE TABLE inbox_notes (
	id        BIGINT PRIMARY KEY,
	number_id BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	author    BIGINT NOT NULL,
	email     TEXT NOT NULL DEFAULT '',
	text      TEXT NOT NULL,
	created   BIGINT NOT NULL
);
CREATE INDEX inbox_notes_peer ON inbox_notes (number_id, peer, created);
CREATE TABLE inbox_quick_replies (
	id          BIGINT PRIMARY KEY,
	business_id BIGINT NOT NULL,
	title       TEXT NOT NULL,
	text        TEXT NOT NULL,
	created     BIGINT NOT NULL,
	UNIQUE (business_id, title)
);
`})
}

type inboxKey struct {
	number kontor.ID
	id     kontor.ID
}

// inboxMessages logs msgs, in key order (the lock order, retry.go); it
// returns the sent messages among them not logged before, in order, and
// what all those not logged before change in their conversations, for
// the caller to write (writeConversations).
func (db *DB) inboxMessages(ctx context.Context, tx *sql.Tx, msgs []endpoint.InboxMessage) ([]endpoint.InboxMessage, *inboxConversations, error) {
	if len(msgs) == 0 {
		return nil, nil, nil
	}
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(msgs[a].Number, msgs[b].Number), cmp.Compare(msgs[a].ID, msgs[b].ID))
	})
	args := make([]any, 0, 11*len(msgs))
	for _, i := range order {
		m := msgs[i]
		status := m.Status
		if !m.Outgoing {
			status = ""
		}
		at := ms(m.At)
		args = append(args, int64(m.Number), int64(m.ID), string(m.Peer), m.Outgoing, m.Type, m.Text,
			string(m.JSON), status, statusRank(status), at, at)
	}
	fresh := make(map[inboxKey]bool, len(msgs))
	err := db.queryChunks(ctx, tx, inboxPutMessageSQLs, 11, args, func(rows *sql.Rows) error {
		var num, id int64
		if err := rows.Scan(&num, &id); err != nil {
			return err
		}
		fresh[inboxKey{kontor.ID(num), kontor.ID(id)}] = true
		return nil
	})
	if err != nil || len(fresh) == 0 {
		return nil, nil, err // nothing new: the conversations counted them when they were logged
	}
	var sent []endpoint.InboxMessage
	convs := &inboxConversations{at: make(map[convKey]int)}
	for _, m := range msgs {
		k := inboxKey{m.Number, m.ID}
		if !fresh[k] {
			continue // logged before (or twice in this batch)
		}
		delete(fresh, k)
		convs.add(m)
		if m.Outgoing {
			sent = append(sent, m)
		}
	}
	return sent, convs, nil
}

// writeConversations brings the conversations of news up to date and
// applies the reads, all in key order (the lock order, retry.go): a
// conversation's news before its read. Runs of news without a read
// between them go in as few statements as rowChunk allows. It returns
// the numbers whose lists the reads changed, in order.
func (db *DB) writeConversations(ctx context.Context, tx *sql.Tx, news *inboxConversations, reads []endpoint.InboxMarkRead) ([]kontor.ID, error) {
	var list []conversationNews
	if news != nil {
		list = news.sorted()
	}
	reads = latestReads(reads)
	args := make([]any, 0, 10*min(len(list), rowChunk))
	flush := func() error {
		err := db.execChunks(ctx, tx, inboxConversationSQLs, 10, args)
		args = args[:0]
		return err
	}
	var changed []kontor.ID
	for i := 0; i < len(list) || len(reads) > 0; {
		if i < len(list) && (len(reads) == 0 || compareConv(list[i].number, list[i].peer, reads[0].Number, reads[0].Peer) <= 0) {
			c := list[i]
			args = append(args, int64(c.number), string(c.peer), c.lastAt, c.text, c.outgoing, c.unread, c.lastIn, int64(c.lastInID),
				c.profile, c.lastAt)
			i++
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		r := reads[0]
		reads = reads[1:]
		// Read up to the person's last message: nothing is unread.
		res, err := tx.ExecContext(ctx, `UPDATE inbox_conversations SET unread = 0, `+touched+`
			WHERE number_id = $1 AND peer = $2 AND unread > 0 AND last_inbound <= $4`, int64(r.Number), string(r.Peer), ms(r.Upto), ms(r.Upto))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n > 0 && (len(changed) == 0 || changed[len(changed)-1] != r.Number) {
			changed = append(changed, r.Number)
		}
	}
	return changed, flush()
}

// latestReads returns reads in key order, one per conversation: the
// latest, which reads all that the others read.
func latestReads(reads []endpoint.InboxMarkRead) []endpoint.InboxMarkRead {
	if len(reads) <= 1 {
		return reads
	}
	out := slices.Clone(reads)
	slices.SortFunc(out, func(a, b endpoint.InboxMarkRead) int {
		return cmp.Or(compareConv(a.Number, a.Peer, b.Number, b.Peer), a.Upto.Compare(b.Upto))
	})
	k := 0
	for _, r := range out {
		if k > 0 && out[k-1].Number == r.Number && out[k-1].Peer == r.Peer {
			out[k-1] = r // later in the order: the latest
			continue
		}
		out[k] = r
		k++
	}
	return out[:k]
}

// compareConv orders conversations by key, as their primary key does.
func compareConv(an kontor.ID, ap kontor.Phone, bn kontor.ID, bp kontor.Phone) int {
	return cmp.Or(cmp.Compare(an, bn), strings.Compare(string(ap), string(bp)))
}

type convKey struct {
	number kontor.ID
	peer   kontor.Phone
}

// conversationNews is what a batch's new messages change in one
// conversation, summed up the way inboxConversationSQLs would leave the
// row had they come one at a time: the last text of the latest time,
// the unread ones counted, the first person's message of the latest
// inbound time, the last profile name given.
type conversationNews struct {
	number   kontor.ID
	peer     kontor.Phone
	lastAt   int64
	text     string
	outgoing bool
	unread   int
	lastIn   int64
	lastInID kontor.ID
	profile  string
}

// inboxConversations sums up a batch's new messages by conversation.
type inboxConversations struct {
	at   map[convKey]int // index in list
	list []conversationNews
}

func (cs *inboxConversations) add(m endpoint.InboxMessage) {
	k := convKey{m.Number, m.Peer}
	i, ok := cs.at[k]
	if !ok {
		i = len(cs.list)
		cs.at[k] = i
		cs.list = append(cs.list, conversationNews{number: m.Number, peer: m.Peer, lastAt: math.MinInt64})
	}
	c := &cs.list[i]
	at := ms(m.At)
	if at >= c.lastAt {
		c.lastAt, c.text, c.outgoing = at, m.Text, m.Outgoing
	}
	if !m.Outgoing {
		c.unread++
		if at > c.lastIn {
			c.lastIn, c.lastInID = at, m.ID
		}
	}
	if m.ProfileName != "" {
		c.profile = m.ProfileName
	}
}

// sorted returns the conversations in key order, so that two
// transactions on PostgreSQL lock shared rows in the same order.
func (cs *inboxConversations) sorted() []conversationNews {
	slices.SortFunc(cs.list, func(a, b conversationNews) int { return compareConv(a.number, a.peer, b.number, b.peer) })
	return cs.list
}

// earlyKeep is how long a status waits in inbox_early for its message.
const earlyKeep = 10 * time.Minute

// statusRank orders the statuses of a sent message: a status never goes
// back, and failed comes only before read.
func statusRank(s string) int {
	switch s {
	case endpoint.InboxSent:
		return 10
	case endpoint.InboxDelivered:
		return 20
	case endpoint.InboxFailed:
		return 25
	case endpoint.InboxRead:
		return 30
	}
	return 0
}

// PutInbox writes inbox entries in one transaction (endpoint.InboxStore).
func (db *DB) PutInbox(ctx context.Context, w endpoint.InboxWrites) error {
	if len(w.Messages) == 0 && len(w.Statuses) == 0 && len(w.Reads) == 0 {
		return nil
	}
	return db.retryTx(ctx, "store.PutInbox", func(tx *sql.Tx) error { return db.putInbox(ctx, tx, w) })
}

// putInbox writes w in tx, in the lock order (retry.go): the messages,
// their statuses, the statuses waiting for messages, the conversations,
// the lists' versions. It may run again in another transaction (retryTx):
// it changes nothing of w.
func (db *DB) putInbox(ctx context.Context, tx *sql.Tx, w endpoint.InboxWrites) error {
	sent, news, err := db.inboxMessages(ctx, tx, w.Messages)
	if err != nil {
		return err
	}
	statuses := w.Statuses
	var early []inboxKey // of sent messages whose statuses came before them
	var prune time.Time
	if len(sent) > 0 {
		// Early statuses are rare (a receipt overtook its send's commit):
		// one look at the table, not one per message.
		var any int
		err := tx.StmtContext(ctx, db.wstmts[inboxAnyEarlySQL]).QueryRowContext(ctx).Scan(&any)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if any == 1 {
			// A status whose message never comes (one sent before the
			// inbox log existed) must not keep this path busy: statuses
			// wait at most earlyKeep.
			prune = sent[0].At.Add(-earlyKeep)
			statuses = slices.Clone(statuses)
			for _, m := range sent {
				got, err := db.earlyStatuses(ctx, tx, m.Number, m.ID)
				if err != nil {
					return err
				}
				if len(got) > 0 {
					statuses = append(statuses, got...)
					early = append(early, inboxKey{m.Number, m.ID})
				}
			}
		}
	}
	if len(statuses) > 1 {
		statuses = slices.Clone(statuses)
		slices.SortStableFunc(statuses, func(a, b endpoint.InboxStatus) int {
			return cmp.Or(cmp.Compare(a.Number, b.Number), cmp.Compare(a.ID, b.ID), cmp.Compare(statusRank(a.Status), statusRank(b.Status)))
		})
	}
	var wait []endpoint.InboxStatus // statuses whose message is not logged yet
	for _, s := range statuses {
		applied, err := db.inboxStatus(ctx, tx, s)
		if err != nil {
			return err
		}
		if !applied && statusRank(s.Status) > 0 {
			wait = append(wait, s)
		}
	}
	if err := db.writeEarly(ctx, tx, prune, early, wait); err != nil {
		return err
	}
	changed, err := db.writeConversations(ctx, tx, news, w.Reads)
	if err != nil {
		return err
	}
	for _, n := range changed {
		if err := bumpVersion(ctx, tx, n); err != nil {
			return err
		}
	}
	return nil
}

// inboxStatus applies a status to its logged message and says whether
// the message is logged.
func (db *DB) inboxStatus(ctx context.Context, tx *sql.Tx, s endpoint.InboxStatus) (bool, error) {
	rank := statusRank(s.Status)
	if rank == 0 {
		return true, nil
	}
	res, err := db.exec(ctx, tx, inboxStatusSQL, int64(s.Number), int64(s.ID), s.Status, rank, ms(s.At))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// writeEarly writes inbox_early in key order: it forgets the statuses
// older than prune (unless zero) and those of the messages early, now
// applied, and keeps the statuses of wait (sorted) until their messages
// come.
func (db *DB) writeEarly(ctx context.Context, tx *sql.Tx, prune time.Time, early []inboxKey, wait []endpoint.InboxStatus) error {
	if !prune.IsZero() {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbox_early WHERE at < $1`, ms(prune)); err != nil {
			return err
		}
	}
	slices.SortFunc(early, func(a, b inboxKey) int { return cmp.Or(cmp.Compare(a.number, b.number), cmp.Compare(a.id, b.id)) })
	for _, k := range early {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbox_early WHERE number_id = $1 AND msg_id = $2`, int64(k.number), int64(k.id)); err != nil {
			return err
		}
	}
	slices.SortStableFunc(wait, func(a, b endpoint.InboxStatus) int {
		return cmp.Or(cmp.Compare(a.Number, b.Number), cmp.Compare(a.ID, b.ID), strings.Compare(a.Status, b.Status))
	})
	for _, s := range wait {
		if _, err := db.exec(ctx, tx, inboxEarlySQL, int64(s.Number), int64(s.ID), s.Status, ms(s.At)); err != nil {
			return err
		}
	}
	return nil
}

// earlyStatuses returns the statuses that came before message id was
// logged.
func (db *DB) earlyStatuses(ctx context.Context, tx *sql.Tx, number, id kontor.ID) ([]endpoint.InboxStatus, error) {
	rows, err := tx.QueryContext(ctx, `SELECT status, at FROM inbox_early WHERE number_id = $1 AND msg_id = $2`, int64(number), int64(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []endpoint.InboxStatus
	for rows.Next() {
		s := endpoint.InboxStatus{Number: number, ID: id}
		var at int64
		if err := rows.Scan(&s.Status, &at); err != nil {
			return nil, err
		}
		s.At = fromMS(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

const conversationCols = `number_id, peer, last_at, last_text, last_outgoing, unread, last_inbound, last_inbound_id, assigned, profile_name, updated`

func scanConversation(sc interface{ Scan(...any) error }) (inbox.Conversation, error) {
	var c inbox.Conversation
	var num, lastAt, lastIn, lastInID, assigned, updated int64
	var peer string
	err := sc.Scan(&num, &peer, &lastAt, &c.LastText, &c.LastOutgoing, &c.Unread, &lastIn, &lastInID, &assigned, &c.ProfileName, &updated)
	c.Number, c.Peer, c.LastAt, c.LastInbound, c.LastInboundID = kontor.ID(num), kontor.Phone(peer), fromMS(lastAt), fromMS(lastIn), kontor.ID(lastInID)
	c.Assigned, c.Updated = kontor.ID(assigned), fromMS(updated)
	return c, err
}

// InboxConversations lists a number's conversations newest first
// (inbox.Store): one range of an index, cut by LIMIT. A search reads the
// inbox search index (searchInbox).
func (db *DB) InboxConversations(ctx context.Context, q inbox.Query) ([]inbox.Conversation, error) {
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = inbox.PageSize
	}
	if strings.TrimSpace(q.Search) != "" {
		return db.searchInbox(ctx, q, limit)
	}
	var sb strings.Builder
	sb.WriteString(`SELECT ` + conversationCols + ` FROM inbox_conversations c WHERE c.number_id = $1`)
	return db.conversationPage(ctx, &sb, q, []any{int64(q.Number), limit})
}

// conversationPage ends a query of conversations (c) whose arguments so
// far are args ($1 the number, $2 the limit): the assignment filter, the
// page's cursor, newest first, and reads the page.
func (db *DB) conversationPage(ctx context.Context, sb *strings.Builder, q inbox.Query, args []any) ([]inbox.Conversation, error) {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.OnlyAssigned {
		sb.WriteString(` AND c.assigned = ` + arg(int64(q.Assigned)))
	}
	if !q.Before.At.IsZero() {
		at, peer := arg(ms(q.Before.At)), arg(string(q.Before.Peer))
		sb.WriteString(` AND (c.last_at < ` + at + ` OR (c.last_at = ` + at + ` AND c.peer < ` + peer + `))`)
	}
	sb.WriteString(` ORDER BY c.last_at DESC, c.peer DESC LIMIT $2`)
	rows, err := db.readRows(ctx, sb.String(), args...)
	if err != nil {
		return nil, internal("store.InboxConversations", err)
	}
	defer rows.Close()
	var out []inbox.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, internal("store.InboxConversations", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.InboxConversations", err)
	}
	return out, nil
}

// InboxConversation returns one conversation (inbox.Store).
func (db *DB) InboxConversation(ctx context.Context, number kontor.ID, peer kontor.Phone) (inbox.Conversation, error) {
	c, err := scanConversation(db.readRow(ctx, `SELECT `+conversationCols+` FROM inbox_conversations WHERE number_id = $1 AND peer = $2`,
		int64(number), string(peer)))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("store.InboxConversation", "There is no conversation with %s.", peer)
	}
	if err != nil {
		return c, internal("store.InboxConversation", err)
	}
	return c, nil
}

// InboxUnread counts conversations with unread messages (inbox.Store).
func (db *DB) InboxUnread(ctx context.Context, number kontor.ID) (int, error) {
	var n int
	if err := db.readRow(ctx, `SELECT COUNT(*) FROM inbox_conversations WHERE number_id = $1 AND unread > 0`, int64(number)).Scan(&n); err != nil {
		return 0, internal("store.InboxUnread", err)
	}
	return n, nil
}

const inboxMessageCols = `number_id, msg_id, peer, outgoing, type, text, body, status, at, delivered_at, read_at, failed_at`

// InboxMessages returns up to limit messages of a conversation before a
// message (0: the newest), oldest first (inbox.Store).
func (db *DB) InboxMessages(ctx context.Context, number kontor.ID, peer kontor.Phone, before kontor.ID, limit int) ([]endpoint.InboxMessage, error) {
	if limit <= 0 || limit > 500 {
		limit = inbox.PageSize
	}
	if err := db.catchUpThreads(ctx); err != nil {
		return nil, internal("store.InboxMessages", err)
	}
	// The conversation's keys (inboxthreads.go), the page's newest of
	// each part, then of both; the messages by primary key (CROSS JOIN:
	// SQLite must start from the keys, not the number's whole log).
	cols := "m." + strings.ReplaceAll(inboxMessageCols, ", ", ", m.")
	page := func(cond string) string {
		return `SELECT ` + cols + ` FROM (SELECT at, msg_id FROM (` + db.threadKeys(cond, "$3") + `) k ORDER BY at DESC, msg_id DESC LIMIT $3) k
			CROSS JOIN inbox_messages m WHERE m.number_id = $1 AND m.msg_id = k.msg_id ORDER BY k.at DESC, k.msg_id DESC`
	}
	q := page("")
	args := []any{int64(number), string(peer), limit}
	if before != 0 {
		q = page(`(at < (SELECT b.at FROM inbox_messages b WHERE b.number_id = $1 AND b.msg_id = $4)
			OR (at = (SELECT b.at FROM inbox_messages b WHERE b.number_id = $1 AND b.msg_id = $4) AND msg_id < $4))`)
		args = append(args, int64(before))
	}
	rows, err := db.readRows(ctx, q, args...)
	if err != nil {
		return nil, internal("store.InboxMessages", err)
	}
	defer rows.Close()
	var out []endpoint.InboxMessage
	for rows.Next() {
		var m endpoint.InboxMessage
		var num, id, at, del, read, failed int64
		var p, body string
		if err := rows.Scan(&num, &id, &p, &m.Outgoing, &m.Type, &m.Text, &body, &m.Status, &at, &del, &read, &failed); err != nil {
			return nil, internal("store.InboxMessages", err)
		}
		m.Number, m.ID, m.Peer, m.JSON, m.At = kontor.ID(num), kontor.ID(id), kontor.Phone(p), []byte(body), fromMS(at)
		m.Delivered, m.Read, m.Failed = fromMS(del), fromMS(read), fromMS(failed)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.InboxMessages", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// InboxStamp is a number that grows whenever a number's list (peer "")
// or one conversation changes (inbox.Store).
func (db *DB) InboxStamp(ctx context.Context, number kontor.ID, peer kontor.Phone) (int64, error) {
	var a, b int64
	var err error
	if peer == "" {
		// The newest message (one step down an index) and the count of
		// the console's changes (read, assigned, notes): both only grow.
		err = db.readRow(ctx, `SELECT COALESCE((SELECT MAX(last_at) FROM inbox_conversations WHERE number_id = $1), 0),
			COALESCE((SELECT version FROM inbox_versions WHERE number_id = $1), 0)`, int64(number)).Scan(&a, &b)
	} else {
		if err := db.catchUpThreads(ctx); err != nil {
			return 0, internal("store.InboxStamp", err)
		}
		// Every message of the conversation, found by its key
		// (inboxthreads.go), read by primary key.
		err = db.readRow(ctx, `SELECT COALESCE((SELECT updated FROM inbox_conversations WHERE number_id = $1 AND peer = $2), 0),
			COALESCE((SELECT MAX(m.changed) FROM (`+db.threadKeys("", "")+`) k CROSS JOIN inbox_messages m WHERE m.number_id = $1 AND m.msg_id = k.msg_id), 0)`,
			int64(number), string(peer)).Scan(&a, &b)
	}
	if err != nil {
		return 0, internal("store.InboxStamp", err)
	}
	return a + b, nil
}

// touched is the conversation's new updated time.
const touched = `updated = CASE WHEN $3 > updated THEN $3 ELSE updated + 1 END`

// bumpVersion counts a change the console made to a number's list.
func bumpVersion(ctx context.Context, tx *sql.Tx, number kontor.ID) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO inbox_versions (number_id, version) VALUES ($1, 1)
		ON CONFLICT (number_id) DO UPDATE SET version = inbox_versions.version + 1`, int64(number))
	return err
}

// MarkInboxRead sets a conversation's unread count to 0 (inbox.Store).
func (db *DB) MarkInboxRead(ctx context.Context, number kontor.ID, peer kontor.Phone, now time.Time) (int, error) {
	var n int
	err := db.retryTx(ctx, "store.MarkInboxRead", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT unread FROM inbox_conversations WHERE number_id = $1 AND peer = $2`, int64(number), string(peer)).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("store.MarkInboxRead", "There is no conversation with %s.", peer)
		}
		if err != nil || n == 0 {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE inbox_conversations SET unread = 0, `+touched+` WHERE number_id = $1 AND peer = $2`,
			int64(number), string(peer), ms(now)); err != nil {
			return err
		}
		return bumpVersion(ctx, tx, number)
	})
	return n, err
}

// AssignInbox sets who works on a conversation (inbox.Store).
func (db *DB) AssignInbox(ctx context.Context, number kontor.ID, peer kontor.Phone, user kontor.ID, now time.Time) error {
	return db.retryTx(ctx, "store.AssignInbox", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE inbox_conversations SET assigned = $4, `+touched+` WHERE number_id = $1 AND peer = $2`,
			int64(number), string(peer), ms(now), int64(user))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.AssignInbox", "There is no conversation with %s.", peer)
		}
		return bumpVersion(ctx, tx, number)
	})
}

// AddInboxNote stores a note and touches its conversation (inbox.Store).
func (db *DB) AddInboxNote(ctx context.Context, n inbox.Note) error {
	return db.retryTx(ctx, "store.AddInboxNote", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_notes (id, number_id, peer, author, email, text, created) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			int64(n.ID), int64(n.Number), string(n.Peer), int64(n.Author), n.Email, n.Text, ms(n.Created)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE inbox_conversations SET `+touched+` WHERE number_id = $1 AND peer = $2`,
			int64(n.Number), string(n.Peer), ms(n.Created))
		return err
	})
}

// InboxNotes lists a conversation's notes, oldest first (the last 200).
func (db *DB) InboxNotes(ctx context.Context, number kontor.ID, peer kontor.Phone) ([]inbox.Note, error) {
	rows, err := db.readRows(ctx, `SELECT id, author, email, text, created FROM (SELECT id, author, email, text, created FROM inbox_notes
		WHERE number_id = $1 AND peer = $2 ORDER BY created DESC, id DESC LIMIT 200) last ORDER BY created, id`, int64(number), string(peer))
	if err != nil {
		return nil, internal("store.InboxNotes", err)
	}
	defer rows.Close()
	var out []inbox.Note
	for rows.Next() {
		n := inbox.Note{Number: number, Peer: peer}
		var id, author, created int64
		if err := rows.Scan(&id, &author, &n.Email, &n.Text, &created); err != nil {
			return nil, internal("store.InboxNotes", err)
		}
		n.ID, n.Author, n.Created = kontor.ID(id), kontor.ID(author), fromMS(created)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.InboxNotes", err)
	}
	return out, nil
}

// PutQuickReply stores a quick reply; kontor.Conflict when the business
// has one with that title (inbox.Store).
func (db *DB) PutQuickReply(ctx context.Context, q inbox.QuickReply) error {
	err := db.tx(ctx, "store.PutQuickReply", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inbox_quick_replies (id, business_id, title, text, created) VALUES ($1,$2,$3,$4,$5)`,
			int64(q.ID), int64(q.Business), q.Title, q.Text, ms(q.Created))
		if err != nil && isUnique(err) {
			return kontor.Errorf(kontor.Conflict, "store.PutQuickReply", "A quick reply titled %q exists already.", q.Title)
		}
		return err
	})
	return err
}

// QuickReplies lists a business's quick replies by title (inbox.Store).
func (db *DB) QuickReplies(ctx context.Context, business kontor.ID) ([]inbox.QuickReply, error) {
	rows, err := db.readRows(ctx, `SELECT id, title, text, created FROM inbox_quick_replies WHERE business_id = $1 ORDER BY title, id`, int64(business))
	if err != nil {
		return nil, internal("store.QuickReplies", err)
	}
	defer rows.Close()
	var out []inbox.QuickReply
	for rows.Next() {
		q := inbox.QuickReply{Business: business}
		var id, created int64
		if err := rows.Scan(&id, &q.Title, &q.Text, &created); err != nil {
			return nil, internal("store.QuickReplies", err)
		}
		q.ID, q.Created = kontor.ID(id), fromMS(created)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("store.QuickReplies", err)
	}
	return out, nil
}

// DeleteQuickReply removes a quick reply of a business (inbox.Store).
func (db *DB) DeleteQuickReply(ctx context.Context, business, id kontor.ID) error {
	return db.tx(ctx, "store.DeleteQuickReply", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM inbox_quick_replies WHERE business_id = $1 AND id = $2`, int64(business), int64(id))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("store.DeleteQuickReply", "There is no such quick reply.")
		}
		return nil
	})
}
