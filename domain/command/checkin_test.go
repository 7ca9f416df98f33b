package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testMatcher() *Matcher {
	return NewMatcher([]MatcherEntry{
		{Code: "general_meeting", Name: "支部党员大会", Aliases: []string{"党员大会", "大会"}, Word: "党员大会"},
		{Code: "committee_meeting", Name: "支部委员会", Aliases: []string{"支委会", "支委会议", "支委"}, Word: "支委会"},
		{Code: "group_meeting", Name: "党小组会", Aliases: []string{"小组会"}},
		{Code: "party_lecture", Name: "党课"},
		{Code: "theme_day", Name: "主题党日", Aliases: []string{"党日"}},
		{Code: "life_meeting", Name: "组织生活会", Aliases: []string{"生活会"}},
		{Code: "member_appraisal", Name: "民主评议党员", Aliases: []string{"民主评议"}},
	})
}

func TestMatcher(t *testing.T) {
	m := testMatcher()
	tests := []struct {
		word, want string
	}{
		{"committee_meeting", "committee_meeting"},
		{"COMMITTEE_MEETING", "committee_meeting"},
		{"ｃｏｍｍｉｔｔｅｅ_meeting", "committee_meeting"},
		{"支部委员会", "committee_meeting"},
		{"支委会", "committee_meeting"},
		{" 党课 ", "party_lecture"},
		{"党日", "theme_day"},
		{"支委", "committee_meeting"},
		{"支委员", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := m.Match(tt.word)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", tt.word, got, ok, tt.want)
		}
	}
	known := m.Known()
	if len(known) != 7 || known[1] != "支委会" || known[2] != "党小组会" {
		t.Errorf("Known() = %v", known)
	}
	known[0] = "changed"
	if m.Known()[0] == "changed" {
		t.Error("Known must return a copy")
	}
}

func TestMatcherPrecedence(t *testing.T) {
	m := NewMatcher([]MatcherEntry{
		{Code: "a", Name: "甲", Aliases: []string{"b", "乙"}},
		{Code: "b", Name: "乙"},
	})
	if got, _ := m.Match("b"); got != "b" {
		t.Errorf("a code must beat another entry's alias, got %q", got)
	}
	if got, _ := m.Match("乙"); got != "b" {
		t.Errorf("a name must beat another entry's alias, got %q", got)
	}
}

