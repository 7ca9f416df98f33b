package health

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Recurrence is how often an obligation is owed.
type Recurrence string

// The recurrences an obligation may have.
const (
	Monthly   Recurrence = "monthly"
	Quarterly Recurrence = "quarterly"
	Yearly    Recurrence = "yearly"
)

// Valid reports whether r is one of Monthly, Quarterly or Yearly.
func (r Recurrence) Valid() bool {
	return r == Monthly || r == Quarterly || r == Yearly
}

// rank orders recurrences from the shortest to the longest period.
func (r Recurrence) rank() int {
	switch r {
	case Monthly:
		return 0
	case Quarterly:
		return 1
	case Yearly:
		return 2
	}
	return 3
}

// months is the length of one period of r in months (0 when r is unknown).
func (r Recurrence) months() int {
	switch r {
	case Monthly:
		return 1
	case Quarterly:
		return 3
	case Yearly:
		return 12
	}
	return 0
}

// Label is the Chinese word for the recurrence (月度, 季度, 年度).
func (r Recurrence) Label() string {
	switch r {
	case Monthly:
		return "月度"
	case Quarterly:
		return "季度"
	case Yearly:
		return "年度"
	}
	return string(r)
}

// Period is one month, quarter or year. N is the month (1-12) for Monthly,
// the quarter (1-4) for Quarterly and 0 for Yearly. The zero Period is not
// valid.
type Period struct {
	Rec  Recurrence
	Year int
	N    int
}

// defaultLoc stands in for a nil location: UTC+8, which is what
// Asia/Shanghai has been since 1991, without reading the zone database.
var defaultLoc = time.FixedZone("CST", 8*60*60)

func locOr(loc *time.Location) *time.Location {
	if loc == nil {
		return defaultLoc
	}
	return loc
}

// Valid reports whether p names a real period (year 1..9999).
func (p Period) Valid() bool {
	if p.Year < 1 || p.Year > 9999 {
		return false
	}
	switch p.Rec {
	case Monthly:
		return p.N >= 1 && p.N <= 12
	case Quarterly:
		return p.N >= 1 && p.N <= 4
	case Yearly:
		return p.N == 0
	}
	return false
}

// Key is the period's stable name: "2026-11", "2026-Q4" or "2026"; "" for
// an invalid period.
func (p Period) Key() string {
	if !p.Valid() {
		return ""
	}
	b := make([]byte, 0, 7)
	y := p.Year
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	switch p.Rec {
	case Monthly:
		b = append(b, '-', byte('0'+p.N/10), byte('0'+p.N%10))
	case Quarterly:
		b = append(b, '-', 'Q', byte('0'+p.N))
	}
	return string(b)
}

// String is Key.
func (p Period) String() string { return p.Key() }

// Label is the Chinese name of the period: "2026年11月", "2026年第四季度",
// "2026年度".
func (p Period) Label() string {
	switch p.Rec {
	case Monthly:
		return fmt.Sprintf("%d年%d月", p.Year, p.N)
	case Quarterly:
		return fmt.Sprintf("%d年第%s季度", p.Year, quarterNumerals[p.N])
	case Yearly:
		return fmt.Sprintf("%d年度", p.Year)
	}
	return p.Key()
}

// quarterNumerals are the Chinese numerals of the quarters (index 1–4).
var quarterNumerals = [...]string{"", "一", "二", "三", "四"}

// ParsePeriod reads a period as people write it, a label ("2026年11月",
// "2026年第四季度" or "2026年第4季度", "2026年度" or "2026年"), or a key made
// by Key ("2026-11", "2026-Q4" or "2026-q4", "2026"), with surrounding space.
func ParsePeriod(key string) (Period, error) {
	s := strings.TrimSpace(key)
	if p, ok := ParseKey([]byte(s)); ok {
		return p, nil
	}
	if p, ok := parseLabel(s); ok {
		return p, nil
	}
	return Period{}, fmt.Errorf("期间“%s”无法识别：应写成 2026年11月、2026年第四季度 或 2026年度", key)
}

