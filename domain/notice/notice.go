// Package notice is a message that belongs to no platform (issue 12): lines
// made of spans (plain, bold, italic, code, link) and rows of buttons, and
// the renderers that turn it into each platform's format:
//
//   - Telegram: HTML (HTML parse mode) and the inline keyboard of the
//     buttons (callback data, or a link);
//   - the group robots: WeCom's and DingTalk's markdown flavours and
//     Feishu's plain text; robots only push, so callback buttons are left
//     out and link buttons become links.
//
// A span holds raw text: each renderer escapes it for its format, so user
// text never needs escaping by the code that builds a notice. Adjacent spans
// of one style render as one (a template's placeholder and the words around
// it stay inside one <b>). It is pure: standard library only.
package notice

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Style is how a span is shown.
type Style string

// The styles; Plain is the zero value.
const (
	Plain  Style = ""
	Bold   Style = "bold"
	Italic Style = "italic"
	Code   Style = "code" // a command to copy
	Link   Style = "link" // Span.URL is the target
)

// Span is a run of text in one style.
type Span struct {
	Style Style  `json:"style,omitempty"`
	Text  string `json:"text"`
	URL   string `json:"url,omitempty"`
}

// Line is one line of a message.
type Line []Span

// Button is an inline button: Data is the callback data of a tap (package
// domain/callback), or URL a link to open.
type Button struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Message is a notice. Title is what a notification shows before the
// message is opened (DingTalk); "" means its first line.
type Message struct {
	Title   string     `json:"title,omitempty"`
	Lines   []Line     `json:"lines"`
	Buttons [][]Button `json:"buttons,omitempty"`
}

// P, B, I, C and L make spans.
func P(s string) Span         { return Span{Text: s} }
func B(s string) Span         { return Span{Style: Bold, Text: s} }
func I(s string) Span         { return Span{Style: Italic, Text: s} }
func C(s string) Span         { return Span{Style: Code, Text: s} }
func L(text, url string) Span { return Span{Style: Link, Text: text, URL: url} }

// Len is the length of a line as Telegram counts a message: UTF-16 code
// units of its text (markup counts nothing).
func Len(l Line) int {
	n := 0
	for _, s := range l {
		n += units(s.Text)
	}
	return n
}

func units(s string) int {
	// The packers measure every line: ASCII and the three-byte sequences
	// of Chinese (valid, one unit) are counted without decoding; the rest
	// decodes as range would (an invalid byte is U+FFFD, one unit).
	n := 0
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c < utf8.RuneSelf:
			i++
		case c >= 0xE1 && c <= 0xEF && c != 0xED && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80:
			i += 3
		default:
			r, w := utf8.DecodeRuneInString(s[i:])
			n += utf16.RuneLen(r) - 1
			i += w
		}
		n++
	}
	return n
}

// Text is the text of a line without markup.
func (l Line) Text() string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return l[0].Text
	}
	n := 0
	for _, s := range l {
		n += len(s.Text)
	}
	b := make([]byte, 0, n)
	for _, s := range l {
		b = append(b, s.Text...)
	}
	return string(b)
}

// Cut cuts a line into lines of at most room units (Len) each, between two
// characters, at least one character each; the styles carry over a cut. A
// line that fits is returned as it is.
func Cut(l Line, room int) []Line {
	room = max(room, 1)
	if Len(l) <= room {
		return []Line{l}
	}
	var out []Line
	var cur Line
	n := 0
	for _, s := range l {
		start := 0
		for i, r := range s.Text {
			w := utf16.RuneLen(r)
			if n+w > room && n > 0 {
				if i > start {
					cur = append(cur, Span{Style: s.Style, Text: s.Text[start:i], URL: s.URL})
				}
				out = append(out, cur)
				cur, n, start = nil, 0, i
			}
			n += w
		}
		if start < len(s.Text) {
			cur = append(cur, Span{Style: s.Style, Text: s.Text[start:], URL: s.URL})
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
