package app

import (
	"testing"

	"github.com/zhibu/zhibu/domain/health"
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
