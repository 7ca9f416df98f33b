package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/internal/clock"
)

// ErrMalformed means the body is not an Update; the webhook answers 400.
var ErrMalformed = errors.New("malformed update")

// Pool stores inbound updates and processes them on a fixed set of workers.
// A chat's updates always go to the same worker, so they are handled in the
// order received; different chats proceed in parallel.
type Pool struct {
	router  *Router
	inbox   app.Inbox
	shards  []chan job
	log     *slog.Logger
	mu      sync.Mutex
	queued  map[int64]bool
	wg      sync.WaitGroup
	metrics poolMetrics
	// Rescan is how often stored-but-unprocessed updates are picked up
	// (after a crash, a full queue, or a failed attempt).
	Rescan time.Duration

	ingestQ   chan ingestReq
	closed    chan struct{}
	closeOnce sync.Once
	// behind is set when an update could not be queued (its worker's queue
	// was full); kick then asks for a rescan as soon as a worker has room,
	// so a backlog drains at processing speed rather than a page per Rescan.
	behind atomic.Bool
	kick   chan struct{}
}

// ingestBatchers is how many batches may be committing at once. One: a
// batch takes all that queued up while the one before it committed, so
// batches grow with load and a lone request still goes at once. Measured
// with bench/ingest on two cores (BENCHMARKS.md), each extra batcher split
// the same requests into smaller batches: two gave 11-13 % fewer updates/s
// than one (0.17 against 0.12 transactions per update), four 10-15 % fewer
// than two.
const ingestBatchers = 1

type ingestReq struct {
	u    app.NewUpdate
	done chan ingestRes
}

type ingestRes struct {
	inserted bool
	err      error
}

type job struct {
	updateID, chatID int64
	raw              []byte // as received; nil when picked up by a rescan
}

type poolMetrics struct {
	received, duplicates prometheus.Counter
	outcomes             *prometheus.CounterVec
	latency              prometheus.Histogram
}

