package notice

import "strings"

// Builder builds many lines cheaply, for a producer of many notices (the
// health check's digests): the text of every line goes into one shared
// buffer and the spans into one shared slice, allocated in chunks, and
// adjacent text of one style becomes one span, so a line costs about what
// its rendered string would. The lines it returns stay valid and are never
// changed by it (a strings.Builder only ever appends: the strings taken
// from it keep their bytes). The zero value is ready to use.
type Builder struct {
	text  strings.Builder
	spans []Span
	start int // spans[start:] is the line being built
	run   int // offset in text of the last span's start; -1 = it cannot grow
}

// Chunk sizes: a new text buffer or span slice is begun when the current
// one has less room than a line needs.
const (
	textChunk = 64 << 10
	spanChunk = 2048
)

// Add appends text in a style (not Link) to the current line; "" adds
// nothing.
func (b *Builder) Add(style Style, s string) {
	if s == "" {
		return
	}
	if b.text.Cap()-b.text.Len() < len(s) {
		b.text = strings.Builder{}
		b.text.Grow(max(textChunk, len(s)))
		b.run = -1 // the last span's text lies in the old buffer
	}
	if n := len(b.spans); n > b.start && b.run >= 0 && b.spans[n-1].Style == style {
		b.text.WriteString(s)
		b.spans[n-1].Text = b.text.String()[b.run:]
		return
	}
	if len(b.spans) == cap(b.spans) {
		// A new chunk: the line built so far moves with it.
		next := make([]Span, 0, spanChunk+len(b.spans)-b.start)
		b.spans = append(next, b.spans[b.start:]...)
		b.start = 0
	}
	b.run = b.text.Len()
	b.text.WriteString(s)
	b.spans = append(b.spans, Span{Style: style, Text: b.text.String()[b.run:]})
}

// Line ends the current line and returns it (clipped: appending to it
// copies).
func (b *Builder) Line() Line {
	l := b.spans[b.start:len(b.spans):len(b.spans)]
	b.start, b.run = len(b.spans), -1
	if len(l) == 0 {
		return nil
	}
	return l
}

// Write appends the template's spans to the builder's current line, each
// {name} filled with the value that follows name in pairs (see Append).
func (t Template) Write(b *Builder, pairs ...string) {
	for _, sg := range t.segs {
		if sg.name == "" {
			b.Add(sg.style, sg.text)
			continue
		}
		b.Add(sg.style, value(sg.name, pairs))
	}
}
