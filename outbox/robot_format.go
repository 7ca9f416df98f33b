package outbox

import (
	"encoding/json"
	"html"
	"strings"
)

// Group robots take other formats than Telegram's HTML. RobotFormat turns
// the Telegram-HTML text that use cases enqueue into a robot's format; it is
// pure. The rules:
//
//   - Tags: <b>/<strong> become **bold** in both markdown flavours; <i>/<em>
//     become *italic* in DingTalk markdown only (WeCom's markdown has no
//     italics); <code> becomes `code` in WeCom markdown only; <a href=U>T</a>
//     becomes [T](U) in markdown and "T (U)" in plain text (just U when T is
//     U); <blockquote> prefixes its lines with "> " in markdown; <br> is a
//     line break; every other tag (u, s, pre, tg-spoiler, span, …) is dropped
//     and its text kept.
//   - Text: entities are decoded (&lt; → <). In markdown, the characters
//     that would start markup — \ * ` [ ] (and _ for DingTalk, whose
//     renderer knows _emphasis_) anywhere, # and > at the start of a line —
//     are escaped with a backslash, so a user's "*" or "[x]" shows as typed.
//   - Lines: DingTalk's markdown joins single line breaks, so each line
//     break becomes a hard break ("  \n"); WeCom and plain text keep "\n".
//     Runs of more than two blank lines are not produced by the conversion
//     itself, and trailing white space is trimmed.
type RobotFormat int

// Robot formats.
const (
	FormatPlain            RobotFormat = iota // Feishu "text"
	FormatWeComMarkdown                       // WeCom msgtype "markdown"
	FormatDingTalkMarkdown                    // DingTalk msgtype "markdown"
)

// ConvertHTML converts a Telegram-HTML text to format f (see RobotFormat).
func ConvertHTML(text string, f RobotFormat) string {
	var b strings.Builder
	c := converter{f: f, out: &b, lineStart: true}
	for _, t := range tokenizeHTML(text) {
		c.token(t)
	}
	out := strings.TrimRight(b.String(), " \n")
	if f == FormatDingTalkMarkdown {
		out = strings.ReplaceAll(out, "\n", "  \n")
	}
	return out
}

type converter struct {
	f         RobotFormat
	out       *strings.Builder
	lineStart bool
	quote     int      // depth of open blockquotes
	links     []string // hrefs of open <a> tags
	linkText  []*strings.Builder
	skipNL    bool // a blockquote just closed with a line break: drop the text's own
}

func (c *converter) markdown() bool { return c.f != FormatPlain }

// write emits already-formatted text (markup), keeping track of line starts.
func (c *converter) write(s string) {
	if s == "" {
		return
	}
	if len(c.linkText) > 0 {
		c.linkText[len(c.linkText)-1].WriteString(s)
		return
	}
	c.out.WriteString(s)
	c.lineStart = strings.HasSuffix(s, "\n")
}

// text emits user text, escaped for the format, line by line.
func (c *converter) text(s string) {
	if c.skipNL {
		s = strings.TrimPrefix(s, "\n")
		c.skipNL = false
	}
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			c.newline()
		}
		if line == "" {
			continue
		}
		c.startLine()
		c.write(c.escape(line, c.atLineStart()))
	}
}

func (c *converter) atLineStart() bool {
	if len(c.linkText) > 0 {
		return false
	}
	return c.lineStart || c.out.Len() == 0
}

// startLine writes the blockquote prefix at the start of a quoted line.
func (c *converter) startLine() {
	if c.quote > 0 && c.markdown() && c.atLineStart() {
		c.write("> ")
		c.lineStart = false
	}
}

func (c *converter) newline() {
	if len(c.linkText) > 0 {
		c.linkText[len(c.linkText)-1].WriteString(" ")
		return
	}
	c.write("\n")
}