func TestParseCheckin(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	today := day(loc, 2026, 11, 20)
	tests := []struct {
		name        string
		text        string
		allowBranch bool
		want        Checkin
	}{
		{"obligation only", "支委会", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today}},
		{"code", "committee_meeting", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today}},
		{"full", "支委会 11-19 7/9 学习 二十届四中全会 精神", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 7, Total: 9, Topic: "学习 二十届四中全会 精神"}},
		{"attendance then date", "支委会 7/9 11月19日 学习", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 7, Total: 9, Topic: "学习"}},
		{"topic only", "党课 学习党章", false, Checkin{Obligations: []string{"party_lecture"}, Date: today, Topic: "学习党章"}},
		{"several", "主题党日+党课 今天", false, Checkin{Obligations: []string{"theme_day", "party_lecture"}, Date: today}},
		{"full-width plus", "主题党日＋党课＋党员大会", false, Checkin{Obligations: []string{"theme_day", "party_lecture", "general_meeting"}, Date: today}},
		{"enumeration comma", "主题党日、党课", false, Checkin{Obligations: []string{"theme_day", "party_lecture"}, Date: today}},
		{"spaced plus", "主题党日 + 党课 昨天", false, Checkin{Obligations: []string{"theme_day", "party_lecture"}, Date: day(loc, 2026, 11, 19)}},
		{"plus before space", "主题党日+ 党课", false, Checkin{Obligations: []string{"theme_day", "party_lecture"}, Date: today}},
		{"plus after space", "主题党日 +党课", false, Checkin{Obligations: []string{"theme_day", "party_lecture"}, Date: today}},
		{"trailing plus", "党课+", false, Checkin{Obligations: []string{"party_lecture"}, Date: today}},
		{"duplicates dropped", "党课+party_lecture+支委会+党课", false, Checkin{Obligations: []string{"party_lecture", "committee_meeting"}}},
		{"full-width attendance", "支委会 7／9", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today, Present: 7, Total: 9}},
		{"attendance with 人", "支委会 7人/9人 主题", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today, Present: 7, Total: 9, Topic: "主题"}},
		{"bare a/b is attendance", "支委会 11/20", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today, Present: 11, Total: 20}},
		{"bare a/b that cannot be attendance is a date", "支委会 11/5", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 5)}},
		{"a/b before an attendance is a date", "支委会 11/19 7/9", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 7, Total: 9}},
		{"a/b after a date is attendance", "支委会 11-19 9/9", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 9, Total: 9}},
		{"a/b after an attendance is a date", "支委会 7人/9人 11/19", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 7, Total: 9}},
		{"third a/b is topic", "支委会 11-19 7/9 1/2 学习", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 7, Total: 9, Topic: "1/2 学习"}},
		{"second date is topic", "支委会 今天 昨天", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today, Topic: "昨天"}},
		{"应到 实到 in one", "支委会 20号 应到9人实到7人 学习", false, Checkin{Obligations: []string{"committee_meeting"}, Date: today, Present: 7, Total: 9, Topic: "学习"}},
		{"实到，应到", "支委会 实到7人，应到9人 上周五", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 13), Present: 7, Total: 9}},
		{"应到 实到 in two", "支委会 应到9人 实到7人 11.19 学习", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19), Present: 7, Total: 9, Topic: "学习"}},
		{"实到 应到 in two after a date", "党课 前天 实到7人， 应到9人", false, Checkin{Obligations: []string{"party_lecture"}, Date: day(loc, 2026, 11, 18), Present: 7, Total: 9}},
		{"short form 支委", "支委 19号", false, Checkin{Obligations: []string{"committee_meeting"}, Date: day(loc, 2026, 11, 19)}},
		{"year and full date", "党课 2025年12月30日", false, Checkin{Obligations: []string{"party_lecture"}, Date: day(loc, 2025, 12, 30)}},
		{"future date kept for the caller", "党课 11-21", false, Checkin{Obligations: []string{"party_lecture"}, Date: day(loc, 2026, 11, 21)}},
		{"branch in private chat", "QA-RZ-XZ-B1 支委会 11-20 7/9", true, Checkin{BranchCode: "QA-RZ-XZ-B1", Obligations: []string{"committee_meeting"}, Date: today, Present: 7, Total: 9}},
		{"upper-case branch", "QA 党课", true, Checkin{BranchCode: "QA", Obligations: []string{"party_lecture"}, Date: today}},
		{"lower-case hyphen branch", "qa-b1 党课", true, Checkin{BranchCode: "qa-b1", Obligations: []string{"party_lecture"}, Date: today}},
		{"obligation code is not a branch", "COMMITTEE_MEETING 7/9", true, Checkin{Obligations: []string{"committee_meeting"}, Date: today, Present: 7, Total: 9}},
		{"no branch without allowBranch", "党课 QA-B1", false, Checkin{Obligations: []string{"party_lecture"}, Date: today, Topic: "QA-B1"}},
		{"topic spaces collapsed", "党课 a\u3000\u3000b", false, Checkin{Obligations: []string{"party_lecture"}, Date: today, Topic: "a b"}},
		{"topic control chars dropped", "党课 a\x00b\x1b", false, Checkin{Obligations: []string{"party_lecture"}, Date: today, Topic: "ab"}},
		{"topic invalid utf-8 dropped", "党课 a\xffb", false, Checkin{Obligations: []string{"party_lecture"}, Date: today, Topic: "ab"}},
		{"topic of 200 runes", "党课 " + strings.Repeat("学", 200), false, Checkin{Obligations: []string{"party_lecture"}, Date: today, Topic: strings.Repeat("学", 200)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, ok := Parse("/checkin "+tt.text, "bot", nil)
			if !ok {
				t.Fatal("not a command")
			}
			got, err := ParseCheckin(cmd.Args, now, loc, testMatcher(), tt.allowBranch)
			if err != nil {
				t.Fatalf("ParseCheckin(%q): %v", tt.text, err)
			}
			if tt.want.Date.IsZero() {
				tt.want.Date = today
			}
			if !got.Date.Equal(tt.want.Date) || got.Date.Location() != loc {
				t.Errorf("date = %v, want %v", got.Date, tt.want.Date)
			}
			got.Date, tt.want.Date = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCheckin(%q) =\n %#v\nwant\n %#v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseCheckinErrors(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	m := testMatcher()
	known := m.Known()
	missing := Text{Key: "command.no_activity", Offer: known}
	unknown := func(word string) Text {
		return Text{Key: "command.unknown_activity", Args: []string{"word", word}, Offer: known}
	}
	tests := []struct {
		name        string
		args        []string
		allowBranch bool
		want        Text
	}{
		{"nothing", nil, false, missing},
		{"blank args", []string{"", " "}, false, missing},
		{"only a date", []string{"11-20", "7/9"}, false, missing},
		{"only attendance", []string{"7/9"}, false, missing},
		{"only a plus", []string{"+"}, false, missing},
		{"only a branch", []string{"QA-B1"}, true, missing},
		{"branch then date", []string{"QA-B1", "今天"}, true, missing},
		{"unknown", []string{"开会"}, false, unknown("开会")},
		{"second unknown", []string{"党课+团课"}, false, unknown("团课")},
		{"branch-like without allowBranch", []string{"QA-B1", "党课"}, false, unknown("QA-B1")},
		{"long unknown is cut", []string{strings.Repeat("长", 30)}, false, unknown(strings.Repeat("长", 20) + "…")},
		{"bad date", []string{"党课", "13-40"}, false, text("command.date_unread", "date", "13-40")},
		{"year-month only", []string{"党课", "2026-11"}, false, text("command.date_unread", "date", "2026-11")},
		{"day 0", []string{"党课", "0日"}, false, text("command.date_unread", "date", "0日")},
		{"half an attendance", []string{"党课", "实到7人", "学习"}, false, text("command.half_attendance", "written", "实到7人")},
		{"half an attendance at the end", []string{"党课", "今天", "应到9人"}, false, text("command.half_attendance", "written", "应到9人")},
		{"the same half twice", []string{"党课", "应到9人", "应到7人"}, false, text("command.attendance_twice", "written", "应到9人应到7人", "half", "应到")},
		{"应到 below 实到", []string{"党课", "应到7人实到9人"}, false, text("command.attendance_above", "present", "9", "total", "7")},
		{"not a calendar date", []string{"党课", "2月30日"}, false, text("command.date_no_such_day", "date", "2月30日")},
		{"not a leap year", []string{"党课", "2026-02-29"}, false, text("command.date_no_such_day", "date", "2026-02-29")},
		{"present above total", []string{"党课", "11-20", "9/7"}, false, text("command.attendance_above", "present", "9", "total", "7")},
		{"present above total, full-width", []string{"党课", "9／7"}, false, text("command.attendance_above", "present", "9", "total", "7")},
		{"zero total", []string{"党课", "0/0"}, false, text("command.attendance_no_total")},
		{"huge", []string{"党课", "7/99999999999999999999"}, false, text("command.attendance_absurd", "written", "7/999999999999999999…")},
		{"topic too long", []string{"党课", strings.Repeat("学", 201)}, false, text("command.topic_too_long", "runes", "201", "max", "200")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCheckin(tt.args, now, loc, m, tt.allowBranch)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseCheckin(%q) = %+v, %v; want a *ParseError", tt.args, got, err)
			}
			if !reflect.DeepEqual(pe.Text, tt.want) {
				t.Errorf("error = %#v, want %#v", pe.Text, tt.want)
			}
		})
	}
}

