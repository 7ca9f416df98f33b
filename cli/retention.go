package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/scheduler"
)

// RetentionCron runs the retention job hourly at minute 23: it makes the
// partitions of the months ahead and drops the ones past their window
// (SPEC §7.7). Hourly, so that a new leader soon catches up what a stopped
// one missed; a run with nothing to do reads only the catalogue.
const RetentionCron = "23 * * * *"

// retentionLockWait bounds how long dropping a partition waits for its
// table's lock, which holds back the table's writers meanwhile; a run that
// cannot get it tries again an hour later.
const retentionLockWait = 500 * time.Millisecond

// retentionJobs is the retention job (leader only, as every job).
func retentionJobs(s *Server) []scheduler.Job {
	return []scheduler.Job{{
		Name: "retention",
		Cron: RetentionCron,
		Task: func(ctx context.Context, now time.Time) error {
			return runRetention(ctx, s.Store, now, s.Config.Retention, s.log)
		},
	}}
}

// runRetention applies retention once and logs what it made and dropped.
func runRetention(ctx context.Context, st *app.Store, now time.Time, r config.Retention, log *slog.Logger) error {
	rep, err := st.ApplyRetention(ctx, now, app.RetentionWindows(r), retentionLockWait)
	for _, p := range rep.Made {
		log.Info("retention: partition made", slog.String("partition", p))
	}
	for _, p := range rep.Dropped {
		log.Info("retention: partition dropped", slog.String("partition", p))
	}
	for _, p := range rep.Kept {
		log.Warn("retention: partition past its window kept: it holds work not done yet", slog.String("partition", p))
	}
	return err
}
