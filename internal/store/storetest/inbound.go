package storetest

import (
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// testInboundNotes: the record of a message a person sent notes their
// time (Contact.LastInbound, which opens the service window) in the
// transaction of the record, the latest of the person's counting and
// never moving back; a contact read (and cached) before is read anew
// after.
func testInboundNotes(t *testing.T, e *env) {
	_, n := e.newBusiness("+4930300077")
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	inbound := func(peer kontor.Phone, t time.Time) endpoint.MessageRecord {
		return endpoint.MessageRecord{Number: n.ID, ID: e.ids.Next(), Peer: peer, Created: t}
	}
	for _, tt := range []struct {
		name  string
		batch bool // PutEndpointBatch, else PutMessages
		msgs  []endpoint.MessageRecord
		want  map[kontor.Phone]time.Time // LastInbound after
	}{
		{"two of one person, the later first", false,
			[]endpoint.MessageRecord{inbound(phoneA, at(2)), inbound(phoneA, at(1))},
			map[kontor.Phone]time.Time{phoneA: at(2), phoneB: {}}},
		{"an older one moves nothing back", true,
			[]endpoint.MessageRecord{inbound(phoneA, at(0))},
			map[kontor.Phone]time.Time{phoneA: at(2), phoneB: {}}},
		{"a sent message notes nothing", true,
			[]endpoint.MessageRecord{{Number: n.ID, ID: e.ids.Next(), Peer: phoneB, Outgoing: true, Created: at(5)}},
			map[kontor.Phone]time.Time{phoneA: at(2), phoneB: {}}},
		{"two people in one batch", true,
			[]endpoint.MessageRecord{inbound(phoneB, at(6)), inbound(phoneA, at(7))},
			map[kontor.Phone]time.Time{phoneA: at(7), phoneB: at(6)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for p := range tt.want { // cached before the write
				if _, err := e.db.Contact(e.ctx, n.ID, p); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if tt.batch {
				_, err = e.db.PutEndpointBatch(e.ctx, tt.msgs, endpoint.InboxWrites{}, nil, t0, webhook.Lease{})
			} else {
				err = e.db.PutMessages(e.ctx, tt.msgs)
			}
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.want {
				c, err := e.db.Contact(e.ctx, n.ID, p)
				if err != nil || !c.LastInbound.Equal(want) && !(want.IsZero() && c.LastInbound.IsZero()) {
					t.Errorf("%s: last inbound %v, %v; want %v", p, c.LastInbound, err, want)
				}
			}
			for _, m := range tt.msgs {
				if _, err := e.db.Message(e.ctx, n.ID, m.ID); err != nil {
					t.Errorf("record %d: %v", m.ID, err)
				}
			}
		})
	}
}
