package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/delivery"
	"github.com/zhibu/zhibu/storage"
)

// Options tune a Channel's lane (NewLane). Zero fields take the defaults shown.
type Options struct {
	// Pacing (config delivery.*): the bot's global rate (30/s), private
	// chats (1/s), groups (20/min).
	GlobalPerSecond float64
	ChatPerSecond   float64
	GroupPerMinute  float64
	// PaidBroadcast sends with Telegram's allow_paid_broadcast (0.1 Star per
	// message over the free rate); raise GlobalPerSecond with it, up to 1000.
	PaidBroadcast bool

	MaxAge       time.Duration // temporary failures are retried this long after created_at (24h)
	PollInterval time.Duration // look for due rows at least this often (500ms)
	// ListenURL is the database URL for LISTEN outbox (Store.Enqueue
	// notifies it); empty means polling only.
	ListenURL string
	// ListenDialer dials the LISTEN connection: storage.NewDialer of the
	// database.* bounds, so a partition is noticed on it as on the pool
	// (nil: lib/pq's default dialer, no keepalive).
	ListenDialer pq.Dialer

	Lease       time.Duration // a 'sending' row returns to pending after this (1m)
	SendTimeout time.Duration // one API call (20s)
	Workers     int           // concurrent sends (GlobalPerSecond/2, within 8..128)
	// OldestShare of every claim goes to the oldest due rows whatever their
	// priority, so that no class starves under a flood of urgent ones (0.1).
	OldestShare float64
	BackoffBase time.Duration // first retry delay after a temporary failure (2s), doubled each time
	BackoffMax  time.Duration // (10m)
	// MaintainEvery is how often expired leases are recovered, rows past
	// MaxAge expired and the queue gauges refreshed (5s).
	MaintainEvery time.Duration

	// Now is the clock for not_before, leases, backoff and max age
	// (clock.Real().Now). Pacing always runs on real time.
	Now func() time.Time
}

// FromConfig maps the delivery section of the configuration.
func FromConfig(d config.Delivery) Options {
	return Options{
		GlobalPerSecond: d.GlobalPerSecond,
		ChatPerSecond:   d.ChatPerSecond,
		GroupPerMinute:  d.GroupPerMinute,
		PaidBroadcast:   d.PaidBroadcast,
		MaxAge:          d.MaxAge.D(),
		PollInterval:    d.PollInterval.D(),
	}
}

func (o Options) withDefaults() Options {
	def := delivery.Default[time.Duration]
	delivery.Default(&o.GlobalPerSecond, 30)
	delivery.Default(&o.ChatPerSecond, 1)
	delivery.Default(&o.GroupPerMinute, 20)
	def(&o.MaxAge, 24*time.Hour)
	def(&o.PollInterval, 500*time.Millisecond)
	def(&o.Lease, time.Minute)
	def(&o.SendTimeout, 20*time.Second)
	def(&o.BackoffBase, 2*time.Second)
	def(&o.BackoffMax, 10*time.Minute)
	def(&o.MaintainEvery, 5*time.Second)
	if o.Lease < 2*o.SendTimeout {
		o.Lease = 2 * o.SendTimeout
	}
	delivery.Default(&o.Workers, min(max(int(math.Ceil(o.GlobalPerSecond/2)), 8), 128))
	delivery.Default(&o.OldestShare, 0.1)
	o.OldestShare = min(o.OldestShare, 1)
	o.Now = delivery.Clock(o.Now)
	return o
}

// rowLane is the Lane of one Channel over the outbox table: claims by
// priority and age within the platform's limits (the pacer), parts of a
// split text, edits, at-most-once rows, and the outcomes as Channel
// classifies them.
type rowLane struct {
	store  *storage.Store
	ch     Channel
	split  Splitter
	prober Prober
	opts   Options
	log    *slog.Logger
	m      *metrics
	pace   *pacer

	sent chan storage.OutboxSentRecord // to the recorder of the current run

	ageDebt float64 // claim slots owed to the oldest rows (the loop's goroutine only)
}

