package health

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// DayKind is what the official calendar says of a listed day.
type DayKind string

// The kinds of listed days: a day off (放假) and a weekend day worked
// instead (调休上班).
const (
	DayHoliday DayKind = "holiday"
	DayWorkday DayKind = "workday"
)

// ParseDayKind reads a kind as an operator writes it in an import file.
func ParseDayKind(s string) (DayKind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "holiday", "off", "休", "放假", "假":
		return DayHoliday, true
	case "workday", "work", "班", "上班", "调休":
		return DayWorkday, true
	}
	return "", false
}

// CalendarDay is one listed day.
type CalendarDay struct {
	Date time.Time // civil date, midnight UTC
	Kind DayKind
	Name string // 元旦, 春节 … ("" when not known)
}

// Calendar says which days are days off (SPEC §7.2). The zero value and a
// nil *Calendar are the `none` calendar: every day is a working day. An
// official calendar takes weekends off unless listed as workdays, and
// listed holidays off.
type Calendar struct {
	official bool
	days     map[civil]DayKind
	years    map[int]bool
}

type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time, loc *time.Location) civil {
	y, m, d := t.In(locOr(loc)).Date()
	return civil{y, m, d}
}

// NewCalendar builds the official calendar from layers of listed days (the
// shipped data, then imports): a year listed in a later layer replaces that
// year of the earlier ones entirely, so an import can also remove a day.
// Every year listed anywhere counts as known.
func NewCalendar(layers ...[]CalendarDay) *Calendar {
	c := &Calendar{official: true, days: map[civil]DayKind{}, years: map[int]bool{}}
	for _, layer := range layers {
		replaced := map[int]bool{}
		for _, d := range layer {
			replaced[d.Date.Year()] = true
		}
		for k := range c.days {
			if replaced[k.y] {
				delete(c.days, k)
			}
		}
		for _, d := range layer {
			k := civilOf(d.Date, time.UTC)
			c.days[k] = d.Kind
			c.years[k.y] = true
		}
	}
	return c
}

// WithExtraHolidays returns c with the given days off added (the
// configuration's healthcheck.holidays). A nil c stays a calendar whose
// only days off are those.
func (c *Calendar) WithExtraHolidays(dates map[string]bool) *Calendar {
	if len(dates) == 0 {
		return c
	}
	out := &Calendar{days: map[civil]DayKind{}, years: map[int]bool{}}
	if c != nil {
		out.official = c.official
		maps.Copy(out.days, c.days)
		maps.Copy(out.years, c.years)
	}
	for s := range dates {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			continue // validated by ParseHolidays
		}
		out.days[civilOf(t, time.UTC)] = DayHoliday
	}
	return out
}

// Official reports whether c is the official calendar (not `none`).
func (c *Calendar) Official() bool { return c != nil && c.official }

// Knows reports whether the calendar has the State Council's arrangement
// for year y (from the shipped data or an import).
func (c *Calendar) Knows(y int) bool { return c != nil && c.years[y] }

// Years lists the known years in order.
func (c *Calendar) Years() []int {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.years))
}

// DayOff reports whether the civil day of t in loc is a day off.
func (c *Calendar) DayOff(t time.Time, loc *time.Location) bool {
	return c.dayOff(civilOf(t, loc))
}

func (c *Calendar) dayOff(d civil) bool {
	if c == nil {
		return false
	}
	switch c.days[d] {
	case DayHoliday:
		return true
	case DayWorkday:
		return false
	}
	if !c.official {
		return false
	}
	wd := time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// MoveDue moves a due instant whose last day is a day off to the end of the
// next working day. A due instant is the end of its last day (midnight
// after it, or any instant within the day for a due time of day); the
// result keeps the time of day of due and only ever moves it later.
func (c *Calendar) MoveDue(due time.Time, loc *time.Location) time.Time {
	if c == nil || len(c.days) == 0 && !c.official {
		return due
	}
	loc = locOr(loc)
	last := due.In(loc).Add(-time.Nanosecond)
	y, m, d := last.Date()
	moved := 0
	for i := 0; i < 60 && c.dayOff(civil{y, m, d}); i++ {
		d++
		moved++
		n := time.Date(y, m, d, 12, 0, 0, 0, loc)
		y, m, d = n.Date()
	}
	if moved == 0 {
		return due
	}
	return due.In(loc).AddDate(0, 0, moved)
}

// AddWorkingDays is the instant n whole working days after t: the midnight
// that ends the n-th working day after the day of t (the day of t itself
// counts when t is its midnight). n <= 0 gives t.
func (c *Calendar) AddWorkingDays(t time.Time, n int, loc *time.Location) time.Time {
	if n <= 0 {
		return t
	}
	loc = locOr(loc)
	lt := t.In(loc)
	y, m, d := lt.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if !lt.Equal(day) {
		day = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	for i := 0; i < 3660; i++ {
		if !c.DayOff(day, loc) {
			n--
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		if n == 0 {
			return day
		}
	}
	return day
}

// String describes c for logs: "none" or "official [2025 2026]".
func (c *Calendar) String() string {
	if c == nil || !c.official && len(c.days) == 0 {
		return "none"
	}
	return fmt.Sprintf("official %v", c.Years())
}
