package storage

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// FlushOutbox writes the messages the transaction holds (as a read of the
// outbox inside a transaction does first).
func (s *Store) FlushOutbox(ctx context.Context) error { return s.flushOutbox(ctx) }

// SavepointsInDatabase is how many savepoints the transaction has sent
// and not yet released.
func (s *Store) SavepointsInDatabase() int { return s.tx.established }

// GenericInsertPlans returns the plans (EXPLAIN, JSON) that a cached
// generic plan of InsertUpdates' statement (its live months' lookup, then its
// every month's) and of the outbox insert's statement runs
// with, pruned as at its start.
func (s *Store) GenericInsertPlans(ctx context.Context) ([]string, error) {
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	defer conn.ExecContext(context.WithoutCancel(ctx), `RESET plan_cache_mode; DEALLOCATE ALL`) //nolint:errcheck
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		return nil, err
	}
	stmts := []struct{ sql, args string }{
		{withLive(insertUpdatesSQL(false), lo), `'{1}', '[{}]', '{0}', '{0}', '{message}'`},
		{withLive(insertUpdatesSQL(true), lo), `'{1}', '[{}]', '{0}', '{0}', '{message}'`},
		{withLive(insertOutboxSQL, lo), `'{k}', '{telegram}', '{1}', '{0}', '{5}', '{reply}', '{sendMessage}', '[{}]', '{""}'`},
	}
	var plans []string
	for i, st := range stmts {
		name := "zhibu_plan_" + strconv.Itoa(i)
		if _, err := conn.ExecContext(ctx, `PREPARE `+name+` AS `+st.sql); err != nil {
			return nil, err
		}
		var plan string
		if err := conn.QueryRowxContext(ctx, `EXPLAIN (FORMAT JSON) EXECUTE `+name+`(`+st.args+`)`).Scan(&plan); err != nil {
			return nil, err
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// ExplainClaim runs the outbox claim of channel at now under EXPLAIN
// (ANALYZE, FORMAT JSON), with the claim's planner settings, in a
// transaction that is rolled back, and returns the plan.
func (s *Store) ExplainClaim(ctx context.Context, channel string, now time.Time) (string, error) {
	from, err := s.claimFrom(ctx)
	if err != nil {
		return "", err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, claimSettings); err != nil {
		return "", err
	}
	var plan string
	err = tx.QueryRowxContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+withLive(claimSQL, from),
		channel, now, now.Add(time.Minute), pq.Array([]int64{}), 10, 0, nil, nil).Scan(&plan)
	return plan, err
}

// DoneRuns is doneRuns, for testing the reading of health_units.done.
func DoneRuns(b []byte) []DoneRun { return doneRuns(b, nil) }

// DoneRunsInto is doneRuns reusing runs.
func DoneRunsInto(b []byte, runs []DoneRun) []DoneRun { return doneRuns(b, runs) }

// MaxMemFields and MemFields are maxMemFields and memFields.
const MaxMemFields = maxMemFields

func MemFields(entry []byte, fs *[MaxMemFields][]byte) [][]byte { return memFields(entry, fs) }

// ReadMemory, ReadMemoryInto and EncodeMemory read and write the memory's text.
func ReadMemory(b []byte) HealthMemory {
	var m HealthMemory
	readMemory(b, &m)
	return m
}

func ReadMemoryInto(b []byte, m *HealthMemory) { readMemory(b, m) }

func EncodeMemory(m HealthMemory) string {
	var b strings.Builder
	return m.encode(&b)
}
