package outbox

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxTextUnits is Telegram's limit for a message text: 4,096 characters
// after entity parsing, counted in UTF-16 code units.
const MaxTextUnits = 4096

// SplitHTML cuts a Telegram-HTML text into parts of at most limit visible
// UTF-16 code units each, as Telegram counts them: tags count nothing, an
// entity such as &lt; counts as the character it stands for, a character
// outside the Basic Multilingual Plane (most emoji) counts two.
//
// Parts are cut at a line break when the part has one, else at a space, else
// between two characters (never inside a tag, an entity or a surrogate
// pair). The newline or space at a cut is dropped. Every part is well-formed
// on its own: tags open at a cut are closed at the end of the part and
// re-opened, with their attributes, at the start of the next one. Parts with
// no visible text are left out.
//
// A text that fits is returned unchanged as the only part. limit <= 0 means
// no limit.
func SplitHTML(text string, limit int) []string {
	atoms := parseHTML(text)
	total := 0
	for _, a := range atoms {
		total += a.units
	}
	if limit <= 0 || total <= limit {
		return []string{text}
	}
	var parts []string
	var open []htmlTag // tags open at the start of the current part
	start := 0
	for start < len(atoms) {
		units, i := 0, start
		lastNL, lastSpace := -1, -1
		for i < len(atoms) {
			a := atoms[i]
			if a.units > 0 && units+a.units > limit {
				break
			}
			units += a.units
			switch a.kind {
			case atomNewline:
				lastNL = i
			case atomSpace:
				lastSpace = i
			}
			i++
		}
		cut, next := len(atoms), len(atoms)
		if i < len(atoms) {
			switch {
			case atoms[i].kind == atomNewline: // the part ends right at a line break
				cut, next = i, i+1
			case lastNL > start:
				cut, next = lastNL, lastNL+1
			case atoms[i].kind == atomSpace:
				cut, next = i, i+1
			case lastSpace > start:
				cut, next = lastSpace, lastSpace+1
			case i > start:
				cut = i
				for cut > start+1 && atoms[cut-1].kind == atomOpen {
					cut-- // keep a tag that opens at the cut with its text
				}
				next = cut
			default: // a single atom wider than limit: emit it alone
				cut, next = start+1, start+1
			}
		}
		part, closing := renderPart(atoms[start:cut], open)
		if part != "" {
			parts = append(parts, part)
		}
		open = closing
		start = next
	}
	if len(parts) == 0 {
		return []string{text}
	}
	return parts
}

type atomKind int

const (
	atomChar atomKind = iota
	atomSpace
	atomNewline
	atomOpen
	atomClose
)

// atom is one indivisible piece of the text: a visible character (a rune or
// an entity), or a tag.
type atom struct {
	kind  atomKind
	raw   string
	units int    // visible UTF-16 units
	name  string // tag name, lower case
}

type htmlTag struct {
	name string
	raw  string // the start tag as written, to re-open it
}

// renderPart writes atoms prefixed by the re-opened tags of open and
// followed by the closing tags of whatever is still open; it returns the
// tags open at the end. A part with no visible non-space character is "".
func renderPart(atoms []atom, open []htmlTag) (string, []htmlTag) {
	var b strings.Builder
	stack := append([]htmlTag(nil), open...)
	for _, t := range open {
		b.WriteString(t.raw)
	}
	visible := false
	for _, a := range atoms {
		switch a.kind {
		case atomOpen:
			stack = append(stack, htmlTag{name: a.name, raw: a.raw})
		case atomClose:
			for j := len(stack) - 1; j >= 0; j-- {
				if stack[j].name == a.name {
					stack = stack[:j]
					break
				}
			}
		case atomChar:
			visible = true
		}
		b.WriteString(a.raw)
	}
	for j := len(stack) - 1; j >= 0; j-- {
		b.WriteString("</" + stack[j].name + ">")
	}
	if !visible {
		return "", stack
	}
	return b.String(), stack
}

// parseHTML splits text into atoms. It is lenient: a '<' or '&' that does not
// start a tag or a known entity is an ordinary character (Telegram would
// refuse such a text; splitting must not make it worse).
func parseHTML(text string) []atom {
	atoms := make([]atom, 0, len(text))
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '<':
			if a, n, ok := parseTag(text[i:]); ok {
				atoms = append(atoms, a)
				i += n
				continue
			}
		case c == '&':
			if units, n, ok := parseEntity(text[i:]); ok {
				atoms = append(atoms, atom{kind: atomChar, raw: text[i : i+n], units: units})
				i += n
				continue
			}
		case c == '\n':
			atoms = append(atoms, atom{kind: atomNewline, raw: "\n", units: 1})
			i++
			continue
		case c == ' ':
			atoms = append(atoms, atom{kind: atomSpace, raw: " ", units: 1})
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		atoms = append(atoms, atom{kind: atomChar, raw: text[i : i+n], units: utf16Len(r)})
		i += n
	}
	return atoms
}

func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// parseTag reads "<name ...>" or "</name>" at the start of s.
func parseTag(s string) (atom, int, bool) {
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return atom{}, 0, false
	}
	inner := s[1:end]
	closing := strings.HasPrefix(inner, "/")
	if closing {
		inner = inner[1:]
	}
	nameEnd := strings.IndexAny(inner, " \t\n\r/")
	if nameEnd < 0 {
		nameEnd = len(inner)
	}
	name := strings.ToLower(inner[:nameEnd])
	if name == "" || !isTagName(name) {
		return atom{}, 0, false
	}
	if closing {
		return atom{kind: atomClose, raw: s[:end+1], name: name}, end + 1, true
	}
	return atom{kind: atomOpen, raw: s[:end+1], name: name}, end + 1, true
}

func isTagName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return s[0] >= 'a' && s[0] <= 'z'
}

// parseEntity reads &lt; &gt; &amp; &quot; &#NN; &#xHH; at the start of s
// and returns the UTF-16 length of the character it stands for.
func parseEntity(s string) (int, int, bool) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return 0, 0, false
	}
	body := s[1:end]
	switch body {
	case "lt", "gt", "amp", "quot":
		return 1, end + 1, true
	}
	if body[0] != '#' {
		return 0, 0, false
	}
	var v uint64
	var err error
	if len(body) > 1 && (body[1] == 'x' || body[1] == 'X') {
		v, err = strconv.ParseUint(body[2:], 16, 32)
	} else {
		v, err = strconv.ParseUint(body[1:], 10, 32)
	}
	if err != nil || v > utf8.MaxRune {
		return 0, 0, false
	}
	return utf16Len(rune(v)), end + 1, true
}
