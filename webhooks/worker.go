package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/delivery"
	"github.com/zhibu/zhibu/internal/pgnotify"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/storage"
)

// Options tune a Worker. Zero fields take the defaults shown.
type Options struct {
	// MaxAttempts bounds the attempts of one delivery, and the deliveries
	// in a row that may fail for good before the subscription is disabled
	// (config webhooks.max_attempts, 8).
	MaxAttempts int
	Timeout     time.Duration // one request (webhooks.timeout, 10s)

	PollInterval time.Duration // look for new events and due retries at least this often (1s)
	// ListenURL is the database URL for LISTEN events; empty means polling only.
	ListenURL string
	// ListenDialer dials the LISTEN connection: storage.NewDialer of the
	// database.* bounds, so a partition is noticed on it as on the pool
	// (nil: lib/pq's default dialer, no keepalive).
	ListenDialer pq.Dialer

	Workers     int           // concurrent requests, one per subscription at most (8)
	BackoffBase time.Duration // first retry delay (30s), doubled per failed attempt
	BackoffMax  time.Duration // (1h)
	Batch       int           // events fanned out per subscription and round (500)
	Lease       time.Duration // a 'sending' delivery is taken back after this (2·Timeout + 10s)
	// MaintainEvery is how often expired leases are recovered and the queue
	// gauges refreshed (5s).
	MaintainEvery time.Duration

	// AllowPrivateTargets lets the default client reach loopback, private
	// and link-local addresses (webhooks.allow_private_targets, false).
	AllowPrivateTargets bool
	// Client sends the requests (default: safedial.Client, no redirects
	// followed, non-public addresses refused unless AllowPrivateTargets).
	Client *http.Client
	// Now is the clock for scheduling (clock.Real().Now). Signatures always carry
	// the wall clock: the receiver checks them against its own.
	Now func() time.Time
}

// FromConfig maps the webhooks section of the configuration.
func FromConfig(c config.Webhooks) Options {
	return Options{MaxAttempts: c.MaxAttempts, Timeout: c.Timeout.D(), AllowPrivateTargets: c.AllowPrivateTargets}
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	def(&o.Timeout, 10*time.Second)
	def(&o.PollInterval, time.Second)
	def(&o.BackoffBase, 30*time.Second)
	def(&o.BackoffMax, time.Hour)
	def(&o.Lease, 2*o.Timeout+10*time.Second)
	def(&o.MaintainEvery, 5*time.Second)
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Client == nil {
		o.Client = safedial.Client(o.AllowPrivateTargets)
	}
	if o.Now == nil {
		o.Now = clock.Real().Now
	}
	return o
}

// Worker fans events out to subscriptions and delivers them. Create it
// with New, run it with Run under leader.Run.
type Worker struct {
	store *storage.Store
	opts  Options
	log   *slog.Logger
	m     *metrics

	running atomic.Bool
	wake    chan struct{}
}

// New returns a worker; its metrics are registered on reg (nil: not registered).
func New(store *storage.Store, opts Options, log *slog.Logger, reg prometheus.Registerer) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, opts: opts.withDefaults(), log: log.With(slog.String("component", "webhooks")),
		m: newMetrics(reg), wake: make(chan struct{}, 1)}
}

// Options returns the effective options.
func (w *Worker) Options() Options { return w.opts }

// Wake makes a waiting worker look for events and due deliveries now.
func (w *Worker) Wake() { pgnotify.Signal(w.wake) }

// Run delivers until ctx is done, then finishes the requests in flight and
// records them. It never stops on a database or network error; under
// leader.Run it stops, with an error wrapping storage.ErrStaleLeader, when
// a claim finds that another replica has taken over.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("webhooks: worker already running")
	}
	defer w.running.Store(false)
	if w.opts.ListenURL != "" {
		stop := pgnotify.Listen(ctx, w.opts.ListenURL, w.opts.ListenDialer, "events", w.wake, w.log)
		defer stop()
	}
	_, err := w.loop(ctx, true)
	return err
}

