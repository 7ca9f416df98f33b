package health

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Obligation is one required activity (规定动作).
type Obligation struct {
	// Code is the stable identifier, [a-z_]+ (e.g. "committee_meeting").
	Code string
	// Name is the Chinese name shown to users (e.g. "支部委员会").
	Name string
	// Aliases are other names a secretary may use in /checkin (e.g. "支委会").
	Aliases []string
	// Recurs is how often the obligation is owed.
	Recurs Recurrence
	// YellowDays is the length of the yellow window in calendar days: before
	// due, or for a ThemeDay obligation before the fixed day.
	YellowDays int
	// PerGroup means the obligation is owed once per party group (党小组)
	// of the branch rather than once per branch.
	PerGroup bool
	// ThemeDay means the obligation is pinned to the branch's fixed day of
	// the month (主题党日); only monthly obligations may be.
	ThemeDay bool
	// GraceDays is, for a ThemeDay obligation, how many days after the fixed
	// day it may still be done or recorded.
	GraceDays int
	// AppliesTo lists the branch types the obligation binds (nil = every
	// branch; see domain.BranchTypes).
	AppliesTo []string
	// Needs is what a branch must have to owe the obligation: NeedsCommittee
	// (a branch committee, for 支委会), NeedsGroups (party groups, for
	// 党小组会) or "" (nothing).
	Needs string
	// TermEnd marks the 换届提醒: not a recurring activity but a reminder
	// evaluated from the branch's term end date (TermDeadline), filed under
	// the year the term ends in, cleared by a new term end date and never
	// checked in.
	TermEnd bool
	// DueAfter moves the due time past the period's end: the yearly 组织生活会
	// and 民主评议党员 of year Y are held in January–February of Y+1.
	DueAfter DueAfter
	// Quorum: a meeting with no more than half of the members present
	// (BelowQuorum) is recorded but does not count (支部党员大会).
	Quorum bool
}

// DueAfter is how long after its period's end an obligation is due.
type DueAfter struct{ Months, Days int }

// BelowQuorum reports whether an attendance of present out of total is no
// more than half: a 支部党员大会 needs more than half of its members. An
// attendance not given (total 0) is not judged.
func BelowQuorum(present, total int) bool { return total > 0 && present*2 <= total }

// QuorumReason is why a below-quorum meeting does not count, for users.
func QuorumReason(present, total int) string {
	return fmt.Sprintf("实到 %d 人、应到 %d 人，未过半数，不计为已召开，请重新召开", present, total)
}

// IsZero reports whether the obligation is due at its period's end.
func (d DueAfter) IsZero() bool { return d.Months == 0 && d.Days == 0 }

func (d DueAfter) String() string {
	switch {
	case d.Months != 0 && d.Days != 0:
		return fmt.Sprintf("%dmo%dd", d.Months, d.Days)
	case d.Months != 0:
		return fmt.Sprintf("%dmo", d.Months)
	}
	return fmt.Sprintf("%dd", d.Days)
}

// ParseDueAfter reads healthcheck.obligations[].due_after: "2mo" (months),
// "14d" (days), "1mo14d", or "0" / "" for none.
func ParseDueAfter(s string) (DueAfter, error) {
	v := strings.TrimSpace(s)
	if v == "" || v == "0" {
		return DueAfter{}, nil
	}
	var d DueAfter
	rest := v
	if m, r, ok := strings.Cut(rest, "mo"); ok {
		n, ok := digits(m)
		if !ok {
			return DueAfter{}, fmt.Errorf("due_after %q: write e.g. 2mo, 14d or 1mo14d", s)
		}
		d.Months, rest = n, r
	}
	if rest != "" {
		n, ok := digits(strings.TrimSuffix(rest, "d"))
		if !ok || !strings.HasSuffix(rest, "d") {
			return DueAfter{}, fmt.Errorf("due_after %q: write e.g. 2mo, 14d or 1mo14d", s)
		}
		d.Days = n
	}
	if d.Months > 12 || d.Days > 366 {
		return DueAfter{}, fmt.Errorf("due_after %q: at most 12 months or 366 days", s)
	}
	return d, nil
}

