package endpoint

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
)

// A send can be committed when no Send call waits for it: one left in
// the device's outbox by a node that lost the endpoint's lease, or died,
// before the platform took it goes out from the profile's next device
// (the new holder's), and so does one whose withdrawal could not be
// recorded. Its record, inbox entry and "sent" webhook were to be
// written by that call; they are written instead when the device tells
// the send committed (client.Sent), from its note: what they need beyond
// the Sent event, written into the outbox with the send
// (client.SendNoted). The profile is durable and fenced with the lease
// as the send is, so the note is there wherever the send is, and costs
// no store write of its own on the way of every send (a table keyed by
// ref would, before each send).

// sendNote is a send's note: what its record and inbox entry need beyond
// the peer, id and time of its Sent event.
type sendNote struct {
	Category   string `json:"c"`
	Callback   string `json:"cb,omitempty"`
	Initiated  bool   `json:"i,omitempty"`
	EntryPoint bool   `json:"e,omitempty"`
	// Opens: an answer that opens an entry-point window (Send records
	// that after the send).
	Opens bool `json:"o,omitempty"`
	// Type, Text and JSON are the inbox entry's (InboxMessage).
	Type string          `json:"t,omitempty"`
	Text string          `json:"x,omitempty"`
	JSON json.RawMessage `json:"j,omitempty"`
}

// noteOf makes the note of a send of rec (without ID and Created) with
// its inbox entry in, as json.Marshal of its sendNote would, written by
// hand: it is made on every send (BenchmarkNote), and in.JSON, the
// request's body, is valid JSON already (cloudapi.ParseSend read it).
func (e *Endpoint) noteOf(rec MessageRecord, opens bool, in InboxMessage) []byte {
	b := make([]byte, 0, 64+len(rec.Category)+len(rec.Callback)+len(in.Type)+len(in.Text)+len(in.JSON))
	b = appendJSONString(append(b, `{"c":`...), rec.Category)
	if rec.Callback != "" {
		b = appendJSONString(append(b, `,"cb":`...), rec.Callback)
	}
	if rec.Initiated {
		b = append(b, `,"i":true`...)
	}
	if rec.EntryPoint {
		b = append(b, `,"e":true`...)
	}
	if opens {
		b = append(b, `,"o":true`...)
	}
	if in.Type != "" {
		b = appendJSONString(append(b, `,"t":`...), in.Type)
	}
	if in.Text != "" {
		b = appendJSONString(append(b, `,"x":`...), in.Text)
	}
	if len(in.JSON) > 0 {
		b = append(append(b, `,"j":`...), in.JSON...)
	}
	return append(b, '}')
}

// appendJSONString appends s to b as a JSON string. s is valid UTF-8
// (read from JSON, or the endpoint's own words).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	return append(append(b, s[start:]...), '"')
}

// await notes that a Send call waits for the send of ref: it writes
// that send's record itself, until unawait.
func (e *Endpoint) await(ref string) {
	e.recentMu.Lock()
	e.sending[ref] = nil
	e.recentMu.Unlock()
}

// unawait ends the wait of a Send call for the send of ref. A Sent event of
// it held meanwhile (the call gave up as it came) is recorded now, unless
// the call recorded the send.
func (e *Endpoint) unawait(ctx context.Context, ref string) {
	e.recentMu.Lock()
	held := e.sending[ref]
	delete(e.sending, ref)
	e.recentMu.Unlock()
	if held == nil {
		return
	}
	var w writes
	e.unheard(ctx, *held, &w)
	if err := e.commits.commit(&w); err != nil {
		e.log.Error("recording a send committed as its call gave up: its record and webhooks are lost", "ref", ref, "msg_id", held.ID, "err", err)
	}
}

// sentEvent handles the device's report that a send left the outbox: one
// committed that no Send call records (unheard) is recorded in w.
func (e *Endpoint) sentEvent(ctx context.Context, ev client.Sent, w *writes) {
	if ev.Err != nil || ev.ID == 0 || len(ev.Note) == 0 {
		return // failed, or not sent through the API (the hosted notice)
	}
	e.recentMu.Lock()
	if _, waiting := e.sending[ev.Ref]; waiting {
		e.sending[ev.Ref] = &ev // the call records it, or unawait does
		e.recentMu.Unlock()
		return
	}
	e.recentMu.Unlock()
	e.unheard(ctx, ev, w)
}

// unheard adds to w the record, inbox entry and "sent" webhook of a send
// committed as ev tells, from its note, unless it has its record: a Send
// call wrote it (it is remembered), or it was written with the send on
// the node before (its writes rode the send, whose answer was lost, and
// the platform answered this device's copy with the same id). Receipts
// for it that came before are handled then.
func (e *Endpoint) unheard(ctx context.Context, ev client.Sent, w *writes) {
	e.recentMu.Lock()
	_, known := e.recent[ev.ID]
	if !known {
		_, known = e.recentPrev[ev.ID]
	}
	e.recentMu.Unlock()
	if known {
		return
	}
	if rec, err := e.store.Message(ctx, e.cfg.Number, ev.ID); err == nil {
		e.handleEarly(ctx, rec, w)
		return
	} else if kontor.KindOf(err) != kontor.NotFound {
		e.log.Error("looking up the record of a send committed after its call", "msg_id", ev.ID, "err", err)
	}
	var n sendNote
	if err := json.Unmarshal(ev.Note, &n); err != nil {
		e.log.Error("a send's note in the outbox is damaged: it goes without record and webhooks", "ref", ev.Ref, "msg_id", ev.ID, "err", err)
		return
	}
	rec := MessageRecord{Number: e.cfg.Number, ID: ev.ID, Peer: ev.Peer, Outgoing: true, Category: n.Category, Callback: n.Callback,
		Initiated: n.Initiated, EntryPoint: n.EntryPoint, Created: time.UnixMilli(ev.TS)}
	if n.Opens {
		if c, err := e.store.Contact(ctx, e.cfg.Number, ev.Peer); err != nil {
			e.log.Error("reading a contact's entry-point window", "err", err)
		} else {
			rec.EntryPoint = e.openEntryPoint(ctx, c, rec.Created)
		}
	}
	e.log.Info("recording a send committed after its call ended (a takeover, say)", "ref", ev.Ref, "msg_id", ev.ID)
	e.sent(ctx, w, rec, InboxMessage{Number: e.cfg.Number, Peer: ev.Peer, Outgoing: true, Type: n.Type, Text: n.Text, JSON: n.JSON, Status: InboxSent},
		e.webhookURL(ctx))
	e.handleEarly(ctx, rec, w)
}

// handleEarly remembers rec and adds to w the statuses of the receipts
// for it that came before.
func (e *Endpoint) handleEarly(ctx context.Context, rec MessageRecord, w *writes) {
	for _, r := range e.remember(rec) {
		e.receipt(ctx, r, w)
	}
}
