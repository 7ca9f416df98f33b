package outbox

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestConvertHTML(t *testing.T) {
	tests := []struct {
		name, in                string
		wecom, dingtalk, feishu string
	}{
		{
			name:  "plain text passes",
			in:    "支部委员会 已完成",
			wecom: "支部委员会 已完成", dingtalk: "支部委员会 已完成", feishu: "支部委员会 已完成",
		},
		{
			name:     "bold, italic, code",
			in:       "<b>红灯督办</b> <i>请尽快</i> <code>QA-RZ</code>",
			wecom:    "**红灯督办** 请尽快 `QA-RZ`",
			dingtalk: "**红灯督办** *请尽快* QA-RZ",
			feishu:   "红灯督办 请尽快 QA-RZ",
		},
		{
			name:  "strong and em are bold and italic",
			in:    "<strong>a</strong><em>b</em>",
			wecom: "**a**b", dingtalk: "**a***b*", feishu: "ab",
		},
		{
			name:     "entities decoded, markdown specials escaped",
			in:       "1 &lt; 2 &amp;&amp; a*b [x] `c` committee_meeting",
			wecom:    "1 < 2 && a\\*b \\[x\\] \\`c\\` committee_meeting",
			dingtalk: "1 < 2 && a\\*b \\[x\\] \\`c\\` committee\\_meeting",
			feishu:   "1 < 2 && a*b [x] `c` committee_meeting",
		},
		{
			name:     "heading and quote markers at a line start",
			in:       "# 标题\n&gt; 引用\na # b &gt; c",
			wecom:    "\\# 标题\n\\> 引用\na # b > c",
			dingtalk: "\\# 标题  \n\\> 引用  \na # b > c",
			feishu:   "# 标题\n> 引用\na # b > c",
		},
		{
			name:     "links",
			in:       `详见 <a href="https://example.org/a?x=1&amp;y=(2)">台账</a>`,
			wecom:    "详见 [台账](https://example.org/a?x=1&y=%282%29)",
			dingtalk: "详见 [台账](https://example.org/a?x=1&y=%282%29)",
			feishu:   "详见 台账 (https://example.org/a?x=1&y=(2))",
		},
		{
			name:     "link whose text is its URL",
			in:       `<a href="https://t.me/x">https://t.me/x</a>`,
			wecom:    "[https://t.me/x](https://t.me/x)",
			dingtalk: "[https://t.me/x](https://t.me/x)",
			feishu:   "https://t.me/x",
		},
		{
			name:     "bold inside a link",
			in:       `<a href='u://x'><b>看</b></a>`,
			wecom:    "[**看**](u://x)",
			dingtalk: "[**看**](u://x)",
			feishu:   "看 (u://x)",
		},
		{
			name:     "blockquote lines are quoted",
			in:       "原因：<blockquote expandable>第一行\n<b>第二行</b></blockquote>\n后文",
			wecom:    "原因：\n> 第一行\n> **第二行**\n后文",
			dingtalk: "原因：  \n> 第一行  \n> **第二行**  \n后文",
			feishu:   "原因：\n第一行\n第二行\n后文",
		},
		{
			name:     "unknown and spoiler tags dropped, text kept",
			in:       `<u>下划线</u><s>删</s><tg-spoiler>秘</tg-spoiler><span class="tg-spoiler">密</span><pre><code class="language-go">x := 1</code></pre>`,
			wecom:    "下划线删秘密`x := 1`",
			dingtalk: "下划线删秘密x := 1",
			feishu:   "下划线删秘密x := 1",
		},
		{
			name:     "line breaks and br",
			in:       "第一行<br>第二行\n\n第四行\n",
			wecom:    "第一行\n第二行\n\n第四行",
			dingtalk: "第一行  \n第二行  \n  \n第四行",
			feishu:   "第一行\n第二行\n\n第四行",
		},
		{
			name:  "stray angle bracket is text",
			in:    "a < b and c<d",
			wecom: "a < b and c<d", dingtalk: "a < b and c<d", feishu: "a < b and c<d",
		},
		{
			name:  "empty",
			in:    "",
			wecom: "", dingtalk: "", feishu: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				f    RobotFormat
				want string
			}{{FormatWeComMarkdown, tt.wecom}, {FormatDingTalkMarkdown, tt.dingtalk}, {FormatPlain, tt.feishu}} {
				if got := ConvertHTML(tt.in, c.f); got != c.want {
					t.Errorf("format %d:\n got %q\nwant %q", c.f, got, c.want)
				}
			}
		})
	}
}

func TestPlainTextAndTitle(t *testing.T) {
	if got := PlainText("<b>红灯</b>\n  QA-RZ  逾期"); got != "红灯 QA-RZ 逾期" {
		t.Errorf("PlainText = %q", got)
	}
	tests := []struct{ in, want string }{
		{"<b>【红灯督办】</b>幸福村第一党支部\n详情", "【红灯督办】幸福村第一党支部"},
		{"", "通知"},
		{strings.Repeat("长", 40), strings.Repeat("长", 29) + "…"},
	}
	for _, tt := range tests {
		if got := robotTitle(tt.in); got != tt.want {
			t.Errorf("robotTitle(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

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
