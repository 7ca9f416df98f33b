package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
)

// The demo county owes from the first day of the month three months back,
// also when today is a day that month does not have (12-31 → 09-01, not
// "09-31" = 10-01), and by the local calendar (00:00 on 1 March in
// Shanghai is still February in UTC).
func TestDemoStartsThreeMonthsBack(t *testing.T) {
	ctx := context.Background()
	st := testdb.New(t)
	cases := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 12, 31, 23, 59, 0, 0, ciLoc), "2026-09-01"},
		{time.Date(2026, 5, 31, 12, 0, 0, 0, ciLoc), "2026-02-01"},
		{time.Date(2027, 3, 1, 0, 0, 0, 0, ciLoc), "2026-12-01"},
	}
	for _, tc := range cases {
		now := tc.now
		a := app.New(st, config.Default(), func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if _, err := a.LoadDemo(ctx); err != nil {
			t.Fatal(err)
		}
		units, err := st.AllUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			if got := u.StartedOn.Format(time.DateOnly); got != tc.want {
				t.Fatalf("demo loaded at %s: %s starts %s, want %s", now, u.Code, got, tc.want)
			}
		}
	}
}