// RunOnce fans out the events committed so far and makes one attempt of
// every delivery due now (a retry scheduled for later stays). It returns
// the number of attempts made.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if !w.running.CompareAndSwap(false, true) {
		return 0, errors.New("webhooks: worker already running")
	}
	defer w.running.Store(false)
	return w.loop(ctx, false)
}

func (w *Worker) loop(ctx context.Context, forever bool) (int, error) {
	var attempts atomic.Int64
	pool := delivery.NewPool(w.opts.Workers, func(j storage.WebhookJob) {
		w.deliver(ctx, j)
		attempts.Add(1)
	})
	defer pool.Close()

	// Under leader.Run every claim carries the leadership's fencing epoch:
	// the database refuses it once another replica has taken over.
	fence := delivery.Fence(ctx)
	if fence.Epoch != 0 {
		w.recoverFromOldLeaders(ctx, fence)
	}
	w.maintain(ctx)
	nextMaintain := clock.Monotonic().Add(w.opts.MaintainEvery)
	// RunOnce fans out and claims as of its start: a retry it schedules is
	// due later than that, so each delivery gets one attempt.
	start := w.opts.Now()
	dbErrors := 0
	poll := time.NewTimer(w.opts.PollInterval)
	defer poll.Stop()
	for ctx.Err() == nil {
		if clock.Monotonic().After(nextMaintain) {
			w.maintain(ctx)
			nextMaintain = clock.Monotonic().Add(w.opts.MaintainEvery)
		}
		now := start
		if forever {
			now = w.opts.Now()
		}
		claimed, err := w.round(ctx, now, fence, pool)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, storage.ErrStaleLeader) {
				// Not the leader any more: stop claiming; the requests in
				// flight finish and are recorded (the deferred wait), and
				// leader.Run notices too.
				w.log.Warn("webhooks: leadership superseded; stopping delivery", slog.Any("err", err))
				return int(attempts.Load()), fmt.Errorf("webhooks: %w", err)
			}
			dbErrors++
			if dbErrors == 1 || dbErrors%20 == 0 {
				w.log.Warn("webhooks: database error", slog.Int("times", dbErrors), slog.Any("err", err))
			}
			if !forever && dbErrors >= 3 {
				return int(attempts.Load()), fmt.Errorf("webhooks: %w", err)
			}
			_ = delivery.Sleep(ctx, max(time.Second, w.opts.PollInterval))
			continue
		}
		dbErrors = 0
		if !forever && claimed == 0 && pool.InFlight() == 0 {
			break
		}
		if claimed > 0 && pool.Free() > 0 {
			continue // there may be more due right away
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(w.opts.PollInterval)
		select {
		case <-pool.Finished():
		case <-w.wake:
		case <-poll.C:
		case <-ctx.Done():
		}
	}
	return int(attempts.Load()), nil
}

// round fans out new events and claims as many deliveries due at now as
// the pool has free workers, under fence.
func (w *Worker) round(ctx context.Context, now time.Time, fence storage.LeaderFence, pool *delivery.Pool[storage.WebhookJob]) (int, error) {
	// Not cancelled by ctx: a statement cancelled after the server ran it
	// would leave claimed rows for the lease to bring back.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for range 100 {
		n, more, err := w.store.FanOutWebhookEvents(qctx, w.opts.Batch, now)
		if err != nil {
			return 0, err
		}
		w.m.fannedOut.Add(float64(n))
		if !more {
			break
		}
	}
	room := pool.Free()
	if room <= 0 {
		return 0, nil
	}
	js, err := w.store.ClaimWebhookDeliveries(qctx, now, w.opts.Now().Add(w.opts.Lease), room, fence)
	if err != nil {
		return 0, err
	}
	for _, j := range js {
		pool.Submit(j)
	}
	return len(js), nil
}

