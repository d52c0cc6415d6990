package endpoint

import (
	"context"
	"testing"

	"github.com/kontor-chat/kontor"
)

// storeReads counts the message reads that reach the store.
type storeReads struct {
	Store
	reads int
}

func (s *storeReads) Message(_ context.Context, _, id kontor.ID) (MessageRecord, error) {
	s.reads++
	return MessageRecord{ID: id, Callback: "from the store"}, nil
}

func TestRecentSentRecords(t *testing.T) {
	st := &storeReads{}
	e := &Endpoint{store: st, recent: map[kontor.ID]MessageRecord{}}
	for id := kontor.ID(1); id <= recentKeep+10; id++ {
		e.remember(MessageRecord{ID: id, Callback: "remembered"})
	}
	for _, tt := range []struct {
		id     kontor.ID
		source string
	}{
		{1, "remembered"},               // the older generation
		{recentKeep + 10, "remembered"}, // the newest
		{recentKeep + 11, "from the store"},
	} {
		rec, err := e.message(context.Background(), tt.id)
		if err != nil || rec.ID != tt.id || rec.Callback != tt.source {
			t.Errorf("message %d: %+v %v; want it %s", tt.id, rec, err, tt.source)
		}
	}
	// A third generation drops the first.
	for id := kontor.ID(recentKeep + 11); id <= 2*recentKeep+10; id++ {
		e.remember(MessageRecord{ID: id, Callback: "remembered"})
	}
	if rec, _ := e.message(context.Background(), 1); rec.Callback != "from the store" {
		t.Errorf("message 1 two generations later: %+v, want it read from the store", rec)
	}
	if st.reads != 2 {
		t.Errorf("%d reads of the store, want 2", st.reads)
	}
}
