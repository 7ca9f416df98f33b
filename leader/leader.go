// Package leader elects one replica among several `zhibu serve` processes
// sharing a PostgreSQL database, with a session-level advisory lock.
//
// Rules:
//   - The leader is the process whose dedicated connection holds
//     pg_advisory_lock(key). The lock lives exactly as long as that session:
//     when the process dies or its connection breaks, PostgreSQL drops it and
//     another replica's next IsLeader takes it (Run checks every second or so).
//   - Every take-over increments the key's fencing epoch (table
//     leader_epoch) on the lock's session. Run's fn gets the epoch in its
//     context (FenceFrom); the outbox claims rows only under the current
//     epoch, so a leader that lost its lock without knowing it is refused by
//     the database itself.
//   - IsLeader (gocron's Elector interface) answers nil while the held
//     session still proves the lock within CheckTimeout (it reads the epoch
//     back), else tries to take the lock on a fresh connection within
//     AcquireTimeout. Every round trip is bounded by a timer of its own, not
//     only by its context: under a silent partition lib/pq ignores the
//     context (its cancel request hangs too), so a check that does not
//     answer in time is a lost lock, and the connection is thrown away when
//     the call finally returns. The lock is never taken twice on one
//     session (advisory locks stack).
//   - So a leader cut off from the database steps down within about
//     interval + CheckTimeout (2 s with Run's defaults), well before the
//     server ends its session — keepalives and TCP user timeout set on the
//     session below, 7–11 s — and frees the lock for another replica.
//   - The held connection counts against the pool's SetMaxOpenConns; it does
//     not work through PgBouncer in transaction pooling mode.
package leader

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotLeader is returned by IsLeader when another process leads.
var ErrNotLeader = errors.New("leader: not the leader")

// Key derives a fixed advisory-lock key from a name ("zhibu"), so that
// services sharing a database do not collide by accident.
func Key(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("zhibu/leader/" + name))
	return int64(h.Sum64())
}

// Elector is a gocron.Elector on a PostgreSQL advisory lock. It is safe for
// concurrent use (the scheduler and the dispatcher may share one).
type Elector struct {
	db  *sql.DB
	key int64
	log *slog.Logger

	// CheckTimeout bounds the proof that the held session still holds the
	// lock (1s); AcquireTimeout bounds taking it (5s: a connection may have
	// to be dialled).
	CheckTimeout   time.Duration
	AcquireTimeout time.Duration

	mu    sync.Mutex
	conn  *sql.Conn // holds the lock while non-nil
	epoch int64     // the fencing epoch of this leadership
	// fence mirrors conn and epoch for Leading and Fence, which must not
	// wait for a check or a take-over in progress (they hold mu for up to
	// their timeouts).
	cur atomic.Pointer[leadership]
}

// leadership is one spell of leading: its fence, and a channel closed when
// it ends.
type leadership struct {
	fence Fence
	lost  chan struct{}
}

// setLost ends the current leadership, if any (e.mu held).
func (e *Elector) setLost() {
	if l := e.cur.Swap(nil); l != nil {
		close(l.lost)
	}
}

// Fence is a leadership's fencing token: the lock key and its epoch.
type Fence struct{ Key, Epoch int64 }

type fenceKey struct{}

// WithFence returns ctx carrying f (Run does it for its fn).
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns the fence of the leadership ctx runs under.
func FenceFrom(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

// NewElector returns an elector for key over db (e.g. store.DB().DB).
func NewElector(db *sql.DB, key int64, log *slog.Logger) *Elector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{db: db, key: key, log: log.With(slog.String("component", "leader")),
		CheckTimeout: time.Second, AcquireTimeout: 5 * time.Second}
}

// errTimeout is a round trip that did not answer within its budget.
var errTimeout = errors.New("leader: database did not answer in time")

// within runs fn with a context bounded by d and returns at d even if fn
// does not (see the package comment). late runs, in the background, with
// fn's result when fn returns after the deadline.
func within(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, late func(error)) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, d)
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- fn(ctx)
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	case <-parent.Done():
	}
	select {
	case err := <-done:
		return err
	default:
	}
	go func() { late(<-done) }()
	if parent.Err() != nil {
		return parent.Err()
	}
	return errTimeout
}

