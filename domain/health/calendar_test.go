package health

import (
	"testing"
	"time"
)

func TestOfficialCalendar(t *testing.T) {
	sh := shanghai(t)
	cal := NewCalendar(OfficialDays())
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(10 * time.Hour)
	}
	for _, tt := range []struct {
		date string
		off  bool
	}{
		{"2026-10-01", true},  // 国庆 (Thursday)
		{"2026-10-07", true},  // 国庆 (Wednesday)
		{"2026-10-08", false}, // Thursday after
		{"2026-10-10", false}, // Saturday worked (调休)
		{"2026-09-20", false}, // Sunday worked
		{"2026-12-05", true},  // an ordinary Saturday
		{"2026-12-07", false}, // an ordinary Monday
		{"2026-02-14", false}, // Saturday worked before 春节
		{"2026-02-16", true},  // 春节 (Monday)
		{"2025-10-08", true},  // 2025's 国庆、中秋 ran to the 8th
		{"2027-01-02", true},  // an unknown year: weekends are still off
		{"2027-01-01", false}, // … but not its holidays, which nobody knows yet
	} {
		if got := cal.DayOff(day(tt.date), sh); got != tt.off {
			t.Errorf("DayOff(%s) = %v, want %v", tt.date, got, tt.off)
		}
	}
	if !cal.Knows(2026) || !cal.Knows(2025) || cal.Knows(2027) || !cal.Official() {
		t.Fatalf("known years %v", cal.Years())
	}
	var none *Calendar
	if none.DayOff(day("2026-10-01"), sh) || none.Official() || none.Knows(2026) {
		t.Fatal("the none calendar has days off")
	}
}

func TestCalendarLayersReplaceWholeYears(t *testing.T) {
	sh := shanghai(t)
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	cal := NewCalendar(OfficialDays(), []CalendarDay{{Date: d("2026-10-02"), Kind: DayHoliday}})
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation(time.DateOnly, s, sh)
		return v.Add(12 * time.Hour)
	}
	if cal.DayOff(at("2026-10-01"), sh) {
		t.Fatal("an imported 2026 did not replace the shipped 2026")
	}
	if !cal.DayOff(at("2026-10-02"), sh) || !cal.DayOff(at("2025-10-01"), sh) {
		t.Fatal("imported day or other shipped year lost")
	}
	extra := cal.WithExtraHolidays(map[string]bool{"2026-12-07": true})
	if !extra.DayOff(at("2026-12-07"), sh) || cal.DayOff(at("2026-12-07"), sh) {
		t.Fatal("extra holidays not added, or added to the original")
	}
}

func TestMoveDueAndWorkingDays(t *testing.T) {
	sh := shanghai(t)
	cal := NewCalendar(OfficialDays())
	mid := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, sh) }
	for _, tt := range []struct {
		name     string
		due, out time.Time
	}{
		{"January 2026 ends on a Saturday", mid(2026, 2, 1), mid(2026, 2, 3)},
		{"October 2026 ends on a Saturday", mid(2026, 11, 1), mid(2026, 11, 3)},
		{"February 2026 ends on a Saturday worked", mid(2026, 3, 1), mid(2026, 3, 1)},
		{"Q3 2026 ends on a Wednesday", mid(2026, 10, 1), mid(2026, 10, 1)},
		{"a themed day's grace ending in 国庆", mid(2026, 10, 3), mid(2026, 10, 9)},
	} {
		if got := cal.MoveDue(tt.due, sh); !got.Equal(tt.out) {
			t.Errorf("%s: MoveDue(%v) = %v, want %v", tt.name, tt.due, got, tt.out)
		}
	}
	var none *Calendar
	if got := none.MoveDue(mid(2026, 2, 1), sh); !got.Equal(mid(2026, 2, 1)) {
		t.Errorf("none moved a due time to %v", got)
	}
	// After 国庆 2026: 8, 9, 10 (Saturday, worked), 12 and 13 October.
	if got := cal.AddWorkingDays(mid(2026, 10, 1), 5, sh); !got.Equal(mid(2026, 10, 14)) {
		t.Errorf("5 working days after 2026-10-01: %v", got)
	}
	if got := none.AddWorkingDays(mid(2026, 10, 1), 5, sh); !got.Equal(mid(2026, 10, 6)) {
		t.Errorf("5 days without a calendar: %v", got)
	}
	if got := cal.AddWorkingDays(mid(2026, 12, 1).Add(9*time.Hour), 1, sh); !got.Equal(mid(2026, 12, 3)) {
		t.Errorf("1 working day after a morning: %v", got)
	}
}