func (c *converter) escape(s string, lineStart bool) string {
	if !c.markdown() {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\' || r == '*' || r == '`' || r == '[' || r == ']':
			b.WriteByte('\\')
		case r == '_' && c.f == FormatDingTalkMarkdown:
			b.WriteByte('\\')
		case (r == '#' || r == '>') && i == 0 && lineStart:
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (c *converter) token(t htmlToken) {
	switch t.kind {
	case tokText:
		c.text(t.text)
		return
	case tokOpen:
		c.skipNL = false
		c.open(t)
	case tokClose:
		c.close(t)
	}
}

func (c *converter) open(t htmlToken) {
	switch t.name {
	case "b", "strong":
		if c.markdown() {
			c.startLine()
			c.write("**")
		}
	case "i", "em":
		if c.f == FormatDingTalkMarkdown {
			c.startLine()
			c.write("*")
		}
	case "code":
		if c.f == FormatWeComMarkdown {
			c.startLine()
			c.write("`")
		}
	case "a":
		c.startLine()
		c.links = append(c.links, t.href)
		c.linkText = append(c.linkText, &strings.Builder{})
	case "blockquote":
		if !c.atLineStart() {
			c.newline()
		}
		c.quote++
	case "br":
		c.newline()
	}
}

func (c *converter) close(t htmlToken) {
	switch t.name {
	case "b", "strong":
		if c.markdown() {
			c.write("**")
		}
	case "i", "em":
		if c.f == FormatDingTalkMarkdown {
			c.write("*")
		}
	case "code":
		if c.f == FormatWeComMarkdown {
			c.write("`")
		}
	case "a":
		n := len(c.links)
		if n == 0 {
			return
		}
		href, inner := c.links[n-1], c.linkText[n-1].String()
		c.links, c.linkText = c.links[:n-1], c.linkText[:n-1]
		c.write(c.link(inner, href))
	case "blockquote":
		if c.quote > 0 {
			c.quote--
		}
		if !c.atLineStart() {
			c.newline()
			c.skipNL = true
		}
	}
}

// link renders a link whose text is already formatted.
func (c *converter) link(inner, href string) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return inner
	}
	if !c.markdown() {
		if inner == "" || inner == href {
			return href
		}
		return inner + " (" + href + ")"
	}
	if inner == "" {
		inner = c.escape(href, false)
	}
	u := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29").Replace(href)
	return "[" + inner + "](" + u + ")"
}

// HTML tokens: just enough of HTML for the subset Telegram accepts (and we
// write): tags with quoted attributes, entities, text.
type tokKind int

const (
	tokText tokKind = iota
	tokOpen
	tokClose
)

type htmlToken struct {
	kind tokKind
	name string // lower-case tag name
	href string // <a href>, unescaped
	text string // tokText: unescaped text
}

func tokenizeHTML(s string) []htmlToken {
	var out []htmlToken
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, htmlToken{kind: tokText, text: html.UnescapeString(text.String())})
			text.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			text.WriteString(s[i : i+j])
			i += j
			continue
		}
		end, ok := tagEnd(s, i)
		if !ok {
			text.WriteString("&lt;") // a stray '<' is text
			i++
			continue
		}
		tag := s[i+1 : end]
		i = end + 1
		t, ok := parseRobotTag(tag)
		if !ok {
			text.WriteString(html.EscapeString("<" + tag + ">"))
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// tagEnd finds the '>' closing the tag that starts at s[i] == '<', skipping
// quoted attribute values.
func tagEnd(s string, i int) (int, bool) {
	var quote byte
	for j := i + 1; j < len(s); j++ {
		switch ch := s[j]; {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '>':
			return j, true
		case ch == '<':
			return 0, false
		}
	}
	return 0, false
}

func parseRobotTag(tag string) (htmlToken, bool) {
	t := htmlToken{kind: tokOpen}
	if strings.HasPrefix(tag, "/") {
		t.kind = tokClose
		tag = tag[1:]
	}
	tag = strings.TrimSuffix(strings.TrimSpace(tag), "/")
	n := 0
	for n < len(tag) && (isAlnum(tag[n]) || tag[n] == '-') {
		n++
	}
	if n == 0 {
		return t, false
	}
	t.name = strings.ToLower(tag[:n])
	if t.kind == tokOpen && t.name == "a" {
		t.href = tagAttr(tag[n:], "href")
	}
	return t, true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// tagAttr returns the unescaped value of attribute name in s (` href="…" x='…'`).
func tagAttr(s, name string) string {
	for s != "" {
		s = strings.TrimLeft(s, " \t\n")
		k := 0
		for k < len(s) && s[k] != '=' && s[k] != ' ' && s[k] != '\t' && s[k] != '\n' {
			k++
		}
		key := strings.ToLower(s[:k])
		s = strings.TrimLeft(s[k:], " \t\n")
		if !strings.HasPrefix(s, "=") {
			if k == 0 {
				return ""
			}
			continue // a bare attribute
		}
		s = strings.TrimLeft(s[1:], " \t\n")
		var val string
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			end := strings.IndexByte(s[1:], s[0])
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+end], s[2+end:]
			}
		} else {
			end := strings.IndexAny(s, " \t\n")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if key == name {
			return html.UnescapeString(val)
		}
	}
	return ""
}

