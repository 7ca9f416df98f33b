package health

import (
	"testing"
	"time"
)

func TestMakeUp(t *testing.T) {
	sh := shanghai(t)
	now := time.Date(2027, 1, 10, 10, 0, 0, 0, sh)
	for _, tt := range []struct {
		token string
		rec   Recurrence
		want  string // period key; "" = refused
	}{
		{"补开11月", Monthly, "2026-11"},
		{"补11月", Monthly, "2026-11"},
		{"补开1月", Monthly, "2027-01"},
		{"补开2026年12月", Monthly, "2026-12"},
		{"补开11月", Quarterly, "2026-Q4"},
		{"补第三季度", Quarterly, "2026-Q3"},
		{"补开四季度", Quarterly, "2026-Q4"},
		{"补开第3季度", Yearly, "2026"},
		{"补开2026年度", Yearly, "2026"},
		{"补开上月", Monthly, "2026-12"},
		{"补开上季度", Quarterly, "2026-Q4"},
		{"补开去年", Yearly, "2026"},
		{"补第三季度", Monthly, ""},
		{"补开上季度", Monthly, ""},
		{"补开2026年", Quarterly, ""},
		{"补开2027年2月", Monthly, ""}, // after now
	} {
		mu, ok := ParseMakeUp(tt.token)
		if !ok {
			t.Errorf("%s: not read", tt.token)
			continue
		}
		p, ok := mu.PeriodFor(tt.rec, now, sh)
		got := ""
		if ok {
			got = p.Key()
		}
		if got != tt.want {
			t.Errorf("%s for %s: %q, want %q", tt.token, tt.rec, got, tt.want)
		}
	}
	for _, s := range []string{"补", "补充", "补开", "补开十一月份吧", "11月", "补录"} {
		if _, ok := ParseMakeUp(s); ok {
			t.Errorf("%q read as a make-up", s)
		}
	}
}

func TestMakeUpWordRoundTrips(t *testing.T) {
	sh := shanghai(t)
	now := time.Date(2027, 1, 10, 10, 0, 0, 0, sh)
	for _, p := range []Period{{Monthly, 2026, 11}, {Quarterly, 2026, 3}, {Yearly, 2026, 0}} {
		mu, ok := ParseMakeUp(MakeUpWord(p))
		if !ok {
			t.Fatalf("%s: %q not read", p, MakeUpWord(p))
		}
		if got, ok := mu.PeriodFor(p.Rec, now, sh); !ok || got != p {
			t.Errorf("%q: %v %v", MakeUpWord(p), got, ok)
		}
	}
}
