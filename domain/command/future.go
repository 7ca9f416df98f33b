package command

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates that lie ahead (issue 15 item 6): a silence's end or start, a planned
// date for /ack. A check-in's date resolves to the past (ParseDate); these
// resolve forward: 11-20 written on 11-10 is this year's, written on 11-25
// next year's; 5号 written on the 20th is next month's.

var (
	forwardDays  = map[string]int{"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
	reNextWeek   = regexp.MustCompile(`^下个?(?:周|星期|礼拜)([一二三四五六日天])$`)
	reMonthEnd   = regexp.MustCompile(`^(本|这个?|下个?|(\d{1,2}))?月底$`)
	reYearEnd    = regexp.MustCompile(`^(?:今年|本年)?年底$`)
	reRangeSplit = regexp.MustCompile(`^(.+?)\s*(?:至|到|~|～|—)\s*(.+)$`)
)

// ParseFutureDate reads a date that lies ahead. It takes the forms of ParseDate and 明天,
// 后天, 大后天, 下周五 (a day of next week), 月底/本月底, 下月底, 12月底 and 年底. A date
// without its year is the next one from today on; a day without its month (20号) this
// month's, or next month's when this month's has passed. A date with its year, and the
// words for days behind (昨天, 上周五), are taken as written: the caller refuses a past date.
// It returns 00:00 of that day in loc.
func ParseFutureDate(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	loc = orUTC(loc)
	today := dayOf(now.In(loc))
	s = fold(strings.TrimFunc(s, isSpace))
	if n, ok := forwardDays[s]; ok {
		return today.addDays(n).in(loc), true
	}
	if m := reNextWeek.FindStringSubmatch(s); m != nil {
		monday := today.addDays(7 - weekdayIndex(today))
		return monday.addDays(weekdays[m[1]]).in(loc), true
	}
	if reYearEnd.MatchString(s) {
		return civil{today.y, time.December, 31}.in(loc), true
	}
	if m := reMonthEnd.FindStringSubmatch(s); m != nil {
		y, mo := today.y, today.m
		switch {
		case m[2] != "":
			n, _ := strconv.Atoi(m[2])
			if n < 1 || n > 12 {
				return time.Time{}, false
			}
			if mo = time.Month(n); mo < today.m {
				y++
			}
		case strings.HasPrefix(m[1], "下"):
			if mo++; mo > time.December {
				y, mo = y+1, time.January
			}
		}
		return civil{y, mo, daysIn(y, mo)}.in(loc), true
	}
	if m := reDay.FindStringSubmatch(s); m != nil {
		day, _ := strconv.Atoi(m[1])
		c := civil{today.y, today.m, day}
		for i := 0; i < 3 && (today.after(c) || day > daysIn(c.y, c.m)); i++ {
			if c.m++; c.m > time.December {
				c.y, c.m = c.y+1, time.January
			}
		}
		if day < 1 || day > daysIn(c.y, c.m) {
			return time.Time{}, false
		}
		return c.in(loc), true
	}
	d, st := parseDate(s, now, loc)
	if st != goodDate {
		return time.Time{}, false
	}
	if reMD.MatchString(s) || reCJK.MatchString(s) && !reYear.MatchString(s) {
		c := dayOf(d)
		c.y = today.y
		if today.after(c) {
			c.y++
		}
		if c.d > daysIn(c.y, c.m) {
			return time.Time{}, false
		}
		return c.in(loc), true
	}
	return d, true
}

// ParseFutureRange reads a span of days ahead: one date (from is zero: from now), or two
// joined by 至, 到 or ~ (11月20日至11月30日, 12-01~12-05, 明天到下周五). The end is read
// from the start on, so 12月28日至1月3日 ends next January; an end without its year more
// than half a year after the start is no range (12月5日至12月1日). It returns 00:00 of the first
// and of the last day.
func ParseFutureRange(s string, now time.Time, loc *time.Location) (from, to time.Time, ok bool) {
	s = strings.TrimFunc(s, isSpace)
	if d, ok := ParseFutureDate(s, now, loc); ok {
		return time.Time{}, d, true
	}
	m := reRangeSplit.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, time.Time{}, false
	}
	from, ok = ParseFutureDate(m[1], now, loc)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	start := now
	if from.After(now) {
		start = from
	}
	to, ok = ParseFutureDate(m[2], start, loc)
	if !ok || to.Before(from) || to.Sub(from) > 183*24*time.Hour && !reYear.MatchString(m[2]) {
		// 12月5日至12月1日 is a slip, not a silence until next December.
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}