// PlainText is the text of a Telegram-HTML string without markup, on one
// line (a DingTalk title, a log line).
func PlainText(text string) string {
	return strings.Join(strings.Fields(ConvertHTML(text, FormatPlain)), " ")
}

// jsonLen is the length of s as a JSON string (quotes included), written
// without HTML escaping: what a robot's request body spends on it.
func jsonLen(s string) int {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return b.Len() - 1 // Encode adds a newline
}

// byteLen is the length of s in UTF-8 bytes.
func byteLen(s string) int { return len(s) }

// cutText splits s into parts whose measure is at most limit: at line
// breaks when it can, else at spaces, else between characters. The line
// break or space at a cut is dropped; empty parts are left out. A text that
// fits is returned whole. measure must be additive over concatenation up to
// a constant (byte and JSON lengths are).
func cutText(s string, limit int, measure func(string) int) []string {
	if limit <= 0 || measure(s) <= limit {
		return []string{s}
	}
	base := measure("")
	sep := measure("\n") - base
	var parts []string
	var cur []string
	size := base // measure of strings.Join(cur, "\n")
	emit := func() {
		if t := strings.TrimRight(strings.Join(cur, "\n"), " \n"); strings.TrimSpace(t) != "" {
			parts = append(parts, t)
		}
		cur, size = nil, base
	}
	for _, line := range strings.Split(s, "\n") {
		if len(cur) == 0 && len(parts) > 0 && strings.TrimSpace(line) == "" {
			continue // no blank lines at the top of a continued part
		}
		add := measure(line) - base
		if len(cur) > 0 {
			add += sep
		}
		if size+add <= limit {
			cur, size = append(cur, line), size+add
			continue
		}
		emit()
		if strings.TrimSpace(line) == "" {
			continue
		}
		for measure(line) > limit {
			head, rest := cutLine(line, limit, measure)
			if strings.TrimSpace(head) != "" {
				parts = append(parts, strings.TrimRight(head, " "))
			}
			line = rest
		}
		cur, size = []string{line}, measure(line)
	}
	emit()
	return parts
}

// cutLine takes the longest head of line that fits limit (at least one
// character), preferring to cut at a space (dropped) in its second half over
// cutting between two characters.
func cutLine(line string, limit int, measure func(string) int) (head, rest string) {
	idx := make([]int, 0, len(line)+1) // rune boundaries
	for i := range line {
		idx = append(idx, i)
	}
	idx = append(idx, len(line))
	best, lo, hi := 1, 1, len(idx)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		if measure(line[:idx[mid]]) <= limit {
			best, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	end := idx[best]
	if line[end] == ' ' {
		return line[:end], line[end+1:]
	}
	if sp := strings.LastIndexByte(line[:end], ' '); sp > 0 && sp >= end/2 {
		return line[:sp], line[sp+1:]
	}
	return line[:end], line[end:]
}
