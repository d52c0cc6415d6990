package billing

import (
	"testing"
	"time"
)

func TestEntryPointAt(t *testing.T) {
	july := ShippedRuleSets()[0].Rules
	none := july
	none.EntryPointHours = 0
	ref := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return ref.Add(time.Duration(n * float64(time.Hour))) }
	day := 24 * time.Hour
	for _, c := range []struct {
		name      string
		rules     Rules
		ep        EntryPoint
		at        time.Time
		in, opens bool
	}{
		{"no referral", july, EntryPoint{}, h(1), false, false},
		{"the first answer opens it", july, EntryPoint{Referral: ref}, h(1), true, true},
		{"an answer at the end of the service window opens it", july, EntryPoint{Referral: ref}, h(24), true, true},
		{"an answer after the service window opens none", july, EntryPoint{Referral: ref}, h(24.01), false, false},
		{"open: a message an hour later", july, EntryPoint{Referral: ref, Opened: h(2)}, h(3), true, false},
		{"open: after the service window closed", july, EntryPoint{Referral: ref, Opened: h(2)}, h(60), true, false},
		{"open: the last moment", july, EntryPoint{Referral: ref, Opened: h(2)}, h(74).Add(-time.Millisecond), true, false},
		{"closed 72 hours after it opened", july, EntryPoint{Referral: ref, Opened: h(2)}, h(74), false, false},
		{"opened by an answer to an older referral", july, EntryPoint{Referral: ref, Opened: h(-100)}, h(5), true, true},
		{"rules without entry points", none, EntryPoint{Referral: ref}, h(1), false, false},
		{"rules without entry points, opened", none, EntryPoint{Referral: ref, Opened: h(1)}, h(2), false, false},
	} {
		in, opens := c.rules.EntryPointAt(c.ep, c.at, day)
		if in != c.in || opens != c.opens {
			t.Errorf("%s: in %v opens %v, want %v %v", c.name, in, opens, c.in, c.opens)
		}
		// What the message is charged: free_entry_point inside, else as
		// usual (a marketing template outside the service window: charged).
		d := c.rules.Decide("marketing", false, in, false)
		if want := (Decision{Billable: !c.in, Category: "marketing", Type: map[bool]string{true: "free_entry_point", false: "regular"}[c.in]}); d != want {
			t.Errorf("%s: decision %+v, want %+v", c.name, d, want)
		}
	}
}

func TestTakesReferral(t *testing.T) {
	july := ShippedRuleSets()[0].Rules
	ref := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return ref.Add(time.Duration(n * float64(time.Hour))) }
	for _, c := range []struct {
		name string
		ep   EntryPoint
		at   time.Time
		want bool
	}{
		{"the first referral", EntryPoint{}, h(0), true},
		{"again while waiting for the answer", EntryPoint{Referral: ref}, h(5), false},
		{"after the answer's time passed unanswered", EntryPoint{Referral: ref}, h(25), true},
		{"again while the window is open", EntryPoint{Referral: ref, Opened: h(1)}, h(50), false},
		{"after the window closed", EntryPoint{Referral: ref, Opened: h(1)}, h(73), true},
	} {
		if got := july.TakesReferral(c.ep, c.at, 24*time.Hour); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
