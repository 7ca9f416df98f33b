package health

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rules configure notice planning (healthcheck.* in the configuration).
type Rules struct {
	// YellowRepeat is how often a yellow reminder repeats while the item
	// stays yellow; 0 = never repeat.
	YellowRepeat time.Duration
	// RedRepeat is how often a red notice repeats while the item stays red;
	// 0 = never repeat.
	RedRepeat time.Duration
	// EscalateDays is how many working days an item stays red before the
	// level-1 organisers are added; 0 = never escalate. See EscalateAt.
	EscalateDays int
	// QuietFrom and QuietTo are the quiet hours as minutes after midnight in
	// the zone, [QuietFrom, QuietTo), wrapping midnight when QuietFrom >
	// QuietTo; equal values mean no quiet hours.
	QuietFrom, QuietTo int
	// Calendar says which days are days off: nothing is sent on them, due
	// times on them move to the next working day, and escalation counts
	// working days. nil = every day is a working day.
	Calendar *Calendar
}

// EscalateAt is when an item red since due is escalated to the level-1
// organisers: EscalateDays working days after due (zero time = never).
func (r Rules) EscalateAt(due time.Time, loc *time.Location) time.Time {
	if r.EscalateDays <= 0 {
		return time.Time{}
	}
	return r.Calendar.AddWorkingDays(due, r.EscalateDays, loc)
}

// DefaultRules are the documented defaults: yellow every 72h, red every
// 24h, escalation after 5 working days, quiet 21:00-08:00, every day a
// working day (the caller sets the calendar).
func DefaultRules() Rules {
	return Rules{
		YellowRepeat: 72 * time.Hour,
		RedRepeat:    24 * time.Hour,
		EscalateDays: 5,
		QuietFrom:    21 * 60,
		QuietTo:      8 * 60,
	}
}

const minutesPerDay = 24 * 60

// Validate checks the rules and names the configuration key at fault.
func (r Rules) Validate() error {
	if r.YellowRepeat < 0 {
		return fmt.Errorf(textYellowRepeatNegative, r.YellowRepeat)
	}
	if r.RedRepeat < 0 {
		return fmt.Errorf(textRedRepeatNegative, r.RedRepeat)
	}
	if r.EscalateDays < 0 {
		return fmt.Errorf(textEscalateNegative, r.EscalateDays)
	}
	if r.QuietFrom < 0 || r.QuietFrom >= minutesPerDay || r.QuietTo < 0 || r.QuietTo > minutesPerDay {
		return fmt.Errorf(textQuietRange, r.QuietFrom, r.QuietTo)
	}
	if r.QuietFrom == 0 && r.QuietTo == minutesPerDay {
		return errors.New(textQuietWholeDay)
	}
	return nil
}

// ParseQuietHours reads "21:00-08:00" into minutes after midnight. An empty
// (or blank) value means no quiet hours and gives 0, 0. The end may be
// "24:00". A range whose ends are equal is refused, as is the whole day.
func ParseQuietHours(s string) (from, to int, err error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, 0, nil
	}
	bad := func(why string) (int, int, error) {
		return 0, 0, fmt.Errorf(textQuietBad, s, why)
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return bad(textQuietNoDash)
	}
	from, ok1 := clockMinutes(strings.TrimSpace(a), false)
	to, ok2 := clockMinutes(strings.TrimSpace(b), true)
	if !ok1 || !ok2 {
		return bad(textQuietClock)
	}
	if from == to || (from == 0 && to == minutesPerDay) {
		return bad(textQuietEqual)
	}
	return from, to, nil
}

// clockMinutes parses "HH:MM" (00:00-23:59, and 24:00 when end is true).
func clockMinutes(s string, end bool) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, ok1 := digits(h)
	mm, ok2 := digits(m)
	if !ok1 || !ok2 || mm > 59 {
		return 0, false
	}
	if hh == 24 && mm == 0 && end {
		return minutesPerDay, true
	}
	if hh > 23 {
		return 0, false
	}
	return hh*60 + mm, true
}

// FormatQuietHours is the inverse of ParseQuietHours ("" for none).
func FormatQuietHours(from, to int) string {
	if from == to {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", from/60, from%60, to/60, to%60)
}

// InQuietHours reports whether t falls in the quiet hours [from, to)
// (minutes after midnight in loc, wrapping midnight when from > to).
func InQuietHours(t time.Time, loc *time.Location, from, to int) bool {
	if from == to {
		return false
	}
	lt := t.In(locOr(loc))
	m := lt.Hour()*60 + lt.Minute()
	if from < to {
		return m >= from && m < to
	}
	return m >= from || m < to
}

// ParseHolidays reads civil dates "2026-10-01" into a set; it names the
// first bad value.
func ParseHolidays(dates []string) (map[string]bool, error) {
	out := make(map[string]bool, len(dates))
	for _, d := range dates {
		v := strings.TrimSpace(d)
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return nil, fmt.Errorf(textHolidayBad, d)
		}
		out[v] = true
	}
	return out, nil
}

// Hold says why nothing may be sent at t ("" when sending is allowed):
// a day off or the quiet hours, in Chinese.
func (r Rules) Hold(t time.Time, loc *time.Location) string {
	loc = locOr(loc)
	if r.Calendar.DayOff(t, loc) {
		return fmt.Sprintf(textHoldDayOff, t.In(loc).Format(time.DateOnly))
	}
	if InQuietHours(t, loc, r.QuietFrom, r.QuietTo) {
		return fmt.Sprintf(textHoldQuiet, FormatQuietHours(r.QuietFrom, r.QuietTo))
	}
	return ""
}

// NextAllowed is the first instant at or after t when sending is allowed:
// t itself outside quiet hours and days off, else the end of the quiet
// hours or the next day. It is the zero time when no instant within a year
// is allowed.
func (r Rules) NextAllowed(t time.Time, loc *time.Location) time.Time {
	loc = locOr(loc)
	cur := t.In(loc)
	for range 2 * 370 {
		y, m, d := cur.Date()
		switch {
		case r.Calendar.DayOff(cur, loc):
			cur = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		case InQuietHours(cur, loc, r.QuietFrom, r.QuietTo):
			end := time.Date(y, m, d, 0, r.QuietTo, 0, 0, loc)
			if !end.After(cur) {
				end = time.Date(y, m, d+1, 0, r.QuietTo, 0, 0, loc)
			}
			cur = end
		default:
			return cur
		}
	}
	return time.Time{}
}
