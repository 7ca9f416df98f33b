package command

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is a message for the user, by its key in the free-text catalogue
// (internal/texts/freetext.yaml, the command.* keys) and its placeholders'
// values as name, value pairs. The package says what to tell; the app says it
// in words (app.Say), so that the package stays free of the catalogue and a
// wording is a change of data.
type Text struct {
	Key  string
	Args []string
	// Offer are the words for the activities that the text's {offer} lists,
	// with an example check-in (command.offer); none offers nothing.
	Offer []string
}

func text(key string, pairs ...string) Text { return Text{Key: key, Args: pairs} }

// String is the key and the values, for logs.
func (t Text) String() string { return fmt.Sprintf("%s%q", t.Key, t.Args) }

// isSpace reports whether r separates arguments: Unicode white space (which includes the
// ideographic space U+3000) and the invisible separators that pasted text often carries.
func isSpace(r rune) bool {
	switch r {
	case '\u200b', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

// fold maps full-width ASCII variants (U+FF01–U+FF5E: digits, letters, '／', '－', '＋', …)
// to their ASCII forms, so that "１１－２０" reads like "11-20".
func fold(s string) string {
	if !strings.ContainsFunc(s, isFullWidth) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isFullWidth(r) {
			return r - 0xFEE0
		}
		return r
	}, s)
}

// foldKeepPunct is fold but for the full-width punctuation Chinese text is written
// with (，：；！？（）), which free text keeps as written: a topic read from it is
// echoed back.
func foldKeepPunct(s string) string {
	return strings.Map(func(r rune) rune {
		if isFullWidth(r) && !strings.ContainsRune("，：；！？（）", r) {
			return r - 0xFEE0
		}
		return r
	}, s)
}

func isFullWidth(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E }

// clean drops invalid UTF-8 and control characters, for text we keep or echo back.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// cleanKeepLines is clean but keeps line breaks, which end a pasted template's fields.
func cleanKeepLines(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' {
			return -1
		}
		return r
	}, s)
}

// quote prepares user input for an error message: cleaned and cut to a readable length.
func quote(s string) string {
	const max = 20
	s = clean(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
