package storage

import (
	"context"
	"strings"
	"sync"
	"time"
)

// The hot statements on the partitioned tables (migration 00018) name the
// months that can hold live rows as a literal, so that the planner prunes
// the other partitions when it plans them: a parameter would prune only at
// run time, after every partition and its indexes were opened and locked.
//
// liveFrom is the first day of the month before the database's current one
// (the database's clock sets part_month). Its cache only moves forward and
// is refreshed from the part_month of every batch of updates stored, so a
// stale cache names an earlier month: the statements then search more
// partitions, never fewer than the current and the previous month's.

// monthCache holds the database's current month as last seen.
type monthCache struct {
	mu    sync.Mutex
	month time.Time // first day, UTC; zero until read
	uses  int
	// oldMax: the highest update_id stored in a partition before the
	// month of its liveFrom literal, if read.
	oldMax liveValue[int64]
	// claimFrom: the first month the outbox claim searches (a date
	// literal), worked out for its liveFrom literal.
	claimFrom liveValue[string]
}

// liveValue is a value worked out for one liveFrom literal (lo); the zero
// value holds none.
type liveValue[T any] struct {
	lo string
	v  T
}

// forLive returns the value *slot holds for lo, else reads it and keeps it
// for lo. c.mu guards *slot; read runs without it.
func forLive[T any](c *monthCache, slot *liveValue[T], lo string, read func() (T, error)) (T, error) {
	c.mu.Lock()
	held := *slot
	c.mu.Unlock()
	if held.lo == lo {
		return held.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	*slot = liveValue[T]{lo: lo, v: v}
	c.mu.Unlock()
	return v, nil
}

// monthRefreshEvery: the cache is read again from the database after this
// many uses, in case nothing refreshed it meanwhile.
const monthRefreshEvery = 4096

// seen moves the cache forward to month m (a part_month just written).
func (c *monthCache) seen(m time.Time) {
	m = MonthOf(m)
	c.mu.Lock()
	if m.After(c.month) {
		c.month = m
	}
	c.mu.Unlock()
}

// liveFrom returns the first day of the month before the database's
// current month, as a SQL date literal ('YYYY-MM-DD').
func (s *Store) liveFrom(ctx context.Context) (string, error) {
	c := s.months
	c.mu.Lock()
	m := c.month
	c.uses++
	stale := m.IsZero() || c.uses >= monthRefreshEvery
	if stale {
		c.uses = 0
		c.oldMax.lo, c.claimFrom.lo = "", "" // read again with the month
	}
	c.mu.Unlock()
	if stale {
		// Outside the caller's transaction would be as good; inside it
		// now() is the transaction's start, which is no later.
		now, err := getValue[time.Time](ctx, s, "database month", `SELECT now()`)
		if err != nil {
			return "", err
		}
		c.seen(now)
		c.mu.Lock()
		m = c.month
		c.mu.Unlock()
	}
	return "'" + MonthOf(m).AddDate(0, -1, 0).Format(time.DateOnly) + "'", nil
}

// otherMonths is a condition on part_month that leaves out the month the
// database's clock writes to now (the column default, with the same now()
// in the same statement). An insert's duplicate check needs only the other
// months: within its own month ON CONFLICT refuses a duplicate by the
// unique index. Written as two ranges of a stable expression, so that the
// partition is pruned when the statement starts, also in a cached generic
// plan; that plan, made while the month's partition was young (a month's
// first minutes, or a bench's truncated table), would otherwise scan it in
// full for every batch until its statistics catch up (BENCHMARKS.md,
// "2026-12-03, third session").
const otherMonths = `(part_month < date_trunc('month', now() AT TIME ZONE 'UTC')::date
	OR part_month >= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')::date)`

// withLive replaces every {live} in query with the date literal lo.
func withLive(query, lo string) string { return strings.ReplaceAll(query, "{live}", lo) }

// oldUpdateMax returns the highest update_id stored before the month lo (a
// liveFrom literal). Telegram numbers updates in increasing order, so an
// update_id above it cannot be a row of those partitions: the exact
// duplicate check and the search for its row need only the live months'.
// Rows are written in the database's current month, so the value only
// falls (when retention drops a partition), which makes the search wider,
// never narrower; it is read again with the month.
func (s *Store) oldUpdateMax(ctx context.Context, lo string) (int64, error) {
	return forLive(s.months, &s.months.oldMax, lo, func() (int64, error) {
		return getValue[int64](ctx, s, "highest update_id of past months", withLive(`SELECT COALESCE(max(update_id), 0) FROM updates WHERE part_month < {live}`, lo))
	})
}

// execLive runs query, a prepared statement whose {window} stands for a
// condition on part_month (alias is the table's alias, "" for none), on
// the live months' partitions; if it changed fewer than want rows, it runs
// it again on the past months' for the rest (rows of different months are
// in different partitions, so no row is changed twice). It returns how
// many rows the two changed.
func (s *Store) execLive(ctx context.Context, want int64, alias, query string, args ...any) (int64, error) {
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return 0, err
	}
	col := "part_month"
	if alias != "" {
		col = alias + ".part_month"
	}
	run := func(cmp string) (int64, error) {
		res, err := s.execP(ctx, strings.ReplaceAll(query, "{window}", col+" "+cmp+" "+lo), args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	n, err := run(">=")
	if err != nil || n >= want {
		return n, err
	}
	m, err := run("<")
	return n + m, err
}

// claimFrom returns the first month (a date literal) whose outbox rows the
// claim searches: the previous month's, or an earlier one that still holds
// a pending or sending row. A row of a past month never becomes pending
// or sending again once it is neither (rows are written in the current
// month; only 'sending' goes back to 'pending'), so the month found only
// moves forward and a cached one is never too late; it is read again with
// the month.
func (s *Store) claimFrom(ctx context.Context) (string, error) {
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return "", err
	}
	return forLive(s.months, &s.months.claimFrom, lo, func() (string, error) {
		// The partial indexes on pending and on sending rows answer this.
		oldest, err := getValue[*time.Time](ctx, s, "oldest month of pending messages", withLive(`
		SELECT min(part_month) FROM outbox WHERE part_month < {live} AND (status = 'pending' OR status = 'sending')`, lo))
		if err != nil {
			return "", err
		}
		if oldest != nil {
			return "'" + MonthOf(*oldest).Format(time.DateOnly) + "'", nil
		}
		return lo, nil
	})
}
