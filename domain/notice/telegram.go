package notice

import (
	"html"
	"strings"
)

// Telegram HTML (parse mode "HTML"): bold <b>, italic <i>, code <code>,
// links <a href>; text and URLs escaped.

var htmlTags = map[Style][2]string{Bold: {"<b>", "</b>"}, Italic: {"<i>", "</i>"}, Code: {"<code>", "</code>"}}

// HTML renders the lines of m, one per line.
func HTML(m Message) string { return LinesHTML(m.Lines) }

// LinesHTML renders lines, one per line.
func LinesHTML(lines []Line) string {
	var b strings.Builder
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
	writeHTML(&b, l)
	return b.String()
}

func writeHTML(b *strings.Builder, l Line) {
	for i := 0; i < len(l); {
		if l[i].Text == "" {
			i++
			continue
		}
		j := runEnd(l, i)
		s := l[i]
		switch s.Style {
		case Link:
			b.WriteString(`<a href="`)
			b.WriteString(html.EscapeString(s.URL))
			b.WriteString(`">`)
		default:
			b.WriteString(htmlTags[s.Style][0])
		}
		for _, t := range l[i:j] {
			b.WriteString(html.EscapeString(t.Text))
		}
		if s.Style == Link {
			b.WriteString("</a>")
		} else {
			b.WriteString(htmlTags[s.Style][1])
		}
		i = j
	}
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
			kb[i][j] = tgButton{Text: btn.Text, Data: btn.Data, URL: btn.URL}
		}
	}
	return map[string]any{"inline_keyboard": kb}
}
