package endpoint

import (
	"context"
	"log/slog"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// writes are what handling a send, a message or receipts leaves for the
// store: message records, the inbox log and webhooks.
type writes struct {
	msgs  []MessageRecord
	inbox InboxWrites
	hooks []webhook.Event
	// acks are the receipt frames handled: acknowledged (the device holds
	// them, client.Options.HoldReceipts) once these writes are committed,
	// so that a crash before makes the server deliver them again.
	acks []kontor.ID
	// notices are the people who wrote in these writes, to be told of
	// the hosted service once they are committed (Endpoint.notice);
	// nothing the store writes.
	notices []kontor.Phone
}

func (w *writes) empty() bool { return len(w.msgs) == 0 && len(w.hooks) == 0 && w.inbox.empty() }

// committer is the endpoint's group commit: the records and webhooks of
// every send (and of the device's events) that wait at the same time are
// written together, in one transaction (BatchStore) — or one for the
// records and one for the webhooks — instead of two per message. A
// caller's writes are committed when commit returns.
type committer struct {
	store Store
	hooks Hooks
	clock kontor.Clock
	log   *slog.Logger
	jobs  chan *commitJob // unbuffered: a job is taken or the committer is gone
	done  chan struct{}   // closed when run returns
}

type commitJob struct {
	w    *writes
	err  error // set before done is closed
	done chan struct{}
}

// maxCommit bounds the jobs of one commit.
const maxCommit = 512

func newCommitter(store Store, hooks Hooks, clock kontor.Clock, log *slog.Logger) *committer {
	return &committer{store: store, hooks: hooks, clock: clock, log: log, jobs: make(chan *commitJob), done: make(chan struct{})}
}

// run commits jobs until ctx ends.
func (c *committer) run(ctx context.Context) {
	defer close(c.done)
	batch := make([]*commitJob, 0, maxCommit)
	for {
		select {
		case j := <-c.jobs:
			batch = append(batch[:0], j)
		more:
			for len(batch) < maxCommit {
				select {
				case j := <-c.jobs:
					batch = append(batch, j)
				default:
					break more
				}
			}
			c.flush(batch)
		case <-ctx.Done():
			return
		}
	}
}

// commit writes w, with whatever other callers write at the same time,
// and returns when w is committed or failed: then nothing of w is
// written, and the error says why. The store runs a transaction that
// failed transiently (a deadlock, say) again before it gives up; a group
// of jobs that still fails is tried job by job, so that one job cannot
// fail the others.
func (c *committer) commit(w *writes) error {
	if w.empty() {
		return nil
	}
	j := &commitJob{w: w, done: make(chan struct{})}
	select {
	case c.jobs <- j:
		<-j.done
	case <-c.done: // stopping: on this goroutine
		c.flush([]*commitJob{j})
	}
	return j.err
}

// flush commits batch in one go, or each job on its own when that fails,
// and tells each job how it went.
func (c *committer) flush(batch []*commitJob) {
	err := c.write(batch)
	if err != nil && len(batch) > 1 {
		c.log.Warn("the endpoint's group commit failed; committing job by job", "jobs", len(batch), "err", err)
		for _, j := range batch {
			c.flush([]*commitJob{j})
		}
		return
	}
	if err != nil {
		w := batch[0].w
		c.log.Error("recording messages, the inbox log and webhooks failed", "messages", len(w.msgs), "statuses", len(w.inbox.Statuses),
			"reads", len(w.inbox.Reads), "webhooks", len(w.hooks), "err", err)
	}
	for _, j := range batch {
		j.err = err
		close(j.done)
	}
}

// write writes the jobs of batch together: in one transaction when the
// store is a BatchStore and the hooks its outbox, else records, inbox
// log and webhooks one after the other (each of them idempotent, so a
// job failed half-way is whole once it is written again).
func (c *committer) write(batch []*commitJob) error {
	var all writes
	for _, j := range batch {
		all.msgs = append(all.msgs, j.w.msgs...)
		all.inbox.Messages = append(all.inbox.Messages, j.w.inbox.Messages...)
		all.inbox.Statuses = append(all.inbox.Statuses, j.w.inbox.Statuses...)
		all.inbox.Reads = append(all.inbox.Reads, j.w.inbox.Reads...)
		all.hooks = append(all.hooks, j.w.hooks...)
	}
	// What happened must reach the store even while the endpoint stops.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bs, ok1 := c.store.(BatchStore)
	told, ok2 := c.hooks.(enqueued)
	if ok1 && ok2 {
		// One transaction for records and webhooks; the outbox is told.
		evs := checked(all.hooks, c.log)
		// Born claimed by this node's outbox when it has room: they go
		// to its workers from memory, with no claim query.
		lease := told.NewLease(evs)
		added, err := bs.PutEndpointBatch(ctx, all.msgs, all.inbox, evs, c.clock.Now(), lease)
		if err != nil {
			told.Enqueued(nil, lease) // gives the room it held back
			return err
		}
		told.Enqueued(added, lease)
		return nil
	}
	if err := c.store.PutMessages(ctx, all.msgs); err != nil {
		return err
	}
	if err := c.store.PutInbox(ctx, all.inbox); err != nil {
		return err
	}
	if len(all.hooks) == 0 {
		return nil
	}
	err := c.hooks.Enqueue(ctx, all.hooks)
	if err == nil || len(all.hooks) == 1 {
		return err
	}
	// One bad event must not cost the others theirs.
	err = nil
	for _, ev := range all.hooks {
		if herr := c.hooks.Enqueue(ctx, []webhook.Event{ev}); herr != nil {
			c.log.Error("queueing a webhook", "id", ev.ID, "err", herr)
			err = herr
		}
	}
	return err
}

// checked returns the events of evs that webhook.Check passes, logging
// the others.
func checked(evs []webhook.Event, log *slog.Logger) []webhook.Event {
	out := evs[:0:0]
	for _, ev := range evs {
		if err := webhook.Check(ev); err != nil {
			log.Error("queueing a webhook", "id", ev.ID, "err", err)
			continue
		}
		out = append(out, ev)
	}
	return out
}

// BatchStore is a Store that also writes records, the inbox log and
// webhooks in one transaction, the webhooks starting at now and born
// claimed under lease unless it is zero (webhook.Store.EnqueueWebhooks);
// it returns the webhooks it added. When the endpoint's Store is one and
// its Hooks is the outbox on that same store (it has Enqueued, as
// webhook.Deliverer), the group commit is one transaction, not two.
type BatchStore interface {
	PutEndpointBatch(ctx context.Context, msgs []MessageRecord, inbox InboxWrites, evs []webhook.Event, now time.Time, lease webhook.Lease) ([]webhook.Event, error)
}

// enqueued is Hooks that can be told of webhooks written to their store
// by someone else, born claimed under a lease of theirs
// (webhook.Deliverer.NewLease and Enqueued).
type enqueued interface {
	NewLease(evs []webhook.Event) webhook.Lease
	Enqueued(evs []webhook.Event, lease webhook.Lease)
}