// New returns a dispatcher of one lane: the rows whose channel column is
// ch.Name() (NewLane). Its metrics are registered on reg (nil: not
// registered).
func New(store *storage.Store, ch Channel, opts Options, log *slog.Logger, reg prometheus.Registerer) *Dispatcher {
	return NewDispatcher(NewLane(store, ch, opts, log, reg))
}

// NewLane returns the lane of the outbox rows whose channel column is
// ch.Name(), sent through ch. Its metrics (zhibu_outbox_*, labelled with
// the channel) are registered on reg (nil: not registered).
func NewLane(store *storage.Store, ch Channel, opts Options, log *slog.Logger, reg prometheus.Registerer) Lane {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	d := &rowLane{
		store: store,
		ch:    ch,
		opts:  opts,
		log:   log.With(slog.String("component", "outbox"), slog.String("channel", ch.Name())),
		m:     newMetrics(ch.Name(), reg),
		pace:  newPacer(opts.GlobalPerSecond, opts.ChatPerSecond, opts.GroupPerMinute),
	}
	if bw, ok := ch.(interface{ BotWideLimits() bool }); ok {
		d.pace.botWide = bw.BotWideLimits()
	}
	if s, ok := ch.(Splitter); ok {
		d.split = s
	}
	if p, ok := ch.(Prober); ok {
		d.prober = p
	}
	return d
}

func (d *rowLane) Name() string { return "outbox" }

func (d *rowLane) Loop() LoopOptions {
	return LoopOptions{
		Workers: d.opts.Workers, PollInterval: d.opts.PollInterval, MaintainEvery: d.opts.MaintainEvery,
		ListenURL: d.opts.ListenURL, ListenDialer: d.opts.ListenDialer, ListenChannel: storage.OutboxNotifyChannel(d.ch.Name()),
		Log: d.log,
	}
}

// Begin starts the recorder of sent rows, paces the chats sent to lately,
// and takes back the rows of older leaderships.
func (d *rowLane) Begin(ctx context.Context, fence storage.LeaderFence, _ bool) (end func()) {
	d.sent = make(chan storage.OutboxSentRecord, d.opts.Workers)
	recorded := d.recordSent(d.sent)
	d.warmStart(ctx)
	d.maintain(ctx)
	if fence.Epoch != 0 {
		// Rows a previous leader had in flight go back now, not after their
		// lease: it is gone (this leadership superseded it).
		if n, err := d.store.RecoverOutboxFromOldLeaders(ctx, d.ch.Name(), fence, d.opts.Now()); err != nil {
			d.log.Warn("outbox: recovering a previous leader's rows failed; they wait for their lease", slog.Any("err", err))
		} else {
			d.tookBack(n, "leader_changed", "outbox rows taken back from a previous leader", slog.Int64("epoch", fence.Epoch))
		}
	}
	return func() {
		close(d.sent)
		<-recorded
	}
}

func (d *rowLane) Maintain(ctx context.Context) { d.maintain(ctx) }

// Claim claims due rows of chats that the pacer lets through, OldestShare
// of them by age, and hands them out in (priority, id) order. next: when a
// busy chat or a bot-wide pause frees up.
func (d *rowLane) Claim(ctx context.Context, room int, fence storage.LeaderFence) ([]Job, time.Time, error) {
	now := clock.Monotonic()
	if until := d.pace.pausedUntil(); until.After(now) {
		return nil, until, nil
	}
	skip, free := d.pace.busy(now)
	byAge := d.ageSlots(room)
	// Not cancelled by ctx: a claim cancelled after the server ran it
	// would leave rows 'sending' that nobody sends until the lease ends.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	rows, err := d.store.ClaimOutbox(cctx, storage.OutboxClaim{
		Channel: d.ch.Name(), Now: d.opts.Now(), Lease: d.opts.Lease, SkipChats: skip,
		ByPriority: room - byAge, ByAge: byAge, Fence: fence,
	})
	if err != nil {
		return nil, free, err
	}
	slices.SortFunc(rows, func(a, b storage.OutboxRow) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return int(a.ID - b.ID)
	})
	jobs := make([]Job, len(rows))
	for i, r := range rows {
		jobs[i] = func(ctx context.Context) bool { return d.process(ctx, r) }
	}
	return jobs, free, nil
}

