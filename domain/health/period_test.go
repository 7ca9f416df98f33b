package health

import (
	"strings"
	"testing"
	"time"
)

func TestPeriodKeyAndParse(t *testing.T) {
	tests := []struct {
		p   Period
		key string
	}{
		{Period{Monthly, 2026, 11}, "2026-11"},
		{Period{Monthly, 2026, 1}, "2026-01"},
		{Period{Quarterly, 2026, 4}, "2026-Q4"},
		{Period{Yearly, 2026, 0}, "2026"},
		{Period{Monthly, 987, 3}, "0987-03"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := tt.p.Key(); got != tt.key {
				t.Fatalf("Key() = %q, want %q", got, tt.key)
			}
			back, err := ParsePeriod(tt.key)
			if err != nil || back != tt.p {
				t.Fatalf("ParsePeriod(%q) = %v, %v; want %v", tt.key, back, err, tt.p)
			}
		})
	}
	if p, err := ParsePeriod("2026-q2"); err != nil || p != (Period{Quarterly, 2026, 2}) {
		t.Errorf("lower-case q: %v, %v", p, err)
	}
	for _, bad := range []string{"", "26", "2026-13", "2026-00", "2026-Q0", "2026-Q5", "2026-1", "2026-011", "0000", "2026/11", "2026-Qx", "abcd", "2026 "} {
		t.Run("bad "+bad, func(t *testing.T) {
			if bad == "2026 " { // surrounding blanks are tolerated
				if _, err := ParsePeriod(bad); err != nil {
					t.Fatalf("ParsePeriod(%q): %v", bad, err)
				}
				return
			}
			_, err := ParsePeriod(bad)
			if err == nil || !strings.Contains(err.Error(), "无法识别") {
				t.Fatalf("ParsePeriod(%q) error = %v, want a refusal", bad, err)
			}
		})
	}
	if (Period{}).Key() != "" || (Period{Monthly, 2026, 13}).Key() != "" {
		t.Error("invalid periods must have an empty key")
	}
}

// TestPeriodBoundaries runs in whatever zone the process has (CI uses
// TZ=UTC): the boundaries are Shanghai's.
func TestPeriodBoundaries(t *testing.T) {
	sh := shanghai(t)
	tests := []struct {
		name string
		rec  Recurrence
		t    time.Time
		want string
	}{
		{"month end last second", Monthly, at(sh, 2026, 11, 30, 23, 59, 59), "2026-11"},
		{"month start", Monthly, at(sh, 2026, 12, 1, 0, 0, 0), "2026-12"},
		{"quarter end last second", Quarterly, at(sh, 2026, 9, 30, 23, 59, 59), "2026-Q3"},
		{"quarter start", Quarterly, at(sh, 2026, 10, 1, 0, 0, 0), "2026-Q4"},
		{"year end last second", Yearly, at(sh, 2026, 12, 31, 23, 59, 59), "2026"},
		{"year start", Yearly, at(sh, 2027, 1, 1, 0, 0, 0), "2027"},
		{"year start month", Monthly, at(sh, 2027, 1, 1, 0, 0, 0), "2027-01"},
		{"year start quarter", Quarterly, at(sh, 2027, 1, 1, 0, 0, 0), "2027-Q1"},
		// 2026-12-31 16:00 UTC is already 2027 in Shanghai.
		{"UTC instant in Shanghai's new year", Yearly, time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), "2027"},
		{"UTC instant just before", Monthly, time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC), "2026-12"},
		{"leap day 2028", Monthly, at(sh, 2028, 2, 29, 23, 59, 59), "2028-02"},
		{"after leap day", Monthly, at(sh, 2028, 3, 1, 0, 0, 0), "2028-03"},
		{"2027 Feb 28 end", Monthly, at(sh, 2027, 2, 28, 23, 59, 59), "2027-02"},
		{"2027 Mar 1", Monthly, at(sh, 2027, 3, 1, 0, 0, 0), "2027-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PeriodAt(tt.rec, tt.t, sh)
			if p.Key() != tt.want {
				t.Fatalf("PeriodAt = %s, want %s", p.Key(), tt.want)
			}
			if !p.Contains(tt.t, sh) {
				t.Fatalf("%s does not contain %v", p, tt.t)
			}
			if !p.Start(sh).Equal(p.Prev().End(sh)) {
				t.Fatalf("Start %v != Prev().End %v", p.Start(sh), p.Prev().End(sh))
			}
		})
	}
}

