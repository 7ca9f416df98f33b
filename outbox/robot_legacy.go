package outbox

import (
	"html"
	"strings"

	"github.com/zhibu/zhibu/domain/notice"
)

// legacyNotice reads the payload text of a robot row queued before notices
// were channel-neutral: Telegram HTML as the health notices wrote it (<b>,
// <i>, <code>, not nested; entities). It exists for a rolling upgrade only:
// a new dispatcher may deliver rows an old version queued, and a red notice
// must not fail for its format. It can go once no robot row still pending
// has a "text" payload (SELECT count(*) FROM outbox WHERE kind = 'robot' AND
// status IN ('pending', 'sending') AND payload ? 'text'). Any other tag is
// dropped and its text kept.
func legacyNotice(s string) notice.Message {
	var m notice.Message
	var line notice.Line
	style, href := notice.Plain, ""
	text := func(t string) {
		for i, part := range strings.Split(html.UnescapeString(t), "\n") {
			if i > 0 {
				m.Lines, line = append(m.Lines, line), nil
			}
			if part != "" {
				line = append(line, notice.Span{Style: style, Text: part, URL: href})
			}
		}
	}
	for s != "" {
		i := strings.IndexByte(s, '<')
		j := strings.IndexByte(s[max(i, 0):], '>')
		if i < 0 || j < 0 {
			text(s)
			break
		}
		text(s[:i])
		tag := s[i+1 : i+j]
		s = s[i+j+1:]
		name, closing := strings.CutPrefix(tag, "/")
		name, attrs, _ := strings.Cut(name, " ")
		st := notice.Plain
		switch strings.ToLower(name) {
		case "b", "strong":
			st = notice.Bold
		case "i", "em":
			st = notice.Italic
		case "code":
			st = notice.Code
		case "a":
			st = notice.Link
		case "br":
			text("\n")
			continue
		default:
			continue
		}
		if closing {
			style, href = notice.Plain, ""
			continue
		}
		style = st
		if st == notice.Link {
			if _, v, ok := strings.Cut(attrs, `href="`); ok {
				v, _, _ = strings.Cut(v, `"`)
				href = html.UnescapeString(v)
			}
		}
	}
	return notice.Message{Lines: append(m.Lines, line)}
}