// ageSlots returns how many of room claim slots go to the oldest rows:
// OldestShare of all slots over time.
func (d *rowLane) ageSlots(room int) int {
	d.ageDebt += float64(room) * d.opts.OldestShare
	n := min(int(d.ageDebt), room)
	d.ageDebt -= float64(n)
	return n
}

// paced reports whether a method counts against the bot's and the chat's
// limits: everything but answering a callback query.
func paced(method string) bool { return method != MethodAnswerCallbackQuery }

// warmStart paces the chats that a previous leader (or this process's last
// run) sent to within the longest chat interval, so that a hand-over does not
// send to a chat sooner than its limit allows.
func (d *rowLane) warmStart(ctx context.Context) {
	interval := time.Duration(max(1/d.opts.ChatPerSecond, 60/d.opts.GroupPerMinute) * float64(time.Second))
	recent, err := d.store.RecentOutboxSends(ctx, d.ch.Name(), d.opts.Now().Add(-interval))
	if err != nil {
		d.log.Warn("outbox warm start failed", slog.Any("err", err))
		return
	}
	now := clock.Monotonic()
	for chat, at := range recent {
		if !at.After(now) { // only real past times (Options.Now may be a test clock)
			d.pace.seed(chat, at)
		}
	}
}

// maintain recovers expired leases, expires rows past MaxAge and refreshes
// the queue gauges.
func (d *rowLane) maintain(ctx context.Context) {
	now := d.opts.Now()
	if n, err := d.store.RecoverOutboxLeases(ctx, d.ch.Name(), now); err != nil {
		d.log.Warn("outbox lease recovery failed", slog.Any("err", err))
	} else {
		d.tookBack(n, "lease_expired", "outbox rows taken back from a dead dispatcher")
	}
	if n, err := d.store.ExpireOutbox(ctx, d.ch.Name(), now.Add(-d.opts.MaxAge), now); err != nil {
		d.log.Warn("outbox expiry failed", slog.Any("err", err))
	} else if n > 0 {
		d.log.Warn("outbox rows expired unsent", slog.Int64("rows", n), slog.Duration("max_age", d.opts.MaxAge))
		d.m.failed.WithLabelValues("expired").Add(float64(n))
	}
	if st, err := d.store.OutboxStatsOf(ctx, d.ch.Name(), now); err != nil {
		d.log.Warn("outbox stats failed", slog.Any("err", err))
	} else {
		d.m.setStats(st)
	}
}

// tookBack logs and counts what a recovery took back (reason: the metric
// label): rows sent again, and rows sent at most once that it ended
// uncertain instead.
func (d *rowLane) tookBack(n storage.OutboxTakenBack, reason, msg string, attrs ...any) {
	if n.Requeued > 0 {
		d.log.Warn(msg, append([]any{slog.Int64("rows", n.Requeued)}, attrs...)...)
		d.m.retried.WithLabelValues(reason).Add(float64(n.Requeued))
	}
	if n.Uncertain > 0 {
		d.log.Error("outbox rows sent at most once were in flight and may have been delivered; not sent again",
			append([]any{slog.Int64("rows", n.Uncertain), slog.String("reason", reason)}, attrs...)...)
		d.m.uncertain.WithLabelValues(reason).Add(float64(n.Uncertain))
	}
}

