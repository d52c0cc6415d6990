package inbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeIndexer answers IndexInbox with the counts given, then 0.
type fakeIndexer struct {
	mu      sync.Mutex
	answers []int // a negative one is an error
	calls   []time.Time
	done    chan struct{} // closed when the answers are used up
}

func (f *fakeIndexer) IndexInbox(ctx context.Context, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, time.Now())
	if len(f.calls) > len(f.answers) {
		if len(f.calls) == len(f.answers)+1 {
			close(f.done)
		}
		return 0, nil
	}
	if n := f.answers[len(f.calls)-1]; n >= 0 {
		return n, nil
	}
	return 0, errors.New("the database is gone")
}

func (f *fakeIndexer) InboxIndexBehind(context.Context) (int, error) { return 0, nil }

// TestStartIndexer: full batches follow each other at once; a short one
// or an error waits IndexEvery; stop ends the loop.
func TestStartIndexer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []int
		waits   int // pauses of IndexEvery before the call after the answers
	}{
		{"caught up", []int{0}, 1},
		{"full batches then caught up", []int{IndexBatch, IndexBatch, 7}, 1},
		{"short batches wait", []int{3, 2}, 2},
		{"an error waits, then goes on", []int{-1, IndexBatch, 0}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIndexer{answers: tc.answers, done: make(chan struct{})}
			start := time.Now()
			stop := StartIndexer(t.Context(), f, slog.New(slog.NewTextHandler(io.Discard, nil)))
			select {
			case <-f.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the indexer did not call IndexInbox for every answer")
			}
			took := time.Since(start)
			stop()
			f.mu.Lock()
			n := len(f.calls)
			f.mu.Unlock()
			if took < time.Duration(tc.waits)*IndexEvery {
				t.Errorf("the answers were used up in %v, want at least %d pauses of %v", took, tc.waits, IndexEvery)
			}
			f.mu.Lock()
			for i, a := range tc.answers {
				if gap := f.calls[i+1].Sub(f.calls[i]); a == IndexBatch && gap >= IndexEvery/2 {
					t.Errorf("after a full batch the next came %v later, want at once", gap)
				}
			}
			f.mu.Unlock()
			time.Sleep(2 * IndexEvery)
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.calls) != n {
				t.Errorf("IndexInbox was called %d more times after stop", len(f.calls)-n)
			}
		})
	}
}
