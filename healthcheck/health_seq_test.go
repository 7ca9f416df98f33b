package healthcheck

import (
	"context"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/testdb"
)

func TestPeriodSeq(t *testing.T) {
	tests := []struct {
		key string
		rec health.Recurrence
		ok  bool
	}{
		{"2026-11", health.Monthly, true},
		{"2026-01", health.Monthly, true},
		{"2026-12", health.Monthly, true},
		{"2026-13", health.Monthly, false},
		{"2026-00", health.Monthly, false},
		{"2026-1", health.Monthly, false},
		{"2026-Q4", health.Monthly, false},
		{"2026-Q4", health.Quarterly, true},
		{"2026-q1", health.Quarterly, true},
		{"2026-Q5", health.Quarterly, false},
		{"2026-Q0", health.Quarterly, false},
		{"2026", health.Yearly, true},
		{"2026", health.Monthly, false},
		{"0000", health.Yearly, false},
		{"20x6", health.Yearly, false},
		{"", health.Yearly, false},
	}
	for _, tc := range tests {
		t.Run(tc.key+"/"+string(tc.rec), func(t *testing.T) {
			seq, ok := parseSeq([]byte(tc.key), tc.rec)
			if ok != tc.ok {
				t.Fatalf("parseSeq(%q, %s) ok = %v", tc.key, tc.rec, ok)
			}
			if !ok {
				return
			}
			p, err := health.ParsePeriod(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if got := periodSeq(p); got != seq {
				t.Fatalf("periodSeq(%v) = %d, parseSeq = %d", p, got, seq)
			}
			if back := seqPeriod(tc.rec, seq); back != p {
				t.Fatalf("seqPeriod(%d) = %v, want %v", seq, back, p)
			}
		})
	}
	// Consecutive periods have consecutive numbers, across years too.
	for _, rec := range []health.Recurrence{health.Monthly, health.Quarterly, health.Yearly} {
		p := health.Period{Rec: rec, Year: 2025, N: map[health.Recurrence]int{health.Monthly: 11, health.Quarterly: 4}[rec]}
		for range 30 {
			if periodSeq(p.Next()) != periodSeq(p)+1 {
				t.Fatalf("%s: %v -> %v not consecutive", rec, p, p.Next())
			}
			p = p.Next()
		}
	}
}

// TestEngineLightAtMatchesDomain checks the engine's memoised lights
// against health.LightAt over every default obligation, fixed day and a
// spread of instants around the periods' windows.
func TestEngineLightAtMatchesDomain(t *testing.T) {
	loc := testdb.Loc
	cfg := config.Default()
	a := &app.App{Cfg: cfg, Loc: loc}
	cal := health.NewCalendar(health.OfficialDays())
	for at := time.Date(2026, 10, 20, 0, 0, 0, 0, loc); at.Before(time.Date(2027, 1, 10, 0, 0, 0, 0, loc)); at = at.Add(37 * time.Hour) {
		e, err := Of(a).newEngine(context.Background(), nil, at, 0, evalMode{})
		if err != nil {
			t.Fatal(err)
		}
		e.rules.Calendar = cal
		for oi, ob := range e.obs {
			cur := health.PeriodAt(ob.Recurs, at, loc)
			for _, p := range []health.Period{cur.Prev().Prev(), cur.Prev(), cur, cur.Next()} {
				for theme := 0; theme <= 31; theme++ {
					for _, done := range []bool{false, true} {
						want := health.LightAt(ob, p, theme, health.Facts{CheckedIn: done, Owed: true}, at, loc, cal)
						if got := e.lightAt(oi, periodSeq(p), theme, done); got != want {
							t.Fatalf("%s %s theme %d done %v at %s: engine %s, domain %s", ob.Code, p, theme, done, at, got, want)
						}
					}
				}
			}
		}
	}
}
