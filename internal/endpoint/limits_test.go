package endpoint

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

type send struct {
	at   time.Duration
	to   kontor.Phone
	want int // 0: admitted; else the error code
}

func TestLimiter(t *testing.T) {
	burst := make([]send, 0, PairBurst+4)
	for range PairBurst {
		burst = append(burst, send{0, "+491", 0})
	}
	burst = append(burst,
		send{time.Second, "+491", cloudapi.CodePairRateLimit}, // the burst is spent
		send{time.Second, "+492", 0},                          // someone else is fine
		send{7 * time.Second, "+491", 0},                      // one more after 6 s
		send{8 * time.Second, "+491", cloudapi.CodePairRateLimit},
	)
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		name  string
		mps   int
		sends []send
	}{
		{"throughput", 2, []send{{0, "+491", 0}, {0, "+492", 0}, {0, "+493", cloudapi.CodeThroughput},
			{500 * time.Millisecond, "+493", 0}, {500 * time.Millisecond, "+494", cloudapi.CodeThroughput}}},
		{"pair burst, then one per 6 s", 1000, burst},
	} {
		l := newLimiter(c.mps)
		for i, s := range c.sends {
			got := 0
			if err := l.admit(t0.Add(s.at), s.to); err != nil {
				got = err.Code
			}
			if got != s.want {
				t.Fatalf("%s: send %d to %s at %v: got %d, want %d", c.name, i, s.to, s.at, got, s.want)
			}
		}
	}
}

// reachStore answers Reach from a list of people reached.
type reachStore struct {
	Store
	reached []kontor.Phone
}

func (r reachStore) Reach(_ context.Context, _ kontor.ID, peer kontor.Phone, _ time.Time) (int, bool, error) {
	return len(r.reached), slices.Contains(r.reached, peer), nil
}

func TestMessagingLimit(t *testing.T) {
	fifty := make([]kontor.Phone, 50)
	for i := range fifty {
		fifty[i] = kontor.Phone(fmt.Sprintf("+4915100000%03d", i))
	}
	for _, c := range []struct {
		name    string
		tier    string
		reached []kontor.Phone
		peer    kontor.Phone
		ok      bool
	}{
		{"under the limit", "TIER_50", fifty[:49], "+4915199999999", true},
		{"at the limit, someone new", "TIER_50", fifty, "+4915199999999", false},
		{"at the limit, someone reached already", "TIER_50", fifty, fifty[3], true},
		{"unlimited", "TIER_UNLIMITED", fifty, "+4915199999999", true},
		{"higher tier", "TIER_1K", fifty, "+4915199999999", true},
	} {
		e := &Endpoint{cfg: Config{Tier: func(context.Context) string { return c.tier }}, store: reachStore{reached: c.reached}, clock: kontor.SystemClock{}}
		err := e.checkReach(context.Background(), c.peer)
		if (err == nil) != c.ok || (err != nil && err.Code != cloudapi.CodeSpamRateLimit) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestSetRate: a changed rate applies to the next send (a fresh bucket);
// the same rate asked again on every send changes nothing.
func TestSetRate(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(1)
	steps := []struct {
		rate int // 0: keep
		ok   bool
	}{
		{0, true}, {1, false}, {1, false}, {1000, true}, {1000, true}, {1, true}, {1, false},
	}
	for i, s := range steps {
		if s.rate != 0 {
			l.setRate(s.rate)
		}
		err := l.admit(t0, kontor.Phone("+49151000000"+string(rune('1'+i))))
		if (err == nil) != s.ok {
			t.Fatalf("step %d (rate %d): %v, want ok=%v", i, s.rate, err, s.ok)
		}
	}
}