// process sends one claimed row (all its parts) and records the outcome.
// It reports whether the row was delivered.
func (d *rowLane) process(ctx context.Context, r storage.OutboxRow) bool {
	log := d.log.With(slog.Int64("outbox_id", r.ID), slog.String("dedupe_key", r.DedupeKey),
		slog.Int64("chat_id", r.ChatID), slog.String("method", r.Method), slog.Int("attempt", r.Attempts))
	leaseEnd := clock.Monotonic().Add(d.opts.Lease)
	m := Message{
		ID: r.ID, DedupeKey: r.DedupeKey, ChatID: r.ChatID, Method: r.Method,
		Payload: r.Payload, Attempt: r.Attempts, PaidBroadcast: d.opts.PaidBroadcast,
	}
	if r.EditOf.Valid {
		switch orig := r.OrigStatus.String; {
		case orig == storage.OutboxSent && r.OrigMessageID.Valid:
			m.ChatID, m.EditMessageID = r.OrigChatID.Int64, r.OrigMessageID.Int64
		case orig == storage.OutboxSent:
			d.fail(log, r, r.MessageIDs, "original_failed", fmt.Sprintf("original message %q has no message id", r.EditOf.String))
			return false
		case orig == storage.OutboxFailed || orig == storage.OutboxUncertain || !r.OrigStatus.Valid:
			d.fail(log, r, r.MessageIDs, "original_failed", fmt.Sprintf("original message %q was not sent (or is not known to be)", r.EditOf.String))
			return false
		default:
			// Not sent yet (the claim waits for it; this is a race): soon again.
			d.putBack(log, r, r.MessageIDs, true, d.opts.Now().Add(d.opts.PollInterval), "edit_waiting")
			return false
		}
	}
	parts := []Message{m}
	if d.split != nil {
		var err error
		if parts, err = d.split.Split(m); err != nil {
			d.fail(log, r, r.MessageIDs, "bad_request", "bad payload: "+err.Error())
			return false
		}
	}
	ids := slices.Clone([]int64(r.MessageIDs))
	startIDs := len(ids)
	atMostOnce := storage.AtMostOnce(r.Kind, r.Priority)
	for i := len(ids); i < len(parts); i++ {
		untried := i == startIDs // no call made for this claim yet
		deadline := leaseEnd.Add(-d.opts.SendTimeout - time.Second)
		var tk *ticket
		for tk == nil {
			if paced(m.Method) {
				at := d.pace.chatReady(m.ChatID, clock.Monotonic())
				if at.After(deadline) {
					d.putBack(log, r, ids, untried, d.opts.Now().Add(time.Until(at)), "paused")
					return false
				}
				if err := delivery.Sleep(ctx, time.Until(at)); err != nil {
					d.putBack(log, r, ids, untried, d.opts.Now(), "shutdown")
					return false
				}
			} else if ctx.Err() != nil {
				d.putBack(log, r, ids, untried, d.opts.Now(), "shutdown")
				return false
			}
			// A bot-wide pause and the probe after it hold every call.
			t, ok, err := d.pace.admit(ctx, deadline)
			if err != nil {
				d.putBack(log, r, ids, untried, d.opts.Now(), "shutdown")
				return false
			}
			if !ok {
				d.putBack(log, r, ids, untried, d.opts.Now().Add(time.Until(d.pace.pausedUntil())), "paused")
				return false
			}
			// After a pause the probe is a call that duplicates nothing
			// (Prober), not this message: it goes once the probe is answered.
			if t.probe != nil && d.prober != nil {
				if err := d.probe(ctx, t, deadline); err != nil {
					d.putBack(log, r, ids, untried, d.opts.Now(), "shutdown")
					return false
				}
				continue
			}
			if !paced(m.Method) {
				tk = t
				break
			}
			ok, err = d.pace.waitGlobal(ctx, deadline)
			if err != nil || !ok {
				t.done(false)
				if err != nil {
					d.putBack(log, r, ids, untried, d.opts.Now(), "shutdown")
				} else {
					d.putBack(log, r, ids, untried, d.opts.Now().Add(time.Until(d.pace.pausedUntil())), "paused")
				}
				return false
			}
			// A pause may have begun while this call waited for its token.
			if t.clear() && d.pace.takeChat(m.ChatID, clock.Monotonic()) == 0 {
				tk = t
			} else {
				t.done(false)
			}
		}

		// A row sent at most once: its call is recorded as begun, committed,
		// before it is made, so that whoever takes the row back does not
		// make it again.
		if atMostOnce {
			if ok, err := d.calling(r); err != nil || !ok {
				tk.done(false)
				if err != nil {
					log.Warn("outbox could not record the start of a call; not made now", slog.Any("err", err))
					d.putBack(log, r, ids, untried, d.opts.Now().Add(d.opts.PollInterval), "not_marked")
				} else {
					log.Warn("outbox row was taken back before its call; not made")
				}
				return false
			}
		}
		// The call itself is not cancelled by ctx: a stop waits for it.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.SendTimeout)
		t0 := clock.Monotonic()
		res, err := d.ch.Send(sctx, parts[i])
		cancel()
		d.m.latency.WithLabelValues(m.Method).Observe(time.Since(t0).Seconds())
		if err != nil {
			if res.Outcome == Delivered {
				res = Result{Outcome: Retry, Reason: err.Error()}
			}
			if res.Reason == "" {
				res.Reason = err.Error()
			}
			// Pauses first, then the waiting calls may look at them.
			botWide := false
			switch res.Outcome {
			case RateLimited:
				botWide = d.pace.rateLimited(m.ChatID, res.RetryAfter, clock.Monotonic())
			case Retry:
				if pause := d.pace.failed(t0, clock.Monotonic()); pause > 0 {
					log.Warn("outbox: repeated temporary failures; pausing every send", slog.Duration("pause", pause), slog.String("reason", res.Reason))
				}
				if !res.NotDelivered && d.prober != nil {
					d.pace.unanswered()
				}
			default:
				d.pace.answered() // the platform answered: the way to it works
			}
			tk.done(true)
			d.failed(ctx, log, r, m, res, ids, botWide)
			return false
		}
		d.pace.answered()
		tk.done(true)
		ids = append(ids, res.MessageID)
		if i < len(parts)-1 {
			leaseEnd = clock.Monotonic().Add(d.opts.Lease)
			d.write(log, "progress", func(ctx context.Context) (bool, error) {
				return d.store.OutboxProgress(ctx, r.ID, r.Attempts, ids, d.opts.Now().Add(d.opts.Lease))
			})
		}
	}
	d.sent <- storage.OutboxSentRecord{ID: r.ID, Attempt: r.Attempts, MessageIDs: ids, At: d.opts.Now()}
	d.m.sent.WithLabelValues(m.Method).Inc()
	return true
}

