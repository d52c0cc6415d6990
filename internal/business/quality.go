package business

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// Quality ratings of a number.
const (
	QualityGreen   = "GREEN"
	QualityYellow  = "YELLOW"
	QualityRed     = "RED"
	QualityUnknown = "UNKNOWN"
)

// The events of the phone_number_quality_update webhook.
const (
	EventUpgrade   = "UPGRADE"   // the messaging limit went up one tier
	EventDowngrade = "DOWNGRADE" // the messaging limit went down one tier
	EventFlagged   = "FLAGGED"   // the quality rating got worse
	EventUnflagged = "UNFLAGGED" // the quality rating got better
)

// QualityRules is kontor's rule for a number's quality rating and its
// messaging-limit tier. The public service does not publish its formula;
// this one is written down in docs/business-api.md.
type QualityRules struct {
	// Window is the rolling window the rating and an upgrade look at
	// (7 days).
	Window time.Duration
	// MinSignals is how many people must have complained of the number
	// (blocked or reported it) in the window before its rating drops at
	// all (3): one or two never flag a number, however small its reach.
	MinSignals int
	// YellowBP and RedBP are the shares of the people reached who
	// complained, in basis points (1/100 of a percent), at which the
	// rating becomes YELLOW (200: 2 %) and RED (500: 5 %).
	YellowBP, RedBP int
}

// DefaultQualityRules is kontor's rule.
func DefaultQualityRules() QualityRules {
	return QualityRules{Window: 7 * 24 * time.Hour, MinSignals: 3, YellowBP: 200, RedBP: 500}
}

// Signals is what a sweep counts for a number.
type Signals struct {
	// Reached is how many people the number sent messages to in the window.
	Reached int
	// Complaints is how many of them blocked (and still block) or
	// reported the number in the window; someone who did both counts once.
	Complaints int
	// Reach is how many people the business-initiated messages of the
	// number's business reached since the later of the window's start and
	// the number's last tier change — counted as the messaging limit
	// counts (all numbers of the business together).
	Reach int
}

// Rating is the quality rating that s earns.
func (r QualityRules) Rating(s Signals) string {
	if s.Complaints < r.MinSignals || s.Complaints <= 0 {
		return QualityGreen
	}
	reached := max(s.Reached, s.Complaints)
	bp := s.Complaints * 10_000 / reached
	switch {
	case bp >= r.RedBP:
		return QualityRed
	case bp >= r.YellowBP:
		return QualityYellow
	}
	return QualityGreen
}

// ladder is the order in which automatic tier changes move a number: the
// per-number tiers of messaging_limit_tier. TIER_2K (the business-portfolio
// level an operator may set) sits between TIER_1K and TIER_10K.
var ladder = []string{"TIER_50", "TIER_250", "TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"}

// tierLimits are how many people each tier may reach in a moving 24
// hours; 0 is unlimited. They are the limits internal/endpoint applies.
var tierLimits = map[string]int{"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000,
	"TIER_10K": 10_000, "TIER_100K": 100_000, "TIER_UNLIMITED": 0}

// rank orders tiers by their limit, unlimited last.
func rank(tier string) int {
	l, ok := tierLimits[tier]
	switch {
	case !ok:
		return -1
	case l == 0:
		return 1 << 30
	}
	return l
}

// TierUp is the tier one step above t, and false at the top.
func TierUp(t string) (string, bool) {
	if rank(t) < 0 {
		return t, false
	}
	for _, c := range ladder {
		if rank(c) > rank(t) {
			return c, true
		}
	}
	return t, false
}

// TierDown is the tier one step below t, and false at the bottom.
func TierDown(t string) (string, bool) {
	for i := len(ladder) - 1; i >= 0; i-- {
		if rank(ladder[i]) < rank(t) && rank(ladder[i]) >= 0 {
			return ladder[i], true
		}
	}
	return t, false
}

// QualityState is what the rule needs to know of a number.
type QualityState struct {
	Number
	// TierChanged is when its tier last changed (by the rule or the
	// operator); its creation when it never did.
	TierChanged time.Time
	// Seq counts the number's quality and tier changes: a change applies
	// only to the state it was computed from.
	Seq int64
}

