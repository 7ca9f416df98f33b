package notice

import "strings"

// Telegram HTML (parse mode "HTML"): bold <b>, italic <i>, code <code>,
// links <a href>; text and URLs escaped.

// HTML renders the lines of m, one per line.
func HTML(m Message) string { return LinesHTML(m.Lines) }

// LinesHTML renders lines, one per line. The text is written into one
// buffer of the exact size, measured first: the health check renders every
// digest at enqueue, so no intermediate strings.
func LinesHTML(lines []Line) string {
	n := max(len(lines)-1, 0)
	for _, l := range lines {
		n += htmlLen(l)
	}
	var b strings.Builder
	b.Grow(n)
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeHTML(&b, l)
	}
	return b.String()
}

// LineHTML renders one line.
func LineHTML(l Line) string {
	var b strings.Builder
	b.Grow(htmlLen(l))
	writeHTML(&b, l)
	return b.String()
}

// htmlTag is the opening and closing tag of a style other than Link.
func htmlTag(s Style) (open, close string) {
	switch s {
	case Bold:
		return "<b>", "</b>"
	case Italic:
		return "<i>", "</i>"
	case Code:
		return "<code>", "</code>"
	}
	return "", ""
}

// htmlLen is the length of writeHTML's output for l.
func htmlLen(l Line) int {
	n := 0
	for i := 0; i < len(l); {
		if l[i].Text == "" {
			i++
			continue
		}
		j := runEnd(l, i)
		if s := l[i]; s.Style == Link {
			n += len(`<a href="">`) + escLen(s.URL) + len("</a>")
		} else {
			open, close := htmlTag(s.Style)
			n += len(open) + len(close)
		}
		for _, t := range l[i:j] {
			n += escLen(t.Text)
		}
		i = j
	}
	return n
}

func writeHTML(b *strings.Builder, l Line) {
	for i := 0; i < len(l); {
		if l[i].Text == "" {
			i++
			continue
		}
		j := runEnd(l, i)
		s := l[i]
		open, close := htmlTag(s.Style)
		if s.Style == Link {
			b.WriteString(`<a href="`)
			writeEscaped(b, s.URL)
			b.WriteString(`">`)
			close = "</a>"
		} else {
			b.WriteString(open)
		}
		for _, t := range l[i:j] {
			writeEscaped(b, t.Text)
		}
		b.WriteString(close)
		i = j
	}
}

// htmlEntities is what html.EscapeString writes for a byte ("" = the byte
// itself), a table since every byte of every digest is looked up.
var htmlEntities = [256]string{'<': "&lt;", '>': "&gt;", '&': "&amp;", '\'': "&#39;", '"': "&#34;"}

// escLen is len(html.EscapeString(s)).
func escLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if e := htmlEntities[s[i]]; e != "" {
			n += len(e) - 1
		}
	}
	return n
}

// writeEscaped writes html.EscapeString(s) without making it.
func writeEscaped(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if e := htmlEntities[s[i]]; e != "" {
			b.WriteString(s[last:i])
			b.WriteString(e)
			last = i + 1
		}
	}
	b.WriteString(s[last:])
}

// runEnd is the end of the run of spans from l[i] that render as one: the
// same style (and link), empty spans skipped; l[i] is not empty.
func runEnd(l Line, i int) int {
	j := i + 1
	for j < len(l) && (l[j].Text == "" || l[j].Style == l[i].Style && l[j].URL == l[i].URL) {
		j++
	}
	return j
}

// tgButton is a Bot API InlineKeyboardButton.
type tgButton struct {
	Text string `json:"text"`
	Data string `json:"callback_data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Keyboard is the reply_markup of rows of buttons ({"inline_keyboard": …}),
// nil when there are none.
func Keyboard(rows [][]Button) any {
	if len(rows) == 0 {
		return nil
	}
	kb := make([][]tgButton, len(rows))
	for i, r := range rows {
		kb[i] = make([]tgButton, len(r))
		for j, btn := range r {
			kb[i][j] = tgButton(btn) // the same fields; the tags name Telegram's
		}
	}
	return map[string]any{"inline_keyboard": kb}
}
