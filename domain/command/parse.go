package command

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cmd is a recognised bot command.
type Cmd struct {
	// Name is the command name, lower-case, without the slash or bot username.
	Name string
	// Args is the rest of the message split on white space; nil when there is none.
	Args []string
	// Rest is the raw rest of the message, trimmed of white space. It is not cleaned.
	Rest string
	// Plain is true when the command came from a Chinese command word (打卡, 积分 …)
	// rather than a slash.
	Plain bool
	// Word is the command word as written when Plain ("打卡"); "" for a slash command.
	Word string
}

// CheckinName is the name of the check-in command.
const CheckinName = "checkin"

// maxNameLen is Telegram's limit on a command name.
const maxNameLen = 32

// Words maps a Chinese command word ("打卡", "积分项目") to the name of the command it
// stands for ("checkin", "items"). The bot builds it from its command table.
type Words map[string]string

// Parse recognises a bot command at the start of text: a slash command, or one of words.
// It returns false when the text is not a command, or is a command addressed to another
// bot. See the package documentation for the rules.
func Parse(text string, botUsername string, words Words) (Cmd, bool) {
	s := strings.TrimLeftFunc(text, isSpace)
	if rest, ok := strings.CutPrefix(s, "/"); ok {
		return parseSlash(rest, botUsername)
	}
	word, name := "", ""
	for w, n := range words {
		if len(w) > len(word) && strings.HasPrefix(s, w) && endsWord(s[len(w):]) {
			word, name = w, n
		}
	}
	if word == "" {
		return Cmd{}, false
	}
	c := newCmd(name, strings.TrimLeftFunc(s[len(word):], isLead))
	c.Plain, c.Word = true, word
	return c, true
}

// endsWord reports whether a command word may end where rest begins: at the end of the
// text, white space or punctuation. "积分很重要" does not start with the word 积分.
func endsWord(rest string) bool {
	if rest == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return isSpace(r) || unicode.IsPunct(r)
}

// isLead is what may stand between a command word and its arguments: white space and the
// separators people type after a word (打卡：…, 申报，…).
func isLead(r rune) bool {
	switch r {
	case ':', '：', ',', '，', '、', ';', '；', '。', '.', '!', '！', '?', '？', '~', '～':
		return true
	}
	return isSpace(r)
}

func parseSlash(s, botUsername string) (Cmd, bool) {
	n := wordLen(s)
	if n == 0 || n > maxNameLen {
		return Cmd{}, false
	}
	name, rest := s[:n], s[n:]
	if r, ok := strings.CutPrefix(rest, "@"); ok {
		u := wordLen(r)
		want := strings.TrimPrefix(botUsername, "@")
		if u == 0 || want == "" || !strings.EqualFold(r[:u], want) {
			return Cmd{}, false
		}
		rest = r[u:]
	}
	if rest != "" {
		r, _ := utf8.DecodeRuneInString(rest)
		if r < utf8.RuneSelf && !isSpace(r) {
			return Cmd{}, false // "/path/to", "/a.b": not a command
		}
	}
	return newCmd(strings.ToLower(name), rest), true
}

// wordLen is the length of the leading run of ASCII letters, digits and underscores: the
// characters of Telegram command names and usernames.
func wordLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			i++
			continue
		}
		break
	}
	return i
}

func newCmd(name, rest string) Cmd {
	c := Cmd{Name: name, Rest: strings.TrimFunc(rest, isSpace)}
	if f := strings.FieldsFunc(c.Rest, isSpace); len(f) > 0 {
		c.Args = f
	}
	return c
}
