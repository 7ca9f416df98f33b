package outbox

import (
	"encoding/json"
	"strings"
)

// jsonLen is the length of s as a JSON string (quotes included), written
// without HTML escaping: what a robot's request body spends on it.
func jsonLen(s string) int {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return b.Len() - 1 // Encode adds a newline
}

// byteLen is the length of s in UTF-8 bytes.
func byteLen(s string) int { return len(s) }

// cutText splits s into parts whose measure is at most limit: at line
// breaks when it can, else at spaces, else between characters. The line
// break or space at a cut is dropped; empty parts are left out. A text that
// fits is returned whole. measure must be additive over concatenation up to
// a constant (byte and JSON lengths are).
func cutText(s string, limit int, measure func(string) int) []string {
	if limit <= 0 || measure(s) <= limit {
		return []string{s}
	}
	base := measure("")
	sep := measure("\n") - base
	var parts []string
	var cur []string
	size := base // measure of strings.Join(cur, "\n")
	emit := func() {
		if t := strings.TrimRight(strings.Join(cur, "\n"), " \n"); strings.TrimSpace(t) != "" {
			parts = append(parts, t)
		}
		cur, size = nil, base
	}
	for _, line := range strings.Split(s, "\n") {
		if len(cur) == 0 && len(parts) > 0 && strings.TrimSpace(line) == "" {
			continue // no blank lines at the top of a continued part
		}
		add := measure(line) - base
		if len(cur) > 0 {
			add += sep
		}
		if size+add <= limit {
			cur, size = append(cur, line), size+add
			continue
		}
		emit()
		if strings.TrimSpace(line) == "" {
			continue
		}
		for measure(line) > limit {
			head, rest := cutLine(line, limit, measure)
			if strings.TrimSpace(head) != "" {
				parts = append(parts, strings.TrimRight(head, " "))
			}
			line = rest
		}
		cur, size = []string{line}, measure(line)
	}
	emit()
	return parts
}

// cutLine takes the longest head of line that fits limit (at least one
// character), preferring to cut at a space (dropped) in its second half over
// cutting between two characters.
func cutLine(line string, limit int, measure func(string) int) (head, rest string) {
	idx := make([]int, 0, len(line)+1) // rune boundaries
	for i := range line {
		idx = append(idx, i)
	}
	idx = append(idx, len(line))
	best, lo, hi := 1, 1, len(idx)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		if measure(line[:idx[mid]]) <= limit {
			best, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	end := idx[best]
	if line[end] == ' ' {
		return line[:end], line[end+1:]
	}
	if sp := strings.LastIndexByte(line[:end], ' '); sp > 0 && sp >= end/2 {
		return line[:sp], line[sp+1:]
	}
	return line[:end], line[end:]
}