// What an obligation may need of a branch.
const (
	NeedsCommittee = "committee"
	NeedsGroups    = "groups"
)

// Binds reports whether ob is owed by a branch of type branchType, with or
// without a committee and party groups. A TermEnd obligation also needs the
// branch's term end date, which the caller checks.
func (ob Obligation) Binds(branchType string, committee, groups bool) bool {
	if len(ob.AppliesTo) > 0 && !slices.Contains(ob.AppliesTo, branchType) {
		return false
	}
	switch ob.Needs {
	case NeedsCommittee:
		return committee
	case NeedsGroups:
		return groups
	}
	return true
}

// branchTypes are the branch type codes of domain.BranchTypes (this package
// does not import domain; TestBranchTypesMatchDomain holds them together).
var branchTypes = []string{"village", "community", "compound", "property", "enterprise", "institution", "other"}

// Limits that Validate enforces.
const (
	maxCodeLen  = 64
	maxNameLen  = 64 // runes
	maxGraceDay = 28
)

// DefaultObligations is the built-in table of SPEC §2, after the 2018 branch
// work regulations (中国共产党支部工作条例（试行）). Each call returns a fresh
// slice the caller may change.
func DefaultObligations() []Obligation {
	return []Obligation{
		{Code: "general_meeting", Name: "支部党员大会", Aliases: []string{"党员大会", "支部大会", "全体党员大会", "党员会"}, Recurs: Quarterly, YellowDays: 15, Quorum: true},
		{Code: "committee_meeting", Name: "支部委员会", Aliases: []string{"支委会", "支部委员会会议", "支委会议", "支委"}, Recurs: Monthly, YellowDays: 7, Needs: NeedsCommittee},
		{Code: "group_meeting", Name: "党小组会", Aliases: []string{"党小组会议", "小组会", "党小组"}, Recurs: Monthly, YellowDays: 7, PerGroup: true, Needs: NeedsGroups},
		{Code: "party_lecture", Name: "党课", Aliases: []string{"讲党课", "专题党课", "上党课"}, Recurs: Quarterly, YellowDays: 15},
		{Code: "theme_day", Name: "主题党日", Aliases: []string{"党日", "主题党日活动", "党日活动"}, Recurs: Monthly, YellowDays: 3, ThemeDay: true, GraceDays: 7},
		// The yearly meetings of year Y are held in January–February of Y+1.
		{Code: "life_meeting", Name: "组织生活会", Aliases: []string{"生活会", "专题组织生活会", "组织生活"}, Recurs: Yearly, YellowDays: 31, DueAfter: DueAfter{Months: 2}},
		{Code: "member_appraisal", Name: "民主评议党员", Aliases: []string{"评议党员", "民主评议", "评议"}, Recurs: Yearly, YellowDays: 31, DueAfter: DueAfter{Months: 2}},
		{Code: "heart_talk", Name: "谈心谈话", Aliases: []string{"谈心", "谈话谈心", "谈心谈话活动"}, Recurs: Yearly, YellowDays: 31},
		{Code: "dues", Name: "党费收缴", Aliases: []string{"收党费", "交党费", "党费"}, Recurs: Monthly, YellowDays: 7},
		{Code: "secretary_lecture", Name: "书记讲党课", Aliases: []string{"书记党课", "支部书记讲党课"}, Recurs: Yearly, YellowDays: 31},
		{Code: "term_end", Name: "换届提醒", Aliases: []string{"换届"}, Recurs: Yearly, TermEnd: true},
	}
}

// FieldError says which field of which obligation is wrong and why. Field
// is the configuration/API name of the field (code, name, aliases, recurs,
// yellow_days, theme_day, grace_days, applies_to, needs).
type FieldError struct {
	Code   string // the obligation's code as given (may be empty or invalid)
	Field  string
	Reason string // Chinese
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("规定动作 %q 的字段 %s 无效：%s", e.Code, e.Field, e.Reason)
}

