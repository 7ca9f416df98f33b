package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/internal/testdb"
)

type elector struct{ leader atomic.Bool }

func (e *elector) IsLeader(context.Context) error {
	if e.leader.Load() {
		return nil
	}
	return errors.New("not leader")
}

func TestJobsRunOnFakeClockOnlyOnLeaderAndSurvivePanics(t *testing.T) {
	loc := testdb.Loc
	fc := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 23, 50, 0, 0, loc))
	var el elector
	el.leader.Store(true)
	ran := make(chan time.Time, 10)
	panics := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, Options{Location: loc, Clock: fc, Elector: &el, Log: slog.New(slog.DiscardHandler)},
		Job{Name: "eval", Every: 15 * time.Minute, Task: func(_ context.Context, now time.Time) error { ran <- now; return nil }},
		Job{Name: "boom", Every: 15 * time.Minute, Task: func(context.Context, time.Time) error { panics <- struct{}{}; panic("boom") }},
		Job{Name: "off", Task: func(context.Context, time.Time) error { t.Error("disabled job ran"); return nil }},
	)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Shutdown()
	if s.Jobs() != 2 {
		t.Fatalf("%d jobs, want 2 (a job with neither Every nor Cron is off)", s.Jobs())
	}
	wait := func(what string) time.Time {
		select {
		case at := <-ran:
			return at
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: job did not run", what)
		}
		return time.Time{}
	}
	bctx, bcancel := context.WithTimeout(ctx, 5*time.Second)
	defer bcancel()
	_ = fc.BlockUntilContext(bctx, 2)
	fc.Advance(15 * time.Minute)
	at := wait("first run")
	if want := time.Date(2026, 12, 1, 0, 5, 0, 0, loc); !at.Equal(want) {
		t.Fatalf("task saw %v, want the fake clock's %v", at, want)
	}
	<-panics
	// After a panic the scheduler keeps going; a non-leader skips runs.
	el.leader.Store(false)
	_ = fc.BlockUntilContext(bctx, 2)
	fc.Advance(15 * time.Minute)
	select {
	case <-ran:
		t.Fatal("ran while not leader")
	case <-time.After(300 * time.Millisecond):
	}
	el.leader.Store(true)
	_ = fc.BlockUntilContext(bctx, 2)
	fc.Advance(15 * time.Minute)
	wait("after regaining leadership")
}

// ctxElector also ties jobs' contexts to its leadership (as leader.Elector).
type ctxElector struct {
	elector
	lost chan struct{}
}

func (e *ctxElector) LeaderContext(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	if !e.leader.Load() {
		return ctx, func() {}, false
	}
	lctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-e.lost:
			cancel()
		case <-lctx.Done():
		}
	}()
	return lctx, cancel, true
}

// A running job's context ends when the leadership it started under is
// lost: the old leader stops scheduling work mid-run, not only next time.
func TestRunningJobStopsWhenLeadershipIsLost(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC))
	el := &ctxElector{lost: make(chan struct{})}
	el.leader.Store(true)
	started, stopped := make(chan struct{}), make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, Options{Location: time.UTC, Clock: fc, Elector: el, Log: slog.New(slog.DiscardHandler)},
		Job{Name: "long", Every: time.Minute, Task: func(ctx context.Context, _ time.Time) error {
			close(started)
			<-ctx.Done()
			stopped <- ctx.Err()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Shutdown()
	bctx, bcancel := context.WithTimeout(ctx, 5*time.Second)
	defer bcancel()
	_ = fc.BlockUntilContext(bctx, 1)
	fc.Advance(time.Minute)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("job did not start")
	}
	el.leader.Store(false)
	close(el.lost)
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("job's context ended with %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a running job kept its context after leadership was lost")
	}
}