// IsLeader returns nil when this process holds the lock (taking it if it
// is free) and ErrNotLeader, or a connection error, when it does not.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		err := e.prove(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && !errors.Is(err, errTimeout) {
			// Our caller gave up mid-check; lib/pq has spoilt the session
			// (and prove dropped it), so the lock is gone either way.
			return ctx.Err()
		}
		e.log.Warn("leadership lost: the lock's session did not prove it", slog.Any("err", err), slog.Int64("epoch", e.epoch))
		return fmt.Errorf("%w: lost the lock: %w", ErrNotLeader, err)
	}
	return e.acquire(ctx)
}

// prove checks that the held session is alive and the epoch still ours;
// on any failure the session is dropped (e.mu held).
func (e *Elector) prove(ctx context.Context) error {
	conn, epoch := e.conn, e.epoch
	err := within(ctx, e.CheckTimeout, func(ctx context.Context) error {
		var now int64
		if err := conn.QueryRowContext(ctx, `SELECT epoch FROM leader_epoch WHERE key = $1`, e.key).Scan(&now); err != nil {
			return err
		}
		if now != epoch {
			return fmt.Errorf("leader: epoch %d superseded by %d", epoch, now)
		}
		return nil
	}, func(error) { discard(conn) })
	if err == nil {
		return nil
	}
	if !errors.Is(err, errTimeout) { // a late answer discards it itself
		discard(conn)
	}
	e.conn, e.epoch = nil, 0
	e.setLost()
	return err
}

// acquire tries to take the lock on a fresh connection (e.mu held).
func (e *Elector) acquire(ctx context.Context) error {
	type won struct {
		conn  *sql.Conn
		epoch int64
	}
	var w won
	err := within(ctx, e.AcquireTimeout, func(ctx context.Context) error {
		var err error
		w.conn, w.epoch, err = e.take(ctx)
		return err
	}, func(err error) {
		if err == nil { // won after we gave up: let the lock go
			discard(w.conn)
		}
	})
	if err != nil {
		if errors.Is(err, errTimeout) {
			return fmt.Errorf("leader: take lock: %w", err)
		}
		return err
	}
	e.conn, e.epoch = w.conn, w.epoch
	e.cur.Store(&leadership{fence: Fence{Key: e.key, Epoch: w.epoch}, lost: make(chan struct{})})
	e.log.Info("leadership acquired", slog.Int64("key", e.key), slog.Int64("epoch", w.epoch))
	return nil
}

// take is one attempt at the lock: connect, try the lock, set the
// session's keepalives, increment the epoch.
func (e *Elector) take(ctx context.Context) (*sql.Conn, int64, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("leader: connect: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&got); err != nil {
		discard(conn)
		return nil, 0, fmt.Errorf("leader: try lock: %w", err)
	}
	if !got {
		_ = conn.Close()
		return nil, 0, ErrNotLeader
	}
	// Server-side keepalives and user timeout: a vanished leader's session
	// (and lock) dies within about 7-11 s, after the leader itself has
	// stepped down (CheckTimeout).
	if _, err := conn.ExecContext(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 5000`); err != nil {
		e.log.Debug("leader: keepalive settings refused", slog.Any("err", err))
	}
	epoch, err := bumpEpoch(ctx, conn, e.key)
	if isLockTimeout(err) {
		// The epoch's row is share-locked by the old leader's fenced
		// transactions (every claim reads it FOR SHARE). The lock is ours,
		// so they are fenced out already; cut off from the network, the old
		// leader would hold them open until the server's keepalives end its
		// sessions. End them instead of waiting: what they claimed stays
		// unclaimed or is recovered from the old epoch.
		var ended int
		if qerr := conn.QueryRowContext(ctx, `
			SELECT count(pg_terminate_backend(pid)) FROM pg_locks
			WHERE locktype = 'relation' AND relation = 'leader_epoch'::regclass
			  AND mode = 'RowShareLock' AND granted AND pid <> pg_backend_pid()`).Scan(&ended); qerr != nil {
			err = errors.Join(err, qerr)
		} else {
			e.log.Warn("ended the old leader's transactions holding the fencing epoch", slog.Int("sessions", ended))
			epoch, err = bumpEpoch(ctx, conn, e.key)
		}
	}
	if err != nil {
		discard(conn) // closing the session frees the lock
		return nil, 0, fmt.Errorf("leader: fencing epoch: %w", err)
	}
	return conn, epoch, nil
}

// epochLockWait bounds how long a take-over waits for the epoch's row.
const epochLockWait = 500 * time.Millisecond

// bumpEpoch increments key's fencing epoch, waiting at most epochLockWait
// for its row.
func bumpEpoch(ctx context.Context, conn *sql.Conn, key int64) (int64, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, epochLockWait.Milliseconds())); err != nil {
		return 0, err
	}
	var epoch int64
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO leader_epoch (key, epoch) VALUES ($1, 1)
		ON CONFLICT (key) DO UPDATE SET epoch = leader_epoch.epoch + 1, taken_at = now()
		RETURNING epoch`, key).Scan(&epoch); err != nil {
		return 0, err
	}
	return epoch, tx.Commit()
}

