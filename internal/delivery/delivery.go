// Package delivery is what the outbox dispatcher's loop and its lanes
// (the outbox table's, the webhooks') share: a pool of workers for
// claimed jobs, the leadership fence their claims are made under, writing
// a result so that it outlives the caller's context, and back-off.
package delivery

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/pgnotify"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/storage"
)

// Pool runs a fixed number of workers over submitted jobs and counts the
// jobs in hand (submitted, not yet finished).
type Pool[J any] struct {
	n        int
	jobs     chan J
	done     chan struct{}
	inflight atomic.Int64
	wg       sync.WaitGroup
}

// NewPool starts n workers, each calling fn for one job at a time.
func NewPool[J any](n int, fn func(J)) *Pool[J] {
	p := &Pool[J]{n: n, jobs: make(chan J, n), done: make(chan struct{}, 1)}
	for range n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				fn(j)
				p.inflight.Add(-1)
				pgnotify.Signal(p.done)
			}
		}()
	}
	return p
}

// Submit hands j to a worker. It does not block while Free() > 0.
func (p *Pool[J]) Submit(j J) {
	p.inflight.Add(1)
	p.jobs <- j
}

// InFlight is the number of jobs in hand.
func (p *Pool[J]) InFlight() int { return int(p.inflight.Load()) }

// Free is the number of jobs that can be submitted without waiting.
func (p *Pool[J]) Free() int { return p.n - p.InFlight() }

// Finished receives (coalesced) when a job has finished.
func (p *Pool[J]) Finished() <-chan struct{} { return p.done }

// Close takes no more jobs and waits for those in hand to finish.
func (p *Pool[J]) Close() {
	close(p.jobs)
	p.wg.Wait()
}

// Fence is the fencing token of the leadership ctx runs under
// (leader.Run's fn), or the zero fence outside one. Claims made under it
// are refused (storage.ErrStaleLeader) once another replica has taken over.
func Fence(ctx context.Context) storage.LeaderFence {
	if f, ok := leader.FenceFrom(ctx); ok {
		return storage.LeaderFence(f)
	}
	return storage.LeaderFence{}
}

// writeDelays are the waits before each try of Write: a database blip of
// a few seconds does not lose a result.
var writeDelays = []time.Duration{0, 200 * time.Millisecond, time.Second, 3 * time.Second}

// Write records a result: fn runs with a context of its own, bounded by
// 10 s a try and not derived from any caller's (a stop must not lose the
// result of a call already made), and is tried again after 200 ms, 1 s and
// 3 s while it fails. It returns the last error. When it still fails, the
// claim's lease brings the job back: at least once.
func Write(fn func(ctx context.Context) error) error {
	var err error
	for _, delay := range writeDelays {
		time.Sleep(delay)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = fn(ctx)
		cancel()
		if err == nil {
			return nil
		}
	}
	return err
}

// Sleep sleeps for d or until ctx is done (then it returns ctx's error);
// for d <= 0 it returns ctx's error at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Default sets an option left zero (or negative) to its default d.
func Default[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Clock is now, or the real clock's Now when now is nil (an option left
// zero).
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return clock.Real().Now
	}
	return now
}

// Backoff is base·2^(n-1) for the n-th failure, capped at limit, with
// equal jitter (half fixed, half random) so that retries after an outage
// spread.
func Backoff(base, limit time.Duration, n int) time.Duration {
	b := base
	for i := 1; i < n && b < limit; i++ {
		b *= 2
	}
	b = min(b, limit)
	half := b / 2
	return half + rand.N(half+1)
}