// Decide applies the rule to a number: its new rating and tier.
//
//   - The rating is Rating of the window's signals.
//   - A RED rating moves the tier down one step when the rating just
//     became RED, and again each time a whole window passes RED since the
//     last tier change.
//   - A GREEN number moves up one step when the people its business
//     reached since the later of the window's start and its last tier
//     change are at least half its tier's limit.
func (r QualityRules) Decide(n QualityState, s Signals, now time.Time) (quality, tier string) {
	quality, tier = r.Rating(s), n.Tier
	switch quality {
	case QualityRed:
		if n.Quality != QualityRed || now.Sub(n.TierChanged) >= r.Window {
			tier, _ = TierDown(n.Tier)
		}
	case QualityGreen:
		if l, ok := tierLimits[n.Tier]; ok && l > 0 && 2*s.Reach >= l {
			tier, _ = TierUp(n.Tier)
		}
	}
	return quality, tier
}

// QualityChange is a change of a number's rating or tier, with the
// webhooks that tell its business; the store writes both in one
// transaction.
type QualityChange struct {
	Number   kontor.ID
	Business kontor.ID
	// Seq is the state the change was computed from: it applies only
	// while the number's Seq is still this, and makes it Seq+1.
	Seq                 int64
	OldQuality, Quality string
	OldTier, Tier       string
	At                  time.Time
	Events              []QualityEvent
}

// QualityEvent is one phone_number_quality_update webhook, encoded.
type QualityEvent struct {
	ID   string // stable: the number, its Seq after the change, the event
	Body []byte
}

// QualityUpdate is the value of the public phone_number_quality_update
// webhook. CurrentLimit and MaxDailyConversations are the tier after the
// change, OldLimit the tier before it (on UPGRADE and DOWNGRADE only).
// QualityRating, a kontor extension, is the rating after the change.
type QualityUpdate struct {
	DisplayPhoneNumber    string `json:"display_phone_number"`
	Event                 string `json:"event"`
	CurrentLimit          string `json:"current_limit"`
	OldLimit              string `json:"old_limit,omitempty"`
	MaxDailyConversations string `json:"max_daily_conversations_per_business"`
	QualityRating         string `json:"quality_rating"`
}

// NewQualityChange builds the change of n to quality and tier at now with
// its webhooks: FLAGGED or UNFLAGGED when the rating moved, UPGRADE or
// DOWNGRADE when the tier did. It reports false when nothing changes.
func NewQualityChange(n QualityState, quality, tier string, now time.Time) (QualityChange, bool, error) {
	if quality == n.Quality && tier == n.Tier {
		return QualityChange{}, false, nil
	}
	c := QualityChange{Number: n.ID, Business: n.Business, Seq: n.Seq, OldQuality: n.Quality, Quality: quality,
		OldTier: n.Tier, Tier: tier, At: now}
	var events []QualityUpdate
	if quality != n.Quality {
		ev := EventUnflagged
		if worse(quality, n.Quality) {
			ev = EventFlagged
		}
		events = append(events, QualityUpdate{Event: ev})
	}
	if tier != n.Tier {
		ev := EventUpgrade
		if rank(tier) < rank(n.Tier) {
			ev = EventDowngrade
		}
		events = append(events, QualityUpdate{Event: ev, OldLimit: n.Tier})
	}
	for _, u := range events {
		u.DisplayPhoneNumber = strings.TrimPrefix(string(n.Phone), "+")
		u.CurrentLimit, u.MaxDailyConversations, u.QualityRating = tier, tier, quality
		body, err := cloudapi.EncodeWebhook(cloudapi.Notification{Object: cloudapi.ObjectWhatsAppBusinessAcct,
			Entry: []cloudapi.Entry{{ID: n.Business.String(), Time: now.Unix(),
				Changes: []cloudapi.Change{{Field: cloudapi.FieldPhoneNumberQuality, Value: u}}}}})
		if err != nil {
			return QualityChange{}, false, &kontor.Error{Kind: kontor.Internal, Op: "business.NewQualityChange", Err: err}
		}
		id := "phone_number_quality_update." + n.ID.String() + "." + strconv.FormatInt(n.Seq+1, 10) + "." + strings.ToLower(u.Event)
		c.Events = append(c.Events, QualityEvent{ID: id, Body: body})
	}
	return c, true, nil
}

