package webhooks

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/delivery"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
)

// Channel is outbound webhooks as a lane of the outbox dispatcher
// (outbox.Lane): it fans events out to subscriptions and delivers them.
// Create it with NewChannel and add it to the dispatcher that serve runs
// under leader.Run.
type Channel struct {
	store *storage.Store
	opts  Options
	log   *slog.Logger
	m     *metrics

	// start is when a RunOnce run began: it fans out and claims as of then,
	// so a retry it schedules (due later) waits for the next run.
	start time.Time
	once  bool
}

// NewChannel returns the webhooks lane; its metrics are registered on reg
// (nil: not registered).
func NewChannel(store *storage.Store, opts Options, log *slog.Logger, reg prometheus.Registerer) *Channel {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Channel{store: store, opts: opts.withDefaults(), log: log.With(slog.String("component", "webhooks")), m: newMetrics(reg)}
}

// Options returns the effective options.
func (w *Channel) Options() Options { return w.opts }

// Name implements outbox.Lane.
func (w *Channel) Name() string { return "webhooks" }

// Loop implements outbox.Lane: LISTEN events (storage.AppendEvent
// notifies it) wakes the lane.
func (w *Channel) Loop() outbox.LoopOptions {
	return outbox.LoopOptions{
		Workers: w.opts.Workers, PollInterval: w.opts.PollInterval, MaintainEvery: w.opts.MaintainEvery,
		ListenURL: w.opts.ListenURL, ListenDialer: w.opts.ListenDialer, ListenChannel: "events", Log: w.log,
	}
}

// Begin implements outbox.Lane: it takes back the deliveries of older
// leaderships, then the expired leases.
func (w *Channel) Begin(ctx context.Context, fence storage.LeaderFence, once bool) (end func()) {
	w.start, w.once = w.opts.Now(), once
	if fence.Epoch != 0 {
		w.recoverFromOldLeaders(ctx, fence)
	}
	w.maintain(ctx)
	return func() {}
}

// Maintain implements outbox.Lane.
func (w *Channel) Maintain(ctx context.Context) { w.maintain(ctx) }

// Claim implements outbox.Lane: it fans new events out and claims as many
// due deliveries as there is room for (one per subscription at most).
func (w *Channel) Claim(ctx context.Context, room int, fence storage.LeaderFence) ([]outbox.Job, time.Time, error) {
	now := w.opts.Now()
	if w.once {
		now = w.start
	}
	// Not cancelled by ctx: a statement cancelled after the server ran it
	// would leave claimed rows for the lease to bring back.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for range 100 {
		n, more, err := w.store.FanOutWebhookEvents(qctx, w.opts.Batch, now)
		if err != nil {
			return nil, time.Time{}, err
		}
		w.m.fannedOut.Add(float64(n))
		if !more {
			break
		}
	}
	js, err := w.store.ClaimWebhookDeliveries(qctx, now, w.opts.Now().Add(w.opts.Lease), room, fence)
	if err != nil {
		return nil, time.Time{}, err
	}
	jobs := make([]outbox.Job, len(js))
	for i, j := range js {
		jobs[i] = func(ctx context.Context) bool { return w.deliver(ctx, j) }
	}
	return jobs, time.Time{}, nil
}

// recoverFromOldLeaders puts back at once the deliveries a previous leader
// had in flight: it is gone (this leadership superseded it), and waiting
// out their lease would hold their subscriptions up.
func (w *Channel) recoverFromOldLeaders(ctx context.Context, fence storage.LeaderFence) {
	n, err := w.store.RecoverWebhookFromOldLeaders(ctx, fence)
	switch {
	case err != nil:
		w.log.Warn("webhooks: recovering a previous leader's deliveries failed; they wait for their lease", slog.Any("err", err))
	case n > 0:
		w.log.Warn("webhooks: deliveries taken back from a previous leader", slog.Int64("deliveries", n), slog.Int64("epoch", fence.Epoch))
	}
}

// maintain takes back expired leases and refreshes the gauges.
func (w *Channel) maintain(ctx context.Context) {
	now := w.opts.Now()
	if n, err := w.store.RecoverWebhookLeases(ctx, now); err != nil {
		w.log.Warn("webhooks: lease recovery failed", slog.Any("err", err))
	} else if n > 0 {
		w.log.Warn("webhooks: deliveries taken back from a dead process", slog.Int64("deliveries", n))
	}
	if st, err := w.store.WebhookQueue(ctx, now); err != nil {
		w.log.Warn("webhooks: queue stats failed", slog.Any("err", err))
	} else {
		w.m.pending.Set(float64(st.Pending))
		w.m.inFlight.Set(float64(st.Sending))
		w.m.oldest.Set(st.OldestDue)
	}
}

// deliver makes one attempt and records it; it reports whether it was
// delivered.
func (w *Channel) deliver(ctx context.Context, j storage.WebhookJob) bool {
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
	return a.ok
}

// backoff is the delay before the attempt after attempt (delivery.Backoff
// of BackoffBase and BackoffMax).
func (w *Channel) backoff(attempt int) time.Duration {
	return delivery.Backoff(w.opts.BackoffBase, w.opts.BackoffMax, attempt)
}

// write records a result outside the loop's context, retrying over a
// database blip (delivery.Write); if it still fails the lease brings the
// delivery back.
func (w *Channel) write(what string, fn func(ctx context.Context) error) {
	if err := delivery.Write(fn); err != nil {
		w.log.Error("webhooks: could not record a result; the delivery is retried after its lease", slog.String("op", what), slog.Any("err", err))
	}
}
