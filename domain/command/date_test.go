package command

import (
	"testing"
	"time"
	_ "time/tzdata"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func day(loc *time.Location, y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func TestParseDate(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	tests := []struct {
		in   string
		want time.Time // zero: not a date
	}{
		{"2026-11-20", day(loc, 2026, 11, 20)},
		{"2026/11/20", day(loc, 2026, 11, 20)},
		{"2026.11.20", day(loc, 2026, 11, 20)},
		{"2026-1-5", day(loc, 2026, 1, 5)},
		{"2025-12-31", day(loc, 2025, 12, 31)},
		{"11-20", day(loc, 2026, 11, 20)},
		{"11/20", day(loc, 2026, 11, 20)},
		{"11.19", day(loc, 2026, 11, 19)},
		{"1-5", day(loc, 2026, 1, 5)},
		{"11-21", day(loc, 2026, 11, 21)}, // tomorrow stays this year: the caller refuses it
		{"11-22", day(loc, 2025, 11, 22)}, // more than a day ahead: last year
		{"12-31", day(loc, 2025, 12, 31)},
		{"11月20日", day(loc, 2026, 11, 20)},
		{"11月20号", day(loc, 2026, 11, 20)},
		{"11月20", day(loc, 2026, 11, 20)},
		{"2026年11月20日", day(loc, 2026, 11, 20)},
		{"2024年2月29日", day(loc, 2024, 2, 29)},
		{"１１－２０", day(loc, 2026, 11, 20)},
		{"１１月２０日", day(loc, 2026, 11, 20)},
		{"今天", day(loc, 2026, 11, 20)},
		{"今日", day(loc, 2026, 11, 20)},
		{"昨天", day(loc, 2026, 11, 19)},
		{"昨日", day(loc, 2026, 11, 19)},
		{"前天", day(loc, 2026, 11, 18)},
		{" 今天 ", day(loc, 2026, 11, 20)},
		{"2026-11/20", time.Time{}}, // mixed separators
		{"2月30日", time.Time{}},
		{"2026-02-29", time.Time{}},
		{"13-01", time.Time{}},
		{"11-32", time.Time{}},
		{"0-10", time.Time{}},
		{"2026-11", time.Time{}},
		{"明天", time.Time{}},
		{"党课", time.Time{}},
		{"", time.Time{}},
		{"20261120", time.Time{}},
		// A day of this month (or the last, when this month's is more than a day ahead).
		{"20号", day(loc, 2026, 11, 20)},
		{"19日", day(loc, 2026, 11, 19)},
		{"１８号", day(loc, 2026, 11, 18)},
		{"21号", day(loc, 2026, 11, 21)},
		{"25号", day(loc, 2026, 10, 25)},
		{"31号", day(loc, 2026, 10, 31)},
		{"0号", time.Time{}},
		{"32号", time.Time{}},
		// Weeks start on Monday; 2026-11-20 is a Friday.
		{"上周五", day(loc, 2026, 11, 13)},
		{"上周一", day(loc, 2026, 11, 9)},
		{"上周日", day(loc, 2026, 11, 15)},
		{"上星期三", day(loc, 2026, 11, 11)},
		{"上礼拜天", day(loc, 2026, 11, 15)},
		{"本周一", day(loc, 2026, 11, 16)},
		{"这周四", day(loc, 2026, 11, 19)},
		{"这周日", day(loc, 2026, 11, 22)}, // ahead: the caller refuses it
		{"上周八", time.Time{}},
		{"周五", time.Time{}}, // which week? not guessed
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseDate(tt.in, now, loc)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
			}
			if ok && got.Location() != loc {
				t.Errorf("location = %v, want %v", got.Location(), loc)
			}
		})
	}
}

// The process runs in UTC (or anywhere); "today" is always read in the given location.
func TestParseDateAroundMidnight(t *testing.T) {
	loc := shanghai(t)
	tests := []struct {
		name string
		now  time.Time
		in   string
		want time.Time
	}{
		{"23:30 Shanghai is 15:30 UTC, still the 20th", time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC), "今天", day(loc, 2026, 11, 20)},
		{"00:10 Shanghai on the 21st is 16:10 UTC on the 20th", time.Date(2026, 11, 20, 16, 10, 0, 0, time.UTC), "昨天", day(loc, 2026, 11, 20)},
		{"00:10 Shanghai on the 21st: today", time.Date(2026, 11, 20, 16, 10, 0, 0, time.UTC), "今天", day(loc, 2026, 11, 21)},
		{"new year's day: 昨天 is last year", time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC), "昨天", day(loc, 2026, 12, 31)},
		{"new year's day: 12-31 is last year", time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC), "12-31", day(loc, 2026, 12, 31)},
		{"new year's day: 01-02 is tomorrow, this year", time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC), "01-02", day(loc, 2027, 1, 2)},
		{"new year's eve: 01-01 is January of this year, not tomorrow", time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC), "01-01", day(loc, 2026, 1, 1)},
		{"March 1st: 2-29 of a leap year", time.Date(2028, 3, 1, 2, 0, 0, 0, loc), "2-29", day(loc, 2028, 2, 29)},
		{"new year's day: 31号 is last December", time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC), "31号", day(loc, 2026, 12, 31)},
		{"new year's day: 上周一 is last year", time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC), "上周一", day(loc, 2026, 12, 21)},
		{"a Monday: 上周日 is yesterday", time.Date(2026, 11, 23, 9, 0, 0, 0, loc), "上周日", day(loc, 2026, 11, 22)},
		{"a Sunday: 本周一 is six days ago", time.Date(2026, 11, 22, 9, 0, 0, 0, loc), "本周一", day(loc, 2026, 11, 16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseDate(tt.in, tt.now, loc)
			if !ok || !got.Equal(tt.want) {
				t.Errorf("ParseDate(%q) at %v = %v, %v; want %v", tt.in, tt.now, got, ok, tt.want)
			}
		})
	}
}

func TestIsFuture(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC) // 23:30 in Shanghai
	tests := []struct {
		date time.Time
		want bool
	}{
		{day(loc, 2026, 11, 20), false},
		{day(loc, 2026, 11, 19), false},
		{day(loc, 2026, 11, 21), true},
		{day(loc, 2027, 1, 1), true},
		{time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC), true}, // 00:00 of the 21st in Shanghai
	}
	for _, tt := range tests {
		if got := IsFuture(tt.date, now, loc); got != tt.want {
			t.Errorf("IsFuture(%v) = %v, want %v", tt.date, got, tt.want)
		}
	}
}
