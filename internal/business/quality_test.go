package business_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/business"
)

func TestRating(t *testing.T) {
	r := business.DefaultQualityRules()
	for _, tc := range []struct {
		name string
		s    business.Signals
		want string
	}{
		{"nobody reached", business.Signals{}, "GREEN"},
		{"no blocks", business.Signals{Reached: 1000}, "GREEN"},
		{"two blocks of two people: below the minimum", business.Signals{Reached: 2, Complaints: 2}, "GREEN"},
		{"three of 1000: 0.3 %", business.Signals{Reached: 1000, Complaints: 3}, "GREEN"},
		{"19 of 1000: 1.9 %", business.Signals{Reached: 1000, Complaints: 19}, "GREEN"},
		{"20 of 1000: 2 %", business.Signals{Reached: 1000, Complaints: 20}, "YELLOW"},
		{"49 of 1000: 4.9 %", business.Signals{Reached: 1000, Complaints: 49}, "YELLOW"},
		{"50 of 1000: 5 %", business.Signals{Reached: 1000, Complaints: 50}, "RED"},
		{"three of 25", business.Signals{Reached: 25, Complaints: 3}, "RED"},
		{"three of 100: 3 %", business.Signals{Reached: 100, Complaints: 3}, "YELLOW"},
		{"more blocks than counted reach", business.Signals{Reached: 1, Complaints: 4}, "RED"},
	} {
		if got := r.Rating(tc.s); got != tc.want {
			t.Errorf("%s: %+v rated %s, want %s", tc.name, tc.s, got, tc.want)
		}
	}
}

func TestTierSteps(t *testing.T) {
	for _, tc := range []struct {
		tier, up, down string
		canUp, canDown bool
	}{
		{"TIER_50", "TIER_250", "TIER_50", true, false},
		{"TIER_250", "TIER_1K", "TIER_50", true, true},
		{"TIER_1K", "TIER_10K", "TIER_250", true, true},
		{"TIER_2K", "TIER_10K", "TIER_1K", true, true},
		{"TIER_10K", "TIER_100K", "TIER_1K", true, true},
		{"TIER_100K", "TIER_UNLIMITED", "TIER_10K", true, true},
		{"TIER_UNLIMITED", "TIER_UNLIMITED", "TIER_100K", false, true},
		{"TIER_BOGUS", "TIER_BOGUS", "TIER_BOGUS", false, false},
	} {
		up, okUp := business.TierUp(tc.tier)
		down, okDown := business.TierDown(tc.tier)
		if up != tc.up || okUp != tc.canUp || down != tc.down || okDown != tc.canDown {
			t.Errorf("%s: up %s %v, down %s %v; want up %s %v, down %s %v", tc.tier, up, okUp, down, okDown, tc.up, tc.canUp, tc.down, tc.canDown)
		}
	}
}

func TestDecide(t *testing.T) {
	r := business.DefaultQualityRules()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	state := func(q, tier string, changed time.Duration) business.QualityState {
		n := business.QualityState{TierChanged: now.Add(-changed)}
		n.Quality, n.Tier = q, tier
		return n
	}
	red := business.Signals{Reached: 25, Complaints: 3}
	yellow := business.Signals{Reached: 100, Complaints: 3}
	for _, tc := range []struct {
		name        string
		n           business.QualityState
		s           business.Signals
		wantQuality string
		wantTier    string
	}{
		{"quiet", state("GREEN", "TIER_250", 0), business.Signals{}, "GREEN", "TIER_250"},
		{"half the limit reached, green: up", state("GREEN", "TIER_250", 0), business.Signals{Reached: 125, Reach: 125}, "GREEN", "TIER_1K"},
		{"just under half: stays", state("GREEN", "TIER_250", 0), business.Signals{Reached: 124, Reach: 124}, "GREEN", "TIER_250"},
		{"odd limit rounds up: 25 of 50", state("GREEN", "TIER_50", 0), business.Signals{Reach: 25}, "GREEN", "TIER_250"},
		{"half reached but yellow: no upgrade", state("GREEN", "TIER_250", 0), business.Signals{Reached: 150, Complaints: 3, Reach: 150}, "YELLOW", "TIER_250"},
		{"unlimited stays", state("GREEN", "TIER_UNLIMITED", 0), business.Signals{Reach: 1 << 20}, "GREEN", "TIER_UNLIMITED"},
		{"turns red: down one", state("GREEN", "TIER_1K", 0), red, "RED", "TIER_250"},
		{"yellow to red: down one", state("YELLOW", "TIER_1K", 0), red, "RED", "TIER_250"},
		{"stays red within the window: no second step", state("RED", "TIER_250", 6*24*time.Hour), red, "RED", "TIER_250"},
		{"red for a whole window: down again", state("RED", "TIER_250", 7*24*time.Hour), red, "RED", "TIER_50"},
		{"red at the bottom", state("GREEN", "TIER_50", 0), red, "RED", "TIER_50"},
		{"yellow: flagged, tier kept", state("GREEN", "TIER_1K", 0), yellow, "YELLOW", "TIER_1K"},
		{"red recovers: green, tier kept", state("RED", "TIER_250", 0), business.Signals{Reached: 10}, "GREEN", "TIER_250"},
	} {
		q, tier := r.Decide(tc.n, tc.s, now)
		if q != tc.wantQuality || tier != tc.wantTier {
			t.Errorf("%s: got %s %s, want %s %s", tc.name, q, tier, tc.wantQuality, tc.wantTier)
		}
	}
}

