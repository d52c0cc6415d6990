package endpoint

import (
	"context"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// A hosted endpoint shares the platform's store with the router. Its
// writes for a send (the record, the inbox entry, the "sent" webhook)
// then ride the router's transaction of the send (router.Rider): one
// transaction and one commit per send instead of two in series on
// SQLite's one writer, and atomic — no message routed without its record
// and webhook, none recorded that was not routed. A self-hosted endpoint
// (its own store) writes them after the send, in its group commit
// (batch.go), and so does a hosted send that cannot ride (below).

// TxWrites are the writes of one send in the router's transaction of it:
// records, the inbox log and webhooks, the webhooks starting at Now and
// born claimed under Lease unless it is zero (as BatchStore writes them).
type TxWrites struct {
	Msgs  []MessageRecord
	Inbox InboxWrites
	Hooks []webhook.Event
	Now   time.Time
	Lease webhook.Lease
	// Added is set by the store, before the transaction commits, to the
	// webhooks it added.
	Added []webhook.Event
}

// WritesTx is a router transaction (router.Tx) of a store that also keeps
// endpoints' state: a hosted send's writes go in it.
type WritesTx interface {
	// AddEndpointWrites has w written in the transaction before it
	// commits, together with the other sends' writes in it; a failure
	// aborts the transaction.
	AddEndpointWrites(w *TxWrites)
}

// ride is the rider of one send: what its writes need that is known
// before the send (all that reads the store or the clock of the request),
// completed with the id and time the router gives it.
type ride struct {
	e     *Endpoint
	told  enqueued
	rec   MessageRecord // without ID and Created
	inbox InboxMessage  // without ID and At
	url   string        // of the webhook; "" = none

	mu    sync.Mutex
	pend  *TxWrites // of the last Ride that wrote; nil when it declined
	lease webhook.Lease
	done  bool // pend is committed
}

var _ router.Rider = (*ride)(nil)

// newRide returns the rider of a send, or nil when its writes follow the
// send: the endpoint has no riders (self-hosted), its outbox is not on
// the store (no lease to be born under), or the send's sent status
// counts a free allowance (a write of its own, keyed by the message id).
func (e *Endpoint) newRide(rec MessageRecord, inbox InboxMessage, url string) *ride {
	told, ok := e.hooks.(enqueued)
	if e.cfg.Riders == nil || !ok {
		return nil
	}
	rec.Created = e.clock.Now()
	if e.allowanceCounts(rec) {
		return nil
	}
	return &ride{e: e, told: told, rec: rec, inbox: inbox, url: url}
}

// Ride adds the send's writes to tx (router.Rider). A tx that cannot take
// them, or a send whose status would count an allowance at its commit
// time, declines: the writes then follow the send (Endpoint.Send).
func (r *ride) Ride(tx router.Tx, id kontor.ID, ts int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pend = nil
	wt, ok := tx.(WritesTx)
	if !ok || r.done {
		return nil
	}
	rec := r.rec
	rec.ID, rec.Created = id, time.UnixMilli(ts)
	if r.e.allowanceCounts(rec) {
		return nil
	}
	var w writes
	r.e.sent(context.Background(), &w, rec, r.inbox, r.url)
	evs := checked(w.hooks, r.e.log)
	if r.lease.IsZero() {
		r.lease = r.told.NewLease(evs)
	}
	r.pend = &TxWrites{Msgs: w.msgs, Inbox: w.inbox, Hooks: evs, Now: rec.Created, Lease: r.lease}
	wt.AddEndpointWrites(r.pend)
	return nil
}

// Rode tells the outbox of the webhooks committed, or gives back the
// room it held for them (router.Rider).
func (r *ride) Rode(committed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	if committed && r.pend != nil {
		r.done = true
		r.told.Enqueued(r.pend.Added, r.lease)
		return
	}
	r.pend = nil
	if !r.lease.IsZero() {
		r.told.Enqueued(nil, r.lease)
		r.lease = webhook.Lease{}
	}
}

// committed returns the record the send's writes committed with, when
// they rode the send with id.
func (r *ride) committed(id kontor.ID) (MessageRecord, bool) {
	if r == nil {
		return MessageRecord{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done || r.pend.Msgs[0].ID != id {
		return MessageRecord{}, false
	}
	return r.pend.Msgs[0], true
}

// committedAny returns the record the send's writes committed with,
// whatever its id: a send whose answer did not reach the device in time
// (client.ErrFateUnknown) was committed when its writes were.
func (r *ride) committedAny() (MessageRecord, bool) {
	if r == nil {
		return MessageRecord{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		return MessageRecord{}, false
	}
	return r.pend.Msgs[0], true
}

// allowanceCounts says whether the sent status of rec would count it
// against a free monthly allowance (Config.Allowance).
func (e *Endpoint) allowanceCounts(rec MessageRecord) bool {
	if e.cfg.Allowance == nil {
		return false
	}
	rs := e.rules.At(rec.Created)
	d := rs.Decide(rec.Category, !rec.Initiated, rec.EntryPoint, false)
	return d.Billable && rs.Categories[d.Category].MonthlyFree > 0
}

// sent adds to w what a committed send leaves: its record, its inbox
// entry and its "sent" status webhook (to url, none when "").
func (e *Endpoint) sent(ctx context.Context, w *writes, rec MessageRecord, in InboxMessage, url string) {
	w.msgs = append(w.msgs, rec)
	in.ID, in.At = rec.ID, rec.Created
	w.inbox.Messages = append(w.inbox.Messages, in)
	wamid := cloudapi.MessageID(rec.ID)
	e.hookTo(url, w, "status.sent."+wamid, cloudapi.MessagesValue{Metadata: e.metadata(),
		Statuses: []cloudapi.Status{e.status(ctx, wamid, "sent", rec.Created, rec.Peer, rec)}})
}
