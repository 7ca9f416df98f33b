package health

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
)

func TestParseThemeDay(t *testing.T) {
	for _, c := range []struct {
		in      string
		day     int
		weekday string
	}{
		{"1", 1, ""}, {"28", 28, ""}, {"15", 15, ""},
		{"first-fri", 0, "first-fri"}, {"LAST-SAT", 0, "last-sat"}, {"second-wed", 0, "second-wed"},
		{"第一个周五", 0, "first-fri"}, {"第二个周三", 0, "second-wed"}, {"最后一个周六", 0, "last-sat"},
		{"第四个星期一", 0, "fourth-mon"}, {"第一个周日", 0, "first-sun"}, {"第3个礼拜二", 0, "third-tue"},
	} {
		day, wd, err := ParseThemeDay(c.in)
		if err != nil || day != c.day || wd != c.weekday {
			t.Errorf("ParseThemeDay(%q) = %d, %q, %v; want %d, %q", c.in, day, wd, err, c.day, c.weekday)
		}
	}
	for _, bad := range []string{"0", "29", "31", "-1", "fifth-fri", "first-xyz", "第五个周五", "周五", "每月", ""} {
		if _, _, err := ParseThemeDay(bad); err == nil {
			t.Errorf("ParseThemeDay(%q) accepted", bad)
		}
	}
}

func TestThemeLabel(t *testing.T) {
	for _, c := range []struct {
		day     int
		weekday string
		want    string
	}{{15, "", "每月15日"}, {0, "first-fri", "每月第一个周五"}, {0, "last-sun", "每月最后一个周日"}, {0, "", ""}} {
		if got := ThemeLabel(c.day, c.weekday); got != c.want {
			t.Errorf("ThemeLabel(%d, %q) = %q, want %q", c.day, c.weekday, got, c.want)
		}
	}
}

func TestDeadlineWeekdayRule(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	ob := obligation(t, "theme_day")
	for _, c := range []struct {
		rule  string
		month time.Month
		fixed int // the fixed day in 2026
	}{
		{"first-fri", time.January, 2},   // 2026-01-02 is a Friday
		{"first-fri", time.May, 1},       // 2026-05-01 is a Friday
		{"last-sat", time.February, 28},  // 2026-02-28 is a Saturday
		{"last-sat", time.December, 26},  // 2026-12-26
		{"second-wed", time.December, 9}, // 2026-12-09
		{"fourth-mon", time.November, 23},
	} {
		code := ThemeCode(0, c.rule)
		if code == 0 {
			t.Fatalf("ThemeCode(%q) = 0", c.rule)
		}
		yf, due := Deadline(ob, Period{Rec: Monthly, Year: 2026, N: int(c.month)}, code, loc, nil)
		fixed := time.Date(2026, c.month, c.fixed, 0, 0, 0, 0, loc)
		if fixed.Weekday() != map[string]time.Weekday{"first-fri": time.Friday, "last-sat": time.Saturday, "second-wed": time.Wednesday, "fourth-mon": time.Monday}[c.rule] {
			t.Fatalf("test data: %v is a %v", fixed, fixed.Weekday())
		}
		if !yf.Equal(fixed.AddDate(0, 0, -ob.YellowDays)) || !due.Equal(fixed.AddDate(0, 0, 1+ob.GraceDays)) {
			t.Errorf("%s %v: yellow %v due %v, want fixed day %v", c.rule, c.month, yf, due, fixed)
		}
	}
	// A day of the month is its own code.
	if ThemeCode(15, "") != 15 || ThemeCode(0, "nonsense") != 0 || ThemeCode(0, "") != 0 {
		t.Fatal("ThemeCode of a day or nothing")
	}
}

func TestTermDeadlineAndNotice(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	end := time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
	yf, due := TermDeadline(end, loc)
	if want := time.Date(2026, 9, 30, 0, 0, 0, 0, loc); !yf.Equal(want) {
		t.Errorf("yellow from %v, want %v", yf, want)
	}
	if want := time.Date(2027, 4, 1, 0, 0, 0, 0, loc); !due.Equal(want) {
		t.Errorf("due %v, want %v", due, want)
	}
	if got := TermNotice(due, time.Date(2026, 12, 1, 0, 0, 0, 0, loc), loc); got != "支部委员会任期将于2027年3月31日届满，请及时换届" {
		t.Errorf("before: %q", got)
	}
	if got := TermNotice(due, time.Date(2027, 4, 1, 9, 0, 0, 0, loc), loc); got != "支部委员会任期已于2027年3月31日届满，请尽快换届" {
		t.Errorf("after: %q", got)
	}
	if p := TermPeriod(end); p != PeriodAt(Yearly, time.Date(2027, 6, 1, 0, 0, 0, 0, loc), loc) {
		t.Errorf("TermPeriod = %+v", p)
	}
}

