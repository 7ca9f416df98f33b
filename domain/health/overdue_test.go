package health

import (
	"testing"
	"time"
)

func TestDaysOverdue(t *testing.T) {
	sh := shanghai(t)
	d := func(y int, m time.Month, day, hh, mm int) time.Time { return time.Date(y, m, day, hh, mm, 0, 0, sh) }
	// Items are due at the exclusive end of their last day: a November
	// item's due is 2026-12-01 00:00 in Shanghai.
	nov, dec, feb, q4 := d(2026, 12, 1, 0, 0), d(2027, 1, 1, 0, 0), d(2028, 3, 1, 0, 0), d(2027, 1, 1, 0, 0)
	for _, c := range []struct {
		name   string
		due, t time.Time
		want   int
	}{
		{"a second before due", nov, nov.Add(-time.Second), 0},
		{"last minute of the due day", nov, d(2026, 11, 30, 23, 59), 0},
		{"at due exactly", nov, nov, 1},
		{"first minute of the next day", nov, d(2026, 12, 1, 0, 1), 1},
		{"late on the first day after", nov, d(2026, 12, 1, 23, 59), 1},
		{"second day after, just past midnight", nov, d(2026, 12, 2, 0, 0), 2},
		{"month end, then a month", nov, d(2026, 12, 31, 12, 0), 31},
		{"across the year end", nov, d(2027, 1, 1, 8, 0), 32},
		{"December item, New Year's day", dec, d(2027, 1, 1, 9, 0), 1},
		{"quarter item, new year", q4, d(2027, 2, 2, 10, 0), 33},
		{"leap February item", feb, d(2028, 3, 1, 10, 0), 1},
		{"leap February item, a year on", feb, d(2029, 3, 1, 10, 0), 366},
		// 63 days, however many 24-hour spans: the bot and the dashboard
		// used to say 63 and 62 here.
		{"the reported mismatch", d(2026, 11, 1, 0, 0), d(2027, 1, 2, 10, 0), 63},
		// The instant's own zone does not matter, only loc's calendar:
		// 2026-12-01 16:30 UTC is 2026-12-02 00:30 in Shanghai.
		{"t given in UTC", nov, time.Date(2026, 12, 1, 16, 30, 0, 0, time.UTC), 2},
		{"t given in UTC, still day 1", nov, time.Date(2026, 12, 1, 15, 59, 0, 0, time.UTC), 1},
		// A deadline within a day is a day overdue at once.
		{"due at noon, past it the same day", d(2026, 12, 1, 12, 0), d(2026, 12, 1, 13, 0), 1},
	} {
		if got := DaysOverdue(c.due, c.t, sh); got != c.want {
			t.Errorf("%s: DaysOverdue(%s, %s) = %d, want %d", c.name, c.due, c.t, got, c.want)
		}
	}
}
