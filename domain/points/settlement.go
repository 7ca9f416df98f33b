package points

import (
	"fmt"
	"slices"
	"time"
)

// PeriodKind is how often points are settled into a ranking.
type PeriodKind string

const (
	Monthly   PeriodKind = "monthly"
	Quarterly PeriodKind = "quarterly"
	Yearly    PeriodKind = "yearly"
)

// ParsePeriodKind reads "monthly", "quarterly" or "yearly".
func ParsePeriodKind(s string) (PeriodKind, error) {
	return oneOf("settlement period", s, Monthly, Quarterly, Yearly)
}

// oneOf reads s as one of vals; what names the value in the error.
func oneOf[T ~string](what, s string, vals ...T) (T, error) {
	if slices.Contains(vals, T(s)) {
		return T(s), nil
	}
	var list string
	for i, v := range vals {
		switch {
		case i == 0:
		case i == len(vals)-1:
			list += " or "
		default:
			list += ", "
		}
		list += string(v)
	}
	return "", fmt.Errorf("points: %s %q is not %s", what, s, list)
}

func (k PeriodKind) span() (Span, bool) {
	switch k {
	case Monthly:
		return Month, true
	case Quarterly:
		return Quarter, true
	case Yearly:
		return Year, true
	}
	return "", false
}

// SettlementPeriod is one calendar period in the configured location: [Start, End).
type SettlementPeriod struct {
	Kind  PeriodKind
	Start time.Time // first instant, inclusive
	End   time.Time // first instant of the next period, exclusive
}

// PeriodAt returns the period of kind that contains t, in loc.
func PeriodAt(kind PeriodKind, t time.Time, loc *time.Location) (SettlementPeriod, error) {
	s, ok := kind.span()
	if !ok {
		_, err := ParsePeriodKind(string(kind))
		return SettlementPeriod{}, err
	}
	from, to := window(s, t, loc)
	return SettlementPeriod{Kind: kind, Start: from, End: to}, nil
}

// Key names the period: "2026-11", "2026-Q4" or "2026".
func (p SettlementPeriod) Key() string {
	key, _ := p.names()
	return key
}

// Label is the Chinese name of the period people read: "2026年11月",
// "2026年第四季度", "2026年度".
func (p SettlementPeriod) Label() string {
	_, label := p.names()
	return label
}

// names is the period's Key and Label, both read off its kind and start.
func (p SettlementPeriod) names() (key, label string) {
	y, m, _ := p.Start.Date()
	switch p.Kind {
	case Monthly:
		return fmt.Sprintf("%04d-%02d", y, int(m)), fmt.Sprintf("%d年%d月", y, int(m))
	case Quarterly:
		q := (int(m)-1)/3 + 1
		return fmt.Sprintf("%04d-Q%d", y, q), fmt.Sprintf("%d年第%s季度", y, [...]string{"一", "二", "三", "四"}[q-1])
	}
	return fmt.Sprintf("%04d", y), fmt.Sprintf("%d年度", y)
}

// Contains reports whether t falls in the period.
func (p SettlementPeriod) Contains(t time.Time) bool { return within(t, p.Start, p.End) }

// Next returns the period that follows p.
func (p SettlementPeriod) Next() SettlementPeriod {
	n, _ := PeriodAt(p.Kind, p.End, p.Start.Location())
	return n
}

// Prev returns the period that precedes p.
func (p SettlementPeriod) Prev() SettlementPeriod {
	n, _ := PeriodAt(p.Kind, p.Start.Add(-time.Nanosecond), p.Start.Location())
	return n
}

// Interval is a half-open stretch of time [From, To).
type Interval struct {
	From, To time.Time
}

// Uncovered returns the parts of [from, to) that none of covered overlaps,
// in order, each as long as it can be (adjacent gaps are one). A yearly
// settlement sums the months already settled and reads the ledger only
// for what they leave uncovered.
func Uncovered(from, to time.Time, covered []Interval) []Interval {
	cs := make([]Interval, 0, len(covered))
	for _, c := range covered {
		if c.From.Before(c.To) {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b Interval) int { return a.From.Compare(b.From) })
	var out []Interval
	at := from
	for _, c := range cs {
		if !c.To.After(at) {
			continue
		}
		if c.From.After(at) {
			out = append(out, Interval{From: at, To: minTime(c.From, to)})
		}
		at = c.To
		if !at.Before(to) {
			return out
		}
	}
	if at.Before(to) {
		out = append(out, Interval{From: at, To: to})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