var (
	reMonthLabel   = regexp.MustCompile(`^(\d{4})年(\d{1,2})月份?$`)
	reQuarterLabel = regexp.MustCompile(`^(\d{4})年第?([一二三四1-4])季度$`)
	reYearLabel    = regexp.MustCompile(`^(\d{4})年度?$`)
)

// parseLabel reads what Label writes, and the forms people use for it.
func parseLabel(s string) (Period, bool) {
	var p Period
	if m := reMonthLabel.FindStringSubmatch(s); m != nil {
		p.Rec, p.Year = Monthly, atoi(m[1])
		p.N = atoi(m[2])
	} else if m := reQuarterLabel.FindStringSubmatch(s); m != nil {
		p.Rec, p.Year = Quarterly, atoi(m[1])
		p.N = slices.Index(quarterNumerals[:], m[2])
		if p.N < 0 {
			p.N = atoi(m[2])
		}
	} else if m := reYearLabel.FindStringSubmatch(s); m != nil {
		p.Rec, p.Year = Yearly, atoi(m[1])
	} else {
		return Period{}, false
	}
	return p, p.Valid()
}

// atoi reads the digits the label patterns matched (at most four).
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// ParseKey is the one period-key parser: exactly "2026-11", "2026-Q4"
// (or "2026-q4") or "2026", without allocating, for the evaluation's hot
// path; ok is false for any other shape or an invalid period.
func ParseKey(b []byte) (p Period, ok bool) {
	if len(b) < 4 {
		return Period{}, false
	}
	y := 0
	for _, c := range b[:4] {
		if c < '0' || c > '9' {
			return Period{}, false
		}
		y = y*10 + int(c-'0')
	}
	switch {
	case len(b) == 4:
		p = Period{Rec: Yearly, Year: y}
	case len(b) == 7 && b[4] == '-' && (b[5] == 'Q' || b[5] == 'q') && b[6] >= '0' && b[6] <= '9':
		p = Period{Rec: Quarterly, Year: y, N: int(b[6] - '0')}
	case len(b) == 7 && b[4] == '-' && b[5] >= '0' && b[5] <= '9' && b[6] >= '0' && b[6] <= '9':
		p = Period{Rec: Monthly, Year: y, N: int(b[5]-'0')*10 + int(b[6]-'0')}
	default:
		return Period{}, false
	}
	return p, p.Valid()
}

// Seq numbers p within its recurrence so that an evaluation can walk a
// branch's periods as integers and keep its done set as small sorted
// arrays: a month is year*12+month-1, a quarter year*4+quarter-1, a year
// itself. Consecutive periods have consecutive numbers; 0 for an invalid
// period. The SQL function health_period_seq (migration 00004) numbers keys
// the same way; TestPeriodSeqMatchesSQL holds the two together.
func (p Period) Seq() int32 {
	switch p.Rec {
	case Monthly:
		return int32(p.Year*12 + p.N - 1)
	case Quarterly:
		return int32(p.Year*4 + p.N - 1)
	case Yearly:
		return int32(p.Year)
	}
	return 0
}

// PeriodOfSeq is the period of rec numbered seq (the inverse of Seq).
func PeriodOfSeq(rec Recurrence, seq int32) Period {
	s := int(seq)
	switch rec {
	case Monthly:
		return Period{Rec: rec, Year: s / 12, N: s%12 + 1}
	case Quarterly:
		return Period{Rec: rec, Year: s / 4, N: s%4 + 1}
	}
	return Period{Rec: rec, Year: s}
}

// digits parses s made only of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// PeriodAt is the period of recurrence rec that contains t in loc.
func PeriodAt(rec Recurrence, t time.Time, loc *time.Location) Period {
	lt := t.In(locOr(loc))
	y, m := lt.Year(), int(lt.Month())
	switch rec {
	case Monthly:
		return Period{Rec: Monthly, Year: y, N: m}
	case Quarterly:
		return Period{Rec: Quarterly, Year: y, N: (m-1)/3 + 1}
	case Yearly:
		return Period{Rec: Yearly, Year: y}
	}
	return Period{Rec: rec, Year: y}
}

