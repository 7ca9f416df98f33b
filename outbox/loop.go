package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/delivery"
	"github.com/zhibu/zhibu/internal/pgnotify"
	"github.com/zhibu/zhibu/storage"
)

// A Lane is one channel of delivery as the Dispatcher drives it. The loop
// is the Dispatcher's, the same for every lane: a worker pool, claims as
// workers free up, wake-ups (LISTEN, polling, a finished job), the
// leader's fence and a stop after database errors under a superseded
// leadership, maintenance at a steady pace, a stop that records what is in
// flight. The lane says what differs: how its jobs are claimed, finished
// and taken back in its store, how one is sent, how it is retried, and
// its metrics. NewLane makes one of a Channel over the outbox table
// (Telegram, the group robots); package webhooks makes one over its
// deliveries.
type Lane interface {
	// Name prefixes the errors Run returns ("outbox", "webhooks").
	Name() string
	// Loop is how the dispatcher runs the lane.
	Loop() LoopOptions
	// Begin starts a run, before its first claim, under the run's fence
	// (zero outside leader.Run): a lane takes back at once what older
	// leaderships had in flight and does its first maintenance. once: the
	// run is RunOnce's. end is called when the run's jobs have finished.
	Begin(ctx context.Context, fence storage.LeaderFence, once bool) (end func())
	// Maintain takes back expired leases and refreshes the gauges; it is
	// called every LoopOptions.MaintainEvery.
	Maintain(ctx context.Context)
	// Claim claims at most room jobs due now under fence (an error wrapping
	// storage.ErrStaleLeader once another replica has taken over). next is
	// when jobs it held back (a busy chat, a pause) may be claimed, zero
	// when it knows of none.
	Claim(ctx context.Context, room int, fence storage.LeaderFence) (jobs []Job, next time.Time, err error)
}

// A Job sends one claimed item and records its outcome outside ctx (a
// stop must not lose the result of a call made). It reports whether the
// item was delivered.
type Job func(ctx context.Context) bool

// LoopOptions are a lane's settings of the dispatcher's loop.
type LoopOptions struct {
	Workers       int           // jobs in hand at once
	PollInterval  time.Duration // claim at least this often
	MaintainEvery time.Duration // Lane.Maintain's period
	// ListenURL, ListenDialer, ListenChannel: LISTEN on the channel wakes
	// the lane (Run only; empty URL: polling only).
	ListenURL     string
	ListenDialer  pq.Dialer
	ListenChannel string
	Log           *slog.Logger
}

// Dispatcher runs lanes: the Telegram channel, the group robots and the
// outbound webhooks are lanes of one Dispatcher, run by one Run under one
// leader.Run. Each lane has a loop of its own (the same code), so that a
// slow store or receiver of one never holds up another's claims.
type Dispatcher struct {
	lanes []Lane
	wakes []chan struct{}

	running atomic.Bool
}

// NewDispatcher returns a dispatcher of lanes.
func NewDispatcher(lanes ...Lane) *Dispatcher {
	d := &Dispatcher{}
	for _, l := range lanes {
		d.Add(l)
	}
	return d
}

// Add adds a lane; call it before Run. A lane belongs to one dispatcher
// (it keeps the state of the run under way).
func (d *Dispatcher) Add(l Lane) {
	d.lanes = append(d.lanes, l)
	d.wakes = append(d.wakes, make(chan struct{}, 1))
}

// Options returns the effective options of its first lane over the
// outbox table (zero when it has none).
func (d *Dispatcher) Options() Options {
	for _, l := range d.lanes {
		if r, ok := l.(*rowLane); ok {
			return r.opts
		}
	}
	return Options{}
}

// Wake makes every waiting lane look for due jobs now (LISTEN does the
// same across processes).
func (d *Dispatcher) Wake() {
	for _, w := range d.wakes {
		pgnotify.Signal(w)
	}
}

// Run delivers on every lane until ctx is done, then puts back the jobs
// not started, finishes those in flight and records their results. It
// returns nil after a clean stop; it never stops on a database or network
// error (it logs, backs off and goes on). Under leader.Run it stops, with
// an error wrapping storage.ErrStaleLeader, when a claim of any lane finds
// that another replica has taken over.
func (d *Dispatcher) Run(ctx context.Context) error {
	_, err := d.run(ctx, false)
	return err
}

// RunOnce delivers every job that is due now on every lane, paced like
// Run, and returns when none is left that could go out within a few
// seconds (jobs waiting for a later time, a back-off or a long 429 pause
// stay). It returns the number delivered.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	return d.run(ctx, true)
}

func (d *Dispatcher) run(ctx context.Context, once bool) (int, error) {
	if !d.running.CompareAndSwap(false, true) {
		return 0, errors.New("outbox: dispatcher already running")
	}
	defer d.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var delivered atomic.Int64
	errs := make([]error, len(d.lanes))
	var wg sync.WaitGroup
	for i, l := range d.lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := runLane(ctx, l, d.wakes[i], once)
			delivered.Add(int64(n))
			errs[i] = err
			if errors.Is(err, storage.ErrStaleLeader) {
				cancel() // the whole leadership is gone, not one lane's
			}
		}()
	}
	wg.Wait()
	return int(delivered.Load()), errors.Join(errs...)
}

