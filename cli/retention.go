package cli

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/scheduler"
)

// RetentionCron runs the retention job hourly at minute 23: it makes the
// partitions of the months ahead and drops the ones past their window
// (SPEC §7.7). Hourly, so that a new leader soon catches up what a stopped
// one missed; a run with nothing to do reads only the catalogue.
const RetentionCron = "23 * * * *"

// retentionJobs is the retention job (leader only, as every job).
func retentionJobs(s *Server) []scheduler.Job {
	return []scheduler.Job{{
		Name: "retention",
		Cron: RetentionCron,
		Task: func(ctx context.Context, now time.Time) error {
			return s.App.ApplyRetention(ctx, domain.System, now)
		},
	}}
}
