package server

import (
	"context"
	"time"

	"github.com/kontor-chat/kontor"
)

// qualitySweeps evaluates the quality rating and messaging-limit tier of
// every business number every cfg.QualityEvery (business.Quality), until
// ctx ends. Each change is stored with its phone_number_quality_update
// webhooks in one transaction; the deliverer is told at once.
func (s *Server) qualitySweeps(ctx context.Context) {
	t := time.NewTicker(s.cfg.QualityEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cs, err := s.quality.Sweep(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("evaluating business numbers' quality failed", "err", err)
			}
			if len(cs) > 0 {
				s.hooks.Notify()
			}
			for _, c := range cs {
				s.log.Info("business number quality changed", "number", c.Number, "quality", c.Quality, "old_quality", c.OldQuality,
					"tier", c.Tier, "old_tier", c.OldTier)
			}
		}
	}
}

// reports takes people's reports of business numbers (gateway.Reporter).
type reports struct{ s *Server }

// Report records a report of a business number.
func (r reports) Report(ctx context.Context, account kontor.ID, phone kontor.Phone) error {
	if _, err := r.s.db.NumberByPhone(ctx, phone); err != nil {
		return err
	}
	return r.s.db.Report(ctx, account, phone, time.Now())
}
