package leader_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/leader"
)

// The elector plugs into gocron.WithDistributedElector.
var _ gocron.Elector = (*leader.Elector)(nil)

func pool(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// leaderAndRival makes two electors of key, each on a pool of its own, and
// has a take the leadership.
func leaderAndRival(t *testing.T, url string, key int64) (a, b *leader.Elector) {
	t.Helper()
	a = leader.NewElector(pool(t, url), key, nil)
	b = leader.NewElector(pool(t, url), key, nil)
	if err := a.IsLeader(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestOneLeaderThenTheOther(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	key := leader.Key("test")
	a := leader.NewElector(pool(t, url), key, nil)
	b := leader.NewElector(pool(t, url), key, nil)

	if err := a.IsLeader(ctx); err != nil {
		t.Fatalf("a: %v", err)
	}
	if err := a.IsLeader(ctx); err != nil { // again: keeps it, does not stack
		t.Fatalf("a again: %v", err)
	}
	if err := b.IsLeader(ctx); !errors.Is(err, leader.ErrNotLeader) {
		t.Fatalf("b while a leads: %v", err)
	}
	if err := a.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.IsLeader(ctx); err != nil {
		t.Fatalf("b after a resigned: %v", err)
	}
	if err := a.IsLeader(ctx); !errors.Is(err, leader.ErrNotLeader) {
		t.Fatalf("a after b took over: %v", err)
	}
	if !b.Leading() || a.Leading() {
		t.Fatal("Leading() disagrees")
	}
	if err := b.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLeaderConnectionDies kills the leader's session from outside, as a
// crash or a network cut would: the other elector wins, the old one notices.
func TestLeaderConnectionDies(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	admin := pool(t, url)
	a, b := leaderAndRival(t, url, leader.Key("test"))
	testdb.KillLockSessions(t, admin)
	testdb.Eventually(t, 5*time.Second, "b to take over", func() bool { return b.IsLeader(ctx) == nil })
	if err := a.IsLeader(ctx); !errors.Is(err, leader.ErrNotLeader) {
		t.Fatalf("a after losing its session: %v", err)
	}
}

// TestRunHandsOver runs the same task under two electors: only one runs it
// at a time, and when the leader stops the other takes over within seconds.
func TestRunHandsOver(t *testing.T) {
	url := testdb.URL(t)
	key := leader.Key("test")
	var running, maxRunning atomic.Int32
	var who atomic.Value
	task := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			who.Store(name)
			<-ctx.Done()
			running.Add(-1)
			return nil
		}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = leader.Run(ctxA, leader.NewElector(pool(t, url), key, nil), 100*time.Millisecond, task("a"))
	}()
	testdb.Eventually(t, 5*time.Second, "a to lead", func() bool { return who.Load() == "a" })
	go func() {
		defer wg.Done()
		_ = leader.Run(ctxB, leader.NewElector(pool(t, url), key, nil), 100*time.Millisecond, task("b"))
	}()
	time.Sleep(300 * time.Millisecond) // b checks three times meanwhile; it must not start
	if who.Load() != "a" || running.Load() != 1 {
		t.Fatalf("b started while a leads")
	}
	start := time.Now()
	stopA()
	testdb.Eventually(t, 5*time.Second, "b to take over", func() bool { return who.Load() == "b" })
	t.Logf("hand-over took %s", time.Since(start))
	stopB()
	wg.Wait()
	if maxRunning.Load() != 1 {
		t.Fatalf("%d tasks ran at once", maxRunning.Load())
	}
}

// TestLeaderCutOffSilentlyStepsDownBeforeTakeover partitions the leader
// from the database without a refusal or a reset (SPEC §7.7): it must step
// down within about interval + CheckTimeout, before the server ends its
// session and another replica takes over; the new leadership has the next
// fencing epoch.
func TestLeaderCutOffSilentlyStepsDownBeforeTakeover(t *testing.T) {
	url := testdb.URL(t)
	proxy, via := testdb.NewProxy(t, url)
	key := leader.Key("test")
	a := leader.NewElector(pool(t, via), key, nil)
	b := leader.NewElector(pool(t, url), key, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); proxy.Heal(); wg.Wait() }()

	type lead struct {
		fence leader.Fence
		began time.Time
		ended time.Time
	}
	var mu sync.Mutex
	leads := map[string][]*lead{}
	task := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			f, ok := leader.FenceFrom(ctx)
			if !ok {
				t.Errorf("%s leads without a fence", name)
			}
			l := &lead{fence: f, began: time.Now()}
			mu.Lock()
			leads[name] = append(leads[name], l)
			mu.Unlock()
			<-ctx.Done()
			mu.Lock()
			l.ended = time.Now()
			mu.Unlock()
			return nil
		}
	}
	last := func(name string) lead {
		mu.Lock()
		defer mu.Unlock()
		if ls := leads[name]; len(ls) > 0 {
			return *ls[len(ls)-1]
		}
		return lead{}
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = leader.Run(ctx, a, time.Second, task("a")) }()
	testdb.Eventually(t, 5*time.Second, "a to lead", func() bool { return !last("a").began.IsZero() })
	wg.Add(1)
	go func() { defer wg.Done(); _ = leader.Run(ctx, b, time.Second, task("b")) }()

	proxy.Blackhole()
	cut := time.Now()
	testdb.Eventually(t, 4*time.Second, "a to step down", func() bool { return !last("a").ended.IsZero() })
	stepDown := last("a").ended.Sub(cut)
	if bound := time.Second + a.CheckTimeout + 500*time.Millisecond; stepDown > bound {
		t.Fatalf("a stepped down %s after the cut, want within %s", stepDown, bound)
	}
	if a.Leading() {
		t.Fatal("a reports Leading() after stepping down")
	}
	if !last("b").began.IsZero() {
		t.Fatal("b took over while a's session still held the lock")
	}
	// The server gives up on a's silent session (its keepalives; 7-11 s in
	// production): the lock is free and b takes it.
	proxy.HangUpServer()
	testdb.Eventually(t, 5*time.Second, "b to take over", func() bool { return !last("b").began.IsZero() })
	la, lb := last("a"), last("b")
	if !la.ended.Before(lb.began) {
		t.Fatalf("two leaders at once: a until %s, b from %s", la.ended, lb.began)
	}
	if lb.fence.Key != key || lb.fence.Epoch != la.fence.Epoch+1 {
		t.Fatalf("fences: a %+v, b %+v; want b's epoch one more", la.fence, lb.fence)
	}
	t.Logf("a stepped down %s after the cut; b took over %s after a", stepDown, lb.began.Sub(la.ended))
}

