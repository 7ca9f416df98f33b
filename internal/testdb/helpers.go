package testdb

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/storage"
)

// Count runs q, a query of one integer (a count), on s and fails the test
// when it does not answer.
func Count(t testing.TB, s *storage.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().GetContext(context.Background(), &n, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// Eventually polls cond every 10 ms until it holds, and fails the test,
// naming what it waited for, when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := clock.Monotonic().Add(timeout)
	for !cond() {
		if clock.Monotonic().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// AuditTally counts the allowed and the refused entries among the newest
// limit entries of action in s's audit log, failing the test when the log
// cannot be read.
func AuditTally(t testing.TB, s *storage.Store, action string, limit int) (allowed, refused int) {
	t.Helper()
	rows, err := s.AuditLog(context.Background(), action, nil, limit)
	if err != nil {
		t.Fatalf("audit log of %q: %v", action, err)
	}
	for _, r := range rows {
		if r.Allowed {
			allowed++
		} else {
			refused++
		}
	}
	return allowed, refused
}

// KillLockSessions ends, from a session of db, the sessions holding an
// advisory lock in this database (the leader's), as a crash or a network
// cut would, and fails the test unless it ended one.
func KillLockSessions(t testing.TB, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) {
	t.Helper()
	var killed bool
	err := db.QueryRowContext(context.Background(), `
		SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("terminate the leader's session: %v %v", killed, err)
	}
}
