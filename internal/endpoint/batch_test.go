package endpoint

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// batchStore is a BatchStore that refuses batches holding a record of
// a bad id, and every batch while down is above zero (counting down).
type batchStore struct {
	Store
	mu        sync.Mutex
	bad       map[kontor.ID]bool
	down      int
	calls     int
	committed []kontor.ID
}

var errDown = &kontor.Error{Kind: kontor.Unavailable, Op: "test", Msg: "the database gave the transaction up"}

func (s *batchStore) PutEndpointBatch(_ context.Context, msgs []MessageRecord, _ InboxWrites, evs []webhook.Event, _ time.Time, _ webhook.Lease) ([]webhook.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down > 0 {
		s.down--
		return nil, errDown
	}
	for _, m := range msgs {
		if s.bad[m.ID] {
			return nil, kontor.Errorf(kontor.Internal, "test", "record %d refused", m.ID)
		}
	}
	for _, m := range msgs {
		s.committed = append(s.committed, m.ID)
	}
	return evs, nil
}

// outbox is Hooks that can be told of webhooks born claimed.
type outbox struct{ added, given int }

func (o *outbox) Enqueue(context.Context, []webhook.Event) error { return errors.New("not used") }
func (o *outbox) NewLease([]webhook.Event) webhook.Lease         { return webhook.Lease{Token: 1} }
func (o *outbox) Enqueued(evs []webhook.Event, _ webhook.Lease) {
	if evs == nil {
		o.given++
	}
	o.added += len(evs)
}

// TestCommitterFailures: a group commit that fails is tried job by job;
// each job hears how its own writes went, and none is reported
// committed that is not.
func TestCommitterFailures(t *testing.T) {
	for _, tt := range []struct {
		name      string
		bad       []kontor.ID
		down      int
		failed    []kontor.ID // jobs (by record id) that must fail
		committed []kontor.ID
		calls     int
	}{
		{"all commit", nil, 0, nil, []kontor.ID{1, 2, 3}, 1},
		{"one bad job", []kontor.ID{2}, 0, []kontor.ID{2}, []kontor.ID{1, 3}, 4},
		{"down for the group", nil, 1, nil, []kontor.ID{1, 2, 3}, 4},
		{"down for good", nil, 100, []kontor.ID{1, 2, 3}, nil, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &batchStore{bad: map[kontor.ID]bool{}, down: tt.down}
			for _, id := range tt.bad {
				st.bad[id] = true
			}
			hooks := &outbox{}
			c := newCommitter(st, hooks, kontor.SystemClock{}, slog.New(slog.DiscardHandler))
			var batch []*commitJob
			for id := kontor.ID(1); id <= 3; id++ {
				batch = append(batch, &commitJob{w: &writes{msgs: []MessageRecord{{ID: id}},
					hooks: []webhook.Event{{ID: "e" + id.String(), App: 1, URL: "http://127.0.0.1:9/", Body: []byte(`{}`)}}}, done: make(chan struct{})})
			}
			c.flush(batch)
			for i, j := range batch {
				<-j.done
				id := kontor.ID(i + 1)
				if want := slices.Contains(tt.failed, id); (j.err != nil) != want {
					t.Errorf("job %d: error %v, want one: %v", id, j.err, want)
				}
			}
			slices.Sort(st.committed)
			if !slices.Equal(st.committed, tt.committed) || st.calls != tt.calls {
				t.Errorf("committed %v in %d calls, want %v in %d", st.committed, st.calls, tt.committed, tt.calls)
			}
			if hooks.added != len(tt.committed) {
				t.Errorf("the outbox was told of %d webhooks, want %d", hooks.added, len(tt.committed))
			}
		})
	}
}

// TestCommitEventsRetries: the device's events are committed once the
// store takes them again, and given up only after eventAttempts tries.
func TestCommitEventsRetries(t *testing.T) {
	for _, tt := range []struct {
		name  string
		down  int
		calls int
		fails bool
	}{
		{"at once", 0, 1, false},
		{"after two failures", 2, 3, false},
		{"never", eventAttempts, eventAttempts, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &batchStore{down: tt.down}
			e := &Endpoint{log: slog.New(slog.DiscardHandler), eventPause: time.Millisecond,
				commits: newCommitter(st, &outbox{}, kontor.SystemClock{}, slog.New(slog.DiscardHandler))}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go e.commits.run(ctx)
			err := e.commitEvents(context.Background(), &writes{msgs: []MessageRecord{{ID: 5}}})
			if (err != nil) != tt.fails || st.calls != tt.calls {
				t.Errorf("commitEvents = %v after %d calls; want an error: %v, %d calls", err, st.calls, tt.fails, tt.calls)
			}
		})
	}
}