// isLockTimeout reports PostgreSQL's lock_not_available (55P03), what a
// statement gets when lock_timeout runs out.
func isLockTimeout(err error) bool {
	var se interface{ SQLState() string }
	return errors.As(err, &se) && se.SQLState() == "55P03"
}

// Fence returns the fencing token of the current leadership, without a
// round trip.
func (e *Elector) Fence() (Fence, bool) {
	if l := e.cur.Load(); l != nil {
		return l.fence, true
	}
	return Fence{}, false
}

// LeaderContext returns, when this process leads, a context derived from
// ctx that carries the leadership's Fence and is cancelled as soon as the
// leadership ends (whichever caller's check finds it lost: Run's, or the
// scheduler's through IsLeader). ok is false when it does not lead.
func (e *Elector) LeaderContext(ctx context.Context) (_ context.Context, cancel context.CancelFunc, ok bool) {
	l := e.cur.Load()
	if l == nil {
		return ctx, func() {}, false
	}
	lctx, cancel := context.WithCancel(WithFence(ctx, l.fence))
	go func() {
		select {
		case <-l.lost:
			cancel()
		case <-lctx.Done():
		}
	}()
	return lctx, cancel, true
}

// Leading reports, without a round trip or waiting for a check in
// progress, whether the last IsLeader won.
func (e *Elector) Leading() bool { return e.cur.Load() != nil }

// Resign releases the lock and its connection, letting another replica
// lead. A later IsLeader may take the lock again.
func (e *Elector) Resign(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	conn := e.conn
	e.conn, e.epoch = nil, 0
	e.setLost()
	err := within(ctx, e.CheckTimeout, func(ctx context.Context) error {
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, e.key)
		return err
	}, func(error) { discard(conn) })
	if errors.Is(err, errTimeout) {
		e.log.Info("leadership resigned (the database did not answer)", slog.Int64("key", e.key))
		return fmt.Errorf("leader: unlock: %w", err)
	}
	// Closing the session frees the lock even if the unlock failed; the
	// connection is discarded, never pooled with the lock or our settings.
	discard(conn)
	e.log.Info("leadership resigned", slog.Int64("key", e.key))
	if err != nil {
		return fmt.Errorf("leader: unlock: %w", err)
	}
	return nil
}

// discard closes the driver connection behind conn instead of returning
// it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// Run calls fn whenever this process is the leader, with a context that is
// cancelled as soon as leadership is lost, and waits for fn to return
// before trying again. It checks leadership every interval (1s when 0).
// When ctx ends it cancels fn, waits for it, resigns and returns nil.
// An error from fn is logged and fn is started again after interval while
// still leading.
func Run(ctx context.Context, e *Elector, interval time.Duration, fn func(ctx context.Context) error) error {
	if interval <= 0 {
		interval = time.Second
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := e.Resign(rctx); err != nil {
			e.log.Warn("resign failed", slog.Any("err", err))
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := e.IsLeader(ctx); err == nil {
			e.lead(ctx, tick.C, fn)
		} else if !errors.Is(err, ErrNotLeader) && ctx.Err() == nil {
			e.log.Warn("leader check failed", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// lead runs fn while IsLeader keeps answering nil. fn's context carries
// the leadership's Fence and is cancelled as soon as a check fails (its
// own, or any other caller's of IsLeader).
func (e *Elector) lead(ctx context.Context, tick <-chan time.Time, fn func(ctx context.Context) error) {
	lctx, cancel, ok := e.LeaderContext(ctx)
	if !ok {
		cancel()
		return
	}
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(lctx) }()
	for {
		select {
		case err := <-done:
			if err != nil && lctx.Err() == nil {
				e.log.Error("leader task failed", slog.Any("err", err))
			}
			return
		case <-lctx.Done(): // stopping, or another caller's check found the lock lost
			if ctx.Err() == nil {
				e.log.Warn("leadership lost; stopping leader task")
			}
			<-done
			return
		case <-tick:
			if err := e.IsLeader(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("leadership lost; stopping leader task", slog.Any("err", err))
				cancel()
				<-done
				return
			}
		}
	}
}
