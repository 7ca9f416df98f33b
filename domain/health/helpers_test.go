package health

import (
	"html"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// shanghai loads Asia/Shanghai from the embedded zone database, so tests
// pass with TZ=UTC and without system zone files.
func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("load Asia/Shanghai: %v", err)
	}
	return loc
}

// at builds an instant in loc.
func at(loc *time.Location, y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, loc)
}

func obligation(t testing.TB, code string) Obligation {
	t.Helper()
	for _, ob := range DefaultObligations() {
		if ob.Code == code {
			return ob
		}
	}
	t.Fatalf("no default obligation %q", code)
	return Obligation{}
}

// TelegramLen is the length Telegram counts for an HTML-mode text: UTF-16
// code units of the text after tags are removed and entities decoded. The
// tests measure the rendered texts with it, independently of notice.Len.
func TelegramLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		j, w := unitEnd(s, i)
		n += w
		i = j
	}
	return n
}

// unitEnd returns the end of the unit starting at s[i] (a tag, an entity or
// one character) and its length in UTF-16 code units.
func unitEnd(s string, i int) (end, units int) {
	switch s[i] {
	case '<':
		if j := strings.IndexByte(s[i:], '>'); j >= 0 {
			return i + j + 1, 0
		}
	case '&':
		if j := strings.IndexByte(s[i:], ';'); j > 1 && j <= 10 {
			n := 0
			for _, r := range html.UnescapeString(s[i : i+j+1]) {
				n += utf16.RuneLen(r)
			}
			return i + j + 1, n
		}
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return i + w, utf16.RuneLen(r)
}

// wording is the notices catalogue's wording, read from its file as
// internal/texts embeds it (this package may not import texts, which
// declares its keys from here).
var wording = func() *Wording {
	raw, err := os.ReadFile("../../internal/texts/notices.yaml")
	if err != nil {
		panic(err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	w, err := NewWording(func(k string) string { return m[k] })
	if err != nil {
		panic(err)
	}
	return w
}()

// periodKeys joins the keys of ps with commas, for comparing lists of
// periods in one string.
func periodKeys(ps []Period) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Key())
	}
	return strings.Join(s, ",")
}
