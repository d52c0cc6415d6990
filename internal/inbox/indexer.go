package inbox

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Indexer fills the inbox search index from the log. Implemented by
// internal/store.
type Indexer interface {
	// IndexInbox indexes up to limit messages logged since the last call
	// (the cursor is kept with the rows, so a restart resumes) and says
	// how many: fewer than limit means it has caught up.
	IndexInbox(ctx context.Context, limit int) (int, error)
	// InboxIndexBehind counts the logged messages not indexed yet.
	InboxIndexBehind(ctx context.Context) (int, error)
}

// Batches of the indexer: a batch is one transaction; after catching up
// the indexer looks again every IndexEvery, so a message is searchable
// within about IndexEvery plus a batch (well under a second) of being
// logged.
const (
	IndexBatch = 500
	IndexEvery = 250 * time.Millisecond
)

// StartIndexer runs the search indexer of a store until ctx ends or stop
// is called; stop waits for the batch in progress. Run one per store: the
// console's server, or a self-hosted endpoint's that serves a console.
func StartIndexer(ctx context.Context, s Indexer, log *slog.Logger) (stop func()) {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(IndexEvery)
		defer t.Stop()
		for {
			n, err := s.IndexInbox(ctx, IndexBatch)
			if err != nil && ctx.Err() == nil {
				log.Error("inbox search index", "err", err)
			}
			if err == nil && n == IndexBatch {
				continue // more to do
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
