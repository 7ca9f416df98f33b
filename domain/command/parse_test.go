package command

import (
	"reflect"
	"testing"
)

// testWords is a command table's words, as the bot builds them.
var testWords = Words{
	"打卡": "checkin", "签到": "checkin", "纪实": "checkin", "申报": "claim",
	"积分": "points", "我的积分": "points", "排名": "rank", "积分项目": "items",
	"兑换": "redeem", "状态": "status", "体检": "status", "收到": "ack", "撤回": "undo", "帮助": "help",
}

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
		{"打卡 with space", "打卡 支委会 11-20", true, Cmd{Name: "checkin", Args: []string{"支委会", "11-20"}, Rest: "支委会 11-20", Plain: true, Word: "打卡"}},
		{"签到 alone", "签到", true, Cmd{Name: "checkin", Plain: true, Word: "签到"}},
		{"纪实", "纪实 党课 今天", true, Cmd{Name: "checkin", Args: []string{"党课", "今天"}, Rest: "党课 今天", Plain: true, Word: "纪实"}},
		{"打卡 glued is chatter", "打卡党课", false, Cmd{}},
		{"打卡机坏了", "打卡机坏了", false, Cmd{}},
		{"签到 colon", "签到：主题党日 今天", true, Cmd{Name: "checkin", Args: []string{"主题党日", "今天"}, Rest: "主题党日 今天", Plain: true, Word: "签到"}},
		{"打卡 space colon", "打卡 : 党课", true, Cmd{Name: "checkin", Args: []string{"党课"}, Rest: "党课", Plain: true, Word: "打卡"}},
		{"打卡 comma", "打卡，党课", true, Cmd{Name: "checkin", Args: []string{"党课"}, Rest: "党课", Plain: true, Word: "打卡"}},
		{"打卡 not at start", "我来打卡", false, Cmd{}},
		{"leading spaces before a word", " \u3000排名", true, Cmd{Name: "rank", Plain: true, Word: "排名"}},
		{"排名 alone", "排名", true, Cmd{Name: "rank", Plain: true, Word: "排名"}},
		{"排名 question", "排名？", true, Cmd{Name: "rank", Plain: true, Word: "排名"}},
		{"排名 in a sentence", "排名不重要", false, Cmd{}},
		{"积分 alone", "积分", true, Cmd{Name: "points", Plain: true, Word: "积分"}},
		{"积分很重要", "积分很重要", false, Cmd{}},
		{"我的积分", "我的积分", true, Cmd{Name: "points", Plain: true, Word: "我的积分"}},
		{"积分项目 before 积分", "积分项目", true, Cmd{Name: "items", Plain: true, Word: "积分项目"}},
		{"积分项目 glued is chatter", "积分项目很多", false, Cmd{}},
		{"申报 with args", "申报 A01 今晚巡逻", true, Cmd{Name: "claim", Args: []string{"A01", "今晚巡逻"}, Rest: "A01 今晚巡逻", Plain: true, Word: "申报"}},
		{"申报 colon", "申报:A01", true, Cmd{Name: "claim", Args: []string{"A01"}, Rest: "A01", Plain: true, Word: "申报"}},
		{"兑换", "兑换 H001 2", true, Cmd{Name: "redeem", Args: []string{"H001", "2"}, Rest: "H001 2", Plain: true, Word: "兑换"}},
		{"状态 and 体检", "体检", true, Cmd{Name: "status", Plain: true, Word: "体检"}},
		{"收到 with punctuation", "收到！", true, Cmd{Name: "ack", Plain: true, Word: "收到"}},
		{"收到 later", "已收到", false, Cmd{}},
		{"撤回", "撤回", true, Cmd{Name: "undo", Plain: true, Word: "撤回"}},
		{"帮助 newline", "帮助\n谢谢", true, Cmd{Name: "help", Args: []string{"谢谢"}, Rest: "谢谢", Plain: true, Word: "帮助"}},
		{"a word mid-message", "大家记得打卡", false, Cmd{}},
		{"slash beats words", "/points 积分", true, Cmd{Name: "points", Args: []string{"积分"}, Rest: "积分"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.text, bot, testWords)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, %v; want %#v, %v", tt.text, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseUsernameForms(t *testing.T) {
	if _, ok := Parse("/checkin@zhibubot", "@ZhibuBot", nil); !ok {
		t.Error("a bot username given with @ should still match")
	}
	if _, ok := Parse("/checkin@zhibubot", "", nil); ok {
		t.Error("with no bot username, an addressed command must not be taken as ours")
	}
	if _, ok := Parse("/checkin", "", nil); !ok {
		t.Error("with no bot username, an unaddressed command is ours")
	}
}

func TestParseWithoutWords(t *testing.T) {
	if _, ok := Parse("打卡 支委会", "zhibu_bot", nil); ok {
		t.Error("with no words, plain text is not a command")
	}
}
