package points

import (
	"regexp"
	"strings"
	"unicode"
)

var reMobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// ParseMemberRef reads the target of /deduct and /redeem: an 11-digit mainland mobile
// number (optionally +86, 86 or 0086 first; '-' and full-width digits allowed) is returned
// as phone, in 11 digits; anything else, trimmed, is a household code. An 11-digit household
// code that looks like a mobile number is read as a phone.
func ParseMemberRef(s string) (phone string, household string) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	d := strings.ReplaceAll(fold(s), "-", "")
	for _, p := range []string{"+86", "0086", "86"} {
		if rest, ok := strings.CutPrefix(d, p); ok && reMobile.MatchString(rest) {
			return rest, ""
		}
	}
	if reMobile.MatchString(d) {
		return d, ""
	}
	return "", s
}
