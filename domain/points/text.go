package points

import (
	"strconv"
	"strings"
	"unicode"
)

// fold maps full-width ASCII variants (U+FF01–U+FF5E) to ASCII, so that "Ａ０１" reads like "A01".
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xFF01 && r <= 0xFF5E {
			return r - 0xFEE0
		}
		return r
	}, s)
}

// key normalises a word for comparison: trimmed, folded, lower-case.
func key(s string) string {
	return strings.ToLower(fold(strings.TrimFunc(s, unicode.IsSpace)))
}

// Signed writes a number of points as every text shows it: +5, 0, -3.
func Signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