// firstMonth is the month (1-12) the period starts in.
func (p Period) firstMonth() int {
	switch p.Rec {
	case Monthly:
		return p.N
	case Quarterly:
		return 3*(p.N-1) + 1
	}
	return 1
}

// Start is the first instant of the period in loc (midnight of its first day).
func (p Period) Start(loc *time.Location) time.Time {
	return time.Date(p.Year, time.Month(p.firstMonth()), 1, 0, 0, 0, 0, locOr(loc))
}

// End is the first instant after the period, the Start of the next one:
// the period is [Start, End).
func (p Period) End(loc *time.Location) time.Time {
	return p.Next().Start(loc)
}

// Contains reports whether t lies in [Start, End).
func (p Period) Contains(t time.Time, loc *time.Location) bool {
	return !t.Before(p.Start(loc)) && t.Before(p.End(loc))
}

// Next is the following period of the same recurrence.
func (p Period) Next() Period {
	switch p.Rec {
	case Monthly:
		if p.N >= 12 {
			return Period{Rec: Monthly, Year: p.Year + 1, N: 1}
		}
		return Period{Rec: Monthly, Year: p.Year, N: p.N + 1}
	case Quarterly:
		if p.N >= 4 {
			return Period{Rec: Quarterly, Year: p.Year + 1, N: 1}
		}
		return Period{Rec: Quarterly, Year: p.Year, N: p.N + 1}
	}
	return Period{Rec: p.Rec, Year: p.Year + 1, N: p.N}
}

// Prev is the preceding period of the same recurrence.
func (p Period) Prev() Period {
	switch p.Rec {
	case Monthly:
		if p.N <= 1 {
			return Period{Rec: Monthly, Year: p.Year - 1, N: 12}
		}
		return Period{Rec: Monthly, Year: p.Year, N: p.N - 1}
	case Quarterly:
		if p.N <= 1 {
			return Period{Rec: Quarterly, Year: p.Year - 1, N: 4}
		}
		return Period{Rec: Quarterly, Year: p.Year, N: p.N - 1}
	}
	return Period{Rec: p.Rec, Year: p.Year - 1, N: p.N}
}

// Compare orders periods by their start (year, then first month); periods
// that start together are ordered from the shortest recurrence to the
// longest: 2026-01 < 2026-Q1 < 2026 < 2026-02, and 2026-10 < 2026-Q4 <
// 2026-11. It returns -1, 0 or +1.
func (p Period) Compare(o Period) int {
	a := [3]int{p.Year, p.firstMonth(), p.Rec.rank()}
	b := [3]int{o.Year, o.firstMonth(), o.Rec.rank()}
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// Before reports whether p comes before o (see Compare).
func (p Period) Before(o Period) bool { return p.Compare(o) < 0 }

// After reports whether p comes after o (see Compare).
func (p Period) After(o Period) bool { return p.Compare(o) > 0 }

// PeriodsBetween lists, in order, every period of rec that contains an
// instant of [from, to]: from the period containing from to the one
// containing to, both included. It is empty when to is before from.
func PeriodsBetween(rec Recurrence, from, to time.Time, loc *time.Location) []Period {
	if to.Before(from) || !rec.Valid() {
		return nil
	}
	first, last := PeriodAt(rec, from, loc), PeriodAt(rec, to, loc)
	out := make([]Period, 0, periodsApart(first, last)+1)
	for p := first; !p.After(last); p = p.Next() {
		out = append(out, p)
	}
	return out
}

// periodsApart is the number of Next steps from a to b (same recurrence).
func periodsApart(a, b Period) int {
	m := b.Rec.months()
	if m == 0 {
		return 0
	}
	d := ((b.Year-a.Year)*12 + b.firstMonth() - a.firstMonth()) / m
	if d < 0 {
		return 0
	}
	return d
}
