package health

import (
	"testing"
	"time"
)

func TestLightAt(t *testing.T) {
	sh := shanghai(t)
	committee := obligation(t, "committee_meeting")
	theme := obligation(t, "theme_day")
	nov := Period{Monthly, 2026, 11}
	owed := Facts{Owed: true}
	tests := []struct {
		name     string
		ob       Obligation
		themeDay int
		f        Facts
		t        time.Time
		want     Light
	}{
		{"before the window", committee, 0, owed, at(sh, 2026, 11, 23, 23, 59, 59), Green},
		{"window opens", committee, 0, owed, at(sh, 2026, 11, 24, 0, 0, 0), Yellow},
		{"last second of the period", committee, 0, owed, at(sh, 2026, 11, 30, 23, 59, 59), Yellow},
		{"at due", committee, 0, owed, at(sh, 2026, 12, 1, 0, 0, 0), Red},
		{"long overdue", committee, 0, owed, at(sh, 2027, 6, 1, 0, 0, 0), Red},
		{"checked in on the due day", committee, 0, Facts{Owed: true, CheckedIn: true}, at(sh, 2026, 11, 30, 20, 0, 0), Green},
		{"late check-in", committee, 0, Facts{Owed: true, CheckedIn: true}, at(sh, 2026, 12, 5, 0, 0, 0), Green},
		{"exemption", committee, 0, Facts{Owed: true, Exempt: true}, at(sh, 2026, 12, 5, 0, 0, 0), Green},
		// A withdrawn or rejected check-in is reported as CheckedIn=false.
		{"rejected check-in inside the window", committee, 0, owed, at(sh, 2026, 11, 26, 0, 0, 0), Yellow},
		{"rejected check-in after due", committee, 0, owed, at(sh, 2026, 12, 2, 0, 0, 0), Red},
		{"not owed (before start)", committee, 0, Facts{}, at(sh, 2026, 12, 5, 0, 0, 0), Green},
		{"theme day 28: inside grace in December", theme, 28, owed, at(sh, 2026, 12, 5, 23, 59, 59), Yellow},
		{"theme day 28: red after grace", theme, 28, owed, at(sh, 2026, 12, 6, 0, 0, 0), Red},
		{"theme day 28: green before 25th", theme, 28, owed, at(sh, 2026, 11, 24, 23, 59, 59), Green},
		{"theme day 31 in November: yellow on 27th", theme, 31, owed, at(sh, 2026, 11, 27, 0, 0, 0), Yellow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LightAt(tt.ob, nov, tt.themeDay, tt.f, tt.t, sh, nil); got != tt.want {
				t.Fatalf("LightAt = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCheckinPeriodAndOwed(t *testing.T) {
	sh := shanghai(t)
	committee := obligation(t, "committee_meeting")
	// Held on the due day: counts for November, so November is green.
	p := CheckinPeriod(committee, at(sh, 2026, 11, 30, 23, 0, 0), sh)
	if p.Key() != "2026-11" {
		t.Fatalf("CheckinPeriod = %s", p)
	}
	start := at(sh, 2026, 7, 15, 10, 0, 0)
	for key, want := range map[string]bool{"2026-06": false, "2026-07": true, "2026-08": true, "2026-Q2": false, "2026-Q3": true, "2025": false, "2026": true} {
		p, _ := ParsePeriod(key)
		if got := IsOwed(p, start, sh); got != want {
			t.Errorf("IsOwed(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestOpenPeriods(t *testing.T) {
	sh := shanghai(t)
	midYear := at(sh, 2026, 7, 15, 10, 0, 0)
	tests := []struct {
		name     string
		ob       string
		themeDay int
		start, t time.Time
		want     string
	}{
		{"monthly since mid-year", "committee_meeting", 0, midYear, at(sh, 2026, 11, 20, 0, 0, 0), "2026-07,2026-08,2026-09,2026-10,2026-11"},
		{"quarterly since mid-year", "general_meeting", 0, midYear, at(sh, 2026, 11, 20, 0, 0, 0), "2026-Q3,2026-Q4"},
		{"yearly since mid-year", "life_meeting", 0, midYear, at(sh, 2026, 11, 20, 0, 0, 0), "2026"},
		{"started today", "committee_meeting", 0, at(sh, 2026, 11, 20, 9, 0, 0), at(sh, 2026, 11, 20, 9, 0, 0), "2026-11"},
		{"starts in the future", "committee_meeting", 0, at(sh, 2027, 3, 1, 0, 0, 0), at(sh, 2026, 11, 20, 0, 0, 0), ""},
		{"theme day 28 still open in December", "theme_day", 28, midYear, at(sh, 2026, 12, 3, 0, 0, 0), "2026-07,2026-08,2026-09,2026-10,2026-11,2026-12"},
		{"theme day 2 warns for next month", "theme_day", 2, midYear, at(sh, 2026, 11, 29, 0, 0, 0), "2026-07,2026-08,2026-09,2026-10,2026-11,2026-12"},
		{"theme day 2 not yet", "theme_day", 2, midYear, at(sh, 2026, 11, 28, 23, 59, 59), "2026-07,2026-08,2026-09,2026-10,2026-11"},
		{"next month is the start period", "theme_day", 1, at(sh, 2027, 1, 10, 0, 0, 0), at(sh, 2026, 12, 30, 0, 0, 0), "2027-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := periodKeys(OpenPeriods(obligation(t, tt.ob), tt.themeDay, tt.start, tt.t, sh))
			if got != tt.want {
				t.Fatalf("OpenPeriods = %q, want %q", got, tt.want)
			}
		})
	}
	// Onboarding a branch created years ago at its import date: nothing
	// before the start period, whatever the history.
	ps := OpenPeriods(obligation(t, "committee_meeting"), 0, at(sh, 2026, 11, 20, 0, 0, 0), at(sh, 2026, 11, 21, 0, 0, 0), sh)
	if len(ps) != 1 {
		t.Fatalf("onboarding gives %d periods", len(ps))
	}
}

func TestWorstAndCounts(t *testing.T) {
	if Worst() != Green || Worst(Green, Yellow) != Yellow || Worst(Yellow, Red, Green) != Red || Worst("bogus") != Green {
		t.Fatal("Worst")
	}
	if !Red.Worse(Yellow) || !Yellow.Worse(Green) || Green.Worse(Green) || Yellow.Worse(Red) {
		t.Fatal("Worse")
	}
	c := Count(Green, Red, Red, Yellow, "bogus")
	if c != (Counts{Green: 1, Yellow: 1, Red: 2}) || c.Total() != 4 {
		t.Fatalf("Count = %+v", c)
	}
	c.Merge(Counts{Green: 1})
	if c.Green != 2 {
		t.Fatal("Merge")
	}
}

func TestSummaries(t *testing.T) {
	items := []ItemLight{
		{BranchID: 1, Obligation: "committee_meeting", Light: Green},
		{BranchID: 1, Obligation: "theme_day", Light: Yellow},
		{BranchID: 2, Obligation: "committee_meeting", Light: Red},
		{BranchID: 2, GroupID: 21, Obligation: "group_meeting", Light: Green},
		{BranchID: 3, Obligation: "committee_meeting", Light: Green},
	}
	if BranchLight(items[:2]) != Yellow || BranchLight(items[2:4]) != Red || BranchLight(nil) != Green {
		t.Fatal("BranchLight")
	}
	bl := BranchLights(items)
	if bl[1] != Yellow || bl[2] != Red || bl[3] != Green {
		t.Fatalf("BranchLights = %v", bl)
	}
	// County 100 > township 10 > branches 1, 2; township 20 > branch 3.
	counts := UnitCounts(bl, map[int64][]int64{1: {100, 10}, 2: {100, 10}, 3: {100, 20}})
	want := map[int64]Counts{
		100: {Green: 1, Yellow: 1, Red: 1},
		10:  {Yellow: 1, Red: 1},
		20:  {Green: 1},
		1:   {Yellow: 1},
		2:   {Red: 1},
		3:   {Green: 1},
	}
	for u, w := range want {
		if counts[u] != w {
			t.Errorf("unit %d: %+v, want %+v", u, counts[u], w)
		}
	}
}
