package notice

import (
	"fmt"
	"html"
	"slices"
	"strings"
)

// Template is the wording of (part of) a line with named placeholders, as a
// message catalogue holds it (internal/texts): text with <b>…</b>,
// <i>…</i> and <code>…</code> (not nested), the entities &lt; &gt; &amp;,
// and {name} placeholders, which may sit inside a tag. It is parsed once;
// filling it makes spans, so a value is never read as markup.
type Template struct{ segs []seg }

// seg is a literal text or, with name set, a placeholder.
type seg struct {
	style Style
	text  string
	name  string
}

var templateTags = map[string]Style{"b": Bold, "i": Italic, "code": Code}

// ParseTemplate parses a template; an unknown or unbalanced tag is an error.
func ParseTemplate(s string) (Template, error) {
	var t Template
	style, open := Plain, ""
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, seg{style: style, text: html.UnescapeString(lit.String())})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return Template{}, fmt.Errorf("notice: template %q: unclosed <", s)
			}
			tag := s[i+1 : i+end]
			i += end + 1
			name, closing := strings.CutPrefix(tag, "/")
			st, ok := templateTags[name]
			switch {
			case !ok:
				return Template{}, fmt.Errorf("notice: template %q: tag <%s> (want b, i or code)", s, tag)
			case closing && open != name, !closing && open != "":
				return Template{}, fmt.Errorf("notice: template %q: unbalanced <%s>", s, tag)
			}
			flush()
			if closing {
				style, open = Plain, ""
			} else {
				style, open = st, name
			}
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end > 1 && isName(s[i+1:i+end]) {
				flush()
				t.segs = append(t.segs, seg{style: style, name: s[i+1 : i+end]})
				i += end + 1
				continue
			}
			lit.WriteByte('{')
			i++
		default:
			j := strings.IndexAny(s[i:], "<{")
			if j < 0 {
				j = len(s) - i
			}
			lit.WriteString(s[i : i+j])
			i += j
		}
	}
	if open != "" {
		return Template{}, fmt.Errorf("notice: template %q: <%s> not closed", s, open)
	}
	flush()
	return t, nil
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return s != ""
}

// Append appends the template's spans to l, each {name} filled with the
// value that follows name in pairs (raw text: renderers escape it); a
// placeholder without a value is left empty.
func (t Template) Append(l Line, pairs ...string) Line {
	l = slices.Grow(l, len(t.segs))
	for _, sg := range t.segs {
		if sg.name == "" {
			l = append(l, Span{Style: sg.style, Text: sg.text})
			continue
		}
		if v := value(sg.name, pairs); v != "" {
			l = append(l, Span{Style: sg.style, Text: v})
		}
	}
	return l
}

// Text is the text of the template filled (Append), without markup: a
// button's label. It is one allocation.
func (t Template) Text(pairs ...string) string {
	n := 0
	for _, sg := range t.segs {
		if sg.name == "" {
			n += len(sg.text)
		} else {
			n += len(value(sg.name, pairs))
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, sg := range t.segs {
		if sg.name == "" {
			b.WriteString(sg.text)
		} else {
			b.WriteString(value(sg.name, pairs))
		}
	}
	return b.String()
}

// value is the value that follows name in pairs ("" if none).
func value(name string, pairs []string) string {
	for k := 0; k+1 < len(pairs); k += 2 {
		if pairs[k] == name {
			return pairs[k+1]
		}
	}
	return ""
}

// Line is the template filled as a line of its own (see Append).
func (t Template) Line(pairs ...string) Line { return t.Append(nil, pairs...) }

// Placeholders lists the template's placeholder names in order of first use.
func (t Template) Placeholders() []string {
	var out []string
	for _, sg := range t.segs {
		if sg.name != "" && !slices.Contains(out, sg.name) {
			out = append(out, sg.name)
		}
	}
	return out
}
