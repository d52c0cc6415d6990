package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/kontor-chat/kontor"
)

// StoredRules is a rule set imported at run time, as the store keeps it:
// its date, the set as JSON, and when it was imported. Stored sets are
// never edited or deleted; a change is a new set with a later date.
type StoredRules struct {
	Effective string    `json:"effective"` // YYYY-MM-DD
	Body      []byte    `json:"-"`         // the set, JSON
	Imported  time.Time `json:"imported"`
}

// RuleStore keeps the rule sets imported at run time. Implemented by
// internal/store.
type RuleStore interface {
	// AddRuleSets stores sets, oldest first, all or none: a
	// kontor.Conflict when a stored set has the date of one of them or a
	// later one (sets are only ever added after the newest).
	AddRuleSets(ctx context.Context, sets []StoredRules) error
	// RuleSets lists the stored sets, oldest first.
	RuleSets(ctx context.Context) ([]StoredRules, error)
}

// bookState is what a book holds at one time: the sets in force, and
// which of them were imported.
type bookState struct {
	sets     []RuleSet
	imported []StoredRules
}

// NewStoredRuleBook makes a book of the seed sets (--billing-rules) and
// the sets imported into st: from the first imported set's date the
// imported sets decide, and seed sets dated on or after it are left out.
// Reload (or Follow) picks up sets imported later, on any node.
func NewStoredRuleBook(ctx context.Context, seed []RuleSet, st RuleStore) (*RuleBook, error) {
	b, err := NewRuleBook(seed)
	if err != nil {
		return nil, err
	}
	b.store = st
	return b, b.Reload(ctx)
}

// Reload reads the imported sets from the store again.
func (b *RuleBook) Reload(ctx context.Context) error {
	if b.store == nil {
		return nil
	}
	stored, err := b.store.RuleSets(ctx)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		b.state.Store(&bookState{sets: b.seed})
		return nil
	}
	imported, err := parseStored(stored)
	if err != nil {
		return err
	}
	first := imported[0].from
	var sets []RuleSet
	for _, s := range b.seed {
		if s.from.Before(first) {
			sets = append(sets, s)
		}
	}
	b.state.Store(&bookState{sets: append(sets, imported...), imported: stored})
	return nil
}

func parseStored(stored []StoredRules) ([]RuleSet, error) {
	bodies := make([]json.RawMessage, len(stored))
	for i, s := range stored {
		bodies[i] = s.Body
	}
	data, err := json.Marshal(bodies)
	if err != nil {
		return nil, kontor.Errorf(kontor.Internal, "billing.Reload", "the stored rule sets: %v", err)
	}
	sets, err := ParseRuleSets(data)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Internal, Op: "billing.Reload", Msg: "the stored rule sets", Err: err}
	}
	slices.SortFunc(sets, func(a, b RuleSet) int { return a.from.Compare(b.from) })
	return sets, nil
}

// Imported lists the sets imported at run time, oldest first (their
// bodies are in Sets).
func (b *RuleBook) Imported() []StoredRules { return slices.Clone(b.state.Load().imported) }

// Follow reloads the imported sets every interval until ctx ends, so that
// a set imported on another node decides here within that interval. A
// failed read keeps the sets it had and is logged.
func (b *RuleBook) Follow(ctx context.Context, every time.Duration, log *slog.Logger) {
	if b.store == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.Reload(ctx); err != nil && ctx.Err() == nil && log != nil {
				log.Warn("reloading the billing rules", "err", err)
			}
		}
	}
}

// Import adds the rule sets of data (a JSON array of sets, as for
// --billing-rules, or one set) to the store, validated whole: each must
// start on a day that has not begun at now (UTC), and after every set of
// the book (a kontor.Conflict otherwise: sets are added, never edited or
// put between others). Nothing is stored when anything is wrong.
func (b *RuleBook) Import(ctx context.Context, data []byte, now time.Time) ([]RuleSet, error) {
	const op = "billing.ImportRules"
	if b.store == nil {
		return nil, kontor.Errorf(kontor.Unavailable, op, "this book of rules is not kept in a store")
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		data = append(append([]byte{'['}, trimmed...), ']')
	}
	sets, err := ParseRuleSets(data)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sets, func(a, b RuleSet) int { return a.from.Compare(b.from) })
	if err := b.Reload(ctx); err != nil {
		return nil, err
	}
	today := now.UTC().Truncate(24 * time.Hour)
	for _, s := range sets {
		if !s.from.After(today) {
			return nil, kontor.Errorf(kontor.Invalid, op, "the set effective %s starts on a day that has begun (today is %s, UTC): a new set starts on %s or later, so that no message already sent is decided again",
				s.Effective, today.Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly))
		}
	}
	cur := b.Sets()
	if newest := cur[len(cur)-1]; !sets[0].from.After(newest.from) {
		return nil, kontor.Errorf(kontor.Conflict, op, "the book has a set effective %s: a new set must start after it (sets are added after the newest, never in place of one or between two)",
			newest.Effective)
	}
	stored := make([]StoredRules, len(sets))
	for i, s := range sets {
		body, err := json.Marshal(s)
		if err != nil {
			return nil, kontor.Errorf(kontor.Internal, op, "encoding the set %s: %v", s.Effective, err)
		}
		stored[i] = StoredRules{Effective: s.Effective, Body: body, Imported: now.UTC()}
	}
	if err := b.store.AddRuleSets(ctx, stored); err != nil {
		return nil, err
	}
	if err := b.Reload(ctx); err != nil {
		return nil, fmt.Errorf("the sets were imported; reading them back: %w", err)
	}
	return sets, nil
}
