package health

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MakeUp is the period a meeting held late was for (补开), as a secretary
// writes it after 补开 or 补: "11月", "2026年11月", "第三季度", "2026年第四季度",
// "2026年度", "上月", "上季度", "去年". Year 0 means the latest such period
// not after the current one.
type MakeUp struct {
	Year    int
	Month   int // 1-12, 0 = not given
	Quarter int // 1-4, 0 = not given
	// Back counts periods back from the current one (上月 = 1 month back);
	// Rec is the recurrence it counts in.
	Back    int
	BackRec Recurrence
}

var (
	reMakeUpMonth   = regexp.MustCompile(`^(?:(\d{4})年)?(\d{1,2})月份?$`)
	reMakeUpQuarter = regexp.MustCompile(`^(?:(\d{4})年)?第?([一二三四1-4])季度$`)
	reMakeUpYear    = regexp.MustCompile(`^(\d{4})年度?$`)
)

// ParseMakeUp reads a token such as "补开11月" or "补第三季度"; ok is false
// when the token is not a make-up.
func ParseMakeUp(token string) (MakeUp, bool) {
	s := strings.TrimSpace(token)
	rest, ok := strings.CutPrefix(s, "补开")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "补"); !ok {
			return MakeUp{}, false
		}
	}
	rest = strings.TrimLeft(rest, "：: ")
	switch rest {
	case "上月", "上个月":
		return MakeUp{Back: 1, BackRec: Monthly}, true
	case "上季度", "上个季度":
		return MakeUp{Back: 1, BackRec: Quarterly}, true
	case "去年", "上年", "上年度":
		return MakeUp{Back: 1, BackRec: Yearly}, true
	}
	if m := reMakeUpMonth.FindStringSubmatch(rest); m != nil {
		mu := MakeUp{Year: atoi(m[1]), Month: atoi(m[2])}
		return mu, mu.Month >= 1 && mu.Month <= 12
	}
	if m := reMakeUpQuarter.FindStringSubmatch(rest); m != nil {
		q := atoi(m[2])
		if i := strings.Index("一二三四", m[2]); i >= 0 {
			q = i/len("一") + 1
		}
		return MakeUp{Year: atoi(m[1]), Quarter: q}, true
	}
	if m := reMakeUpYear.FindStringSubmatch(rest); m != nil {
		return MakeUp{Year: atoi(m[1])}, true
	}
	return MakeUp{}, false
}

// MakeUpWord names p after 补开 the way ParseMakeUp reads it, with its year
// so that it never names another: "补开2026年11月", "补开2026年第四季度",
// "补开2026年度".
func MakeUpWord(p Period) string {
	switch p.Rec {
	case Monthly:
		return fmt.Sprintf("补开%d年%d月", p.Year, p.N)
	case Quarterly:
		return fmt.Sprintf("补开%d年第%s季度", p.Year, quarterNumerals[p.N])
	}
	return fmt.Sprintf("补开%d年度", p.Year)
}

// PeriodFor is the period of recurrence rec that mu names at now: a month
// names its quarter and year too, a quarter its year; a month or quarter
// without a year is the latest one not after now. ok is false when mu does
// not name a period of rec (a quarter for a monthly obligation) or names
// one after now.
func (mu MakeUp) PeriodFor(rec Recurrence, now time.Time, loc *time.Location) (Period, bool) {
	cur := PeriodAt(rec, now, loc)
	if mu.Back > 0 {
		if mu.BackRec.rank() > rec.rank() { // 上季度 names no one month
			return Period{}, false
		}
		p := PeriodAt(mu.BackRec, now, loc)
		for range mu.Back {
			p = p.Prev()
		}
		got := PeriodAt(rec, p.Start(loc), loc)
		return got, !got.After(cur)
	}
	lt := now.In(locOr(loc))
	y := mu.Year
	switch {
	case mu.Month != 0:
		if y == 0 {
			y = lt.Year()
			if mu.Month > int(lt.Month()) {
				y--
			}
		}
		got := PeriodAt(rec, time.Date(y, time.Month(mu.Month), 1, 12, 0, 0, 0, locOr(loc)), loc)
		return got, !got.After(cur)
	case mu.Quarter != 0:
		if rec == Monthly {
			return Period{}, false
		}
		if y == 0 {
			y = lt.Year()
			if (mu.Quarter-1)*3+1 > int(lt.Month()) {
				y--
			}
		}
		got := PeriodAt(rec, time.Date(y, time.Month((mu.Quarter-1)*3+1), 1, 12, 0, 0, 0, locOr(loc)), loc)
		return got, !got.After(cur)
	case y != 0:
		if rec != Yearly {
			return Period{}, false
		}
		got := Period{Rec: Yearly, Year: y}
		return got, !got.After(cur)
	}
	return Period{}, false
}
