package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/webhook"
)

func inboundMsg(number, id kontor.ID, peer kontor.Phone, text string, at time.Time) endpoint.InboxMessage {
	return endpoint.InboxMessage{Number: number, ID: id, Peer: peer, Type: "text", Text: text, JSON: []byte(`{"type":"text"}`), At: at}
}

func outboundMsg(number, id kontor.ID, peer kontor.Phone, text string, at time.Time) endpoint.InboxMessage {
	return endpoint.InboxMessage{Number: number, ID: id, Peer: peer, Outgoing: true, Type: "text", Text: text,
		JSON: []byte(`{"messaging_product":"whatsapp"}`), At: at, Status: endpoint.InboxSent}
}

// testInboxLog: messages make and update their conversation once each
// (a message logged twice counts once), unread counts only the person's,
// statuses only move forward, a status that comes before its message is
// applied when the message comes, and the batch writes the log with the
// records and webhooks.
func testInboxLog(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300001")
	const peer = kontor.Phone("+4915100000001")
	in1, in2, out1 := e.ids.Next(), e.ids.Next(), e.ids.Next()
	w := endpoint.InboxWrites{Messages: []endpoint.InboxMessage{
		inboundMsg(n.ID, in1, peer, "Hallo, habt ihr Tulpen?", t0),
		inboundMsg(n.ID, in2, peer, "Rote bitte", t0.Add(time.Second)),
	}}
	if err := e.db.PutInbox(e.ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutInbox(e.ctx, w); err != nil { // again: nothing changes
		t.Fatal(err)
	}
	c, err := e.db.InboxConversation(e.ctx, n.ID, peer)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unread != 2 || c.LastText != "Rote bitte" || c.LastOutgoing || !c.LastAt.Equal(t0.Add(time.Second)) ||
		!c.LastInbound.Equal(t0.Add(time.Second)) || c.LastInboundID != in2 {
		t.Fatalf("conversation after two inbound = %+v", c)
	}
	stamp0, err := e.db.InboxStamp(e.ctx, n.ID, peer)
	if err != nil || stamp0 == 0 {
		t.Fatalf("InboxStamp = %d, %v", stamp0, err)
	}

	// A status that comes before its message waits for it.
	early := endpoint.InboxStatus{Number: n.ID, ID: out1, Status: endpoint.InboxDelivered, At: t0.Add(3 * time.Second)}
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Statuses: []endpoint.InboxStatus{early}}); err != nil {
		t.Fatal(err)
	}
	// The reply, in one batch with its record and a webhook.
	rec := endpoint.MessageRecord{Number: n.ID, ID: out1, Peer: peer, Outgoing: true, Category: "service", Created: t0.Add(2 * time.Second)}
	ev := webhook.Event{ID: "inbox-test", App: e.ids.Next(), URL: "http://127.0.0.1:1/hook", Body: []byte(`{}`), Created: t0}
	if _, err := e.db.PutEndpointBatch(e.ctx, []endpoint.MessageRecord{rec},
		endpoint.InboxWrites{Messages: []endpoint.InboxMessage{outboundMsg(n.ID, out1, peer, "Ja, rote Tulpen haben wir.", t0.Add(2*time.Second))}},
		[]webhook.Event{ev}, t0, webhook.Lease{}); err != nil {
		t.Fatal(err)
	}
	c, _ = e.db.InboxConversation(e.ctx, n.ID, peer)
	if c.Unread != 2 || c.LastText != "Ja, rote Tulpen haben wir." || !c.LastOutgoing || c.LastInboundID != in2 {
		t.Fatalf("conversation after the reply = %+v", c)
	}
	msgs, err := e.db.InboxMessages(e.ctx, n.ID, peer, 0, 10)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("InboxMessages = %d, %v", len(msgs), err)
	}
	if msgs[0].ID != in1 || msgs[2].ID != out1 || msgs[2].Status != endpoint.InboxDelivered || !msgs[2].Delivered.Equal(early.At) ||
		string(msgs[2].JSON) != `{"messaging_product":"whatsapp"}` || msgs[0].Status != "" {
		t.Fatalf("messages = %+v", msgs)
	}

	// A status that waited too long is dropped when messages come later.
	stale := e.ids.Next()
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Statuses: []endpoint.InboxStatus{{Number: n.ID, ID: stale, Status: endpoint.InboxRead, At: t0}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{outboundMsg(n.ID, e.ids.Next(), peer, "eine Stunde später", t0.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{outboundMsg(n.ID, stale, peer, "spät geloggt", t0.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	late, _ := e.db.InboxMessages(e.ctx, n.ID, peer, 0, 2)
	if len(late) != 2 || late[0].ID != stale || late[0].Status != endpoint.InboxSent {
		t.Fatalf("a status older than the early window was applied: %+v", late)
	}

	// Statuses move forward only: read, then a late delivered and failed
	// change nothing but the delivered time that was already set.
	for _, st := range []string{endpoint.InboxRead, endpoint.InboxDelivered, endpoint.InboxFailed, endpoint.InboxSent} {
		if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Statuses: []endpoint.InboxStatus{{Number: n.ID, ID: out1, Status: st, At: t0.Add(4 * time.Second)}}}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _ = e.db.InboxMessages(e.ctx, n.ID, peer, 0, 10)
	if m := msgs[2]; m.Status != endpoint.InboxRead || !m.Read.Equal(t0.Add(4*time.Second)) || !m.Delivered.Equal(early.At) {
		t.Fatalf("after read and late statuses: %+v", m)
	}
	// A status of a person's message (not sent) changes nothing.
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Statuses: []endpoint.InboxStatus{{Number: n.ID, ID: in1, Status: endpoint.InboxRead, At: t0}}}); err != nil {
		t.Fatal(err)
	}
	if stamp, _ := e.db.InboxStamp(e.ctx, n.ID, peer); stamp <= stamp0 {
		t.Errorf("the conversation's stamp did not grow: %d, then %d", stamp0, stamp)
	}

	// Paging the messages: the two before the reply, then one before those.
	page, _ := e.db.InboxMessages(e.ctx, n.ID, peer, out1, 10)
	if len(page) != 2 || page[0].ID != in1 || page[1].ID != in2 {
		t.Fatalf("messages before the reply = %+v", page)
	}
	if page, _ := e.db.InboxMessages(e.ctx, n.ID, peer, in2, 10); len(page) != 1 || page[0].ID != in1 {
		t.Fatalf("messages before the second = %+v", page)
	}

	// Marking read, once.
	listStamp, _ := e.db.InboxStamp(e.ctx, n.ID, "")
	if got, err := e.db.MarkInboxRead(e.ctx, n.ID, peer, t0.Add(5*time.Second)); err != nil || got != 2 {
		t.Fatalf("MarkInboxRead = %d, %v; want 2", got, err)
	}
	if got, err := e.db.MarkInboxRead(e.ctx, n.ID, peer, t0.Add(5*time.Second)); err != nil || got != 0 {
		t.Fatalf("MarkInboxRead again = %d, %v; want 0", got, err)
	}
	if s, _ := e.db.InboxStamp(e.ctx, n.ID, ""); s <= listStamp {
		t.Errorf("the list's stamp did not grow on read: %d, then %d", listStamp, s)
	}
	// The business marks messages read through its API: read up to an
	// older message leaves the count, up to the last clears it.
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{
		inboundMsg(n.ID, e.ids.Next(), peer, "Noch da?", t0.Add(6*time.Second)),
		inboundMsg(n.ID, e.ids.Next(), peer, "Hallo?", t0.Add(7*time.Second))}}); err != nil {
		t.Fatal(err)
	}
	read := func(upto time.Time) int {
		t.Helper()
		if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Reads: []endpoint.InboxMarkRead{{Number: n.ID, Peer: peer, Upto: upto}}}); err != nil {
			t.Fatal(err)
		}
		c, _ := e.db.InboxConversation(e.ctx, n.ID, peer)
		return c.Unread
	}
	if got := read(t0.Add(6 * time.Second)); got != 2 {
		t.Errorf("read up to an older message: unread %d, want 2", got)
	}
	if got := read(t0.Add(7 * time.Second)); got != 0 {
		t.Errorf("read up to the last message: unread %d, want 0", got)
	}
	_, err = e.db.MarkInboxRead(e.ctx, n.ID, "+4915100000999", t0)
	wantKind(t, "mark an unknown conversation read", err, kontor.NotFound)
	_, err = e.db.InboxConversation(e.ctx, n.ID, "+4915100000999")
	wantKind(t, "unknown conversation", err, kontor.NotFound)
}

