package testdb

import (
	"context"
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
