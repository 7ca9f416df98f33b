package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/storage"
)

// ErrMalformed means the body is not an Update; the webhook answers 400.
var ErrMalformed = errors.New("malformed update")

// Pool stores inbound updates and processes them on a fixed set of workers.
// A chat's updates always go to the same worker, so they are handled in the
// order received; different chats proceed in parallel.
type Pool struct {
	router  *Router
	store   *storage.Store
	shards  []chan job
	log     *slog.Logger
	mu      sync.Mutex
	queued  map[int64]bool
	wg      sync.WaitGroup
	metrics poolMetrics
	// Rescan is how often stored-but-unprocessed updates are picked up
	// (after a crash, a full queue, or a failed attempt).
	Rescan time.Duration
}

type job struct{ updateID, chatID int64 }

type poolMetrics struct {
	received, duplicates prometheus.Counter
	outcomes             *prometheus.CounterVec
	latency              prometheus.Histogram
}

// NewPool builds a pool with n workers; metrics go to reg when non-nil.
func NewPool(router *Router, store *storage.Store, n int, log *slog.Logger, reg prometheus.Registerer) *Pool {
	p := &Pool{router: router, store: store, log: log, queued: map[int64]bool{}, Rescan: 5 * time.Second}
	for i := 0; i < n; i++ {
		p.shards = append(p.shards, make(chan job, 256))
	}
	p.metrics = poolMetrics{
		received:   prometheus.NewCounter(prometheus.CounterOpts{Name: "zhibu_updates_received_total", Help: "Telegram updates stored."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "zhibu_updates_duplicate_total", Help: "Redelivered updates acknowledged without processing."}),
		outcomes:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zhibu_updates_processed_total", Help: "Updates processed, by outcome."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zhibu_update_handling_seconds", Help: "Time to process one update.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	if reg != nil {
		reg.MustRegister(p.metrics.received, p.metrics.duplicates, p.metrics.outcomes, p.metrics.latency)
	}
	return p
}

// Ingest stores a raw update and queues it. It returns duplicate=true for an
// update_id seen before, ErrMalformed for a body that is not an update, and
// any storage error (the caller answers 5xx so Telegram redelivers).
func (p *Pool) Ingest(ctx context.Context, raw []byte) (duplicate bool, err error) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil || u.ID <= 0 {
		return false, ErrMalformed
	}
	chatID, userID, kind := describe(&u)
	inserted, err := p.store.InsertUpdate(ctx, u.ID, raw, chatID, userID, kind)
	if err != nil {
		return false, fmt.Errorf("bot: store update: %w", err)
	}
	if !inserted {
		p.metrics.duplicates.Inc()
		return true, nil
	}
	p.metrics.received.Inc()
	p.submit(job{u.ID, chatID})
	return false, nil
}

// describe extracts the chat, the sender and the kind of an update.
func describe(u *models.Update) (chatID, userID int64, kind string) {
	switch {
	case u.Message != nil:
		if u.Message.From != nil {
			userID = u.Message.From.ID
		}
		return u.Message.Chat.ID, userID, "message"
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message.Message; m != nil {
			chatID = m.Chat.ID
		} else {
			chatID = u.CallbackQuery.From.ID
		}
		return chatID, u.CallbackQuery.From.ID, "callback_query"
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID, 0, "edited_message"
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID, u.MyChatMember.From.ID, "my_chat_member"
	}
	return 0, 0, "other"
}

// submit queues a job on its chat's worker unless it is queued already; a
// full queue leaves it to the rescan.
func (p *Pool) submit(j job) {
	p.mu.Lock()
	if p.queued[j.updateID] {
		p.mu.Unlock()
		return
	}
	p.queued[j.updateID] = true
	p.mu.Unlock()
	h := fnv.New32a()
	fmt.Fprint(h, j.chatID)
	select {
	case p.shards[int(h.Sum32())%len(p.shards)] <- j:
	default:
		p.done(j.updateID)
	}
}

func (p *Pool) done(id int64) {
	p.mu.Lock()
	delete(p.queued, id)
	p.mu.Unlock()
}

// Run starts the workers and the rescan loop and blocks until ctx ends; then
// it waits for the updates in hand to finish. Unstarted updates stay stored
// and are picked up by the next process.
func (p *Pool) Run(ctx context.Context) {
	for _, ch := range p.shards {
		p.wg.Add(1)
		go p.worker(ctx, ch)
	}
	p.rescan(ctx)
	t := time.NewTicker(p.Rescan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.wg.Wait()
			return
		case <-t.C:
			p.rescan(ctx)
		}
	}
}

func (p *Pool) rescan(ctx context.Context) {
	pending, err := p.store.UnprocessedUpdates(ctx, 1000)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("rescan updates", slog.Any("err", err))
		}
		return
	}
	for _, u := range pending {
		p.submit(job{u.UpdateID, u.ChatID})
	}
}

func (p *Pool) worker(ctx context.Context, ch chan job) {
	defer p.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-ch:
			// Finish the update in hand even when shutdown starts meanwhile.
			p.handle(context.WithoutCancel(ctx), j)
		}
	}
}

func (p *Pool) handle(ctx context.Context, j job) {
	defer p.done(j.updateID)
	start := time.Now()
	outcome, err := p.router.Process(ctx, j.updateID)
	p.metrics.latency.Observe(time.Since(start).Seconds())
	if outcome != "" {
		p.metrics.outcomes.WithLabelValues(outcome).Inc()
	}
	if err != nil {
		p.log.Error("process update", slog.Int64("update_id", j.updateID), slog.String("outcome", outcome), slog.Any("err", err))
		return
	}
	p.log.Debug("update processed", slog.Int64("update_id", j.updateID), slog.String("outcome", outcome), slog.Duration("took", time.Since(start)))
}

// Drain processes every stored, unprocessed update now (tests, CLI).
func (p *Pool) Drain(ctx context.Context) error {
	for {
		pending, err := p.store.UnprocessedUpdates(ctx, 1000)
		if err != nil {
			return err
		}
		progressed := false
		for _, u := range pending {
			outcome, err := p.router.Process(ctx, u.UpdateID)
			if err != nil && outcome == OutcomeError {
				continue
			}
			progressed = true
		}
		if len(pending) == 0 || !progressed {
			return nil
		}
	}
}
