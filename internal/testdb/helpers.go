package testdb

import (
	"context"
	"testing"

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