// Sent rows are recorded in batches of up to sentBatch, at most sentDelay
// after the send: one statement instead of one transaction per message.
// Until then the row stays 'sending' (its chat waits), and a crash in that
// window re-sends it after the lease, like any row in flight.
const (
	sentBatch = 256
	sentDelay = 5 * time.Millisecond
)

// recordSent writes what arrives on in until in is closed, then closes the
// returned channel.
func (d *rowLane) recordSent(in <-chan storage.OutboxSentRecord) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var batch []storage.OutboxSentRecord
		flush := func() {
			if len(batch) == 0 {
				return
			}
			recs := batch
			batch = nil
			d.write(d.log, "sent", func(ctx context.Context) (bool, error) {
				n, err := d.store.OutboxSentBatch(ctx, recs)
				if err == nil && n < int64(len(recs)) {
					d.log.Warn("outbox rows were taken back before they were recorded sent", slog.Int64("rows", int64(len(recs))-n))
				}
				return true, err
			})
		}
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		for {
			select {
			case rec, ok := <-in:
				if !ok {
					flush()
					return
				}
				if len(batch) == 0 {
					timer.Reset(sentDelay)
				}
				batch = append(batch, rec)
				if len(batch) >= sentBatch {
					timer.Stop()
					flush()
				}
			case <-timer.C:
				flush()
			}
		}
	}()
	return done
}