// recoverFromOldLeaders puts back at once the deliveries a previous leader
// had in flight: it is gone (this leadership superseded it), and waiting
// out their lease would hold their subscriptions up.
func (w *Worker) recoverFromOldLeaders(ctx context.Context, fence storage.LeaderFence) {
	n, err := w.store.RecoverWebhookFromOldLeaders(ctx, fence)
	switch {
	case err != nil:
		w.log.Warn("webhooks: recovering a previous leader's deliveries failed; they wait for their lease", slog.Any("err", err))
	case n > 0:
		w.log.Warn("webhooks: deliveries taken back from a previous leader", slog.Int64("deliveries", n), slog.Int64("epoch", fence.Epoch))
	}
}

// maintain takes back expired leases and refreshes the gauges.
func (w *Worker) maintain(ctx context.Context) {
	now := w.opts.Now()
	if n, err := w.store.RecoverWebhookLeases(ctx, now); err != nil {
		w.log.Warn("webhooks: lease recovery failed", slog.Any("err", err))
	} else if n > 0 {
		w.log.Warn("webhooks: deliveries taken back from a dead worker", slog.Int64("deliveries", n))
	}
	if st, err := w.store.WebhookQueue(ctx, now); err != nil {
		w.log.Warn("webhooks: queue stats failed", slog.Any("err", err))
	} else {
		w.m.pending.Set(float64(st.Pending))
		w.m.inFlight.Set(float64(st.Sending))
		w.m.oldest.Set(st.OldestDue)
	}
}

// deliver makes one attempt and records it.
func (w *Worker) deliver(ctx context.Context, j storage.WebhookJob) {
	log := w.log.With(slog.Int64("delivery_id", j.ID), slog.Int64("subscription_id", j.SubscriptionID),
		slog.Int64("event_id", j.EventID), slog.String("event_type", j.EventType), slog.Int("attempt", j.Attempt))
	started := w.opts.Now()
	a := attempt(ctx, w.opts.Client, w.opts.Timeout, j, clock.Monotonic())
	rec := storage.WebhookAttempt{DeliveryID: j.ID, Attempt: j.Attempt, At: started, StatusCode: a.status, Error: a.err, Duration: a.took}
	out := storage.WebhookOutcome{Delivered: a.ok, MaxFailures: w.opts.MaxAttempts}
	label := "delivered"
	switch {
	case a.ok:
	case a.retry && j.Attempt < w.opts.MaxAttempts:
		out.Retry = true
		out.NextAttempt = w.opts.Now().Add(max(w.backoff(j.Attempt), min(a.retryAfter, w.opts.BackoffMax)))
		label = "retry"
	default:
		label = "failed"
	}
	w.m.attempts.WithLabelValues(label).Inc()
	w.m.latency.Observe(a.took.Seconds())
	var res storage.WebhookResult
	w.write("record", func(ctx context.Context) error {
		var err error
		res, err = w.store.RecordWebhookAttempt(ctx, rec, out)
		return err
	})
	switch {
	case a.ok:
		log.Debug("webhook delivered", slog.Int("status", a.status), slog.Duration("took", a.took))
	case out.Retry:
		log.Info("webhook attempt failed, will retry", slog.Int("status", a.status), slog.String("error", a.err), slog.Time("next_attempt", out.NextAttempt))
	default:
		log.Warn("webhook delivery failed", slog.Int("status", a.status), slog.String("error", a.err))
	}
	if res.Disabled {
		w.m.disabled.Inc()
		log.Warn("webhook subscription disabled after failed deliveries in a row", slog.Int("max_attempts", w.opts.MaxAttempts))
	}
}

// backoff is the delay before the attempt after attempt (delivery.Backoff
// of BackoffBase and BackoffMax).
func (w *Worker) backoff(attempt int) time.Duration {
	return delivery.Backoff(w.opts.BackoffBase, w.opts.BackoffMax, attempt)
}

// write records a result outside the worker's context, retrying over a
// database blip (delivery.Write); if it still fails the lease brings the
// delivery back.
func (w *Worker) write(what string, fn func(ctx context.Context) error) {
	if err := delivery.Write(fn); err != nil {
		w.log.Error("webhooks: could not record a result; the delivery is retried after its lease", slog.String("op", what), slog.Any("err", err))
	}
}