func TestParseCheckinAroundMidnight(t *testing.T) {
	loc := shanghai(t)
	m := testMatcher()
	tests := []struct {
		name string
		now  time.Time
		args []string
		want time.Time
	}{
		{"23:30 Shanghai, default", time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC), []string{"党课"}, day(loc, 2026, 11, 20)},
		{"23:30 Shanghai, 今天", time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC), []string{"党课", "今天"}, day(loc, 2026, 11, 20)},
		{"00:10 Shanghai, default", time.Date(2026, 11, 20, 16, 10, 0, 0, time.UTC), []string{"党课"}, day(loc, 2026, 11, 21)},
		{"00:10 Shanghai, 昨天", time.Date(2026, 11, 20, 16, 10, 0, 0, time.UTC), []string{"党课", "昨天"}, day(loc, 2026, 11, 20)},
		{"00:10 Shanghai, 前天", time.Date(2026, 11, 20, 16, 10, 0, 0, time.UTC), []string{"党课", "前天"}, day(loc, 2026, 11, 19)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCheckin(tt.args, tt.now, loc, m, false)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Date.Equal(tt.want) {
				t.Errorf("date = %v, want %v", c.Date, tt.want)
			}
		})
	}
}

func TestParseAttendance(t *testing.T) {
	tests := []struct {
		in             string
		present, total int
		ok, err        bool
	}{
		{"7/9", 7, 9, true, false},
		{"9/9", 9, 9, true, false},
		{"0/9", 0, 9, true, false},
		{"7／9", 7, 9, true, false},
		{"７/９", 7, 9, true, false},
		{"7人/9人", 7, 9, true, false},
		{"7/9人", 7, 9, true, false},
		{"120/150", 120, 150, true, false},
		{"9/7", 0, 0, true, true},
		{"0/0", 0, 0, true, true},
		{"1/100000", 0, 0, true, true},
		{"7/", 0, 0, false, false},
		{"/9", 0, 0, false, false},
		{"7-9", 0, 0, false, false},
		{"七/九", 0, 0, false, false},
		{"2026/11/20", 0, 0, false, false},
		{"应到9人实到7人", 7, 9, true, false},
		{"实到7人，应到9人", 7, 9, true, false},
		{"实到7人,应到9人", 7, 9, true, false},
		{"应到9实到7", 7, 9, true, false},
		{"应到９人、实到７人", 7, 9, true, false},
		{"应到9人实到7人。", 7, 9, true, false},
		{"应到7人实到9人", 0, 0, true, true},
		{"应到9人应到7人", 0, 0, true, true},
		{"应到0人实到0人", 0, 0, true, true},
		{"应到9人", 0, 0, false, false},
		{"实到人", 0, 0, false, false},
	}
	for _, tt := range tests {
		p, to, ok, err := ParseAttendance(tt.in)
		if p != tt.present || to != tt.total || ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("ParseAttendance(%q) = %d, %d, %v, %v; want %d, %d, %v, err %v", tt.in, p, to, ok, err, tt.present, tt.total, tt.ok, tt.err)
		}
		var pe *ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("ParseAttendance(%q) error %T, want *ParseError", tt.in, err)
		}
	}
}
