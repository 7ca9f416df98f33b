package healthcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/tabular"
)

const branchesCSV = `code,name,kind,parent_code,branch_type,members,committee,theme_day,term_end
QA,乾安县,county,,,,,,
QA-RZ,让字镇,township,QA,,,,,
QA-RZ-XZ,幸福村,village,QA-RZ,,,,,
QA-RZ-SQ,幸福社区,community,QA-RZ,,,,,
B1,幸福村第一党支部,branch,QA-RZ-XZ,,,,,
B1-G1,第一党小组,group,B1,,,,,
B2,幸福村第二党支部,branch,QA-RZ-XZ,,5,,第一个周五,2027-03-31
B3,幸福社区党支部,branch,QA-RZ-SQ,,12,,15,
B4,幸福物业党支部,branch,QA-RZ-SQ,物业,3,是,last-sat,
B5,让字镇企业党支部,branch,QA-RZ,enterprise,,no,,2026-10-31
`

// importCSV imports a units file given as text.
func importCSV(f *hcFixture, name, text string) (app.ImportResult, error) {
	f.t.Helper()
	tab, err := tabular.ReadCSV(strings.NewReader(text), name)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := accounts.Of(f.app).ImportUnits(f.ctx, domain.Operator, tab)
	us, lerr := f.st.AllUnits(f.ctx)
	if lerr != nil {
		f.t.Fatal(lerr)
	}
	for _, u := range us {
		f.units[u.Code] = u
	}
	return res, err
}

// branchInfos lists the branches of the county as the API shows them.
func branchInfos(f *hcFixture) map[string]domain.BranchInfo {
	f.t.Helper()
	pid, _, err := f.st.UpsertPerson(f.ctx, "县管理员", "13900000099", mustUnit(f, "QA").ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.AddRole(f.ctx, pid, domain.RoleAdmin, mustUnit(f, "QA").ID); err != nil {
		f.t.Fatal(err)
	}
	roles, err := f.st.RolesOf(f.ctx, pid)
	if err != nil {
		f.t.Fatal(err)
	}
	us, err := accounts.Of(f.app).UnitTree(f.ctx, domain.Actor{PersonID: pid, Label: "县管理员", Roles: roles}, "QA")
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]domain.BranchInfo{}
	for _, u := range us {
		if (u.Branch != nil) != (u.Kind == domain.KindBranch) {
			f.t.Fatalf("%s (%s): branch info %v", u.Code, u.Kind, u.Branch)
		}
		if u.Branch != nil {
			out[u.Code] = *u.Branch
		}
	}
	return out
}

