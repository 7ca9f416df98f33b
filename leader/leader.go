// Package leader elects one replica among several `zhibu serve` processes
// sharing a PostgreSQL database, with a session-level advisory lock.
//
// Rules:
//   - The leader is the process whose dedicated connection holds
//     pg_advisory_lock(key). The lock lives exactly as long as that session:
//     when the process dies or its connection breaks, PostgreSQL drops it and
//     another replica's next IsLeader takes it (Run checks every second or so).
//   - IsLeader (gocron's Elector interface) answers nil while the held
//     connection still answers a ping, else tries to take the lock on a fresh
//     connection. The lock is never taken twice on one session (advisory
//     locks stack).
//   - The session asks the server for TCP keepalives every few seconds, so a
//     leader cut off by the network loses the lock in about 15 s rather than
//     the kernel's two hours; the old leader steps down as soon as its own
//     ping fails, normally before that.
//   - Leadership is a hint, not a fence: for a few seconds around a network
//     cut two processes may both believe they lead. Jobs run under it must
//     be idempotent (the outbox claims rows with SKIP LOCKED and records
//     results conditionally; scheduled jobs dedupe on keys).
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

	// PingTimeout bounds the liveness check of the held connection (2s).
	PingTimeout time.Duration

	mu   sync.Mutex
	conn *sql.Conn // holds the lock while non-nil
}

// NewElector returns an elector for key over db (e.g. store.DB().DB).
func NewElector(db *sql.DB, key int64, log *slog.Logger) *Elector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{db: db, key: key, log: log.With(slog.String("component", "leader")), PingTimeout: 2 * time.Second}
}

// IsLeader returns nil when this process holds the lock (taking it if it
// is free) and ErrNotLeader, or a connection error, when it does not.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		pctx, cancel := context.WithTimeout(ctx, e.PingTimeout)
		err := e.conn.PingContext(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // our caller gave up; the lock is probably fine
		}
		e.log.Warn("leadership lost: lock connection failed", slog.Any("err", err))
		discard(e.conn)
		e.conn = nil
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("leader: connect: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&got); err != nil {
		_ = conn.Close()
		return fmt.Errorf("leader: try lock: %w", err)
	}
	if !got {
		_ = conn.Close()
		return ErrNotLeader
	}
	// Server-side keepalives: a vanished leader's session (and lock) dies
	// within about idle + interval*count seconds.
	if _, err := conn.ExecContext(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3`); err != nil {
		e.log.Debug("leader: keepalive settings refused", slog.Any("err", err))
	}
	e.conn = conn
	e.log.Info("leadership acquired", slog.Int64("key", e.key))
	return nil
}

// Leading reports, without a round trip, whether the last IsLeader won.
func (e *Elector) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn != nil
}

// Resign releases the lock and its connection, letting another replica
// lead. A later IsLeader may take the lock again.
func (e *Elector) Resign(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	conn := e.conn
	e.conn = nil
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, e.key)
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

// lead runs fn while IsLeader keeps answering nil.
func (e *Elector) lead(ctx context.Context, tick <-chan time.Time, fn func(ctx context.Context) error) {
	lctx, cancel := context.WithCancel(ctx)
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
		case <-ctx.Done():
			cancel()
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
