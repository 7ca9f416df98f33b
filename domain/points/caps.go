package points

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is the window a cap counts over.
type Span string

const (
	Day     Span = "day"
	Month   Span = "month"
	Quarter Span = "quarter"
	Year    Span = "year"
	Ever    Span = "ever"
)

var spans = []Span{Day, Month, Quarter, Year, Ever}

// Cap limits how often a household may have an item: at most N per Span.
type Cap struct {
	N   int
	Per Span
}

// String renders the cap as written in the catalogue, e.g. "8/month".
func (c Cap) String() string { return strconv.Itoa(c.N) + "/" + string(c.Per) }

// ParseCaps reads caps such as "1/day;8/month" (';' or '；' between parts, spaces allowed).
// The empty string is no cap (nil). Each period may appear once; N is at least 1. The error
// names the bad part.
func ParseCaps(s string) ([]Cap, error) {
	var caps []Cap
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ns, per, ok := strings.Cut(part, "/")
		if !ok {
			return nil, fmt.Errorf("cap %q: write N/period, e.g. 1/day or 8/month", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(ns))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("cap %q: %q is not a whole number of at least 1", part, strings.TrimSpace(ns))
		}
		c := Cap{N: n, Per: Span(strings.ToLower(strings.TrimSpace(per)))}
		if !isSpan(c.Per) {
			return nil, fmt.Errorf("cap %q: %q is not a period; use day, month, quarter, year or ever", part, strings.TrimSpace(per))
		}
		for _, prev := range caps {
			if prev.Per == c.Per {
				return nil, fmt.Errorf("cap %q: the period %q is already capped", part, c.Per)
			}
		}
		caps = append(caps, c)
	}
	return caps, nil
}

func isSpan(s Span) bool {
	for _, x := range spans {
		if s == x {
			return true
		}
	}
	return false
}

// Window returns the calendar window of the cap's span that contains t, in loc: from is
// its first instant (inclusive), to the first instant of the next window (exclusive). For
// Ever (and any unknown span) both are zero: unbounded.
func (c Cap) Window(t time.Time, loc *time.Location) (from, to time.Time) {
	return window(c.Per, t, loc)
}

func window(s Span, t time.Time, loc *time.Location) (from, to time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	switch s {
	case Day:
		return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	case Quarter:
		q := (m-1)/3*3 + 1
		return time.Date(y, q, 1, 0, 0, 0, 0, loc), time.Date(y, q+3, 1, 0, 0, 0, 0, loc)
	case Year:
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
	}
	return time.Time{}, time.Time{}
}

// within reports whether t falls in [from, to); a zero window is unbounded.
func within(t, from, to time.Time) bool {
	if from.IsZero() && to.IsZero() {
		return true
	}
	return !t.Before(from) && t.Before(to)
}

// capKeys names the refusal of a cap by its span's window; a cap without a
// window ("每户累计") is cap_total.
var capKeys = map[Span]string{
	Day:     "cap_day",
	Month:   "cap_month",
	Quarter: "cap_quarter",
	Year:    "cap_year",
}