// failed records an unsuccessful call according to its outcome.
// botWide says whether a 429 paused the whole bot (the pacer has recorded
// the pause already).
func (d *rowLane) failed(ctx context.Context, log *slog.Logger, r storage.OutboxRow, m Message, res Result, ids []int64, botWide bool) {
	now := d.opts.Now()
	switch res.Outcome {
	case RateLimited:
		d.m.rateLimited.Inc()
		log.Warn("outbox rate limited", slog.Duration("retry_after", res.RetryAfter), slog.Bool("bot_wide", botWide), slog.String("reason", res.Reason))
		d.requeue(log, storage.OutboxRequeue{ID: r.ID, Attempt: r.Attempts, NotBefore: now.Add(res.RetryAfter),
			Error: "429: " + res.Reason, MessageIDs: ids}, "rate_limited")
	case Migrated:
		if res.NewChatID == 0 {
			d.retryLater(log, r, ids, now, "migrated to an unknown chat")
			return
		}
		var moved bool
		d.write(log, "move chat", func(ctx context.Context) (bool, error) {
			var err error
			moved, err = d.store.OutboxMigrateChat(ctx, r.ID, r.Attempts, m.ChatID, res.NewChatID, ids, now)
			return true, err
		})
		// The row is due again at once: the loop claims it when this job
		// has finished.
		log.Info("outbox chat migrated", slog.Int64("new_chat_id", res.NewChatID), slog.Bool("binding_moved", moved))
		d.m.retried.WithLabelValues("migrated").Inc()
	case Unreachable:
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := d.store.MarkChatUnreachable(wctx, m.ChatID, res.Reason); err != nil {
			log.Error("outbox mark unreachable failed", slog.Any("err", err))
		}
		d.fail(log, r, ids, "unreachable", storage.UnreachablePrefix+res.Reason)
	case Permanent:
		d.fail(log, r, ids, "bad_request", res.Reason)
	default:
		if storage.AtMostOnce(r.Kind, r.Priority) && !res.NotDelivered {
			// The call may have been delivered (a timeout, a lost answer):
			// a message sent at most once is not made again.
			log.Error("outbox message sent at most once may have been delivered; not sent again", slog.String("reason", res.Reason))
			d.write(log, "uncertain", func(ctx context.Context) (bool, error) {
				return d.store.OutboxUncertain(ctx, r.ID, r.Attempts, "no answer to its call: "+res.Reason, ids, d.opts.Now())
			})
			d.m.uncertain.WithLabelValues("no_answer").Inc()
			return
		}
		d.retryLater(log, r, ids, now, res.Reason)
	}
}

// probe makes the probe after a bot-wide pause (t is its ticket), through
// the global rate limiter and the send timeout. Answered, sends resume;
// not answered in time (or refused), the bot pauses again, longer, and the
// next call after that pause probes again.
func (d *rowLane) probe(ctx context.Context, t *ticket, deadline time.Time) error {
	ok, err := d.pace.waitGlobal(ctx, deadline)
	if err != nil || !ok || !t.clear() {
		t.done(false)
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.SendTimeout)
	t0 := clock.Monotonic()
	res, err := d.prober.Probe(sctx)
	cancel()
	d.m.latency.WithLabelValues("getMe").Observe(time.Since(t0).Seconds())
	switch {
	case err == nil:
		d.pace.answered()
	case res.Outcome == RateLimited:
		d.pace.rateLimited(0, res.RetryAfter, clock.Monotonic())
	default:
		pause := d.pace.probeFailed(t0, clock.Monotonic())
		d.log.Warn("outbox: the probe after a pause was not answered; pausing every send again",
			slog.Duration("pause", pause), slog.String("reason", res.Reason))
	}
	t.done(true)
	return nil
}

