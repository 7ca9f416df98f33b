package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/internal/testdb"
)

// ciLoc is the county's zone, Asia/Shanghai.
var ciLoc = testdb.Loc

func sayMatcher() *command.Matcher {
	return command.NewMatcher([]command.MatcherEntry{
		{Code: "general_meeting", Name: "支部党员大会", Aliases: []string{"党员大会"}, Word: "党员大会"},
		{Code: "committee_meeting", Name: "支部委员会", Aliases: []string{"支委会", "支委"}, Word: "支委会"},
		{Code: "party_lecture", Name: "党课"},
	})
}

// What domain/command tells, in the words of the catalogue: every command.*
// key, as the users read it.
func TestSayCommandErrors(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, ciLoc)
	const offer = "可写：党员大会、支委会、党课。例：打卡 党员大会 11月20日 7/9 学习全会精神"
	tests := []struct {
		args []string
		want string
	}{
		{nil, "请写明开的是什么会。" + offer},
		{[]string{"开会"}, "没认出“开会”。" + offer},
		{[]string{"党课", "13-40"}, "日期“13-40”无法识别，请写成 2026-11-20、11-20、11月20日、今天 或 昨天。"},
		{[]string{"党课", "2月30日"}, "日期“2月30日”不存在，请检查月份和日期。"},
		{[]string{"党课", "实到7人", "学习"}, "出席人数只写了“实到7人”，请把应到和实到都写上，例如 应到9人实到7人。"},
		{[]string{"党课", "应到9人", "应到7人"}, "出席人数“应到9人应到7人”写了两次应到，请写成 应到9人实到7人 或 7/9。"},
		{[]string{"党课", "7/99999999999999999999"}, "出席人数“7/999999999999999999…”不合理，请写成 实到/应到，例如 7/9。"},
		{[]string{"党课", "0/0"}, "应到人数至少为 1，请写成 实到/应到，例如 7/9。"},
		{[]string{"党课", "11-20", "9/7"}, "实到人数 9 多于应到人数 7，请写成 实到/应到，例如 7/9。"},
		{[]string{"党课", strings.Repeat("学", 201)}, "主题过长（201 字），请不超过 200 字。"},
	}
	for _, tt := range tests {
		_, err := command.ParseCheckin(tt.args, now, ciLoc, sayMatcher(), false)
		var pe *command.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if got := app.Say(pe.Text); got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}
	if got := app.Say(command.NoObligation(nil)); got != "请写明开的是什么会。" {
		t.Errorf("no activity configured: %q", got)
	}
}

func TestSayFreeTextQuestions(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, ciLoc) // Thursday
	tests := []struct {
		text, want string
	}{
		{"今天补开了13月份的支委会，应到5人实到5人", "补开的月份“13月”不存在，请核对。"},
		{"今天补开了支委会，应到5人实到5人", "补开的是哪个月或哪个季度的？例如 补开10月、补开第三季度。"},
		{"昨天开了支委会，支委会应到5人实到5人，党员大会应到30人实到28人", "写了几组出席人数（应到5人、应到30人），这次打卡按哪一组？"},
		{"昨天开了支委会，分别是5/5和8/9", "写了几组出席人数，这次打卡按哪一组？"},
		{"昨天开了支委会，应到9人", "出席人数只写了应到9人，实到多少人？"},
		{"昨天开了支委会，实到7人", "出席人数只写了实到7人，应到多少人？"},
		{"支委会 11/20", "“11/20”是出席人数（实到11人，应到20人）还是日期（11月20日）？"},
		{"昨天开了支委会，应到0人实到0人", "出席人数不合理（实到0人，应到0人），请核对。"},
		{"昨天开了支委会，应到5人实到7人", "实到7人多于应到5人，请核对。"},
		{"昨天开了支委会，应到一百零二人", "出席人数没有看明白，请写成 应到9人实到7人。"},
		{"2月30日开了支委会，应到5人实到5人", "日期“2月30日”不存在，请核对月份和日期。"},
		{"11月20日和11月21日开了支委会，应到5人实到5人", "写了2个日期（11月20日、11月21日），活动是哪一天？"},
		{"11月27日开了支委会，应到5人实到5人", "日期11月27日还没到，请核对。"},
		{"12月3日开了支委会，应到7人实到6人", "“12月3日”是哪一年的？今年的还没到，去年的已过去很久，请写明年份。"},
		{"周五开了支委会，7/9", "“周五”是哪一天？请写明日期，例如 11月20日、上周五 或 本周五。"},
		{"上月底开了支委会，应到5人实到5人", "活动是哪一天开的？请写明日期，例如 11月20日 或 昨天。"},
		{"昨天召开了党员大会，30/32，支委都参加了", "这次开的是哪项活动：党员大会、支委会？如果是一起开的，请写成“党员大会和支委会”。"},
	}
	for _, tt := range tests {
		r, ok := command.ReadCheckin(tt.text, now, ciLoc, sayMatcher())
		if !ok || r.Sure() {
			t.Fatalf("%q: %v %+v, want a question", tt.text, ok, r)
		}
		if got := app.Say(r.Unsure[0].Question); got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
	// A bare a/b after the attendance is asked as a date (no message reaches it today).
	q := command.Text{Key: "command.ask.date_bare", Args: []string{"written", "5/5", "month", "5", "day", "5"}}
	if got, want := app.Say(q), "“5/5”是日期（5月5日）吗？请写明，例如 11月20日。"; got != want {
		t.Errorf("date_bare: %q, want %q", got, want)
	}
}
