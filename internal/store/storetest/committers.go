package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// testCommitterRace: the router's group commit (hosted sends whose
// records, inbox entries and webhooks ride it), the endpoints' own group
// commits (inbound messages, statuses, mark-read) and the console
// (mark-read, assignment, notes) write the same conversations at once.
// Every transaction must commit — on PostgreSQL two of them locking the
// same rows in different orders deadlock, and the loser's writes are
// gone — and every write must be there at the end.
func testCommitterRace(t *testing.T, e *env) {
	const (
		rounds  = 40
		perSend = 4 // sends riding one router transaction
		perIn   = 3 // inbound messages in one endpoint batch
		peers   = 6
	)
	type number struct {
		id    kontor.ID
		url   string
		peers []kontor.Phone
	}
	var nums []number
	for i := range 2 {
		_, n := e.newBusiness(kontor.Phone(fmt.Sprintf("+49303100%03d", i)))
		nb := number{id: n.ID, url: "http://127.0.0.1:9/race-" + n.ID.String()}
		for p := range peers {
			nb.peers = append(nb.peers, kontor.Phone(fmt.Sprintf("+4915100%03d%03d", i, p)))
		}
		nums = append(nums, nb)
	}
	var clock atomic.Int64 // every message a later millisecond
	clock.Store(t0.UnixMilli())
	now := func() time.Time { return time.UnixMilli(clock.Add(1)) }

	var mu sync.Mutex // guards the fields below
	logged := map[kontor.ID]endpoint.InboxMessage{}
	status := map[kontor.ID]string{}       // the highest status each sent message was given
	hooks := map[string]int{}              // by URL
	sent := make([][]kontor.ID, len(nums)) // committed sent messages, by number
	errs := func(who string, err error) {
		t.Helper()
		t.Errorf("%s: %v (SQLSTATE 40P01 is a deadlock)", who, err)
	}

	var wg sync.WaitGroup
	// Two router committers (or two nodes), each riding sends of both
	// numbers, in no particular order of conversations.
	for c := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for range rounds {
				var ws []*endpoint.TxWrites
				dev := e.ids.Next()
				entry := e.entry(dev, "ride")
				for range perSend {
					n := nums[rng.IntN(len(nums))]
					peer := n.peers[rng.IntN(peers)]
					id, at := e.ids.Next(), now()
					ws = append(ws, &endpoint.TxWrites{
						Msgs:  []endpoint.MessageRecord{{Number: n.id, ID: id, Peer: peer, Outgoing: true, Category: "service", Created: at}},
						Inbox: endpoint.InboxWrites{Messages: []endpoint.InboxMessage{outboundMsg(n.id, id, peer, "Antwort", at)}},
						Hooks: []webhook.Event{{ID: "sent." + id.String(), App: 1, URL: n.url, Body: []byte(`{}`), Created: at}},
						Now:   at})
				}
				err := e.db.Tx(e.ctx, func(tx router.Tx) error {
					if err := tx.Insert([]router.Entry{entry}); err != nil {
						return err
					}
					for _, w := range ws {
						tx.(endpoint.WritesTx).AddEndpointWrites(w)
					}
					return nil
				})
				if err != nil {
					errs(fmt.Sprintf("router committer %d", c), err)
					return
				}
				mu.Lock()
				for _, w := range ws {
					m := w.Inbox.Messages[0]
					logged[m.ID], status[m.ID] = m, endpoint.InboxSent
					hooks[w.Hooks[0].URL]++
					for i, n := range nums {
						if n.id == m.Number {
							sent[i] = append(sent[i], m.ID)
						}
					}
				}
				mu.Unlock()
			}
		})
	}
	// Each number's endpoint: inbound messages, statuses of what it sent,
	// and mark-read of conversations in no particular order.
	for i, n := range nums {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(10+i), 2))
			for range rounds {
				var msgs []endpoint.MessageRecord
				var in endpoint.InboxWrites
				var evs []webhook.Event
				for range perIn {
					peer := n.peers[rng.IntN(peers)]
					id, at := e.ids.Next(), now()
					msgs = append(msgs, endpoint.MessageRecord{Number: n.id, ID: id, Peer: peer, Created: at})
					in.Messages = append(in.Messages, inboundMsg(n.id, id, peer, "Frage", at))
					evs = append(evs, webhook.Event{ID: "msg." + id.String(), App: 1, URL: n.url, Body: []byte(`{}`), Created: at})
				}
				mu.Lock()
				mine := sent[i]
				var given []endpoint.InboxStatus
				for k := 0; k < 3 && len(mine) > 0; k++ {
					s := endpoint.InboxStatus{Number: n.id, ID: mine[rng.IntN(len(mine))], Status: endpoint.InboxDelivered, At: now()}
					if rng.IntN(2) == 0 {
						s.Status = endpoint.InboxRead
					}
					given = append(given, s)
				}
				mu.Unlock()
				in.Statuses = given
				for _, p := range rng.Perm(peers)[:3] {
					in.Reads = append(in.Reads, endpoint.InboxMarkRead{Number: n.id, Peer: n.peers[p], Upto: now()})
				}
				if _, err := e.db.PutEndpointBatch(e.ctx, msgs, in, evs, now(), webhook.Lease{}); err != nil {
					errs(fmt.Sprintf("endpoint %d", i), err)
					return
				}
				mu.Lock()
				for _, m := range in.Messages {
					logged[m.ID] = m
				}
				for _, s := range given {
					if statusRank(s.Status) > statusRank(status[s.ID]) {
						status[s.ID] = s.Status
					}
				}
				hooks[n.url] += len(evs)
				mu.Unlock()
			}
		})
	}
	// The console: mark-read, assignment and notes, one row each.
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(99, 3))
		for k := range rounds * 2 {
			n := nums[rng.IntN(len(nums))]
			peer := n.peers[rng.IntN(peers)]
			var err error
			switch k % 3 {
			case 0:
				_, err = e.db.MarkInboxRead(e.ctx, n.id, peer, now())
			case 1:
				err = e.db.AssignInbox(e.ctx, n.id, peer, kontor.ID(k+1), now())
			case 2:
				err = e.db.AddInboxNote(e.ctx, inbox.Note{ID: e.ids.Next(), Number: n.id, Peer: peer, Author: 1, Text: "Rückruf", Created: now()})
			}
			if err != nil && kontor.KindOf(err) != kontor.NotFound { // the conversation may not be there yet
				errs("console", err)
				return
			}
		}
	})
	wg.Wait()
	// The lock order (store/retry.go) leaves nothing to retry: a
	// transaction run again here waited in a circle.
	if r := e.db.Retries(); len(r) > 0 {
		t.Errorf("transactions ran again after deadlocks: %v", r)
	}
	if t.Failed() {
		return
	}

	// Nothing lost: every message logged with its conversation up to
	// date, every record, every status, every webhook.
	for _, n := range nums {
		for _, p := range n.peers {
			got, err := e.db.InboxMessages(e.ctx, n.id, p, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			var last time.Time
			seen := map[kontor.ID]endpoint.InboxMessage{}
			for _, m := range got {
				seen[m.ID] = m
				if m.At.After(last) {
					last = m.At
				}
			}
			for id, m := range logged {
				if m.Number != n.id || m.Peer != p {
					continue
				}
				g, ok := seen[id]
				switch {
				case !ok:
					t.Errorf("%s/%s: message %d (outgoing %v) not in the inbox log", n.id, p, id, m.Outgoing)
				case m.Outgoing && g.Status != status[id]:
					t.Errorf("%s/%s: message %d has status %q, want %q", n.id, p, id, g.Status, status[id])
				}
				if _, err := e.db.Message(e.ctx, n.id, id); err != nil {
					t.Errorf("record of message %d: %v", id, err)
				}
			}
			if len(got) == 0 {
				continue
			}
			c, err := e.db.InboxConversation(e.ctx, n.id, p)
			if err != nil || !c.LastAt.Equal(last) {
				t.Errorf("%s/%s: conversation %+v, %v; want its last message at %v", n.id, p, c, err, last)
			}
		}
		due, err := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: time.UnixMilli(clock.Load() + 1), Until: time.UnixMilli(clock.Load()).Add(time.Hour),
			Token: int64(e.ids.Next()), Want: []webhook.Want{{URL: n.url, Limit: 10000}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != hooks[n.url] {
			t.Errorf("%s: %d webhooks due, want %d", n.id, len(due), hooks[n.url])
		}
	}
}

// statusRank orders a sent message's inbox statuses as the store does.
func statusRank(s string) int {
	switch s {
	case endpoint.InboxSent:
		return 1
	case endpoint.InboxDelivered:
		return 2
	case endpoint.InboxFailed:
		return 3
	case endpoint.InboxRead:
		return 4
	}
	return 0
}