// maxYellowDays keeps the ordinary yellow window inside the shortest period
// of the recurrence (28, 89 or 365 days).
func maxYellowDays(r Recurrence) int {
	switch r {
	case Monthly:
		return 28
	case Quarterly:
		return 89
	}
	return 365
}

// Validate checks one obligation and returns a *FieldError naming the first
// bad field.
func (ob Obligation) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Code: ob.Code, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if ob.Code == "" {
		return bad("code", "不能为空")
	}
	if len(ob.Code) > maxCodeLen {
		return bad("code", "长度不能超过 %d", maxCodeLen)
	}
	for i := 0; i < len(ob.Code); i++ {
		if c := ob.Code[i]; (c < 'a' || c > 'z') && c != '_' {
			return bad("code", "只能由小写字母 a-z 和下划线组成")
		}
	}
	if err := checkName(ob.Name); err != "" {
		return bad("name", "%s", err)
	}
	seen := map[string]bool{ob.Name: true}
	for _, a := range ob.Aliases {
		if err := checkName(a); err != "" {
			return bad("aliases", "别名 %q %s", a, err)
		}
		if seen[a] {
			return bad("aliases", "别名 %q 重复", a)
		}
		seen[a] = true
	}
	if !ob.Recurs.Valid() {
		return bad("recurs", "%q 不是 monthly、quarterly 或 yearly", string(ob.Recurs))
	}
	if ob.ThemeDay && ob.Recurs != Monthly {
		return bad("theme_day", "主题党日类规定动作必须按月（monthly）")
	}
	if ob.YellowDays < 0 {
		return bad("yellow_days", "不能为负数（%d）", ob.YellowDays)
	}
	limit := maxYellowDays(ob.Recurs)
	if ob.ThemeDay {
		limit = 28
	}
	if ob.YellowDays > limit {
		return bad("yellow_days", "%d 超过上限 %d 天", ob.YellowDays, limit)
	}
	if ob.GraceDays < 0 {
		return bad("grace_days", "不能为负数（%d）", ob.GraceDays)
	}
	if ob.GraceDays > 0 && !ob.ThemeDay {
		return bad("grace_days", "仅适用于主题党日类（theme_day）规定动作")
	}
	if ob.GraceDays > maxGraceDay {
		return bad("grace_days", "%d 超过上限 %d 天", ob.GraceDays, maxGraceDay)
	}
	for _, t := range ob.AppliesTo {
		if !slices.Contains(branchTypes, t) {
			return bad("applies_to", "%q 不是支部类型（%s）", t, strings.Join(branchTypes, "、"))
		}
	}
	switch ob.Needs {
	case "", NeedsCommittee, NeedsGroups:
	default:
		return bad("needs", "%q 应为 committee（需有支部委员会）或 groups（需有党小组）", ob.Needs)
	}
	if ob.TermEnd && (ob.ThemeDay || ob.PerGroup || ob.Recurs != Yearly || !ob.DueAfter.IsZero()) {
		return bad("term_end", "换届提醒按任期届满日计算，不能按小组、固定日、非按年或延后截止（due_after）设置")
	}
	return nil
}

// checkName returns why a name or alias is unusable, or "".
func checkName(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "不能为空"
	case s != strings.TrimSpace(s):
		return "首尾不能有空白"
	case len([]rune(s)) > maxNameLen:
		return fmt.Sprintf("长度不能超过 %d 个字", maxNameLen)
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "不能包含空白（打卡命令以空格分隔）"
	case strings.ContainsAny(s, "+＋、"):
		return "不能包含“+”“＋”“、”（打卡命令用它们连接多项）"
	}
	return ""
}