// onceMaxWait: RunOnce waits for a busy chat or a pause at most this long.
const onceMaxWait = 5 * time.Second

// fullWait bounds how long a saturated lane gathers free workers before
// it claims again.
const fullWait = 50 * time.Millisecond

// minClaimGap spaces claims so that a stream of completions does not turn
// into one query per message.
const minClaimGap = 5 * time.Millisecond

// A claim that found less than it had room for is not repeated sooner than
// claimDuty times its own duration (at most maxClaimGap): with a large
// backlog held back by pacing, each claim walks many waiting rows, and
// claiming on every wake-up would spend the database on finding nothing.
const (
	claimDuty   = 4
	maxClaimGap = 200 * time.Millisecond
)

// runLane is the loop: it claims l's jobs as its workers free up and runs
// them, until ctx is done (once: until nothing is left to do soon).
func runLane(ctx context.Context, l Lane, wake chan struct{}, once bool) (int, error) {
	o := l.Loop()
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.ListenURL != "" && !once {
		stop := pgnotify.Listen(ctx, o.ListenURL, o.ListenDialer, o.ListenChannel, wake, log)
		defer stop()
	}
	var delivered atomic.Int64
	pool := delivery.NewPool(o.Workers, func(j Job) {
		if j(ctx) {
			delivered.Add(1)
		}
	})
	// Under leader.Run every claim carries the leadership's fencing epoch:
	// the database refuses it once another replica has taken over.
	fence := delivery.Fence(ctx)
	end := l.Begin(ctx, fence, once)
	defer func() {
		pool.Close() // the jobs in flight finish and are recorded
		end()
	}()

	nextMaintain := clock.Monotonic().Add(o.MaintainEvery)
	var lastClaim time.Time
	claimGap := minClaimGap
	dbErrors := 0
	poll := time.NewTimer(o.PollInterval)
	defer poll.Stop()
	for ctx.Err() == nil {
		if clock.Monotonic().After(nextMaintain) {
			l.Maintain(ctx)
			nextMaintain = clock.Monotonic().Add(o.MaintainEvery)
		}
		if gap := time.Since(lastClaim); gap < claimGap {
			_ = delivery.Sleep(ctx, claimGap-gap)
		}
		room := pool.Free()
		claimed, full := 0, false
		var next time.Time // when a job held back may be claimed
		if room > 0 {
			lastClaim = clock.Monotonic()
			jobs, at, err := l.Claim(ctx, room, fence)
			next = at
			claimGap = minClaimGap
			if took := time.Since(lastClaim); err == nil && len(jobs) < room {
				claimGap = min(max(minClaimGap, claimDuty*took), maxClaimGap)
			}
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				if errors.Is(err, storage.ErrStaleLeader) {
					// Not the leader any more: stop claiming; the jobs in
					// flight finish and are recorded, and leader.Run
					// notices too.
					log.Warn(l.Name()+": leadership superseded; stopping delivery", slog.Any("err", err))
					return int(delivered.Load()), fmt.Errorf("%s: %w", l.Name(), err)
				}
				dbErrors++
				if dbErrors == 1 || dbErrors%20 == 0 {
					log.Warn(l.Name()+": claim failed", slog.Int("times", dbErrors), slog.Any("err", err))
				}
				if once && dbErrors >= 3 {
					return int(delivered.Load()), fmt.Errorf("%s: %w", l.Name(), err)
				}
				_ = delivery.Sleep(ctx, max(time.Second, o.PollInterval))
				continue
			}
			dbErrors = 0
			for _, j := range jobs {
				pool.Submit(j)
			}
			claimed = len(jobs)
			full = claimed >= room
		}
		if once && claimed == 0 && pool.InFlight() == 0 && (next.IsZero() || time.Until(next) > onceMaxWait) {
			break
		}
		if full {
			// Every worker is busy: wait until a quarter of them are free
			// (or fullWait passed), so that claims come in batches rather
			// than one query per finished job.
			want := max(1, o.Workers/4)
			deadline := time.NewTimer(fullWait)
		wait:
			for pool.Free() < want {
				select {
				case <-pool.Finished():
				case <-deadline.C:
					break wait
				case <-ctx.Done():
					break wait
				}
			}
			deadline.Stop()
			continue
		}
		var nextC <-chan time.Time
		var nextT *time.Timer
		if !next.IsZero() {
			nextT = time.NewTimer(max(time.Until(next), minClaimGap))
			nextC = nextT.C
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(o.PollInterval)
		select {
		case <-pool.Finished():
		case <-wake:
		case <-poll.C:
		case <-nextC:
		case <-ctx.Done():
		}
		if nextT != nil {
			nextT.Stop()
		}
	}
	return int(delivered.Load()), nil
}