// calling records that the call of r begins (Store.OutboxCalling): the call
// may be made only when it reports true. False: the row was taken back or
// its leadership superseded. An error: nothing recorded, so no call either
// (the row stays unmarked and goes out later).
func (d *rowLane) calling(r storage.OutboxRow) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.store.OutboxCalling(ctx, r.ID, r.Attempts, d.opts.Now())
}

// retryLater backs off after a temporary failure, or fails the row once the
// next try would come after MaxAge.
func (d *rowLane) retryLater(log *slog.Logger, r storage.OutboxRow, ids []int64, now time.Time, reason string) {
	failures := r.Failures + 1
	next := now.Add(d.backoff(failures))
	if next.After(r.CreatedAt.Add(d.opts.MaxAge)) {
		d.fail(log, r, ids, "max_age", fmt.Sprintf("gave up after %d attempts in %s: %s", r.Attempts, d.opts.MaxAge, reason))
		return
	}
	log.Info("outbox send failed, will retry", slog.Time("not_before", next), slog.String("reason", reason))
	d.requeue(log, storage.OutboxRequeue{ID: r.ID, Attempt: r.Attempts, NotBefore: next, Error: reason,
		Failure: true, MessageIDs: ids}, "temporary")
}

// backoff is the delay after the failures-th temporary failure
// (delivery.Backoff of BackoffBase and BackoffMax).
func (d *rowLane) backoff(failures int) time.Duration {
	return delivery.Backoff(d.opts.BackoffBase, d.opts.BackoffMax, failures)
}

func (d *rowLane) putBack(log *slog.Logger, r storage.OutboxRow, ids []int64, untried bool, notBefore time.Time, reason string) {
	d.requeue(log, storage.OutboxRequeue{ID: r.ID, Attempt: r.Attempts, NotBefore: notBefore, Untried: untried, MessageIDs: ids}, reason)
}

func (d *rowLane) requeue(log *slog.Logger, q storage.OutboxRequeue, reason string) {
	d.write(log, "requeue", func(ctx context.Context) (bool, error) { return d.store.OutboxRetry(ctx, q) })
	d.m.retried.WithLabelValues(reason).Inc()
}

func (d *rowLane) fail(log *slog.Logger, r storage.OutboxRow, ids []int64, metric, reason string) {
	lvl := slog.LevelWarn
	if metric == "bad_request" || metric == "original_failed" {
		lvl = slog.LevelError // a bug on our side: a message we built was refused
	}
	log.Log(context.Background(), lvl, "outbox message failed", slog.String("reason", reason), slog.String("class", metric))
	d.write(log, "fail", func(ctx context.Context) (bool, error) {
		return d.store.OutboxFail(ctx, r.ID, r.Attempts, reason, ids, d.opts.Now())
	})
	d.m.failed.WithLabelValues(metric).Inc()
}

// write records a result outside the dispatcher's context (a stop must not
// lose the result of a call already made), retrying over a database blip
// (delivery.Write); if it still fails, the lease brings the row back and
// it is sent again: at least once.
func (d *rowLane) write(log *slog.Logger, what string, fn func(ctx context.Context) (bool, error)) {
	var ok bool
	err := delivery.Write(func(ctx context.Context) error {
		var err error
		ok, err = fn(ctx)
		return err
	})
	switch {
	case err != nil:
		log.Error("outbox could not record a result; the row will be retried after its lease", slog.String("op", what), slog.Any("err", err))
	case !ok:
		log.Warn("outbox row was taken back before its result was recorded", slog.String("op", what))
	}
}
