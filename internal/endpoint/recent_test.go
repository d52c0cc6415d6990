package endpoint

import (
	"context"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
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

// TestEarlyReceipts: a receipt that comes before its message is
// remembered (the person's device answered before the send returned) is
// handed to remember, once; one that comes after finds the record.
func TestEarlyReceipts(t *testing.T) {
	e := &Endpoint{recent: map[kontor.ID]MessageRecord{}, clock: kontor.SystemClock{}}
	delivered := client.Receipt{Status: wire.StatusDelivered, IDs: []kontor.ID{7, 8}}
	if _, ok := e.wait(7, delivered); ok {
		t.Fatal("a record for a message not remembered")
	}
	if _, ok := e.wait(7, client.Receipt{Status: wire.StatusRead, IDs: []kontor.ID{7}}); ok {
		t.Fatal("a record for a message not remembered")
	}
	got := e.remember(MessageRecord{ID: 7})
	if len(got) != 2 || got[0].Status != wire.StatusDelivered || got[1].Status != wire.StatusRead || len(got[0].IDs) != 1 || got[0].IDs[0] != 7 {
		t.Fatalf("early receipts: %+v", got)
	}
	if again := e.remember(MessageRecord{ID: 7}); len(again) != 0 {
		t.Fatalf("handed back twice: %+v", again)
	}
	if rec, ok := e.wait(7, delivered); !ok || rec.ID != 7 {
		t.Fatalf("a receipt after remember: %+v %v", rec, ok)
	}
	// The waiting room is bounded.
	for id := kontor.ID(100); id < 100+maxEarly+5; id++ {
		e.wait(id, delivered)
	}
	if len(e.early) > maxEarly {
		t.Fatalf("%d receipts waiting, at most %d", len(e.early), maxEarly)
	}
}
