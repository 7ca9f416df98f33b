package tgfake

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// utf16Len is the length Telegram uses for limits and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

type htmlTag struct {
	name   string
	arg    string // href, spoiler class, language, emoji id, "expandable"
	offset int    // UTF-16 offset in the rendered text
}

var htmlTags = map[string]models.MessageEntityType{
	"b": models.MessageEntityTypeBold, "strong": models.MessageEntityTypeBold,
	"i": models.MessageEntityTypeItalic, "em": models.MessageEntityTypeItalic,
	"u": models.MessageEntityTypeUnderline, "ins": models.MessageEntityTypeUnderline,
	"s": models.MessageEntityTypeStrikethrough, "strike": models.MessageEntityTypeStrikethrough,
	"del":  models.MessageEntityTypeStrikethrough,
	"span": models.MessageEntityTypeSpoiler, "tg-spoiler": models.MessageEntityTypeSpoiler,
	"a":    models.MessageEntityTypeTextLink,
	"code": models.MessageEntityTypeCode, "pre": models.MessageEntityTypePre,
	"blockquote": models.MessageEntityTypeBlockquote,
	"tg-emoji":   models.MessageEntityTypeCustomEmoji,
}

// parseHTML renders Telegram's HTML parse mode into plain text and entities,
// or returns the reason Telegram would give after "can't parse entities: ".
// It follows tdlib's parser (tag and attribute syntax, error wording) except
// that a '&' which does not start a supported entity is an error, as the Bot
// API documentation demands, where tdlib keeps it literally: the fake is
// stricter so that unescaped user text is caught in tests.
func parseHTML(s string) (string, []models.MessageEntity, bool, error) {
	var out strings.Builder
	var ents []models.MessageEntity
	var stack []htmlTag
	u16 := 0
	tagged := false
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' }
	fail := func(format string, a ...any) (string, []models.MessageEntity, bool, error) {
		return "", nil, tagged, fmt.Errorf(format, a...)
	}

	i := 0
	for i < len(s) {
		c := s[i]
		if c == '&' {
			r, n, ok := decodeEntity(s[i:])
			if !ok {
				return fail("Character '&' at byte offset %d is not part of a supported entity; escape it as &amp;", i)
			}
			out.WriteRune(r)
			u16 += utf16.RuneLen(r)
			i += n
			continue
		}
		if c != '<' {
			r, n := utf8.DecodeRuneInString(s[i:])
			out.WriteString(s[i : i+n])
			if r == utf8.RuneError && n == 1 {
				u16++
			} else {
				u16 += utf16.RuneLen(r)
			}
			i += n
			continue
		}

		begin := i
		i++
		if i < len(s) && s[i] == '/' { // end tag
			if len(stack) == 0 {
				return fail("Unexpected end tag at byte offset %d", begin)
			}
			i++
			start := i
			for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
				i++
			}
			name := strings.ToLower(s[start:i])
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i >= len(s) || s[i] != '>' {
				return fail("Unclosed end tag at byte offset %d", begin)
			}
			i++
			top := stack[len(stack)-1]
			if name != "" && name != top.name {
				return fail("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, name)
			}
			stack = stack[:len(stack)-1]
			length := u16 - top.offset
			if top.name == "code" && top.arg != "" && len(stack) > 0 && stack[len(stack)-1].name == "pre" {
				// <pre><code class="language-x"> is one pre entity with a language.
				stack[len(stack)-1].arg = top.arg
				continue
			}
			if length <= 0 {
				continue
			}
			e := models.MessageEntity{Type: htmlTags[top.name], Offset: top.offset, Length: length}
			switch top.name {
			case "a":
				if top.arg == "" {
					continue
				}
				e.URL = top.arg
			case "pre":
				e.Language = top.arg
			case "blockquote":
				if top.arg == "expandable" {
					e.Type = models.MessageEntityTypeExpandableBlockquote
				}
			case "tg-emoji":
				if _, err := strconv.ParseInt(top.arg, 10, 64); err != nil {
					return fail("Invalid custom emoji identifier specified")
				}
				e.CustomEmojiID = top.arg
			}
			ents = append(ents, e)
			continue
		}

		// start tag
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
			i++
		}
		if i >= len(s) {
			return fail("Unclosed start tag at byte offset %d", begin)
		}
		name := strings.ToLower(s[start:i])
		if _, ok := htmlTags[name]; !ok {
			return fail("Unsupported start tag \"%s\" at byte offset %d", name, begin)
		}
		tagged = true
		arg := ""
		for i < len(s) && s[i] != '>' {
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i >= len(s) {
				break
			}
			if s[i] == '>' {
				break
			}
			as := i
			for i < len(s) && !isSpace(s[i]) && !strings.ContainsRune("=>/\"'", rune(s[i])) {
				i++
			}
			attr := strings.ToLower(s[as:i])
			if attr == "" {
				return fail("Empty attribute name in the tag \"%s\" at byte offset %d", name, begin)
			}
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i >= len(s) {
				break
			}
			if s[i] != '=' {
				if name == "blockquote" && attr == "expandable" {
					arg = "expandable"
				}
				continue
			}
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i >= len(s) {
				break
			}
			var val string
			if q := s[i]; q == '"' || q == '\'' {
				i++
				var vb strings.Builder
				for i < len(s) && s[i] != q {
					if s[i] == '&' {
						if r, n, ok := decodeEntity(s[i:]); ok {
							vb.WriteRune(r)
							i += n
							continue
						}
					}
					vb.WriteByte(s[i])
					i++
				}
				if i >= len(s) {
					break
				}
				i++
				val = vb.String()
			} else {
				vs := i
				for i < len(s) && (isAlnum(s[i]) || s[i] == '.' || s[i] == '-') {
					i++
				}
				val = strings.ToLower(s[vs:i])
				if i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					return fail("Unexpected end of name token at byte offset %d", vs)
				}
			}
			switch {
			case name == "a" && attr == "href":
				arg = val
			case name == "code" && attr == "class" && strings.HasPrefix(val, "language-"):
				arg = strings.TrimPrefix(val, "language-")
			case name == "span" && attr == "class":
				arg = val
			case name == "tg-emoji" && attr == "emoji-id":
				arg = val
			}
		}
		if i >= len(s) {
			return fail("Unclosed start tag \"%s\" at byte offset %d", name, begin)
		}
		i++ // '>'
		if name == "span" && arg != "tg-spoiler" {
			return fail("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
		}
		stack = append(stack, htmlTag{name: name, arg: arg, offset: u16})
	}
	if len(stack) > 0 {
		return fail("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	// Telegram lists entities by offset, outer (longer) ones first.
	sort.SliceStable(ents, func(a, b int) bool {
		if ents[a].Offset != ents[b].Offset {
			return ents[a].Offset < ents[b].Offset
		}
		return ents[a].Length > ents[b].Length
	})
	return out.String(), ents, tagged, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// decodeEntity decodes one of the entities the Bot API supports at the start
// of s: &lt; &gt; &amp; &quot; and numeric ones.
func decodeEntity(s string) (rune, int, bool) {
	for name, r := range map[string]rune{"&lt;": '<', "&gt;": '>', "&amp;": '&', "&quot;": '"'} {
		if strings.HasPrefix(s, name) {
			return r, len(name), true
		}
	}
	if !strings.HasPrefix(s, "&#") {
		return 0, 0, false
	}
	end := strings.IndexByte(s, ';')
	if end < 3 || end > 12 {
		return 0, 0, false
	}
	num, base := s[2:end], 10
	if num[0] == 'x' || num[0] == 'X' {
		num, base = num[1:], 16
	}
	cp, err := strconv.ParseUint(num, base, 32)
	if err != nil || num == "" || cp == 0 || cp > utf8.MaxRune || cp >= 0xD800 && cp <= 0xDFFF {
		return 0, 0, false
	}
	return rune(cp), end + 1, true
}