func mustUnit(f *hcFixture, code string) domain.Unit {
	f.t.Helper()
	u, err := f.st.UnitByCode(f.ctx, code)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

func infoText(b domain.BranchInfo) string {
	members := "?"
	if b.Members != nil {
		members = string(rune('0'+*b.Members/10%10)) + string(rune('0'+*b.Members%10))
	}
	return strings.Join([]string{b.Type, members, map[bool]string{true: "committee", false: "no-committee"}[b.Committee],
		map[bool]string{true: "groups", false: "no-groups"}[b.HasGroups], health.ThemeLabel(b.ThemeDay, b.ThemeWeekday), b.TermEnd}, " ")
}

func TestImportUnitsBranchColumns(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 11, 25, 10, 0))
	if _, err := importCSV(f, "units.csv", branchesCSV); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"B1": "village ? committee groups  ",
		"B2": "village 05 no-committee no-groups 每月第一个周五 2027-03-31",
		"B3": "community 12 committee no-groups 每月15日 ",
		"B4": "property 03 committee no-groups 每月最后一个周六 ",
		"B5": "other ? no-committee no-groups  2026-10-31",
	}
	want["B5"] = "enterprise ? no-committee no-groups  2026-10-31"
	check := func(when string, want map[string]string) {
		t.Helper()
		got := branchInfos(f)
		for code, w := range want {
			if s := infoText(got[code]); s != w {
				t.Errorf("%s: %s = %q, want %q", when, code, s, w)
			}
		}
	}
	check("first import", want)

	// Re-import without the optional columns, or with empty cells: nothing
	// is wiped. A new member count re-derives a committee never given.
	if _, err := importCSV(f, "again.csv", "code,name,kind,parent_code\nB2,幸福村第二党支部,branch,QA-RZ-XZ\nB4,物业党支部,branch,QA-RZ-SQ\n"); err != nil {
		t.Fatal(err)
	}
	check("re-import without columns", want)
	if _, err := importCSV(f, "members.csv", "code,name,kind,parent_code,members,theme_day\nB2,幸福村第二党支部,branch,QA-RZ-XZ,9,\nB4,物业党支部,branch,QA-RZ-SQ,,20\n"); err != nil {
		t.Fatal(err)
	}
	want["B2"] = "village 09 committee no-groups 每月第一个周五 2027-03-31"
	want["B4"] = "property 03 committee no-groups 每月20日 "
	check("re-import of members and a theme day", want)

	// Bad values: refused naming row, column and value; nothing imported.
	for _, c := range []struct{ name, row, want string }{
		{"type", "B2,幸福村第二党支部,branch,QA-RZ-XZ,农场,,,,", `row 3, column "branch_type": 支部类型“农场”无效`},
		{"negative members", "B2,幸福村第二党支部,branch,QA-RZ-XZ,,-1,,,", `row 3, column "members": 正式党员数“-1”无效`},
		{"members in words", "B2,幸福村第二党支部,branch,QA-RZ-XZ,,五,,,", `row 3, column "members": 正式党员数“五”无效`},
		{"committee", "B2,幸福村第二党支部,branch,QA-RZ-XZ,,,maybe,,", `row 3, column "committee": 是否设支部委员会“maybe”无效`},
		{"theme day 29", "B2,幸福村第二党支部,branch,QA-RZ-XZ,,,,29,", `row 3, column "theme_day": 主题党日“29”无效`},
		{"fifth friday", "B2,幸福村第二党支部,branch,QA-RZ-XZ,,,,第五个周五,", `row 3, column "theme_day": 主题党日“第五个周五”无效`},
		{"term end", "B2,幸福村第二党支部,branch,QA-RZ-XZ,,,,,2027/03/31", `row 3, column "term_end": 任期届满日期“2027/03/31”无效`},
		{"not a branch", "QA-RZ-XZ,幸福村,village,QA-RZ,,30,,,", `row 3, column "members": “30”只适用于党支部`},
	} {
		text := "code,name,kind,parent_code,branch_type,members,committee,theme_day,term_end\nQA-NEW,新镇,township,QA,,,,,\n" + c.row + "\n"
		_, err := importCSV(f, "bad.csv", text)
		var re *tabular.RowError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if _, err := f.st.UnitByCode(f.ctx, "QA-NEW"); err == nil {
			t.Fatalf("%s: the good row was imported although a later row failed", c.name)
		}
	}
	check("after refused imports", want)
	for _, header := range []string{"code,name,kind,parent_code,note", "code,name,kind,parent_code,members,members", "code,name,kind"} {
		if _, err := importCSV(f, "h.csv", header+"\n"); err == nil || !strings.Contains(err.Error(), "row 1") {
			t.Errorf("header %q: %v", header, err)
		}
	}
}

