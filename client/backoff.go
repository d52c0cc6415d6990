package client

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds for reconnecting and for retrying a send the server could
// not take.
const (
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// backoff returns how long to wait before try number attempt (0 for the
// first retry): exponential from lo up to hi, with jitter over the upper
// half so that clients dropped together do not come back together. The
// result lies in [d/2, d] where d = min(hi, lo·2^attempt); jitter is a
// number in [0, 1).
func backoff(attempt int, lo, hi time.Duration, jitter float64) time.Duration {
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + time.Duration(jitter*float64(d-half))
}

// randomBackoff is backoff with a random jitter.
func randomBackoff(attempt int, lo, hi time.Duration) time.Duration {
	return backoff(attempt, lo, hi, rand.Float64())
}