func TestBinds(t *testing.T) {
	committee, groups := obligation(t, "committee_meeting"), obligation(t, "group_meeting")
	general := obligation(t, "general_meeting")
	if committee.Binds("village", false, true) || !committee.Binds("village", true, false) {
		t.Error("committee_meeting binds by committee")
	}
	if groups.Binds("village", true, false) || !groups.Binds("village", false, true) {
		t.Error("group_meeting binds by groups")
	}
	general.AppliesTo = []string{"village", "community"}
	if !general.Binds("community", false, false) || general.Binds("property", true, true) {
		t.Error("applies_to restricts")
	}
	if err := general.Validate(); err != nil {
		t.Fatal(err)
	}
	general.AppliesTo = []string{"farm"}
	if err := general.Validate(); err == nil {
		t.Error("unknown branch type accepted")
	}
	general.AppliesTo, general.Needs = nil, "secretary"
	if err := general.Validate(); err == nil {
		t.Error("unknown needs accepted")
	}
	term := obligation(t, "term_end")
	if err := term.Validate(); err != nil {
		t.Fatal(err)
	}
	term.DueAfter = DueAfter{Months: 1}
	if err := term.Validate(); err == nil {
		t.Error("a term reminder with due_after accepted")
	}
}

func TestBranchTypesMatchDomain(t *testing.T) {
	if !slices.Equal(branchTypes, domain.BranchTypes) {
		t.Fatalf("health.branchTypes %v, domain.BranchTypes %v", branchTypes, domain.BranchTypes)
	}
}

func TestPlanTermReminder(t *testing.T) {
	loc := shanghai(t)
	f := newFixture(loc)
	ob := obligation(t, "term_end")
	end := time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
	yf, due := TermDeadline(end, loc)
	item := func(l Light) Item {
		return Item{BranchID: f.branchID, BranchCode: f.code, BranchName: f.name, UnitPath: []string{"乾安县", "让字镇", "新庄村"},
			Obligation: ob, Period: TermPeriod(end), Light: l, YellowFrom: yf, Due: due,
			Secretaries: []Recipient{secZhang}, Organisers: [][]Recipient{{orgLi}, {orgWang}}}
	}
	// In January of the term's last year: yellow, and not in the year's
	// green prompt; no /checkin example for a reminder one cannot check in.
	now := time.Date(2027, 1, 5, 10, 0, 0, 0, loc)
	out := plan(t, now, Rules{YellowRepeat: 72 * time.Hour, RedRepeat: 24 * time.Hour}, nil, item(Yellow))
	d := digestOf(out, secZhang.PersonID)
	if d == nil {
		t.Fatal("no digest for the secretary")
	}
	text := strings.Join(d.Texts(), "\n")
	if !strings.Contains(text, "新庄村党支部 · 支部委员会任期将于2027年3月31日届满，请及时换届") || strings.Contains(text, "<code>打卡 ") ||
		strings.Contains(text, "本期规定动作") {
		t.Fatalf("yellow term reminder:\n%s", text)
	}
	// Passed: red to the secretary and the organisers, with the 收到 hint.
	now = time.Date(2027, 4, 2, 10, 0, 0, 0, loc)
	out = plan(t, now, Rules{YellowRepeat: 72 * time.Hour, RedRepeat: 24 * time.Hour}, nil, item(Red))
	text = strings.Join(digestOf(out, secZhang.PersonID).Texts(), "\n")
	if !strings.Contains(text, "支部委员会任期已于2027年3月31日届满，请尽快换届") || !strings.Contains(text, "<code>收到 ") || strings.Contains(text, "<code>打卡 ") {
		t.Fatalf("red term reminder:\n%s", text)
	}
	if o := digestOf(out, orgLi.PersonID); o == nil || !strings.Contains(strings.Join(o.Texts(), "\n"), "支部委员会任期已于2027年3月31日届满") {
		t.Fatalf("organiser's red term reminder: %+v", o)
	}
}
