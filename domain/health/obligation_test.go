package health

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultObligations(t *testing.T) {
	want := []struct {
		code, name string
		rec        Recurrence
		yellow     int
		perGroup   bool
		themeDay   bool
		grace      int
		needs      string
		termEnd    bool
	}{
		{"general_meeting", "支部党员大会", Quarterly, 15, false, false, 0, "", false},
		{"committee_meeting", "支部委员会", Monthly, 7, false, false, 0, NeedsCommittee, false},
		{"group_meeting", "党小组会", Monthly, 7, true, false, 0, NeedsGroups, false},
		{"party_lecture", "党课", Quarterly, 15, false, false, 0, "", false},
		{"theme_day", "主题党日", Monthly, 3, false, true, 7, "", false},
		{"life_meeting", "组织生活会", Yearly, 31, false, false, 0, "", false},
		{"member_appraisal", "民主评议党员", Yearly, 31, false, false, 0, "", false},
		{"heart_talk", "谈心谈话", Yearly, 31, false, false, 0, "", false},
		{"dues", "党费收缴", Monthly, 7, false, false, 0, "", false},
		{"secretary_lecture", "书记讲党课", Yearly, 31, false, false, 0, "", false},
		{"term_end", "换届提醒", Yearly, 0, false, false, 0, "", true},
	}
	obs := DefaultObligations()
	if len(obs) != len(want) {
		t.Fatalf("%d obligations, want %d", len(obs), len(want))
	}
	for i, w := range want {
		ob := obs[i]
		t.Run(w.code, func(t *testing.T) {
			if ob.Code != w.code || ob.Name != w.name || ob.Recurs != w.rec || ob.YellowDays != w.yellow ||
				ob.PerGroup != w.perGroup || ob.ThemeDay != w.themeDay || ob.GraceDays != w.grace ||
				ob.Needs != w.needs || ob.TermEnd != w.termEnd || len(ob.AppliesTo) != 0 {
				t.Fatalf("got %+v", ob)
			}
			if err := ob.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := ValidateObligations(obs); err != nil {
		t.Fatal(err)
	}
	// A fresh slice each call.
	obs[0].Aliases[0] = "changed"
	if DefaultObligations()[0].Aliases[0] == "changed" {
		t.Fatal("DefaultObligations shares its slices")
	}
}

func TestWord(t *testing.T) {
	for code, want := range map[string]string{"committee_meeting": "支委会", "general_meeting": "党员大会",
		"party_lecture": "党课", "theme_day": "主题党日", "group_meeting": "党小组会", "life_meeting": "生活会"} {
		if s := obligation(t, code).Word(); s != want {
			t.Errorf("%s: Word = %q, want %q", code, s, want)
		}
	}
}

// The short forms people write are aliases of the default obligations.
func TestDefaultShortForms(t *testing.T) {
	for word, code := range map[string]string{"支委": "committee_meeting", "党员会": "general_meeting", "小组会": "group_meeting",
		"党日": "theme_day", "生活会": "life_meeting", "评议": "member_appraisal", "党小组": "group_meeting"} {
		found := ""
		for _, ob := range DefaultObligations() {
			if ob.Name == word || slices.Contains(ob.Aliases, word) {
				found = ob.Code
			}
		}
		if found != code {
			t.Errorf("%q names %q, want %q", word, found, code)
		}
	}
	if err := ValidateObligations(DefaultObligations()); err != nil {
		t.Fatal(err)
	}
}

func TestObligationValidate(t *testing.T) {
	good := Obligation{Code: "x_y", Name: "测试", Recurs: Monthly, YellowDays: 7}
	tests := []struct {
		name  string
		edit  func(*Obligation)
		field string
	}{
		{"empty code", func(o *Obligation) { o.Code = "" }, "code"},
		{"upper code", func(o *Obligation) { o.Code = "Committee" }, "code"},
		{"digit code", func(o *Obligation) { o.Code = "m1" }, "code"},
		{"long code", func(o *Obligation) { o.Code = strings.Repeat("a", 65) }, "code"},
		{"empty name", func(o *Obligation) { o.Name = " " }, "name"},
		{"space in name", func(o *Obligation) { o.Name = "支部 大会" }, "name"},
		{"plus in alias", func(o *Obligation) { o.Aliases = []string{"党日+党课"} }, "aliases"},
		{"enumeration comma in alias", func(o *Obligation) { o.Aliases = []string{"党日、党课"} }, "aliases"},
		{"duplicate alias", func(o *Obligation) { o.Aliases = []string{"甲", "甲"} }, "aliases"},
		{"alias equals name", func(o *Obligation) { o.Aliases = []string{"测试"} }, "aliases"},
		{"unknown recurrence", func(o *Obligation) { o.Recurs = "weekly" }, "recurs"},
		{"negative yellow", func(o *Obligation) { o.YellowDays = -1 }, "yellow_days"},
		{"yellow longer than a month", func(o *Obligation) { o.YellowDays = 29 }, "yellow_days"},
		{"theme day quarterly", func(o *Obligation) { o.ThemeDay, o.Recurs = true, Quarterly }, "theme_day"},
		{"grace without theme day", func(o *Obligation) { o.GraceDays = 3 }, "grace_days"},
		{"negative grace", func(o *Obligation) { o.ThemeDay, o.GraceDays = true, -1 }, "grace_days"},
		{"grace too long", func(o *Obligation) { o.ThemeDay, o.GraceDays = true, 29 }, "grace_days"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ob := good
			tt.edit(&ob)
			err := ob.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want a FieldError on %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("message %q does not name %s", err, tt.field)
			}
		})
	}
	quarterly := Obligation{Code: "q", Name: "季", Recurs: Quarterly, YellowDays: 60}
	if err := quarterly.Validate(); err != nil {
		t.Errorf("quarterly 60 days: %v", err)
	}
}

func TestValidateObligationsConflicts(t *testing.T) {
	dup := append(DefaultObligations(), Obligation{Code: "committee_meeting", Name: "另一个", Recurs: Monthly})
	if err := ValidateObligations(dup); err == nil || !strings.Contains(err.Error(), "code") {
		t.Errorf("duplicate code: %v", err)
	}
	clash := append(DefaultObligations(), Obligation{Code: "extra", Name: "额外", Aliases: []string{"支委会"}, Recurs: Monthly})
	if err := ValidateObligations(clash); err == nil || !strings.Contains(err.Error(), "committee_meeting") {
		t.Errorf("alias clash: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	sh := shanghai(t)
	nov := Period{Monthly, 2026, 11}
	tests := []struct {
		name       string
		ob         string
		p          Period
		themeDay   int
		yellowFrom time.Time
		due        time.Time
	}{
		{"committee end of month", "committee_meeting", nov, 0, at(sh, 2026, 11, 24, 0, 0, 0), at(sh, 2026, 12, 1, 0, 0, 0)},
		{"committee ignores theme day", "committee_meeting", nov, 15, at(sh, 2026, 11, 24, 0, 0, 0), at(sh, 2026, 12, 1, 0, 0, 0)},
		{"general meeting end of quarter", "general_meeting", Period{Quarterly, 2026, 4}, 0, at(sh, 2026, 12, 17, 0, 0, 0), at(sh, 2027, 1, 1, 0, 0, 0)},
		{"life meeting: end of February of the next year", "life_meeting", Period{Yearly, 2026, 0}, 0, at(sh, 2027, 1, 29, 0, 0, 0), at(sh, 2027, 3, 1, 0, 0, 0)},
		{"committee Feb 2028 leap", "committee_meeting", Period{Monthly, 2028, 2}, 0, at(sh, 2028, 2, 23, 0, 0, 0), at(sh, 2028, 3, 1, 0, 0, 0)},
		{"committee Feb 2027", "committee_meeting", Period{Monthly, 2027, 2}, 0, at(sh, 2027, 2, 22, 0, 0, 0), at(sh, 2027, 3, 1, 0, 0, 0)},
		{"theme day 15", "theme_day", nov, 15, at(sh, 2026, 11, 12, 0, 0, 0), at(sh, 2026, 11, 23, 0, 0, 0)},
		{"theme day 28 grace spills into December", "theme_day", nov, 28, at(sh, 2026, 11, 25, 0, 0, 0), at(sh, 2026, 12, 6, 0, 0, 0)},
		{"theme day 31 in a 30-day month", "theme_day", nov, 31, at(sh, 2026, 11, 27, 0, 0, 0), at(sh, 2026, 12, 8, 0, 0, 0)},
		{"theme day 31 in Feb 2028", "theme_day", Period{Monthly, 2028, 2}, 31, at(sh, 2028, 2, 26, 0, 0, 0), at(sh, 2028, 3, 8, 0, 0, 0)},
		{"theme day 31 in Feb 2027", "theme_day", Period{Monthly, 2027, 2}, 31, at(sh, 2027, 2, 25, 0, 0, 0), at(sh, 2027, 3, 8, 0, 0, 0)},
		{"theme day 1 warns in the month before", "theme_day", nov, 1, at(sh, 2026, 10, 29, 0, 0, 0), at(sh, 2026, 11, 9, 0, 0, 0)},
		{"theme day not set", "theme_day", nov, 0, at(sh, 2026, 11, 28, 0, 0, 0), at(sh, 2026, 12, 1, 0, 0, 0)},
		{"theme day out of range counts as not set", "theme_day", nov, 32, at(sh, 2026, 11, 28, 0, 0, 0), at(sh, 2026, 12, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yf, due := Deadline(obligation(t, tt.ob), tt.p, tt.themeDay, sh, nil)
			if !yf.Equal(tt.yellowFrom) || !due.Equal(tt.due) {
				t.Fatalf("Deadline = %v, %v; want %v, %v", yf.In(sh), due.In(sh), tt.yellowFrom, tt.due)
			}
		})
	}
}

func TestDueAfterAndCheckinCandidates(t *testing.T) {
	sh := shanghai(t)
	life := obligation(t, "life_meeting")
	if life.DueAfter != (DueAfter{Months: 2}) {
		t.Fatalf("life_meeting due_after %v", life.DueAfter)
	}
	_, due := Deadline(life, Period{Yearly, 2026, 0}, 0, sh, nil)
	if !due.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, sh)) {
		t.Fatalf("2026's 组织生活会 due %v, want the end of February 2027", due)
	}
	jan := time.Date(2027, 1, 15, 0, 0, 0, 0, sh)
	if got := CheckinCandidates(life, jan, 0, sh, nil); len(got) != 2 || got[0] != (Period{Yearly, 2026, 0}) || got[1] != (Period{Yearly, 2027, 0}) {
		t.Fatalf("candidates for 2027-01-15: %v", got)
	}
	mar := time.Date(2027, 3, 1, 0, 0, 0, 0, sh)
	if got := CheckinCandidates(life, mar, 0, sh, nil); len(got) != 1 || got[0] != (Period{Yearly, 2027, 0}) {
		t.Fatalf("candidates for 2027-03-01: %v", got)
	}
	theme := obligation(t, "theme_day")
	dec3 := time.Date(2026, 12, 3, 0, 0, 0, 0, sh)
	if got := CheckinCandidates(theme, dec3, 28, sh, nil); len(got) != 2 || got[0] != (Period{Monthly, 2026, 11}) {
		t.Fatalf("主题党日 on the 28th, made up on 3 December: %v", got)
	}
	committee := obligation(t, "committee_meeting")
	if got := CheckinCandidates(committee, dec3, 0, sh, nil); len(got) != 1 || got[0] != (Period{Monthly, 2026, 12}) {
		t.Fatalf("支委会 on 3 December: %v", got)
	}
	for _, tt := range []struct {
		in   string
		want DueAfter
		ok   bool
	}{{"2mo", DueAfter{Months: 2}, true}, {"14d", DueAfter{Days: 14}, true}, {"1mo14d", DueAfter{1, 14}, true}, {"", DueAfter{}, true},
		{"0", DueAfter{}, true}, {"2m", DueAfter{}, false}, {"13mo", DueAfter{}, false}, {"x", DueAfter{}, false}} {
		got, err := ParseDueAfter(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDueAfter(%q) = %v, %v", tt.in, got, err)
		}
	}
}
