package outbox

import (
	"html"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
)

var tagRE = regexp.MustCompile(`</?([a-zA-Z][a-zA-Z0-9-]*)[^>]*>`)

// visible renders a Telegram-HTML text the simple way (independent of the
// parser under test): tags removed, entities decoded.
func visible(s string) string { return html.UnescapeString(tagRE.ReplaceAllString(s, "")) }

func units(s string) int { return len(utf16.Encode([]rune(s))) }

// wellFormed checks that tags nest and close.
func wellFormed(s string) bool {
	var stack []string
	for _, m := range tagRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if strings.HasPrefix(m[0], "</") {
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return false
			}
			stack = stack[:len(stack)-1]
		} else {
			stack = append(stack, name)
		}
	}
	return len(stack) == 0
}

func TestSplitHTML(t *testing.T) {
	emoji := "😀" // two UTF-16 units
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"fits", "<b>hello</b>\nworld", 100, []string{"<b>hello</b>\nworld"}},
		{"exactly the limit", "abcde", 5, []string{"abcde"}},
		{"no limit", strings.Repeat("x", 10000), 0, []string{strings.Repeat("x", 10000)}},
		{"at line boundaries", "aaa\nbbb\nccc", 7, []string{"aaa\nbbb", "ccc"}},
		{"tags do not count", "<b>aaa</b>\n<i>bbb</i>", 3, []string{"<b>aaa</b>", "<i>bbb</i>"}},
		{"tag re-opened across the cut", "<b>aaa\nbbb</b>", 4, []string{"<b>aaa</b>", "<b>bbb</b>"}},
		{"nested tags keep attributes", `<a href="https://x.cn/?a=1&amp;b=2"><i>one
two</i> three</a>`, 9, []string{`<a href="https://x.cn/?a=1&amp;b=2"><i>one</i></a>`, `<a href="https://x.cn/?a=1&amp;b=2"><i>two</i> three</a>`}},
		{"pre block", "<pre><code class=\"language-go\">x := 1\ny := 2</code></pre>", 6, []string{
			"<pre><code class=\"language-go\">x := 1</code></pre>", "<pre><code class=\"language-go\">y := 2</code></pre>"}},
		{"entity is one unit", "&lt;&lt;&lt;\n&amp;&amp;", 3, []string{"&lt;&lt;&lt;", "&amp;&amp;"}},
		{"numeric entities", "&#60;&#x3C;\n&#128512;", 2, []string{"&#60;&#x3C;", "&#128512;"}},
		{"astral counts two", emoji + emoji + "\n" + emoji, 4, []string{emoji + emoji, emoji}},
		{"astral not split", emoji + emoji + emoji, 3, []string{emoji, emoji, emoji}},
		{"long line cut at a space", "one two three four", 9, []string{"one two", "three", "four"}},
		{"tag closed before a space cut", "<b>one two</b> three", 7, []string{"<b>one two</b>", "three"}},
		{"several parts inside one tag", "<i>a b c d e</i>", 3, []string{"<i>a b</i>", "<i>c d</i>", "<i>e</i>"}},
		{"long word cut hard", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"tag opening at a hard cut moves on", "abc<b>def</b>", 3, []string{"abc", "<b>def</b>"}},
		{"hard cut inside a tag", "<b>abcdef</b>", 3, []string{"<b>abc</b>", "<b>def</b>"}},
		{"entity not cut", "a&amp;b", 2, []string{"a&amp;", "b"}},
		{"blank lines at the cut dropped", "aaa\n\n\nbbb", 3, []string{"aaa", "bbb"}},
		{"chinese", "第一行内容\n第二行内容", 6, []string{"第一行内容", "第二行内容"}},
		{"stray < is a character", "a < b\nc", 5, []string{"a < b", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SplitHTML(tc.text, tc.limit)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("SplitHTML(%q, %d)\n got %q\nwant %q", tc.text, tc.limit, got, tc.want)
			}
		})
	}
}

// TestSplitHTMLProperties splits generated texts at random limits and checks
// what Telegram cares about: every part within the limit, well-formed, and
// nothing lost but the line breaks and spaces at the cuts.
func TestSplitHTMLProperties(t *testing.T) {
	pieces := []string{"a", "word ", "支部", "😀", "&lt;", "&amp;", "&#128512;", " ", "\n", "\n\n",
		"<b>", "</b>", "<i>x</i>", `<a href="https://example.com/?q=1&amp;r=2">`, "</a>", "<code>", "</code>",
		`<blockquote expandable>`, "</blockquote>", "<tg-spoiler>s</tg-spoiler>"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		// Build a well-formed text: closing tags only match open ones.
		var b strings.Builder
		var open []string
		for k := rng.IntN(400); k > 0; k-- {
			p := pieces[rng.IntN(len(pieces))]
			switch p {
			case "<b>", "<code>", `<blockquote expandable>`:
				open = append(open, tagRE.FindStringSubmatch(p)[1])
			case `<a href="https://example.com/?q=1&amp;r=2">`:
				open = append(open, "a")
			case "</b>", "</a>", "</code>", "</blockquote>":
				if len(open) == 0 || "</"+open[len(open)-1]+">" != p {
					continue
				}
				open = open[:len(open)-1]
			}
			b.WriteString(p)
		}
		for i := len(open) - 1; i >= 0; i-- {
			b.WriteString("</" + open[i] + ">")
		}
		text := b.String()
		limit := 2 + rng.IntN(60)
		parts := SplitHTML(text, limit)
		var joined strings.Builder
		for _, p := range parts {
			if u := units(visible(p)); u > limit && len(parts) > 1 {
				t.Fatalf("part over limit %d (%d units): %q\nof %q", limit, u, p, text)
			}
			if !wellFormed(p) {
				t.Fatalf("part not well-formed: %q\nof %q", p, text)
			}
			joined.WriteString(visible(p))
		}
		squash := strings.NewReplacer("\n", "", " ", "")
		if units(visible(text)) > limit && squash.Replace(joined.String()) != squash.Replace(visible(text)) {
			t.Fatalf("text changed:\n got %q\nwant %q", joined.String(), visible(text))
		}
	}
}

func TestSplitPlain(t *testing.T) {
	got := splitPlain("a<b>&c\nd<e", 6)
	want := []string{"a<b>&c", "d<e"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q want %q", got, want)
	}
	long := strings.Repeat("行", 5000)
	parts := splitPlain(long, MaxTextUnits)
	if len(parts) != 2 || units(parts[0]) != MaxTextUnits || parts[0]+parts[1] != long {
		t.Fatalf("plain long text: %d parts", len(parts))
	}
}
