package notice

import (
	"encoding/json"
	"html"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestHTML(t *testing.T) {
	tests := []struct {
		name string
		in   Line
		want string
	}{
		{"plain text escaped", Line{P(`1 < 2 & "x"`)}, "1 &lt; 2 &amp; &#34;x&#34;"},
		{"styles", Line{B("红灯"), P(" "), I("请"), P(" "), C("打卡 x"), P(" "), L("台账", "https://e.org/?a=1&b=2")},
			`<b>红灯</b> <i>请</i> <code>打卡 x</code> <a href="https://e.org/?a=1&amp;b=2">台账</a>`},
		{"adjacent spans of a style are one tag, empty spans vanish", Line{B("a"), P(""), B("b<"), B(""), P("c"), C("")},
			"<b>ab&lt;</b>c"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		if got := LineHTML(tt.in); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	m := Message{Lines: []Line{{B("头")}, {P("• 一")}}}
	if got := HTML(m); got != "<b>头</b>\n• 一" {
		t.Errorf("HTML = %q", got)
	}
}

func TestKeyboard(t *testing.T) {
	if Keyboard(nil) != nil {
		t.Error("a keyboard without buttons")
	}
	b, err := json.Marshal(Keyboard([][]Button{{{Text: "收到", Data: "ack:1"}}, {{Text: "看", URL: "https://e.org"}}}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"inline_keyboard":[[{"text":"收到","callback_data":"ack:1"}],[{"text":"看","url":"https://e.org"}]]}`; string(b) != want {
		t.Errorf("keyboard %s, want %s", b, want)
	}
}

func TestRobot(t *testing.T) {
	tests := []struct {
		name                    string
		in                      Message
		wecom, dingtalk, feishu string
	}{
		{
			name:  "plain text passes",
			in:    Message{Lines: []Line{{P("支部委员会 已完成")}}},
			wecom: "支部委员会 已完成", dingtalk: "支部委员会 已完成", feishu: "支部委员会 已完成",
		},
		{
			name:     "bold, italic, code",
			in:       Message{Lines: []Line{{B("红灯督办"), P(" "), I("请尽快"), P(" "), C("QA-RZ")}}},
			wecom:    "**红灯督办** 请尽快 `QA-RZ`",
			dingtalk: "**红灯督办** *请尽快* QA-RZ",
			feishu:   "红灯督办 请尽快 QA-RZ",
		},
		{
			name:     "adjacent bold spans are one",
			in:       Message{Lines: []Line{{B("幸福村"), B(" · "), B("2026年11月")}}},
			wecom:    "**幸福村 · 2026年11月**",
			dingtalk: "**幸福村 · 2026年11月**",
			feishu:   "幸福村 · 2026年11月",
		},
		{
			name:     "markdown specials escaped",
			in:       Message{Lines: []Line{{P("1 < 2 && a*b [x] `c` committee_meeting")}}},
			wecom:    "1 < 2 && a\\*b \\[x\\] \\`c\\` committee_meeting",
			dingtalk: "1 < 2 && a\\*b \\[x\\] \\`c\\` committee\\_meeting",
			feishu:   "1 < 2 && a*b [x] `c` committee_meeting",
		},
		{
			name:     "heading and quote markers at a line start",
			in:       Message{Lines: []Line{{P("# 标题")}, {P("> 引用")}, {P("a # b > c")}}},
			wecom:    "\\# 标题\n\\> 引用\na # b > c",
			dingtalk: "\\# 标题  \n\\> 引用  \na # b > c",
			feishu:   "# 标题\n> 引用\na # b > c",
		},
		{
			name:     "links",
			in:       Message{Lines: []Line{{P("详见 "), L("台账", "https://example.org/a?x=1&y=(2)")}}},
			wecom:    "详见 [台账](https://example.org/a?x=1&y=%282%29)",
			dingtalk: "详见 [台账](https://example.org/a?x=1&y=%282%29)",
			feishu:   "详见 台账 (https://example.org/a?x=1&y=(2))",
		},
		{
			name:     "link whose text is its URL",
			in:       Message{Lines: []Line{{L("https://t.me/x", "https://t.me/x")}}},
			wecom:    "[https://t.me/x](https://t.me/x)",
			dingtalk: "[https://t.me/x](https://t.me/x)",
			feishu:   "https://t.me/x",
		},
		{
			name: "callback buttons left out, link buttons become links",
			in: Message{Lines: []Line{{P("通知")}},
				Buttons: [][]Button{{{Text: "收到", Data: "ack:1"}, {Text: "详情", URL: "https://e.org"}}}},
			wecom:    "通知\n[详情](https://e.org)",
			dingtalk: "通知  \n[详情](https://e.org)",
			feishu:   "通知\n详情 (https://e.org)",
		},
		{
			name:     "blank lines kept, trailing ones trimmed",
			in:       Message{Lines: []Line{{P("第一行")}, nil, {P("第三行 ")}, nil}},
			wecom:    "第一行\n\n第三行",
			dingtalk: "第一行  \n  \n第三行",
			feishu:   "第一行\n\n第三行",
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			f    Format
			want string
		}{{WeComMarkdown, tt.wecom}, {DingTalkMarkdown, tt.dingtalk}, {PlainText, tt.feishu}} {
			if got := Robot(tt.in, c.f); got != c.want {
				t.Errorf("%s, format %d:\n got %q\nwant %q", tt.name, c.f, got, c.want)
			}
		}
	}
}

func TestLenAndCut(t *testing.T) {
	l := Line{P("• "), B("长😀&"), P("末")}
	if n := Len(l); n != 7 {
		t.Fatalf("Len = %d, want 7", n)
	}
	if got := l.Text(); got != "• 长😀&末" {
		t.Fatalf("Text = %q", got)
	}
	if got := Cut(l, 10); len(got) != 1 || LineHTML(got[0]) != LineHTML(l) {
		t.Fatalf("a line that fits was cut: %v", got)
	}
	var parts []string
	for _, p := range Cut(l, 3) {
		if Len(p) > 3 {
			t.Errorf("part %v longer than 3", p)
		}
		parts = append(parts, LineHTML(p))
	}
	// The emoji (two units) is never split; bold carries over the cut.
	if got := strings.Join(parts, "|"); got != "• <b>长</b>|<b>😀&amp;</b>|末" {
		t.Fatalf("cut %q", got)
	}
	if got := Cut(Line{P("ab")}, 0); len(got) != 2 {
		t.Fatalf("room 0: %v", got)
	}
}

func TestTemplate(t *testing.T) {
	tp, err := ParseTemplate("打卡：<code>打卡 {word} {day} 7/9 主题</code>（{word}&lt;）{x")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tp.Placeholders(), ","); got != "word,day" {
		t.Errorf("placeholders %q", got)
	}
	l := tp.Line("word", "<支委会>", "day", "{day}")
	if got := LineHTML(l); got != "打卡：<code>打卡 &lt;支委会&gt; {day} 7/9 主题</code>（&lt;支委会&gt;&lt;）{x" {
		t.Errorf("filled %q", got)
	}
	if got := LineHTML(tp.Append(Line{P("• ")}, "day", "11月20日")); got != "• 打卡：<code>打卡  11月20日 7/9 主题</code>（&lt;）{x" {
		t.Errorf("appended %q", got)
	}
	for _, bad := range []string{"<u>x</u>", "<b>x", "<b><i>x</i></b>", "x</b>", "<b x"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The HTML renderer escapes in place of html.EscapeString and sizes its
// buffer ahead: both must agree with the standard library byte for byte.
func TestHTMLEscapesAsTheStandardLibrary(t *testing.T) {
	for _, s := range []string{"", "plain 文字", `<>&'"`, `a<b>c&d'e"f`, "&amp;", "末尾<"} {
		l := Line{P(s), B(s), L(s, s)}
		want := html.EscapeString(s)
		if s != "" {
			want = want + "<b>" + want + `</b><a href="` + want + `">` + want + "</a>"
		}
		got := LineHTML(l)
		if got != want {
			t.Errorf("LineHTML(%q) = %q, want %q", s, got, want)
		}
		if n := htmlLen(l); n != len(got) {
			t.Errorf("htmlLen(%q) = %d, rendered %d bytes", s, n, len(got))
		}
	}
}

// A Builder's lines render as the template's own lines, merge adjacent text
// of one style into one span, and stay unchanged while later lines are
// built, across new chunks of text and spans.
func TestBuilder(t *testing.T) {
	tp, err := ParseTemplate("• <b>{name} 同志</b> · {x}（<code>打卡 {x}</code>）")
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	var lines []Line
	var want []string
	for i := range 5000 {
		name := strings.Repeat("名<", i%40)
		tp.Write(&b, "name", name, "x", "&"+name)
		b.Add(Plain, "尾")
		lines = append(lines, b.Line())
		want = append(want, LineHTML(append(tp.Line("name", name, "x", "&"+name), P("尾"))))
	}
	for i, l := range lines {
		if got := LineHTML(l); got != want[i] {
			t.Fatalf("line %d = %q, want %q", i, got, want[i])
		}
	}
	if n := len(lines[1]); n != 5 {
		t.Errorf("line 1 has %d spans, want 5 (plain, bold, plain, code, plain: merged by style): %q", n, lines[1])
	}
	if l := b.Line(); l != nil {
		t.Errorf("an empty line = %q, want nil", l)
	}
}

func TestTemplateText(t *testing.T) {
	tp, err := ParseTemplate("收到 · <b>{activity}</b> {period}{none}")
	if err != nil {
		t.Fatal(err)
	}
	pairs := []string{"activity", "主题党日<", "period", "2026年11月"}
	if got, want := tp.Text(pairs...), tp.Line(pairs...).Text(); got != want || got != "收到 · 主题党日< 2026年11月" {
		t.Errorf("Text = %q, Line().Text() = %q", got, want)
	}
}

// Len counts as Telegram does (UTF-16 units), whatever the bytes.
func TestLenCountsUTF16Units(t *testing.T) {
	for _, s := range []string{"", "abc", "红灯督办", "🔴 <b>", "\xe0\xa0\x80\xed\x9f\xbf\xed\xa0\x80", "\xe4\xb8", "a\xff\xe4\xb8\xadb", "\xf0\x9f\x94", "ｚ€￿"} {
		want := 0
		for _, r := range s {
			want += len(utf16.Encode([]rune{r}))
		}
		if got := Len(Line{P(s)}); got != want {
			t.Errorf("Len(%q) = %d, want %d", s, got, want)
		}
	}
}