// testInboxList: newest first, keyset pages without gaps or repeats, the
// unread count, search by number, name and any message's text (LIKE's
// wildcards taken literally), and the assigned filter.
func testInboxList(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300002")
	_, other := e.newBusiness("+4930300003")
	var w endpoint.InboxWrites
	const count = 23
	for i := range count {
		peer := kontor.Phone(fmt.Sprintf("+49151000100%02d", i))
		// Some share a time, so the peer orders them.
		at := t0.Add(time.Duration(i/2) * time.Minute)
		text := fmt.Sprintf("Nachricht %d", i)
		if i == 7 {
			text = "Rabatt 100% auf Rosen"
		}
		m := inboundMsg(n.ID, e.ids.Next(), peer, text, at)
		if i == 3 {
			m.ProfileName = "Ana Müller"
		}
		w.Messages = append(w.Messages, m)
		if i%3 == 0 { // answered: the reply's text is the last
			w.Messages = append(w.Messages, outboundMsg(n.ID, e.ids.Next(), peer, fmt.Sprintf("Antwort %d", i), at.Add(time.Second)))
		}
	}
	w.Messages = append(w.Messages, inboundMsg(other.ID, e.ids.Next(), "+4915100010000", "another number's", t0))
	if err := e.db.PutInbox(e.ctx, w); err != nil {
		t.Fatal(err)
	}
	var all []inbox.Conversation
	q := inbox.Query{Number: n.ID, Limit: 5}
	for range 10 {
		page, err := e.db.InboxConversations(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			break
		}
		last := page[len(page)-1]
		q.Before = inbox.Cursor{At: last.LastAt, Peer: last.Peer}
	}
	if len(all) != count {
		t.Fatalf("paged through %d conversations, want %d", len(all), count)
	}
	seen := map[kontor.Phone]bool{}
	for i, c := range all {
		if seen[c.Peer] {
			t.Fatalf("%s listed twice", c.Peer)
		}
		seen[c.Peer] = true
		if i > 0 {
			p := all[i-1]
			if c.LastAt.After(p.LastAt) || (c.LastAt.Equal(p.LastAt) && c.Peer > p.Peer) {
				t.Fatalf("not newest first at %d: %v %s after %v %s", i, c.LastAt, c.Peer, p.LastAt, p.Peer)
			}
		}
	}
	if got, err := e.db.InboxUnread(e.ctx, n.ID); err != nil || got != count {
		t.Fatalf("InboxUnread = %d, %v; want %d", got, err, count)
	}

	search := func(s string, want ...kontor.Phone) {
		t.Helper()
		e.indexInbox()
		inMessages := strings.HasPrefix(s, "all:")
		s = strings.TrimPrefix(s, "all:")
		got, err := e.db.InboxConversations(e.ctx, inbox.Query{Number: n.ID, Search: s, InMessages: inMessages})
		if err != nil {
			t.Fatalf("search %q: %v", s, err)
		}
		if len(got) != len(want) {
			t.Fatalf("search %q found %d conversations, want %d: %+v", s, len(got), len(want), got)
		}
		for i := range want {
			if got[i].Peer != want[i] {
				t.Fatalf("search %q found %s at %d, want %s", s, got[i].Peer, i, want[i])
			}
		}
	}
	search("4915100010003", "+4915100010003")
	search("ana MÜLLER", "+4915100010003")
	search("rabatt", "+4915100010007")
	search("100%", "+4915100010007")
	search("antwort 21", "+4915100010021")
	search("50_" /* nothing: _ is literal */)
	search("another number" /* another number's conversation */)
	// The first message of an answered conversation: only in all messages.
	search("nachricht 21")
	search("all:nachricht 21", "+4915100010021")
	search("all:4915100010003", "+4915100010003")
	search("all:ana müller", "+4915100010003")
	search("all:100%", "+4915100010007")
	search("all:50_")

	me := e.ids.Next()
	for _, p := range []kontor.Phone{"+4915100010002", "+4915100010005"} {
		if err := e.db.AssignInbox(e.ctx, n.ID, p, me, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	wantKind(t, "assign an unknown conversation", e.db.AssignInbox(e.ctx, n.ID, "+4915100099999", me, t0), kontor.NotFound)
	mine, err := e.db.InboxConversations(e.ctx, inbox.Query{Number: n.ID, Assigned: me, OnlyAssigned: true})
	if err != nil || len(mine) != 2 || mine[0].Peer != "+4915100010005" || mine[0].Assigned != me {
		t.Fatalf("assigned to me = %+v, %v", mine, err)
	}
	none, _ := e.db.InboxConversations(e.ctx, inbox.Query{Number: n.ID, OnlyAssigned: true, Limit: 100})
	if len(none) != count-2 {
		t.Fatalf("unassigned: %d, want %d", len(none), count-2)
	}
	// Unassigning.
	if err := e.db.AssignInbox(e.ctx, n.ID, "+4915100010002", 0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if mine, _ := e.db.InboxConversations(e.ctx, inbox.Query{Number: n.ID, Assigned: me, OnlyAssigned: true}); len(mine) != 1 {
		t.Fatalf("assigned to me after unassigning one = %+v", mine)
	}
}

// testInboxNotes: notes of a conversation in order, quick replies per
// business with unique titles, deleted only by their business.
func testInboxNotes(t *testing.T, e *env) {
	b, n := e.newBusiness("+4930300004")
	b2, _ := e.newBusiness("+4930300005")
	const peer = kontor.Phone("+4915100020001")
	if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{inboundMsg(n.ID, e.ids.Next(), peer, "Hallo", t0)}}); err != nil {
		t.Fatal(err)
	}
	author := e.ids.Next()
	for i, text := range []string{"Stammkundin", "Mag keine Lilien"} {
		note := inbox.Note{ID: e.ids.Next(), Number: n.ID, Peer: peer, Author: author, Email: "ana@blumen.example", Text: text, Created: t0.Add(time.Duration(i) * time.Minute)}
		if err := e.db.AddInboxNote(e.ctx, note); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := e.db.InboxNotes(e.ctx, n.ID, peer)
	if err != nil || len(notes) != 2 || notes[0].Text != "Stammkundin" || notes[1].Email != "ana@blumen.example" || notes[1].Author != author {
		t.Fatalf("InboxNotes = %+v, %v", notes, err)
	}
	if notes, _ := e.db.InboxNotes(e.ctx, n.ID, "+4915100020002"); len(notes) != 0 {
		t.Fatalf("another conversation's notes = %+v", notes)
	}

	q := inbox.QuickReply{ID: e.ids.Next(), Business: b.ID, Title: "Öffnungszeiten", Text: "Mo–Fr 9–18 Uhr", Created: t0}
	if err := e.db.PutQuickReply(e.ctx, q); err != nil {
		t.Fatal(err)
	}
	dup := q
	dup.ID = e.ids.Next()
	wantKind(t, "same title", e.db.PutQuickReply(e.ctx, dup), kontor.Conflict)
	dup.Business = b2.ID // another business may use the title
	if err := e.db.PutQuickReply(e.ctx, dup); err != nil {
		t.Fatal(err)
	}
	qs, err := e.db.QuickReplies(e.ctx, b.ID)
	if err != nil || len(qs) != 1 || qs[0].ID != q.ID || qs[0].Text != q.Text {
		t.Fatalf("QuickReplies = %+v, %v", qs, err)
	}
	wantKind(t, "delete another business's", e.db.DeleteQuickReply(e.ctx, b.ID, dup.ID), kontor.NotFound)
	if err := e.db.DeleteQuickReply(e.ctx, b.ID, q.ID); err != nil {
		t.Fatal(err)
	}
	if qs, _ := e.db.QuickReplies(e.ctx, b.ID); len(qs) != 0 {
		t.Fatalf("after delete: %+v", qs)
	}
}

// testInboxBatch: one batch of more messages than one statement carries,
// to a few people, in the order the endpoint saw them (times not always
// rising, one message twice), leaves each conversation as the same
// messages logged one at a time would.
func testInboxBatch(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300009")
	peers := []kontor.Phone{"+4915100000101", "+4915100000102", "+4915100000103"}
	var w endpoint.InboxWrites
	var one []endpoint.InboxWrites // the same, a message at a time
	add := func(m endpoint.InboxMessage) {
		w.Messages = append(w.Messages, m)
		one = append(one, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{m}})
	}
	for i := range 40 {
		p := peers[i%3]
		at := t0.Add(time.Duration(i) * time.Second)
		if i%7 == 6 {
			at = t0 // late: an older time than the conversation's
		}
		var m endpoint.InboxMessage
		if i%2 == 0 {
			m = inboundMsg(n.ID, e.ids.Next(), p, fmt.Sprint("Frage ", i), at)
			if i == 10 {
				m.ProfileName = "Jana Beispiel"
			}
		} else {
			m = outboundMsg(n.ID, e.ids.Next(), p, fmt.Sprint("Antwort ", i), at)
		}
		add(m)
		if i == 20 {
			add(m) // twice in one batch: logged and counted once
		}
	}
	// The same messages, to a second number, one at a time.
	_, n2 := e.newBusiness("+4930300010")
	for _, o := range one {
		m := o.Messages[0]
		m.Number = n2.ID
		if err := e.db.PutInbox(e.ctx, endpoint.InboxWrites{Messages: []endpoint.InboxMessage{m}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.PutInbox(e.ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		got, err := e.db.InboxConversation(e.ctx, n.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := e.db.InboxConversation(e.ctx, n2.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Unread != want.Unread || got.LastText != want.LastText || got.LastOutgoing != want.LastOutgoing ||
			!got.LastAt.Equal(want.LastAt) || !got.LastInbound.Equal(want.LastInbound) || got.LastInboundID != want.LastInboundID ||
			got.ProfileName != want.ProfileName {
			t.Errorf("%s: batch left %+v, one at a time %+v", p, got, want)
		}
		msgs, err := e.db.InboxMessages(e.ctx, n.ID, p, 0, 100)
		if want := 13 + boolInt(p == peers[0]); err != nil || len(msgs) != want {
			t.Errorf("%s: %d messages, %v; want %d", p, len(msgs), err, want)
		}
	}
	if c, _ := e.db.InboxConversation(e.ctx, n.ID, peers[1]); c.ProfileName != "Jana Beispiel" || c.Unread != 6 {
		t.Errorf("conversation with a profile name = %+v", c)
	}
	if err := e.db.PutInbox(e.ctx, w); err != nil { // again: nothing changes
		t.Fatal(err)
	}
	if c, _ := e.db.InboxConversation(e.ctx, n.ID, peers[1]); c.Unread != 6 {
		t.Errorf("the batch logged again counted again: %+v", c)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
