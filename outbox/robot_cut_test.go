package outbox

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain/notice"
)

func TestCutText(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		limit   int
		measure func(string) int
		want    []string
	}{
		{"fits", "a\nb", 10, byteLen, []string{"a\nb"}},
		{"at lines", "aaaa\nbbbb\ncccc", 9, byteLen, []string{"aaaa\nbbbb", "cccc"}},
		{"long line at a space", "aaaa bbbb cccc", 9, byteLen, []string{"aaaa bbbb", "cccc"}},
		{"long word between characters", "abcdefghij", 4, byteLen, []string{"abcd", "efgh", "ij"}},
		{"never inside a character", "一二三四五", 7, byteLen, []string{"一二", "三四", "五"}},
		{"blank lines dropped at cuts", "aaaa\n\n\nbbbb", 5, byteLen, []string{"aaaa", "bbbb"}},
		{"json counts escapes", "a\"b\nc", 6, jsonLen, []string{"a\"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutText(tt.in, tt.limit, tt.measure)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("cutText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			for _, p := range got {
				if tt.measure(p) > tt.limit || !utf8.ValidString(p) {
					t.Errorf("part %q: size %d over %d or invalid UTF-8", p, tt.measure(p), tt.limit)
				}
			}
		})
	}
}

func TestJSONLen(t *testing.T) {
	for in, want := range map[string]int{"": 2, "ab": 4, "中": 5, "a\nb": 6, `"`: 4, "<b>": 5} {
		if got := jsonLen(in); got != want {
			t.Errorf("jsonLen(%q) = %d, want %d", in, got, want)
		}
	}
}

// legacyNotice reads back what notice.HTML wrote, so an old row renders as
// its notice would; other tags are dropped, their text kept.
func TestLegacyNotice(t *testing.T) {
	for _, m := range []notice.Message{
		{Lines: []notice.Line{{notice.P("🔴 "), notice.B("【红灯督办】以下规定动作已逾期未完成：")}, {notice.P("• 第1村&<党支部>\"' · 已逾期 3 天")}}},
		{Lines: []notice.Line{{notice.I("（此消息应发给 张书记）")}, {notice.P("打卡："), notice.C("打卡 支委会 11月20日 7/9 主题"), notice.P("（活动）")}}},
		{Lines: []notice.Line{{notice.P("详见 "), notice.L("台账", "https://e.org/?a=1&b=2")}}},
	} {
		html := notice.HTML(m)
		if got := notice.HTML(legacyNotice(html)); got != html {
			t.Errorf("read back\n got %q\nwant %q", got, html)
		}
	}
	got := legacyNotice("<u>下划线</u><s>删</s><br>第二行<tg-spoiler>秘</tg-spoiler>")
	if r := notice.Robot(got, notice.WeComMarkdown); r != "下划线删\n第二行秘" {
		t.Errorf("other tags: %q", r)
	}
}

func TestRobotTitle(t *testing.T) {
	tests := []struct {
		in   notice.Message
		want string
	}{
		{notice.Message{Lines: []notice.Line{nil, {notice.B("【红灯督办】"), notice.P("幸福村第一党支部")}, {notice.P("详情")}}}, "【红灯督办】幸福村第一党支部"},
		{notice.Message{Title: "红灯督办", Lines: []notice.Line{{notice.P("x")}}}, "红灯督办"},
		{notice.Message{}, "通知"},
		{notice.Message{Lines: []notice.Line{{notice.P(strings.Repeat("长", 40))}}}, strings.Repeat("长", 29) + "…"},
	}
	for _, tt := range tests {
		if got := robotTitle(tt.in); got != tt.want {
			t.Errorf("robotTitle(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
