package health

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A branch's fixed 主题党日 is a day of the month (1..31) or a weekday rule
// such as "the first Friday" (first-fri) or "the last Saturday"
// (last-sat). Deadline takes either as one int, the theme code: 1..31 is a
// day of the month, 100 + 10*n + w a weekday rule with n = 1..4 for the
// first to the fourth and 5 for the last, and w the time.Weekday (0 =
// Sunday). 0 means not set.

var (
	ordinalWords = []string{"first", "second", "third", "fourth", "last"}
	ordinalZh    = []string{"第一个", "第二个", "第三个", "第四个", "最后一个"}
	weekdayWords = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	weekdayZh    = []string{"日", "一", "二", "三", "四", "五", "六"}
)

// ParseThemeDay reads a 主题党日 as imported: a day "1".."28", or a weekday
// rule in English ("first-fri", "last-sat") or Chinese ("第一个周五",
// "第二个星期三", "最后一个周六"). It returns either the day or the canonical
// weekday rule (e.g. "first-fri"); the error is Chinese.
func ParseThemeDay(s string) (day int, weekday string, err error) {
	s = strings.TrimSpace(s)
	if n, e := strconv.Atoi(s); e == nil {
		if n < 1 || n > 28 {
			return 0, "", errors.New(textThemeDayRange)
		}
		return n, "", nil
	}
	if n, w, ok := parseWeekdayRule(s); ok {
		return 0, ordinalWords[n-1] + "-" + weekdayWords[w], nil
	}
	return 0, "", errors.New(textThemeDayForm)
}

func parseWeekdayRule(s string) (n int, w time.Weekday, ok bool) {
	if a, b, cut := strings.Cut(strings.ToLower(s), "-"); cut {
		for i, o := range ordinalWords {
			for j, d := range weekdayWords {
				if a == o && b == d {
					return i + 1, time.Weekday(j), true
				}
			}
		}
		return 0, 0, false
	}
	for i, o := range append(ordinalZh, "第1个", "第2个", "第3个", "第4个", "最末一个", "最后") {
		rest, found := strings.CutPrefix(s, o)
		if !found {
			continue
		}
		for _, pre := range []string{"星期", "礼拜", "周"} {
			if d, found := strings.CutPrefix(rest, pre); found {
				for j, z := range weekdayZh {
					if d == z || (j == 0 && d == "天") {
						return []int{1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 5}[i], time.Weekday(j), true
					}
				}
			}
		}
	}
	return 0, 0, false
}

// ThemeCode is the theme code of a stored day (0 = none) or weekday rule
// ("" = none); an unreadable rule counts as not set.
func ThemeCode(day int, weekday string) int {
	if weekday != "" {
		if n, w, ok := parseWeekdayRule(weekday); ok {
			return 100 + 10*n + int(w)
		}
		return 0
	}
	if day >= 1 && day <= 31 {
		return day
	}
	return 0
}

// validTheme reports whether code is a day 1..31 or a weekday rule.
func validTheme(code int) bool {
	if code >= 1 && code <= 31 {
		return true
	}
	n, w := (code-100)/10, (code-100)%10
	return code >= 110 && n >= 1 && n <= 5 && w <= 6
}

// fixedDay is the day of month m of year y that theme code names.
func fixedDay(code, y int, m time.Month, loc *time.Location) int {
	last := daysIn(y, m, loc)
	if code <= 31 {
		return min(code, last)
	}
	n, w := (code-100)/10, time.Weekday((code-100)%10)
	if n == 5 {
		d := last
		for time.Date(y, m, d, 0, 0, 0, 0, loc).Weekday() != w {
			d--
		}
		return d
	}
	d := 1
	for time.Date(y, m, d, 0, 0, 0, 0, loc).Weekday() != w {
		d++
	}
	return d + 7*(n-1)
}

// ThemeLabel is the Chinese wording of a stored day or weekday rule:
// "每月15日", "每月第一个周五" ("" when neither is set).
func ThemeLabel(day int, weekday string) string {
	if weekday != "" {
		if n, w, ok := parseWeekdayRule(weekday); ok {
			return "每月" + ordinalZh[n-1] + "周" + weekdayZh[w]
		}
		return ""
	}
	if day > 0 {
		return fmt.Sprintf("每月%d日", day)
	}
	return ""
}

// TermYellowMonths is how long before the committee's term ends the 换届提醒
// turns yellow.
const TermYellowMonths = 6

// TermDeadline is the window of a TermEnd obligation for a branch whose
// committee's term ends on the civil date termEnd (any zone; its date is
// used): yellow from TermYellowMonths before that day, red from the day
// after it (due is the end of the term's last day).
func TermDeadline(termEnd time.Time, loc *time.Location) (yellowFrom, due time.Time) {
	loc = locOr(loc)
	y, m, d := termEnd.Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, loc)
	// Six months before, clamped to the month's end (31 March → 30 September).
	first := time.Date(y, m-TermYellowMonths, 1, 0, 0, 0, 0, loc)
	yellowFrom = time.Date(first.Year(), first.Month(), min(d, daysIn(first.Year(), first.Month(), loc)), 0, 0, 0, 0, loc)
	return yellowFrom, last.AddDate(0, 0, 1)
}

// TermPeriod is the period a TermEnd obligation's item is filed under: the
// year the term ends in.
func TermPeriod(termEnd time.Time) Period {
	return Period{Rec: Yearly, Year: termEnd.Year()}
}

// TermNotice is the sentence of a 换届提醒 whose due instant (from
// TermDeadline) is due, as of t: "支部委员会任期将于2027年3月31日届满，请及时换届"
// before it, "支部委员会任期已于2027年3月31日届满，请尽快换届" after.
func TermNotice(due, t time.Time, loc *time.Location) string {
	loc = locOr(loc)
	day := due.Add(-time.Nanosecond).In(loc)
	date := fmt.Sprintf(textTermDay, day.Year(), int(day.Month()), day.Day())
	if t.Before(due) {
		return fmt.Sprintf(textTermAhead, date)
	}
	return fmt.Sprintf(textTermPast, date)
}
