package points

import (
	"time"
)

// VetoScope is how long a veto (否决项目) excludes a household from
// rankings and rewards: the calendar month, quarter or year of the act.
type VetoScope string

const (
	VetoMonth   VetoScope = "month"
	VetoQuarter VetoScope = "quarter"
	VetoYear    VetoScope = "year"
)

// ParseVetoScope reads "month", "quarter" or "year".
func ParseVetoScope(s string) (VetoScope, error) {
	return oneOf("veto scope", s, VetoMonth, VetoQuarter, VetoYear)
}

// VetoWindow is the window [from, to) a veto of an act on actDate excludes
// the household for: the settlement month, quarter or year containing the
// act's date, in loc. Every settlement period overlapping it leaves the
// household unranked.
func VetoWindow(scope VetoScope, actDate time.Time, loc *time.Location) (from, to time.Time) {
	kind := Yearly
	switch scope {
	case VetoMonth:
		kind = Monthly
	case VetoQuarter:
		kind = Quarterly
	}
	p, _ := PeriodAt(kind, actDate, loc)
	return p.Start, p.End
}

// Stars rates a yearly total 0–5 stars (星级文明户): the number of
// thresholds (ascending) it reaches. A vetoed household gets none.
func Stars(total int, thresholds []int, vetoed bool) int {
	if vetoed {
		return 0
	}
	n := 0
	for _, t := range thresholds {
		if total >= t {
			n++
		}
	}
	return n
}

// ApprovalsNeeded says whether n distinct approvals reach the quorum
// (a quorum below 1 counts as 1).
func ApprovalsNeeded(n, quorum int) (decided bool, missing int) {
	if quorum < 1 {
		quorum = 1
	}
	if n >= quorum {
		return true, 0
	}
	return false, quorum - n
}
