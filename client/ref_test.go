package client

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNewRef: refs are 24 hex digits, unique, and sort by the millisecond
// they were made in.
func TestNewRef(t *testing.T) {
	seen := map[string]bool{}
	var byTime []string // one ref per millisecond, in the order made
	last := time.Now().UnixMilli()
	for i := 0; i < 100_000 || len(byTime) < 3; i++ {
		r := NewRef()
		if len(r) != 24 || strings.Trim(r, "0123456789abcdef") != "" {
			t.Fatalf("ref %q: want 24 lower-case hex digits", r)
		}
		if seen[r] {
			t.Fatalf("ref %q made twice", r)
		}
		seen[r] = true
		if now := time.Now().UnixMilli(); now != last {
			last = now
			byTime = append(byTime, NewRef())
		}
		if i > 10_000_000 {
			t.Fatal("the clock does not move")
		}
	}
	// Two refs of byTime may share a millisecond (the clock can tick
	// between reading it here and in NewRef), and then their random halves
	// order them: only the time halves must be in order.
	times := make([]string, len(byTime))
	for i, r := range byTime {
		times[i] = r[:12]
	}
	if !slices.IsSorted(times) {
		t.Fatalf("refs of later milliseconds sort before earlier ones: %v", byTime)
	}
}
