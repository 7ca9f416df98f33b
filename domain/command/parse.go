package command

import (
	"strings"
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
	// Plain is true when the command came from a plain-text trigger (打卡, 签到).
	Plain bool
}

// CheckinName is the command name that the plain-text triggers stand for.
const CheckinName = "checkin"

// maxNameLen is Telegram's limit on a command name.
const maxNameLen = 32

// plainTriggers start a check-in without a slash, where the bot can see plain text.
var plainTriggers = []string{"打卡", "签到"}

// Parse recognises a bot command at the start of text. It returns false when the text is
// not a command, or is a command addressed to another bot. See the package documentation
// for the rules.
func Parse(text string, botUsername string) (Cmd, bool) {
	s := strings.TrimLeftFunc(text, isSpace)
	if rest, ok := strings.CutPrefix(s, "/"); ok {
		return parseSlash(rest, botUsername)
	}
	for _, t := range plainTriggers {
		rest, ok := strings.CutPrefix(s, t)
		if !ok {
			continue
		}
		rest = strings.TrimLeftFunc(rest, isSpace)
		if r, ok := strings.CutPrefix(rest, ":"); ok {
			rest = r
		} else if r, ok := strings.CutPrefix(rest, "："); ok {
			rest = r
		}
		c := newCmd(CheckinName, rest)
		c.Plain = true
		return c, true
	}
	return Cmd{}, false
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
