package command

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dateStatus says how a token reads as a date.
type dateStatus int

const (
	notDate     dateStatus = iota // not written as a date at all: the topic may start here
	badDate                       // written like a date, but month or day out of range
	badCalendar                   // month and day in range, but no such day (2月30日)
	goodDate
)

var (
	reYMD   = regexp.MustCompile(`^(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})$`)
	reMD    = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})$`)
	reCJK   = regexp.MustCompile(`^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?$`)
	reDay   = regexp.MustCompile(`^(\d{1,2})[日号]$`)
	reWeek  = regexp.MustCompile(`^(上|本|这)(?:周|星期|礼拜)([一二三四五六日天])$`)
	relDays = map[string]int{"今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3}
	// weekdays numbers the days of a week that starts on Monday, as Chinese weeks do.
	weekdays = map[string]int{"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
)

// ParseDate reads a calendar date written as 2026-11-20, 2026/11/20, 2026.11.20, 11-20,
// 11/20, 11.20, 11月20日, 2026年11月20日, 20号 or 20日 (a day of this month), 今天, 昨天,
// 前天, 上周五 (a day of last week; weeks start on Monday) or 本周一/这周一 (full-width
// digits too). It returns 00:00 of that day in loc. A date without a year takes the current
// year in loc, or the previous year when that would be more than one day after today; a day
// without a month likewise takes this month or the previous one. It does not refuse future
// dates: see IsFuture.
func ParseDate(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	t, st := parseDate(strings.TrimFunc(s, isSpace), now, loc)
	return t, st == goodDate
}

// IsFuture reports whether date falls on a day after today, both read in loc.
func IsFuture(date, now time.Time, loc *time.Location) bool {
	loc = orUTC(loc)
	return dayOf(date.In(loc)).after(dayOf(now.In(loc)))
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// civil is a calendar day without a clock or a place.
type civil struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time) civil { y, m, d := t.Date(); return civil{y, m, d} }

func (c civil) after(o civil) bool {
	if c.y != o.y {
		return c.y > o.y
	}
	if c.m != o.m {
		return c.m > o.m
	}
	return c.d > o.d
}

// addDays moves c by n days on the calendar.
func (c civil) addDays(n int) civil {
	return dayOf(time.Date(c.y, c.m, c.d+n, 12, 0, 0, 0, time.UTC))
}

func (c civil) in(loc *time.Location) time.Time {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, loc)
}

func parseDate(tok string, now time.Time, loc *time.Location) (time.Time, dateStatus) {
	loc = orUTC(loc)
	today := dayOf(now.In(loc))
	s := fold(tok)
	if n, ok := relDays[s]; ok {
		return today.addDays(n).in(loc), goodDate
	}
	if m := reWeek.FindStringSubmatch(s); m != nil {
		monday := today.addDays(-weekdayIndex(today))
		if m[1] == "上" {
			monday = monday.addDays(-7)
		}
		return monday.addDays(weekdays[m[2]]).in(loc), goodDate
	}
	if m := reDay.FindStringSubmatch(s); m != nil {
		day, _ := strconv.Atoi(m[1])
		if day < 1 || day > 31 {
			return time.Time{}, badDate
		}
		c := civil{today.y, today.m, day}
		if c.after(today.addDays(1)) {
			c = civil{today.y, today.m - 1, day}
			if c.m < time.January {
				c = civil{today.y - 1, time.December, day}
			}
		}
		if day > daysIn(c.y, c.m) {
			return time.Time{}, badCalendar
		}
		return c.in(loc), goodDate
	}
	var ys, ms, ds string
	if m := reYMD.FindStringSubmatch(s); m != nil && m[2] == m[4] {
		ys, ms, ds = m[1], m[3], m[5]
	} else if m := reMD.FindStringSubmatch(s); m != nil {
		ms, ds = m[1], m[2]
	} else if m := reCJK.FindStringSubmatch(s); m != nil {
		ys, ms, ds = m[1], m[2], m[3]
	} else if looksLikeDate(s) {
		return time.Time{}, badDate
	} else {
		return time.Time{}, notDate
	}
	// The patterns bound the digits, so Atoi cannot fail or overflow here.
	month, _ := strconv.Atoi(ms)
	day, _ := strconv.Atoi(ds)
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, badDate
	}
	c := civil{today.y, time.Month(month), day}
	if ys != "" {
		c.y, _ = strconv.Atoi(ys)
	} else if c.after(today.addDays(1)) {
		c.y--
	}
	if day > daysIn(c.y, c.m) {
		return time.Time{}, badCalendar
	}
	return c.in(loc), goodDate
}

// weekdayIndex is the day's place in its Monday-first week: Monday 0 … Sunday 6.
func weekdayIndex(c civil) int {
	return (int(time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC).Weekday()) + 6) % 7
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// looksLikeDate reports whether s is made only of digits and date punctuation, with at
// least one of each ("2026-11", "11--20", "20日"): a date attempt we cannot read, rather
// than the start of a topic. A lone a/b is left to the attendance reader.
func looksLikeDate(s string) bool {
	digit, mark := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune("-/.年月日号", r):
			mark = true
		default:
			return false
		}
	}
	return digit && mark
}