// worse says whether rating a is worse than b.
func worse(a, b string) bool {
	order := map[string]int{QualityGreen: 0, QualityUnknown: 0, QualityYellow: 1, QualityRed: 2}
	return order[a] > order[b]
}

// QualityStore keeps what the rule reads and writes. Implemented by
// internal/store.
type QualityStore interface {
	// QualityStates returns up to limit numbers with ids above after, in
	// id order.
	QualityStates(ctx context.Context, after kontor.ID, limit int) ([]QualityState, error)
	// QualityState returns one number's state.
	QualityState(ctx context.Context, number kontor.ID) (QualityState, error)
	// QualitySignals counts a number's signals: people reached and blocks
	// since since, the business's initiated reach since reachSince.
	QualitySignals(ctx context.Context, number kontor.ID, since, reachSince time.Time) (Signals, error)
	// ChangeQuality applies c if the number's Seq is still c.Seq, and
	// enqueues its events to the business's webhook URL (signed by its
	// first app) in the same transaction. It reports whether it applied.
	ChangeQuality(ctx context.Context, c QualityChange) (bool, error)
}

// Quality rates business numbers and moves their tiers.
type Quality struct {
	store QualityStore
	rules QualityRules
	clock kontor.Clock
}

// NewQuality returns the rater; zero rules are DefaultQualityRules.
func NewQuality(st QualityStore, rules QualityRules, clock kontor.Clock) *Quality {
	if rules == (QualityRules{}) {
		rules = DefaultQualityRules()
	}
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Quality{store: st, rules: rules, clock: clock}
}

// Evaluate applies the rule to one number and stores what changed with
// its webhooks. It reports the change when there was one.
func (q *Quality) Evaluate(ctx context.Context, n QualityState) (QualityChange, bool, error) {
	now := q.clock.Now()
	since := now.Add(-q.rules.Window)
	reachSince := since
	if n.TierChanged.After(reachSince) {
		reachSince = n.TierChanged
	}
	s, err := q.store.QualitySignals(ctx, n.ID, since, reachSince)
	if err != nil {
		return QualityChange{}, false, err
	}
	quality, tier := q.rules.Decide(n, s, now)
	c, ok, err := NewQualityChange(n, quality, tier, now)
	if err != nil || !ok {
		return QualityChange{}, false, err
	}
	applied, err := q.store.ChangeQuality(ctx, c)
	if err != nil || !applied {
		return QualityChange{}, false, err
	}
	return c, true, nil
}

// Sweep evaluates every number, and returns the changes it made. Running
// it again with nothing new changes nothing; two nodes sweeping at once
// change each number once (the loser's change finds a newer Seq).
func (q *Quality) Sweep(ctx context.Context) ([]QualityChange, error) {
	var out []QualityChange
	var after kontor.ID
	for {
		ns, err := q.store.QualityStates(ctx, after, 200)
		if err != nil {
			return out, err
		}
		for _, n := range ns {
			c, ok, err := q.Evaluate(ctx, n)
			if err != nil {
				return out, err
			}
			if ok {
				out = append(out, c)
			}
		}
		if len(ns) < 200 {
			return out, nil
		}
		after = ns[len(ns)-1].ID
	}
}

// SetQuality makes SetTier go through q, so that the operator's tier
// changes send their webhooks too.
func (s *Service) SetQuality(q *Quality) { s.quality = q }

// SetTier sets a number's tier by the operator's decision, with the
// UPGRADE or DOWNGRADE webhook; the rule moves it from there.
func (q *Quality) SetTier(ctx context.Context, number kontor.ID, tier string) error {
	const op = "business.SetTier"
	if !tiers[tier] {
		return kontor.Errorf(kontor.Invalid, op, "tier must be one of TIER_50, TIER_250, TIER_1K, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED")
	}
	for range 5 { // retried when a sweep changed the number meanwhile
		n, err := q.store.QualityState(ctx, number)
		if err != nil {
			return err
		}
		c, ok, err := NewQualityChange(n, n.Quality, tier, q.clock.Now())
		if err != nil || !ok {
			return err
		}
		applied, err := q.store.ChangeQuality(ctx, c)
		if err != nil || applied {
			return err
		}
	}
	return kontor.Errorf(kontor.Conflict, op, "the number %s kept changing; try again", number)
}
