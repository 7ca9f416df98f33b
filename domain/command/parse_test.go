package command

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	const bot = "ZhibuBot"
	tests := []struct {
		name string
		text string
		ok   bool
		want Cmd
	}{
		{"bare", "/checkin", true, Cmd{Name: "checkin"}},
		{"args", "/checkin 支委会 11-20 7/9 学习", true, Cmd{Name: "checkin", Args: []string{"支委会", "11-20", "7/9", "学习"}, Rest: "支委会 11-20 7/9 学习"}},
		{"upper name", "/CheckIn x", true, Cmd{Name: "checkin", Args: []string{"x"}, Rest: "x"}},
		{"addressed to us", "/checkin@ZhibuBot 党课", true, Cmd{Name: "checkin", Args: []string{"党课"}, Rest: "党课"}},
		{"addressed to us any case", "/status@zhibubot", true, Cmd{Name: "status"}},
		{"addressed to another bot", "/checkin@OtherBot 党课", false, Cmd{}},
		{"addressed to a prefix of us", "/checkin@Zhibu 党课", false, Cmd{}},
		{"empty username", "/checkin@ 党课", false, Cmd{}},
		{"leading spaces", "  \u3000/points", true, Cmd{Name: "points"}},
		{"full-width spaces", "/checkin\u3000支委会\u3000\u300011-20", true, Cmd{Name: "checkin", Args: []string{"支委会", "11-20"}, Rest: "支委会\u3000\u300011-20"}},
		{"tabs and newlines", "/claim\tA01\n今晚巡逻 ", true, Cmd{Name: "claim", Args: []string{"A01", "今晚巡逻"}, Rest: "A01\n今晚巡逻"}},
		{"zero-width space", "/claim\u200bA01", true, Cmd{Name: "claim", Args: []string{"A01"}, Rest: "A01"}},
		{"CJK right after name", "/checkin支委会", true, Cmd{Name: "checkin", Args: []string{"支委会"}, Rest: "支委会"}},
		{"underscore and digits", "/start_2 abc", true, Cmd{Name: "start_2", Args: []string{"abc"}, Rest: "abc"}},
		{"path", "/usr/bin", false, Cmd{}},
		{"dot", "/a.b", false, Cmd{}},
		{"slash alone", "/", false, Cmd{}},
		{"slash space", "/ checkin", false, Cmd{}},
		{"name too long", "/" + "a123456789012345678901234567890123", false, Cmd{}},
		{"name of 32", "/" + "a1234567890123456789012345678901", true, Cmd{Name: "a1234567890123456789012345678901"}},
		{"plain text", "今天开会了", false, Cmd{}},
		{"empty", "", false, Cmd{}},
		{"slash later", "hello /checkin", false, Cmd{}},
		{"打卡 with space", "打卡 支委会 11-20", true, Cmd{Name: "checkin", Args: []string{"支委会", "11-20"}, Rest: "支委会 11-20", Plain: true}},
		{"签到 alone", "签到", true, Cmd{Name: "checkin", Plain: true}},
		{"打卡 glued", "打卡党课", true, Cmd{Name: "checkin", Args: []string{"党课"}, Rest: "党课", Plain: true}},
		{"签到 colon", "签到：主题党日 今天", true, Cmd{Name: "checkin", Args: []string{"主题党日", "今天"}, Rest: "主题党日 今天", Plain: true}},
		{"打卡 space colon", "打卡 : 党课", true, Cmd{Name: "checkin", Args: []string{"党课"}, Rest: "党课", Plain: true}},
		{"打卡 not at start", "我来打卡", false, Cmd{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.text, bot)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, %v; want %#v, %v", tt.text, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseUsernameForms(t *testing.T) {
	if _, ok := Parse("/checkin@zhibubot", "@ZhibuBot"); !ok {
		t.Error("a bot username given with @ should still match")
	}
	if _, ok := Parse("/checkin@zhibubot", ""); ok {
		t.Error("with no bot username, an addressed command must not be taken as ours")
	}
	if _, ok := Parse("/checkin", ""); !ok {
		t.Error("with no bot username, an unaddressed command is ours")
	}
}
