package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func TestBindFailuresCountedInTheWindow(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	t0 := time.Date(2026, 12, 31, 23, 50, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if err := s.RecordBindFailure(ctx, 42, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordBindFailure(ctx, 43, t0); err != nil { // another account
		t.Fatal(err)
	}
	n, oldest, err := s.BindFailuresSince(ctx, 42, t0.Add(-time.Minute))
	if err != nil || n != 3 || !oldest.Equal(t0) {
		t.Fatalf("all three: %d %v %v", n, oldest, err)
	}
	// A failure exactly at the window's start has left it.
	n, oldest, err = s.BindFailuresSince(ctx, 42, t0)
	if err != nil || n != 2 || !oldest.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after the first: %d %v %v", n, oldest, err)
	}
	if n, oldest, err := s.BindFailuresSince(ctx, 44, t0.Add(-time.Hour)); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("nobody: %d %v %v", n, oldest, err)
	}
}

func TestRelinkRequestNewestCountsAndFinishesOnce(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	u, err := s.CreateUnit(ctx, "X", "X县", "county", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	pid, _, err := s.UpsertPerson(ctx, "张三", "13800000000", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := storage.RelinkRequest{PersonID: pid, TGUserID: 7, ChatID: 7, Username: "u7", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	first, err := s.CreateRelinkRequest(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.CreateRelinkRequest(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.LockRelinkRequest(ctx, first)
	if err != nil || got.Status != "cancelled" {
		t.Fatalf("an older request stays pending: %+v %v", got, err)
	}
	if err := s.FinishRelinkRequest(ctx, second, "confirmed"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRelinkRequest(ctx, second, "cancelled"); err != nil { // no longer pending: no change
		t.Fatal(err)
	}
	got, err = s.LockRelinkRequest(ctx, second)
	if err != nil || got.Status != "confirmed" || got.TGUserID != 7 || got.Username != "u7" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("request: %+v %v", got, err)
	}
	if _, err := s.LockRelinkRequest(ctx, second+100); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
}
