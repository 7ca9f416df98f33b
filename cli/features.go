package cli

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/scheduler"
)

// jobSets give the scheduler's jobs; each feature file adds itself in init.
var jobSets []func(s *Server) []scheduler.Job

// startBackground starts delivery and the scheduler (leader-elected).
func startBackground(ctx context.Context, s *Server, reg prometheus.Registerer) {
	var jobs []scheduler.Job
	for _, f := range jobSets {
		jobs = append(jobs, f(s)...)
	}
	sch, err := scheduler.New(ctx, scheduler.Options{Location: s.Config.Location(), Clock: s.Clock, Log: s.log}, jobs...)
	if err != nil {
		s.log.Error("scheduler", slog.Any("err", err))
		return
	}
	s.Scheduler = sch
	sch.Start()
	s.shutdown = append(s.shutdown, func() { _ = sch.Shutdown() })
}
