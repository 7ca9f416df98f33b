package points

import (
	"testing"
	"time"
)

func TestPeriodAt(t *testing.T) {
	loc := shanghai(t)
	sh := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	tests := []struct {
		kind       PeriodKind
		at         time.Time
		key        string
		start, end time.Time
	}{
		{Monthly, time.Date(2026, 11, 30, 15, 59, 59, 0, time.UTC), "2026-11", sh(2026, 11, 1), sh(2026, 12, 1)},
		{Monthly, time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), "2026-12", sh(2026, 12, 1), sh(2027, 1, 1)},
		{Quarterly, time.Date(2026, 9, 30, 15, 59, 59, 0, time.UTC), "2026-Q3", sh(2026, 7, 1), sh(2026, 10, 1)},
		{Quarterly, time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), "2026-Q4", sh(2026, 10, 1), sh(2027, 1, 1)},
		{Quarterly, sh(2026, 2, 14), "2026-Q1", sh(2026, 1, 1), sh(2026, 4, 1)},
		{Yearly, time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), "2027", sh(2027, 1, 1), sh(2028, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			p, err := PeriodAt(tt.kind, tt.at, loc)
			if err != nil {
				t.Fatal(err)
			}
			if p.Key() != tt.key || !p.Start.Equal(tt.start) || !p.End.Equal(tt.end) || p.Kind != tt.kind {
				t.Errorf("PeriodAt(%s, %v) = %s [%v, %v)", tt.kind, tt.at, p.Key(), p.Start, p.End)
			}
			if !p.Contains(tt.at) || !p.Contains(p.Start) || p.Contains(p.End) || p.Contains(p.Start.Add(-time.Nanosecond)) {
				t.Error("Contains is not [Start, End)")
			}
			if n := p.Next(); !n.Start.Equal(p.End) || n.Prev() != p {
				t.Errorf("Next = %s, its Prev = %s", n.Key(), n.Prev().Key())
			}
		})
	}
	if _, err := PeriodAt("weekly", time.Now(), loc); err == nil {
		t.Error("weekly accepted")
	}
}

func TestPeriodKeysAcrossYears(t *testing.T) {
	loc := shanghai(t)
	p, _ := PeriodAt(Quarterly, time.Date(2026, 11, 20, 0, 0, 0, 0, loc), loc)
	var keys []string
	for range 3 {
		keys = append(keys, p.Key())
		p = p.Next()
	}
	if got := keys[0] + " " + keys[1] + " " + keys[2]; got != "2026-Q4 2027-Q1 2027-Q2" {
		t.Errorf("keys %s", got)
	}
	m, _ := PeriodAt(Monthly, time.Date(2026, 1, 5, 0, 0, 0, 0, loc), loc)
	if got := m.Prev().Key(); got != "2025-12" {
		t.Errorf("previous month %s", got)
	}
}

func TestParsePeriodKind(t *testing.T) {
	for _, s := range []string{"monthly", "quarterly", "yearly"} {
		if k, err := ParsePeriodKind(s); err != nil || string(k) != s {
			t.Errorf("ParsePeriodKind(%q) = %q, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "Monthly", "weekly"} {
		if _, err := ParsePeriodKind(s); err == nil {
			t.Errorf("ParsePeriodKind(%q) accepted", s)
		}
	}
}

func TestSettlementPeriodLabel(t *testing.T) {
	loc := shanghai(t)
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, loc)
	for kind, want := range map[PeriodKind]string{Monthly: "2026年11月", Quarterly: "2026年第四季度", Yearly: "2026年度"} {
		p, err := PeriodAt(kind, at, loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Label(); got != want {
			t.Errorf("%s: Label = %q, want %q", kind, got, want)
		}
	}
	if p, _ := PeriodAt(Quarterly, time.Date(2026, 2, 1, 0, 0, 0, 0, loc), loc); p.Label() != "2026年第一季度" {
		t.Errorf("Q1 label %q", p.Label())
	}
}

func TestUncovered(t *testing.T) {
	loc := shanghai(t)
	m := func(month int) time.Time { return time.Date(2026, time.Month(month), 1, 0, 0, 0, 0, loc) }
	iv := func(a, b int) Interval { return Interval{From: m(a), To: m(b)} }
	tests := []struct {
		name    string
		covered []Interval
		want    []Interval
	}{
		{"nothing settled", nil, []Interval{iv(1, 13)}},
		{"every month", []Interval{iv(3, 4), iv(1, 2), iv(2, 3), iv(4, 5), iv(5, 6), iv(6, 7), iv(7, 8), iv(8, 9), iv(9, 10), iv(10, 11), iv(11, 12), iv(12, 13)}, nil},
		{"first months never settled", []Interval{iv(11, 12), iv(12, 13)}, []Interval{iv(1, 11)}},
		{"holes merge", []Interval{iv(2, 3), iv(5, 6), iv(6, 7)}, []Interval{iv(1, 2), iv(3, 5), iv(7, 13)}},
		{"December missing", []Interval{iv(1, 2), iv(2, 12)}, []Interval{iv(12, 13)}},
		{"overlapping and outside", []Interval{iv(0, 3), iv(2, 4), iv(12, 14), iv(6, 6)}, []Interval{iv(4, 12)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Uncovered(m(1), m(13), tt.covered)
			if len(got) != len(tt.want) {
				t.Fatalf("Uncovered = %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].From.Equal(tt.want[i].From) || !got[i].To.Equal(tt.want[i].To) {
					t.Fatalf("Uncovered = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// The refusals list the accepted values as they always have.
func TestParseErrorsListTheValues(t *testing.T) {
	if _, err := ParsePeriodKind("weekly"); err == nil || err.Error() != `points: settlement period "weekly" is not monthly, quarterly or yearly` {
		t.Errorf("ParsePeriodKind(weekly) = %v", err)
	}
	if _, err := ParseVetoScope("week"); err == nil || err.Error() != `points: veto scope "week" is not month, quarter or year` {
		t.Errorf("ParseVetoScope(week) = %v", err)
	}
}
