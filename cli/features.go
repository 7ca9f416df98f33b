package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/scheduler"
	"github.com/zhibu/zhibu/webhooks"
)

// jobs is the scheduler's whole job table.
func jobs(s *Server) []scheduler.Job {
	return slices.Concat(healthcheckJobs(s), pointsJobs(s), retentionJobs(s))
}

// startBackground starts outbound delivery and the scheduler. Both run only
// on the replica holding the PostgreSQL advisory lock, so Telegram's limits
// and the jobs' at-most-once hold across replicas; another replica takes
// over within seconds when the leader's connection dies. A scheduler that
// cannot start stops serve: a replica without its jobs would look healthy
// and never send a reminder.
func startBackground(ctx context.Context, s *Server, reg prometheus.Registerer) error {
	el := leader.NewElector(app.SQLDB(s.Store), leader.Key("zhibu"), s.log)
	s.Elector = el
	// LISTEN connections get the pool's bounds and dialer (SPEC §7.7).
	listenURL, listenDialer := app.ListenConn(s.Config)
	opts := outbox.FromConfig(s.Config.Delivery)
	opts.ListenURL, opts.ListenDialer = listenURL, listenDialer
	// One dispatcher, one loop per channel: Telegram; the group robots
	// (WeCom, DingTalk, Feishu), each paced at its platform's own rate; the
	// signed outbound webhooks from the events table.
	s.Outbox = outbox.New(s.Store, outbox.NewTelegram(s.Bot), opts, s.log, reg)
	for _, ch := range outbox.NewRobotChannels(s.Store, safedial.Client(s.Config.Webhooks.AllowPrivateTargets)) {
		s.Outbox.Add(outbox.NewLane(s.Store, ch, outbox.RobotOptions(ch.Name(), opts), s.log, reg))
	}
	wopts := webhooks.FromConfig(s.Config.Webhooks)
	wopts.ListenURL, wopts.ListenDialer = listenURL, listenDialer
	s.Outbox.Add(webhooks.NewChannel(s.Store, wopts, s.log, reg))
	s.goBG(func() { _ = leader.Run(ctx, el, time.Second, s.Outbox.Run) })

	sch, err := scheduler.New(ctx, scheduler.Options{Location: s.Config.Location(), Clock: s.Clock, Elector: el, Log: s.log}, jobs(s)...)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	s.Scheduler = sch
	sch.Start()
	s.shutdown = append(s.shutdown, func() { _ = sch.Shutdown() })
	return nil
}