// ValidateObligations checks each obligation and that codes, names and
// aliases are unique across the set, so that a check-in word names exactly
// one obligation.
func ValidateObligations(obs []Obligation) error {
	codes := map[string]bool{}
	words := map[string]string{} // lower-cased word → code
	for _, ob := range obs {
		if err := ob.Validate(); err != nil {
			return err
		}
		if codes[ob.Code] {
			return &FieldError{Code: ob.Code, Field: "code", Reason: "与其他规定动作重复"}
		}
		codes[ob.Code] = true
		for i, w := range append([]string{ob.Code, ob.Name}, ob.Aliases...) {
			k := strings.ToLower(w)
			if other, ok := words[k]; ok && other != ob.Code {
				field := "aliases"
				switch i {
				case 0:
					field = "code"
				case 1:
					field = "name"
				}
				return &FieldError{Code: ob.Code, Field: field, Reason: fmt.Sprintf("%q 与规定动作 %q 冲突", w, other)}
			}
			words[k] = ob.Code
		}
	}
	return nil
}

// Word is what people call the obligation when they write a check-in (支委会,
// 党员大会, 党课): its name, or for a name longer than four characters its
// first shorter alias.
func (ob Obligation) Word() string {
	if len([]rune(ob.Name)) <= 4 {
		return ob.Name
	}
	for _, a := range ob.Aliases {
		if len([]rune(a)) < len([]rune(ob.Name)) {
			return a
		}
	}
	return ob.Name
}

// CheckinPeriod is the period of ob that a check-in for an activity held on
// date counts for by default. (SPEC §3 also lets a late check-in be filed
// for an earlier, missed period as long as its date is not before that
// period; deciding that is the check-in use case's job, not this package's.)
func CheckinPeriod(ob Obligation, date time.Time, loc *time.Location) Period {
	return PeriodAt(ob.Recurs, date, loc)
}

// Deadline gives the yellow window's opening and the due instant of ob for
// period p, for a branch whose fixed themed-party day is themeDay (0 = not
// set), under calendar cal (nil = every day a working day). The obligation
// is done in time when done before due; the yellow window is
// [yellowFrom, due).
//
// Ordinarily due = p.End(loc) and yellowFrom = due − YellowDays calendar
// days. For a ThemeDay obligation of a monthly period with themeDay in 1..31
// (clamped to the month's last day), yellowFrom = the fixed day's midnight −
// YellowDays days and due = the fixed day's midnight + 1 + GraceDays days,
// which may lie in the next month. themeDay may also be a weekday rule's
// theme code (ThemeCode), which names the fixed day of each month; any other
// value counts as not set. A due time whose last day is a day off moves to
// the end of the next working day (SPEC §7.2); the yellow window opens as
// before.
func Deadline(ob Obligation, p Period, themeDay int, loc *time.Location, cal *Calendar) (yellowFrom, due time.Time) {
	loc = locOr(loc)
	if ob.ThemeDay && p.Rec == Monthly && validTheme(themeDay) {
		day := fixedDay(themeDay, p.Year, time.Month(p.N), loc)
		fixed := time.Date(p.Year, time.Month(p.N), day, 0, 0, 0, 0, loc)
		return fixed.AddDate(0, 0, -ob.YellowDays), cal.MoveDue(fixed.AddDate(0, 0, 1+ob.GraceDays), loc)
	}
	due = p.End(loc).AddDate(0, ob.DueAfter.Months, ob.DueAfter.Days)
	return due.AddDate(0, 0, -ob.YellowDays), cal.MoveDue(due, loc)
}

// CheckinCandidates are the periods of ob whose window — from the period's
// start to its due time — contains the civil date of an activity, oldest
// first; the last is the period that contains the date. A check-in counts
// for the oldest of them not yet done (SPEC §7.1): a 组织生活会 held in
// January counts for last year while last year is open, a 主题党日 made up in
// its grace days for the month it belongs to.
func CheckinCandidates(ob Obligation, date time.Time, themeDay int, loc *time.Location, cal *Calendar) []Period {
	cur := PeriodAt(ob.Recurs, date, loc)
	out := []Period{cur}
	for p := cur.Prev(); len(out) < 24; p = p.Prev() {
		if _, due := Deadline(ob, p, themeDay, loc, cal); !date.Before(due) {
			break
		}
		out = append(out, p)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// daysIn is the number of days of month m of year y.
func daysIn(y int, m time.Month, loc *time.Location) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, loc).Day()
}
