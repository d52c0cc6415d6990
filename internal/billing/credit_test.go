package billing

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

// countingStore is a CreditStore that counts its reads.
type countingStore struct {
	reads atomic.Int64
	acc   CreditAccount
	none  bool
}

func (s *countingStore) CreditAccount(context.Context, kontor.ID) (CreditAccount, error) {
	s.reads.Add(1)
	if s.none {
		return CreditAccount{}, kontor.Errorf(kontor.NotFound, "test", "none")
	}
	return s.acc, nil
}

func (s *countingStore) PutCreditAccount(_ context.Context, a CreditAccount) error {
	s.acc = a
	return nil
}

type stepClock struct{ now atomic.Int64 }

func (c *stepClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// TestCreditCache: within the TTL a node reads a business's credit once;
// after it, again; a spent account refuses with ErrNoCredit.
func TestCreditCache(t *testing.T) {
	st := &countingStore{acc: CreditAccount{Mode: ModePrepaid, Currency: "EUR", Balance: 1}}
	clk := &stepClock{}
	c := NewCredit(st, nil, exps, kontor.NewIDs(nil, 1), clk, time.Second)
	ctx := context.Background()
	for range 1000 {
		if err := c.Allow(ctx, 7); err != nil {
			t.Fatal(err)
		}
	}
	if st.reads.Load() != 1 {
		t.Fatalf("%d reads within the TTL", st.reads.Load())
	}
	st.acc.Balance = -1
	if err := c.Allow(ctx, 7); err != nil {
		t.Fatalf("within the TTL the old state holds: %v", err)
	}
	clk.now.Add(int64(time.Second))
	if err := c.Allow(ctx, 7); !errors.Is(err, ErrNoCredit) || kontor.KindOf(err) != kontor.Forbidden {
		t.Fatalf("after the TTL: %v", err)
	}
	st.none = true
	c.forget(7)
	if err := c.Allow(ctx, 7); err != nil {
		t.Fatalf("no account: %v", err)
	}
}

// BenchmarkCreditAllow is the cost of the credit check on a paid send when
// the node knows the business's state (all but one send per second).
func BenchmarkCreditAllow(b *testing.B) {
	st := &countingStore{acc: CreditAccount{Mode: ModePrepaid, Currency: "EUR", Balance: 1}}
	c := NewCredit(st, nil, exps, kontor.NewIDs(nil, 1), kontor.SystemClock{}, time.Second)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Allow(ctx, 7); err != nil {
				b.Fatal(err)
			}
		}
	})
}