// NewPool builds a pool with n workers storing updates in the router's
// update log; metrics go to reg when non-nil.
func NewPool(router *Router, n int, log *slog.Logger, reg prometheus.Registerer) *Pool {
	warmDecoders()
	p := &Pool{router: router, inbox: router.app.Inbox(), log: log, queued: map[int64]bool{}, Rescan: 5 * time.Second,
		ingestQ: make(chan ingestReq, 1024), closed: make(chan struct{}), kick: make(chan struct{}, 1)}
	for i := 0; i < ingestBatchers; i++ {
		go p.batcher()
	}
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
//
// Concurrent requests are stored together: a few batchers each take what
// has queued up and insert it in one statement and one commit, so the
// commit cost is shared without adding a wait to a lone request.
func (p *Pool) Ingest(ctx context.Context, raw []byte) (duplicate bool, err error) {
	u, ok := describe(raw)
	if !ok {
		return false, ErrMalformed
	}
	req := ingestReq{u: u, done: make(chan ingestRes, 1)}
	select {
	case p.ingestQ <- req:
	case <-p.closed:
		return false, errors.New("bot: shutting down")
	case <-ctx.Done():
		return false, ctx.Err()
	}
	var res ingestRes
	select {
	case res = <-req.done:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if errors.Is(res.err, ErrMalformed) {
		return false, ErrMalformed
	}
	if res.err != nil {
		return false, fmt.Errorf("bot: store update: %w", res.err)
	}
	return !res.inserted, nil
}

// Close stops the batchers; later Ingest calls fail.
func (p *Pool) Close() { p.closeOnce.Do(func() { close(p.closed) }) }

func (p *Pool) batcher() {
	for {
		var first ingestReq
		select {
		case first = <-p.ingestQ:
		case <-p.closed:
			return
		}
		batch := []ingestReq{first}
	fill:
		for len(batch) < 256 {
			select {
			case r := <-p.ingestQ:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		p.flush(batch)
	}
}

func (p *Pool) flush(batch []ingestReq) {
	us := make([]app.NewUpdate, 0, len(batch))
	for _, r := range batch {
		us = append(us, r.u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inserted, err := p.inbox.Add(ctx, us)
	if err != nil && len(batch) > 1 && !app.IsUnavailable(err) {
		// One update the database refuses (text that is not UTF-8, say)
		// must not fail its batch-mates: store each on its own.
		for _, r := range batch {
			p.flush([]ingestReq{r})
		}
		return
	}
	if err != nil && app.IsBadData(err) {
		p.log.Warn("update refused by the database", slog.Int64("update_id", us[0].ID), slog.Any("err", err))
		err = ErrMalformed
	}
	for _, r := range batch {
		// The first request of an id in the batch owns the insert; a copy
		// in the same batch is a duplicate.
		ok := inserted[r.u.ID]
		delete(inserted, r.u.ID)
		switch {
		case err != nil:
		case ok:
			p.metrics.received.Inc()
			// Queued here, not by the request: a stored update is queued
			// even when its request was cancelled meanwhile.
			p.submit(job{r.u.ID, r.u.ChatID, r.u.Raw})
		default:
			p.metrics.duplicates.Inc()
		}
		r.done <- ingestRes{inserted: ok, err: err}
	}
}

// updateHead is the part of an Update that ingest needs; decoding only it
// keeps the acknowledgement path cheap.
type updateHead struct {
	ID      int64    `json:"update_id"`
	Message *msgHead `json:"message"`
	Edited  *msgHead `json:"edited_message"`
	Channel *msgHead `json:"channel_post"`
	Member  *msgHead `json:"my_chat_member"`
	Query   *struct {
		From    idHead   `json:"from"`
		Message *msgHead `json:"message"`
	} `json:"callback_query"`
}

type idHead struct {
	ID int64 `json:"id"`
}

type msgHead struct {
	Chat idHead  `json:"chat"`
	From *idHead `json:"from"`
}

// describe checks that raw is an update and extracts its id, chat, sender
// and kind.
func describe(raw []byte) (app.NewUpdate, bool) {
	var h updateHead
	if !validJSON(raw) || decodeHead(raw, &h) != nil || h.ID <= 0 {
		return app.NewUpdate{}, false
	}
	u := app.NewUpdate{ID: h.ID, Raw: raw, Kind: "other"}
	from := func(m *msgHead) int64 {
		if m.From != nil {
			return m.From.ID
		}
		return 0
	}
	switch {
	case h.Message != nil:
		u.ChatID, u.UserID, u.Kind = h.Message.Chat.ID, from(h.Message), "message"
	case h.Query != nil:
		u.ChatID, u.UserID, u.Kind = h.Query.From.ID, h.Query.From.ID, "callback_query"
		if h.Query.Message != nil && h.Query.Message.Chat.ID != 0 {
			u.ChatID = h.Query.Message.Chat.ID
		}
	case h.Edited != nil:
		u.ChatID, u.UserID, u.Kind = h.Edited.Chat.ID, from(h.Edited), "edited_message"
	case h.Channel != nil:
		u.ChatID, u.Kind = h.Channel.Chat.ID, "channel_post"
	case h.Member != nil:
		u.ChatID, u.UserID, u.Kind = h.Member.Chat.ID, from(h.Member), "my_chat_member"
	}
	return u, true
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
		p.behind.Store(true)
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
		case <-p.kick:
			p.rescan(ctx)
		}
	}
}

func (p *Pool) rescan(ctx context.Context) {
	p.behind.Store(false)
	pending, err := p.inbox.Unprocessed(ctx, 1000)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("rescan updates", slog.Any("err", err))
		}
		return
	}
	for _, u := range pending {
		p.submit(job{updateID: u.UpdateID, chatID: u.ChatID})
	}
	if len(pending) == 1000 {
		p.behind.Store(true) // more than a page is waiting
	}
}

// maxBatch bounds how many updates a worker processes in one transaction.
const maxBatch = 64

// lingerFor is how long a worker that found more than one update queued
// waits for more before processing them. Under load a batch then carries
// a few dozen updates instead of a dozen: fewer transactions for the same
// work, leaving the machine to the acknowledgements, which wait on the
// client. A lone update never waits, so a quiet bot answers at once.
const lingerFor = 5 * time.Millisecond

// linger adds to batch what reaches ch within lingerFor, up to maxBatch.
func linger(ch chan job, batch []job) []job {
	t := time.NewTimer(lingerFor)
	defer t.Stop()
	for len(batch) < maxBatch {
		select {
		case j := <-ch:
			batch = append(batch, j)
		case <-t.C:
			return batch
		}
	}
	return batch
}

func (p *Pool) worker(ctx context.Context, ch chan job) {
	defer p.wg.Done()
	batch := make([]job, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-ch:
			// Take what else has queued up on this worker: under load one
			// transaction carries many updates; a lone update goes alone.
			batch = append(batch[:0], j)
		fill:
			for len(batch) < maxBatch {
				select {
				case j := <-ch:
					batch = append(batch, j)
				default:
					break fill
				}
			}
			if len(batch) > 1 {
				batch = linger(ch, batch)
			}
			// Finish the updates in hand even when shutdown starts meanwhile.
			p.handle(context.WithoutCancel(ctx), batch)
			if len(ch) == 0 && p.behind.Load() {
				select {
				case p.kick <- struct{}{}:
				default:
				}
			}
		}
	}
}

func (p *Pool) handle(ctx context.Context, batch []job) {
	ids := make([]int64, len(batch))
	jobs := make([]Job, len(batch))
	for i, j := range batch {
		ids[i] = j.updateID
		jobs[i] = Job{UpdateID: j.updateID, Raw: j.raw}
	}
	defer func() {
		for _, id := range ids {
			p.done(id)
		}
	}()
	start := clock.Monotonic()
	outcomes, err := p.router.ProcessBatch(ctx, jobs)
	took := time.Since(start)
	for _, o := range outcomes {
		if o != "" {
			p.metrics.latency.Observe(took.Seconds())
			p.metrics.outcomes.WithLabelValues(o).Inc()
		}
	}
	if err != nil {
		p.log.Error("process updates", slog.Any("update_ids", ids), slog.Any("outcomes", outcomes), slog.Any("err", err))
		return
	}
	p.log.Debug("updates processed", slog.Any("update_ids", ids), slog.Any("outcomes", outcomes), slog.Duration("took", took))
}

// Drain processes every stored, unprocessed update now (tests, CLI).
func (p *Pool) Drain(ctx context.Context) error {
	for {
		pending, err := p.inbox.Unprocessed(ctx, 1000)
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
