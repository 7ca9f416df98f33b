package points

import (
	"testing"
	"time"
)

func TestVetoWindow(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	act := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	for _, tc := range []struct {
		scope    VetoScope
		from, to time.Time
	}{
		{VetoYear, time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
		{VetoQuarter, time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
		{VetoMonth, time.Date(2026, 11, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 1, 0, 0, 0, 0, loc)},
	} {
		from, to := VetoWindow(tc.scope, act, loc)
		if !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%s: [%s, %s), want [%s, %s)", tc.scope, from, to, tc.from, tc.to)
		}
	}
	// 31 December late at night is still that year in the zone.
	from, _ := VetoWindow(VetoYear, time.Date(2026, 12, 31, 23, 30, 0, 0, loc), loc)
	if from.Year() != 2026 {
		t.Errorf("31 December: %s", from)
	}
	if _, err := ParseVetoScope("week"); err == nil {
		t.Error("week accepted")
	}
}

func TestStars(t *testing.T) {
	th := []int{100, 200, 300, 400, 500}
	for _, tc := range []struct {
		total  int
		vetoed bool
		want   int
	}{{0, false, 0}, {99, false, 0}, {100, false, 1}, {250, false, 2}, {499, false, 4}, {500, false, 5}, {9000, false, 5}, {600, true, 0}, {-5, false, 0}} {
		if got := Stars(tc.total, th, tc.vetoed); got != tc.want {
			t.Errorf("Stars(%d, vetoed %v) = %d, want %d", tc.total, tc.vetoed, got, tc.want)
		}
	}
}

func TestApprovalsNeeded(t *testing.T) {
	if ok, _ := ApprovalsNeeded(1, 1); !ok {
		t.Error("1 of 1")
	}
	if ok, miss := ApprovalsNeeded(1, 3); ok || miss != 2 {
		t.Errorf("1 of 3: %v %d", ok, miss)
	}
	if ok, _ := ApprovalsNeeded(1, 0); !ok {
		t.Error("quorum 0 counts as 1")
	}
}