// lightsOf is the branch's lights as "obligation[/group] period light".
func lightsOf(f *hcFixture, code string) string {
	f.t.Helper()
	ls, err := healthcheck.Of(f.app).BranchLights(f.ctx, domain.Operator, mustUnit(f, code).ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return hcLightsText(f, ls)
}

func TestObligationsBindBranches(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 11, 25, 10, 0), func(c *config.Config) {
		c.Healthcheck.Start = "2026-09-01"
		// 党费收缴 only for village branches here.
		c.Healthcheck.Obligations = []config.Obligation{{Code: "dues", YellowDays: 7, AppliesTo: []string{"village"}}}
	})
	if _, err := importCSV(f, "units.csv", branchesCSV); err != nil {
		t.Fatal(err)
	}
	has := func(code, line string) bool { return strings.Contains("\n"+lightsOf(f, code)+"\n", "\n"+line+"\n") }
	lines := func(code, prefix string) bool { return strings.Contains("\n"+lightsOf(f, code), "\n"+prefix) }

	// A branch with a committee and party groups owes both meetings.
	if !has("B1", "committee_meeting 2026-11 yellow") || !has("B1", "group_meeting/B1-G1 2026-11 yellow") {
		t.Fatalf("B1:\n%s", lightsOf(f, "B1"))
	}
	// A small branch (5 members, committee derived: no) never owes a 支委会,
	// and without party groups never a 党小组会.
	for _, code := range []string{"B2", "B5"} {
		if lines(code, "committee_meeting") || lines(code, "group_meeting") {
			t.Errorf("%s owes a committee or group meeting:\n%s", code, lightsOf(f, code))
		}
	}
	if lines("B3", "group_meeting") || !has("B3", "committee_meeting 2026-10 red") {
		t.Errorf("B3:\n%s", lightsOf(f, "B3"))
	}
	// applies_to: dues bind village branches only.
	if !has("B1", "dues 2026-11 yellow") || !has("B2", "dues 2026-10 red") || lines("B3", "dues") || lines("B4", "dues") || lines("B5", "dues") {
		t.Errorf("dues: B1\n%s\nB3\n%s", lightsOf(f, "B1"), lightsOf(f, "B3"))
	}
	// The new defaults are owed.
	for _, l := range []string{"heart_talk 2026 green", "secretary_lecture 2026 green"} {
		if !has("B3", l) {
			t.Errorf("B3 lacks %q:\n%s", l, lightsOf(f, "B3"))
		}
	}
	// 换届提醒: yellow from six months before the term ends, red once
	// passed (whatever the start date), nothing without a term end.
	if !has("B2", "term_end 2027 yellow") || !has("B5", "term_end 2026 red") || lines("B1", "term_end") {
		t.Errorf("term reminders: B2\n%s\nB5\n%s", lightsOf(f, "B2"), lightsOf(f, "B5"))
	}
	f.now = hcAt(2026, 9, 29, 10, 0)
	if lines("B2", "term_end") {
		t.Errorf("term reminder before its yellow window:\n%s", lightsOf(f, "B2"))
	}
	f.now = hcAt(2026, 11, 25, 10, 0)

	// The notices say it in words.
	f.person("王书记", "secretary", "B2", 100)
	f.person("赵委员", "organiser", "QA-RZ", 800)
	f.person("刘书记", "secretary", "B5", 200)
	ev, err := healthcheck.Of(f.app).Evaluate(f.ctx, domain.System, f.now, "")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, d := range ev.Digests {
		texts[d.Name] = strings.Join(d.Texts(), "\n")
	}
	if !strings.Contains(texts["王书记"], "幸福村第二党支部 · 支部委员会任期将于2027年3月31日届满，请及时换届") {
		t.Errorf("yellow term notice:\n%s", texts["王书记"])
	}
	if !strings.Contains(texts["刘书记"], "支部委员会任期已于2026年10月31日届满，请尽快换届") ||
		!strings.Contains(texts["赵委员"], "让字镇企业党支部 · 支部委员会任期已于2026年10月31日届满") {
		t.Errorf("red term notice:\n%s\n---\n%s", texts["刘书记"], texts["赵委员"])
	}
	// Not in the green prompt, and no 支委会 in B2's.
	if strings.Contains(texts["王书记"], "• 换届提醒") || strings.Contains(texts["王书记"], "支部委员会 · 截止") {
		t.Errorf("prompt of B2:\n%s", texts["王书记"])
	}
	// Check-ins of what a branch does not owe are refused, saying why.
	actorOf := func(name string) domain.Actor {
		roles, err := f.st.RolesOf(f.ctx, f.ppl[name])
		if err != nil {
			t.Fatal(err)
		}
		return domain.Actor{PersonID: f.ppl[name], Label: name, Roles: roles}
	}
	f.person("陈书记", "secretary", "B3", 300)
	day := hcAt(2026, 11, 20, 0, 0)
	for _, c := range []struct{ who, word, want string }{
		{"王书记", "支委会", "幸福村第二党支部未设支部委员会，不需要召开支部委员会。"},
		{"王书记", "党小组会", "幸福村第二党支部没有党小组，不需要召开党小组会。"},
		{"陈书记", "党费", "幸福社区党支部（社区党支部）不需要开展党费收缴。"},
	} {
		_, err := checkin.Of(f.app).RecordCheckin(f.ctx, actorOf(c.who), checkin.Request{Obligations: []string{c.word}, Date: day, Source: checkin.SourceAPI})
		var ue *domain.UserError
		if !errors.As(err, &ue) || ue.Msg != c.want {
			t.Errorf("%s %s: %v, want %q", c.who, c.word, err, c.want)
		}
	}
	if _, err := checkin.Of(f.app).RecordCheckin(f.ctx, actorOf("陈书记"), checkin.Request{Obligations: []string{"支委会"}, Date: day, Source: checkin.SourceAPI}); err != nil {
		t.Errorf("B3 (12 members) 支委会: %v", err)
	}

	// A new term end clears it.
	if _, err := importCSV(f, "term.csv", "code,name,kind,parent_code,term_end\nB5,让字镇企业党支部,branch,QA-RZ,2031-10-31\n"); err != nil {
		t.Fatal(err)
	}
	if lines("B5", "term_end") {
		t.Errorf("term reminder after a new term:\n%s", lightsOf(f, "B5"))
	}
}

func TestWeekdayThemeDayInEngine(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 12, 2, 10, 0), func(c *config.Config) { c.Healthcheck.Start = "2026-11-01" })
	// First Friday: 2026-11-06 (due 11-14 with 7 days' grace), 2026-12-04
	// (yellow from 12-01).
	if _, err := importCSV(f, "units.csv", branchesCSV); err != nil {
		t.Fatal(err)
	}
	if s := lightsOf(f, "B2"); !strings.Contains(s, "theme_day 2026-11 red") || !strings.Contains(s, "theme_day 2026-12 yellow") {
		t.Fatalf("B2 (first Friday):\n%s", s)
	}
	// B3's fixed day is the 15th: December is not yet yellow.
	if s := lightsOf(f, "B3"); !strings.Contains(s, "theme_day 2026-12 green") {
		t.Fatalf("B3 (15th):\n%s", s)
	}
}
