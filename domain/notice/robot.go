package notice

import "strings"

// Format is a group robot's message format.
type Format int

// The robot formats.
const (
	PlainText        Format = iota // Feishu msg_type "text"
	WeComMarkdown                  // WeCom msgtype "markdown"
	DingTalkMarkdown               // DingTalk msgtype "markdown"
)

// Robot renders m for a group robot:
//
//   - bold is **bold** in both markdown flavours; italic is *italic* in
//     DingTalk's only (WeCom's markdown has none); code is `code` in WeCom's
//     only; a link is [text](URL) in markdown and "text (URL)" in plain text
//     (just the URL when the text is the URL or empty);
//   - in markdown, what would start markup — \ * ` [ ] (and _ for DingTalk,
//     whose renderer knows _emphasis_) anywhere, # and > at the start of a
//     line — is escaped with a backslash, so a user's "*" or "[x]" shows as
//     typed;
//   - DingTalk's markdown joins single line breaks, so lines end with a hard
//     break ("  \n"); trailing white space is trimmed;
//   - robots cannot be tapped: callback buttons are left out, link buttons
//     become lines with their link.
func Robot(m Message, f Format) string {
	var b strings.Builder
	lines := m.Lines
	for _, row := range m.Buttons {
		for _, btn := range row {
			if btn.URL != "" {
				lines = append(lines[:len(lines):len(lines)], Line{L(btn.Text, btn.URL)})
			}
		}
	}
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeRobot(&b, l, f)
	}
	out := strings.TrimRight(b.String(), " \n")
	if f == DingTalkMarkdown {
		out = strings.ReplaceAll(out, "\n", "  \n")
	}
	return out
}

func writeRobot(b *strings.Builder, l Line, f Format) {
	lineStart := true
	for i := 0; i < len(l); {
		if l[i].Text == "" {
			i++
			continue
		}
		j := runEnd(l, i)
		var text strings.Builder
		for _, s := range l[i:j] {
			text.WriteString(s.Text)
		}
		s := l[i]
		t := text.String()
		switch {
		case s.Style == Link:
			b.WriteString(robotLink(t, s.URL, f))
		case s.Style == Bold && f != PlainText:
			b.WriteString("**" + escape(t, false, f) + "**")
		case s.Style == Italic && f == DingTalkMarkdown:
			b.WriteString("*" + escape(t, false, f) + "*")
		case s.Style == Code && f == WeComMarkdown:
			b.WriteString("`" + escape(t, false, f) + "`")
		default:
			b.WriteString(escape(t, lineStart, f))
		}
		lineStart = false
		i = j
	}
}

// escape escapes text for a markdown format (see Robot).
func escape(s string, lineStart bool, f Format) string {
	if f == PlainText {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '\\' || r == '*' || r == '`' || r == '[' || r == ']':
			b.WriteByte('\\')
		case r == '_' && f == DingTalkMarkdown:
			b.WriteByte('\\')
		case (r == '#' || r == '>') && i == 0 && lineStart:
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func robotLink(text, href string, f Format) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return escape(text, false, f)
	}
	if f == PlainText {
		if text == "" || text == href {
			return href
		}
		return text + " (" + href + ")"
	}
	inner := escape(text, false, f)
	if inner == "" {
		inner = escape(href, false, f)
	}
	u := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29").Replace(href)
	return "[" + inner + "](" + u + ")"
}