// TestLeaderContextEndsWithTheLeadership: the context LeaderContext gives
// (what Run's fn and scheduler jobs run under) carries the fence and ends
// as soon as any IsLeader call finds the lock lost.
func TestLeaderContextEndsWithTheLeadership(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	admin := pool(t, url)
	a := leader.NewElector(pool(t, url), leader.Key("test"), nil)
	if _, _, ok := a.LeaderContext(ctx); ok {
		t.Fatal("LeaderContext before leading")
	}
	if err := a.IsLeader(ctx); err != nil {
		t.Fatal(err)
	}
	lctx, cancel, ok := a.LeaderContext(ctx)
	defer cancel()
	if f, has := leader.FenceFrom(lctx); !ok || !has || f.Epoch != 1 {
		t.Fatalf("leader context: ok %v, fence %+v %v", ok, f, has)
	}
	testdb.KillLockSessions(t, admin)
	if lctx.Err() != nil {
		t.Fatal("ended before anyone checked")
	}
	if err := a.IsLeader(ctx); !errors.Is(err, leader.ErrNotLeader) {
		t.Fatalf("after the session was killed: %v", err)
	}
	select {
	case <-lctx.Done():
	case <-time.After(time.Second):
		t.Fatal("the leader context outlived the leadership")
	}
}

// TestTakeOverEndsTheOldLeadersFencedTransactions: the old leader, cut off
// mid-claim, leaves a transaction open on the server that read the epoch
// FOR SHARE; its lock session is gone (the server's keepalives ended it).
// The new leader does not wait for that transaction's session to die too:
// it ends it and takes over at once.
func TestTakeOverEndsTheOldLeadersFencedTransactions(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	key := leader.Key("test")
	admin := pool(t, url)
	_, b := leaderAndRival(t, url, key)
	claims := pool(t, url)
	claim, err := claims.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer claim.Rollback() //nolint:errcheck
	var epoch int64
	if err := claim.QueryRowContext(ctx, `SELECT epoch FROM leader_epoch WHERE key = $1 FOR SHARE`, key).Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	testdb.KillLockSessions(t, admin)
	start := time.Now()
	testdb.Eventually(t, 3*time.Second, "b to take over", func() bool { return b.IsLeader(ctx) == nil })
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("take-over took %s; the old leader's transaction should not hold it up", took)
	}
	if f, ok := b.Fence(); !ok || f.Epoch != epoch+1 {
		t.Errorf("b's fence = %+v, %v; want epoch %d", f, ok, epoch+1)
	}
	if err := claim.Commit(); err == nil {
		t.Error("the old leader's fenced transaction committed after the take-over")
	}
}