func TestQualityChangeWebhooks(t *testing.T) {
	now := time.Unix(1764763200, 0)
	n := business.QualityState{Seq: 4}
	n.ID, n.Business, n.Phone, n.Quality, n.Tier = 77, 55, "+4930111111", "GREEN", "TIER_1K"
	type value struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		Event              string `json:"event"`
		CurrentLimit       string `json:"current_limit"`
		OldLimit           string `json:"old_limit"`
		MaxDaily           string `json:"max_daily_conversations_per_business"`
		QualityRating      string `json:"quality_rating"`
	}
	for _, tc := range []struct {
		name, quality, tier string
		ids                 []string
		want                []value
	}{
		{"nothing", "GREEN", "TIER_1K", nil, nil},
		{"upgrade", "GREEN", "TIER_10K", []string{"phone_number_quality_update.77.5.upgrade"},
			[]value{{"4930111111", "UPGRADE", "TIER_10K", "TIER_1K", "TIER_10K", "GREEN"}}},
		{"flagged and downgraded", "RED", "TIER_250",
			[]string{"phone_number_quality_update.77.5.flagged", "phone_number_quality_update.77.5.downgrade"},
			[]value{{"4930111111", "FLAGGED", "TIER_250", "", "TIER_250", "RED"}, {"4930111111", "DOWNGRADE", "TIER_250", "TIER_1K", "TIER_250", "RED"}}},
		{"yellow", "YELLOW", "TIER_1K", []string{"phone_number_quality_update.77.5.flagged"},
			[]value{{"4930111111", "FLAGGED", "TIER_1K", "", "TIER_1K", "YELLOW"}}},
	} {
		c, ok, err := business.NewQualityChange(n, tc.quality, tc.tier, now)
		if err != nil || ok != (tc.want != nil) || len(c.Events) != len(tc.want) {
			t.Fatalf("%s: %+v %v %v", tc.name, c, ok, err)
		}
		if ok && (c.Seq != 4 || c.OldTier != "TIER_1K" || c.Tier != tc.tier || c.Quality != tc.quality) {
			t.Errorf("%s: change %+v", tc.name, c)
		}
		for i, ev := range c.Events {
			var got struct {
				Object string `json:"object"`
				Entry  []struct {
					ID      string `json:"id"`
					Time    int64  `json:"time"`
					Changes []struct {
						Field string `json:"field"`
						Value value  `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(ev.Body, &got); err != nil {
				t.Fatal(err)
			}
			if ev.ID != tc.ids[i] || got.Object != "whatsapp_business_account" || len(got.Entry) != 1 || got.Entry[0].ID != "55" ||
				got.Entry[0].Time != now.Unix() || len(got.Entry[0].Changes) != 1 || got.Entry[0].Changes[0].Field != "phone_number_quality_update" ||
				got.Entry[0].Changes[0].Value != tc.want[i] {
				t.Errorf("%s: event %d: %s %s", tc.name, i, ev.ID, ev.Body)
			}
		}
	}
}
