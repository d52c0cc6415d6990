package endpoint

import (
	"context"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// The public platform's rate limits, which a business number's sends meet
// here as there.
const (
	// PairEvery is how often one person may get a message from the number
	// once a burst is spent: about one every 6 seconds (error 131056).
	PairEvery = 6 * time.Second
	// PairBurst is how many messages may go to one person at once.
	PairBurst = 45
)

// defaultMPS is a number's throughput unless configured: the public default.
const defaultMPS = 80

// admit applies the rate limits to a send to peer. The number's rate is
// asked of cfg.MPS on every send (the platform answers from its directory
// cache), so a change applies to the next send.
func (e *Endpoint) admit(ctx context.Context, peer kontor.Phone) *cloudapi.Error {
	if e.cfg.MPS != nil {
		if m := e.cfg.MPS(ctx); m > 0 {
			e.limits.setRate(m)
		}
	}
	return e.limits.admit(e.clock.Now(), peer)
}

// setRate changes the messages per second. A new rate starts with a full
// bucket, as an endpoint that starts with it does: raised, it applies to
// the next send at once rather than after the old rate's debt is repaid.
func (l *limiter) setRate(mps int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if float64(mps) != l.mps {
		l.mps = float64(mps)
		l.all = bucket{}
	}
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills at rate per second up to burst, then takes one token.
func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// limiter enforces a number's throughput (messages per second, all
// recipients; error 130429) and the pair rate limit (per recipient; error
// 131056). It is per node: a number's endpoint runs on one node.
type limiter struct {
	mu    sync.Mutex
	mps   float64
	all   bucket
	pairs map[kontor.Phone]*bucket
	swept time.Time
}

func newLimiter(mps int) *limiter {
	return &limiter{mps: float64(mps), pairs: map[kontor.Phone]*bucket{}}
}

// Unlimited is a throughput at which the limits are lifted altogether,
// the pair rate limit too: for load tests (kontor bench --api).
const Unlimited = 100_000

// admit says whether a message to peer may go now.
func (l *limiter) admit(now time.Time, peer kontor.Phone) *cloudapi.Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mps >= Unlimited {
		return nil
	}
	if l.mps > 0 && !l.all.take(now, l.mps, l.mps) {
		return cloudapi.Errorf(cloudapi.CodeThroughput, "The number sends at most %.0f messages per second.", l.mps)
	}
	p := l.pairs[peer]
	if p == nil {
		p = &bucket{}
		l.pairs[peer] = p
	}
	if !p.take(now, 1/PairEvery.Seconds(), PairBurst) {
		// Give the number's token back: this message does not go.
		l.all.tokens = min(l.mps, l.all.tokens+1)
		return cloudapi.Errorf(cloudapi.CodePairRateLimit, "Too many messages to %s in a short time; about one every %s is allowed after a burst.", peer, PairEvery)
	}
	// Forget people whose bucket is full again, now and then.
	if now.Sub(l.swept) > time.Minute {
		l.swept = now
		for k, b := range l.pairs {
			if now.Sub(b.last) > PairEvery*PairBurst {
				delete(l.pairs, k)
			}
		}
	}
	return nil
}

// Tiers are the messaging limits: how many people a number may reach with
// business-initiated messages in a moving 24 hours (0: unlimited). The
// business-portfolio levels since October 2025 and the older per-number
// tiers are both here.
var Tiers = map[string]int{
	"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10_000,
	"TIER_100K": 100_000, "TIER_UNLIMITED": 0,
}

// checkReach applies the messaging limit to a business-initiated message
// to peer: someone already reached in the last 24 hours does not count
// again.
func (e *Endpoint) checkReach(ctx context.Context, peer kontor.Phone) *cloudapi.Error {
	tier := "TIER_250"
	if e.cfg.Tier != nil {
		if t := e.cfg.Tier(ctx); t != "" {
			tier = t
		}
	}
	limit, ok := Tiers[tier]
	if !ok || limit == 0 {
		return nil
	}
	n, reached, err := e.store.Reach(ctx, e.cfg.Number, peer, e.clock.Now().Add(-24*time.Hour))
	if err != nil {
		return cloudapi.Internal()
	}
	if !reached && n >= limit {
		return cloudapi.Errorf(cloudapi.CodeSpamRateLimit, "The number's messaging limit (%s) is reached: its business-initiated messages reached %d people in the last 24 hours.", tier, n)
	}
	return nil
}
