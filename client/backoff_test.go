package client

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const s = time.Second
	tests := []struct {
		attempt  int
		lo, hi   time.Duration
		jitter   float64
		min, max time.Duration // inclusive bounds of the result
	}{
		{0, 500 * time.Millisecond, 30 * s, 0, 250 * time.Millisecond, 250 * time.Millisecond},
		{0, 500 * time.Millisecond, 30 * s, 0.999, 499 * time.Millisecond, 500 * time.Millisecond},
		{1, 500 * time.Millisecond, 30 * s, 0.5, 750 * time.Millisecond, 750 * time.Millisecond},
		{3, 500 * time.Millisecond, 30 * s, 0, 2 * s, 2 * s},
		{6, 500 * time.Millisecond, 30 * s, 0.999, 29 * s, 30 * s}, // 32 s capped
		{60, 500 * time.Millisecond, 30 * s, 0, 15 * s, 15 * s},    // no overflow
		{1 << 30, 500 * time.Millisecond, 30 * s, 0.999, 29 * s, 30 * s},
		{0, 0, 0, 0, DefaultMinBackoff / 2, DefaultMinBackoff / 2}, // defaults
		{5, 2 * s, s, 0.999, s, 2 * s},                             // hi below lo: lo wins
	}
	for _, tt := range tests {
		got := backoff(tt.attempt, tt.lo, tt.hi, tt.jitter)
		if got < tt.min || got > tt.max {
			t.Errorf("backoff(%d, %v, %v, %v) = %v, want within [%v, %v]", tt.attempt, tt.lo, tt.hi, tt.jitter, got, tt.min, tt.max)
		}
	}
}

func TestRandomBackoffBounds(t *testing.T) {
	lo, hi := 100*time.Millisecond, 30*time.Second
	prevMax := time.Duration(0)
	for attempt := range 40 {
		d := min(hi, lo<<min(attempt, 20))
		seenLow, seenHigh := false, false
		for range 200 {
			got := randomBackoff(attempt, lo, hi)
			if got < d/2 || got > d {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, got, d/2, d)
			}
			seenLow = seenLow || got < d/2+d/8
			seenHigh = seenHigh || got > d-d/8
		}
		if !seenLow || !seenHigh {
			t.Errorf("attempt %d: jitter does not spread over [d/2, d]", attempt)
		}
		if d < prevMax {
			t.Errorf("attempt %d: bound went down", attempt)
		}
		prevMax = d
	}
}
