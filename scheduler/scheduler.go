// Package scheduler runs zhibu's periodic jobs (health-check evaluation,
// period-start prompts, points settlement) on gocron v2. Only the elected
// leader runs them (an Elector on a PostgreSQL advisory lock); each job runs
// in singleton mode, so a slow run is never overlapped by the next, and a
// panicking job is recovered and logged instead of killing the process. The
// clock is injectable so tests advance time exactly.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/internal/clock"
)

// Job is one periodic task. Task receives the scheduler clock's instant, so
// that rules evaluated inside it are exact under a fake clock.
type Job struct {
	Name string
	// Every runs the job at this interval (0 = use Cron).
	Every time.Duration
	// Cron is a crontab line in the scheduler's location, e.g. "5 0 1 * *".
	Cron string
	Task func(ctx context.Context, now time.Time) error
}

// Scheduler wraps a gocron scheduler.
type Scheduler struct {
	s       gocron.Scheduler
	clock   clockwork.Clock
	log     *slog.Logger
	ctx     context.Context
	elector gocron.Elector
}

// leaderContexter is an elector that can tie a job's context to the
// leadership it runs under (leader.Elector): the job's context carries the
// fencing token and is cancelled as soon as the leadership is lost.
type leaderContexter interface {
	LeaderContext(ctx context.Context) (context.Context, context.CancelFunc, bool)
}

// Options configure New.
type Options struct {
	Location *time.Location
	Clock    clockwork.Clock // nil = wall clock
	Elector  gocron.Elector  // nil = this process always runs jobs
	Log      *slog.Logger
}

// New builds a scheduler with the given jobs; Start runs it.
func New(ctx context.Context, o Options, jobs ...Job) (*Scheduler, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	opts := []gocron.SchedulerOption{gocron.WithLocation(o.Location), gocron.WithClock(o.Clock), gocron.WithLogger(o.Log),
		gocron.WithStopTimeout(30 * time.Second)}
	if o.Elector != nil {
		opts = append(opts, gocron.WithDistributedElector(o.Elector))
	}
	gs, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s := &Scheduler{s: gs, clock: o.Clock, log: o.Log, ctx: ctx, elector: o.Elector}
	for _, j := range jobs {
		if err := s.add(j); err != nil {
			_ = gs.Shutdown()
			return nil, err
		}
	}
	return s, nil
}

func (s *Scheduler) add(j Job) error {
	var def gocron.JobDefinition
	switch {
	case j.Every > 0:
		def = gocron.DurationJob(j.Every)
	case j.Cron != "":
		def = gocron.CronJob(j.Cron, false)
	default:
		return nil // disabled (e.g. healthcheck.every = 0)
	}
	_, err := s.s.NewJob(def, gocron.NewTask(func() { s.run(j) }), gocron.WithName(j.Name),
		gocron.WithSingletonMode(gocron.LimitModeReschedule))
	if err != nil {
		return fmt.Errorf("scheduler: job %s: %w", j.Name, err)
	}
	return nil
}

// run executes one job run with panics recovered.
func (s *Scheduler) run(j Job) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("job panicked", slog.String("job", j.Name), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		}
	}()
	now := s.clock.Now()
	start := clock.Monotonic()
	ctx := s.ctx
	if lc, ok := s.elector.(leaderContexter); ok {
		// gocron asked IsLeader just before; a job that finds leadership
		// gone since is not run, and one running stops when it is lost.
		lctx, cancel, leading := lc.LeaderContext(ctx)
		defer cancel()
		if !leading {
			s.log.Info("job skipped: leadership lost", slog.String("job", j.Name))
			return
		}
		ctx = lctx
	}
	if err := j.Task(ctx, now); err != nil {
		s.log.Error("job failed", slog.String("job", j.Name), slog.Any("err", err))
		return
	}
	s.log.Debug("job done", slog.String("job", j.Name), slog.Duration("took", time.Since(start)))
}

// Start starts running jobs.
func (s *Scheduler) Start() { s.s.Start() }

// Shutdown stops the scheduler, waiting for running jobs.
func (s *Scheduler) Shutdown() error { return s.s.Shutdown() }

// Jobs returns the number of scheduled jobs (tests wait for their timers).
func (s *Scheduler) Jobs() int { return len(s.s.Jobs()) }