func TestPeriodStartEnd(t *testing.T) {
	sh := shanghai(t)
	tests := []struct {
		key        string
		start, end time.Time
	}{
		{"2028-02", at(sh, 2028, 2, 1, 0, 0, 0), at(sh, 2028, 3, 1, 0, 0, 0)},
		{"2027-02", at(sh, 2027, 2, 1, 0, 0, 0), at(sh, 2027, 3, 1, 0, 0, 0)},
		{"2026-12", at(sh, 2026, 12, 1, 0, 0, 0), at(sh, 2027, 1, 1, 0, 0, 0)},
		{"2026-Q4", at(sh, 2026, 10, 1, 0, 0, 0), at(sh, 2027, 1, 1, 0, 0, 0)},
		{"2026-Q1", at(sh, 2026, 1, 1, 0, 0, 0), at(sh, 2026, 4, 1, 0, 0, 0)},
		{"2026", at(sh, 2026, 1, 1, 0, 0, 0), at(sh, 2027, 1, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			p, err := ParsePeriod(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Start(sh).Equal(tt.start) || !p.End(sh).Equal(tt.end) {
				t.Fatalf("[%v, %v), want [%v, %v)", p.Start(sh), p.End(sh), tt.start, tt.end)
			}
			if p.Contains(tt.end, sh) || !p.Contains(tt.end.Add(-time.Second), sh) {
				t.Fatal("End must be exclusive")
			}
			// In UTC the Shanghai month starts at 16:00 the day before.
			if got := p.Start(sh).UTC(); got.Hour() != 16 {
				t.Fatalf("UTC start %v, want 16:00", got)
			}
		})
	}
	if d := daysIn(2028, time.February, sh); d != 29 {
		t.Errorf("Feb 2028 has %d days", d)
	}
	if d := daysIn(2027, time.February, sh); d != 28 {
		t.Errorf("Feb 2027 has %d days", d)
	}
}

func TestPeriodNextPrevCompare(t *testing.T) {
	tests := []struct{ p, next Period }{
		{Period{Monthly, 2026, 12}, Period{Monthly, 2027, 1}},
		{Period{Monthly, 2026, 5}, Period{Monthly, 2026, 6}},
		{Period{Quarterly, 2026, 4}, Period{Quarterly, 2027, 1}},
		{Period{Quarterly, 2026, 2}, Period{Quarterly, 2026, 3}},
		{Period{Yearly, 2026, 0}, Period{Yearly, 2027, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.p.Key(), func(t *testing.T) {
			if tt.p.Next() != tt.next || tt.next.Prev() != tt.p {
				t.Fatalf("Next %v / Prev %v", tt.p.Next(), tt.next.Prev())
			}
			if !tt.p.Before(tt.next) || !tt.next.After(tt.p) || tt.p.Compare(tt.p) != 0 {
				t.Fatal("order broken")
			}
		})
	}
	order := []string{"2026-01", "2026-Q1", "2026", "2026-02", "2026-10", "2026-Q4", "2026-11", "2027-01"}
	for i := 1; i < len(order); i++ {
		a, _ := ParsePeriod(order[i-1])
		b, _ := ParsePeriod(order[i])
		if !a.Before(b) {
			t.Errorf("%s should come before %s", a, b)
		}
	}
}

func TestPeriodsBetween(t *testing.T) {
	sh := shanghai(t)
	tests := []struct {
		name     string
		rec      Recurrence
		from, to time.Time
		want     string
	}{
		{"months across year", Monthly, at(sh, 2026, 11, 15, 0, 0, 0), at(sh, 2027, 2, 1, 0, 0, 0), "2026-11,2026-12,2027-01,2027-02"},
		{"same month", Monthly, at(sh, 2026, 11, 1, 0, 0, 0), at(sh, 2026, 11, 30, 23, 59, 59), "2026-11"},
		{"to before from", Monthly, at(sh, 2026, 11, 1, 0, 0, 0), at(sh, 2026, 10, 1, 0, 0, 0), ""},
		{"quarters", Quarterly, at(sh, 2026, 3, 31, 23, 59, 59), at(sh, 2026, 10, 1, 0, 0, 0), "2026-Q1,2026-Q2,2026-Q3,2026-Q4"},
		{"years", Yearly, at(sh, 2025, 6, 1, 0, 0, 0), at(sh, 2027, 1, 1, 0, 0, 0), "2025,2026,2027"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := periodKeys(PeriodsBetween(tt.rec, tt.from, tt.to, sh)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNilLocationIsUTCPlus8(t *testing.T) {
	sh := shanghai(t)
	tm := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC) // 2026-12-01 00:00 in Shanghai
	if a, b := PeriodAt(Monthly, tm, nil), PeriodAt(Monthly, tm, sh); a != b || a.Key() != "2026-12" {
		t.Fatalf("nil loc %v, Shanghai %v", a, b)
	}
	p := Period{Monthly, 2026, 12}
	if !p.Start(nil).Equal(p.Start(sh)) {
		t.Fatal("Start differs between nil and Shanghai")
	}
}

// Labels are what people read: Chinese numerals for quarters, never a key.
func TestPeriodLabel(t *testing.T) {
	for key, want := range map[string]string{
		"2026-11": "2026年11月", "2027-01": "2027年1月", "2026-Q1": "2026年第一季度", "2026-Q2": "2026年第二季度",
		"2026-Q3": "2026年第三季度", "2026-Q4": "2026年第四季度", "2026": "2026年度",
	} {
		p, err := ParsePeriod(key)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Label(); got != want {
			t.Errorf("%s: Label = %q, want %q", key, got, want)
		}
	}
}

// Periods may be written as people read them.
func TestParsePeriodLabels(t *testing.T) {
	for in, want := range map[string]string{
		"2026年11月": "2026-11", "2026年1月份": "2026-01", " 2026年第四季度 ": "2026-Q4", "2026年第4季度": "2026-Q4",
		"2026年一季度": "2026-Q1", "2026年度": "2026", "2026年": "2026", "2026-Q3": "2026-Q3", "2026-10": "2026-10",
	} {
		p, err := ParsePeriod(in)
		if err != nil || p.Key() != want {
			t.Errorf("ParsePeriod(%q) = %s, %v; want %s", in, p.Key(), err, want)
		}
		if q, err := ParsePeriod(p.Label()); err != nil || q != p {
			t.Errorf("ParsePeriod(Label %q) = %v, %v", p.Label(), q, err)
		}
	}
	for _, in := range []string{"2026年13月", "2026年第五季度", "2026年第0季度", "11月", "第四季度", "", "2026年11月20日"} {
		if _, err := ParsePeriod(in); err == nil || !strings.Contains(err.Error(), "2026年11月、2026年第四季度 或 2026年度") {
			t.Errorf("ParsePeriod(%q) = %v, want a refusal naming the forms", in, err)
		}
	}
}
