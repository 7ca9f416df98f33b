package health

import (
	"strings"
	"testing"
	"time"
)

func TestParseQuietHours(t *testing.T) {
	tests := []struct {
		in       string
		from, to int
	}{
		{"21:00-08:00", 21 * 60, 8 * 60},
		{" 21:00 - 08:00 ", 21 * 60, 8 * 60},
		{"", 0, 0},
		{"   ", 0, 0},
		{"8:00-9:30", 8 * 60, 9*60 + 30},
		{"22:00-24:00", 22 * 60, 24 * 60},
		{"00:00-06:00", 0, 6 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			from, to, err := ParseQuietHours(tt.in)
			if err != nil || from != tt.from || to != tt.to {
				t.Fatalf("ParseQuietHours(%q) = %d, %d, %v", tt.in, from, to, err)
			}
			if strings.TrimSpace(tt.in) == "" {
				return
			}
			back, _, _ := ParseQuietHours(FormatQuietHours(from, to))
			if back != from {
				t.Fatalf("FormatQuietHours round trip: %q", FormatQuietHours(from, to))
			}
		})
	}
	for _, bad := range []string{"25:00-08:00", "21:00", "21:60-08:00", "21-08", "08:00-08:00", "00:00-24:00", "abc", "24:00-08:00", "21:00-08:0"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, _, err := ParseQuietHours(bad)
			if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "quiet_hours") {
				t.Fatalf("error %v should name the value %q and the key", err, bad)
			}
		})
	}
}

func TestInQuietHours(t *testing.T) {
	sh := shanghai(t)
	wrap := [2]int{21 * 60, 8 * 60}
	day := [2]int{12 * 60, 14 * 60}
	none := [2]int{0, 0}
	tests := []struct {
		name  string
		t     time.Time
		hours [2]int
		want  bool
	}{
		{"wrap 20:59", at(sh, 2026, 11, 20, 20, 59, 59), wrap, false},
		{"wrap 21:00", at(sh, 2026, 11, 20, 21, 0, 0), wrap, true},
		{"wrap 23:59", at(sh, 2026, 11, 20, 23, 59, 0), wrap, true},
		{"wrap midnight", at(sh, 2026, 11, 21, 0, 0, 0), wrap, true},
		{"wrap 07:59", at(sh, 2026, 11, 21, 7, 59, 59), wrap, true},
		{"wrap 08:00", at(sh, 2026, 11, 21, 8, 0, 0), wrap, false},
		{"wrap, UTC 13:00 is 21:00 in Shanghai", time.Date(2026, 11, 20, 13, 0, 0, 0, time.UTC), wrap, true},
		{"wrap, UTC 00:00 is 08:00 in Shanghai", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), wrap, false},
		{"day 11:59", at(sh, 2026, 11, 20, 11, 59, 0), day, false},
		{"day 12:00", at(sh, 2026, 11, 20, 12, 0, 0), day, true},
		{"day 14:00", at(sh, 2026, 11, 20, 14, 0, 0), day, false},
		{"none at 23:00", at(sh, 2026, 11, 20, 23, 0, 0), none, false},
		{"none at 03:00", at(sh, 2026, 11, 20, 3, 0, 0), none, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InQuietHours(tt.t, sh, tt.hours[0], tt.hours[1]); got != tt.want {
				t.Fatalf("InQuietHours = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHoldAndNextAllowed(t *testing.T) {
	sh := shanghai(t)
	holidays, err := ParseHolidays([]string{"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"})
	if err != nil {
		t.Fatal(err)
	}
	withHolidays := DefaultRules()
	withHolidays.Calendar = (*Calendar)(nil).WithExtraHolidays(holidays)
	noQuiet := Rules{Calendar: (*Calendar)(nil).WithExtraHolidays(holidays)}
	tests := []struct {
		name   string
		rules  Rules
		t      time.Time
		reason string // substring; "" = allowed
		next   time.Time
	}{
		{"evening", DefaultRules(), at(sh, 2026, 11, 20, 22, 0, 0), "静默时段（21:00-08:00）", at(sh, 2026, 11, 21, 8, 0, 0)},
		{"early morning", DefaultRules(), at(sh, 2026, 11, 21, 7, 0, 0), "静默时段", at(sh, 2026, 11, 21, 8, 0, 0)},
		{"day", DefaultRules(), at(sh, 2026, 11, 21, 10, 0, 0), "", at(sh, 2026, 11, 21, 10, 0, 0)},
		{"national day week", withHolidays, at(sh, 2026, 10, 1, 10, 0, 0), "休息日（2026-10-01）", at(sh, 2026, 10, 8, 8, 0, 0)},
		{"holiday without quiet hours", noQuiet, at(sh, 2026, 10, 7, 23, 0, 0), "休息日", at(sh, 2026, 10, 8, 0, 0, 0)},
		{"holiday evening before", withHolidays, at(sh, 2026, 9, 30, 22, 0, 0), "静默时段", at(sh, 2026, 10, 8, 8, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rules.Hold(tt.t, sh)
			if (tt.reason == "") != (got == "") || !strings.Contains(got, tt.reason) {
				t.Fatalf("Hold = %q, want %q", got, tt.reason)
			}
			if next := tt.rules.NextAllowed(tt.t, sh); !next.Equal(tt.next) {
				t.Fatalf("NextAllowed = %v, want %v", next.In(sh), tt.next)
			}
		})
	}
	if _, err := ParseHolidays([]string{"2026-10-01", "10-02"}); err == nil || !strings.Contains(err.Error(), "10-02") {
		t.Errorf("bad holiday: %v", err)
	}
}

func TestRulesValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Rules)
		key  string
	}{
		{"negative yellow", func(r *Rules) { r.YellowRepeat = -time.Hour }, "yellow_repeat"},
		{"negative red", func(r *Rules) { r.RedRepeat = -time.Hour }, "red_repeat"},
		{"negative escalation", func(r *Rules) { r.EscalateDays = -1 }, "escalate_after"},
		{"quiet out of range", func(r *Rules) { r.QuietFrom = 1440 }, "quiet_hours"},
		{"quiet all day", func(r *Rules) { r.QuietFrom, r.QuietTo = 0, 1440 }, "quiet_hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DefaultRules()
			tt.edit(&r)
			if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.key)
			}
		})
	}
}
