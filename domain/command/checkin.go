package command

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Checkin is a parsed /checkin command.
type Checkin struct {
	// BranchCode is the branch named first in a private chat, as typed; "" when none.
	BranchCode string
	// Obligations are the obligation codes, in the order written, without duplicates.
	Obligations []string
	// Date is 00:00 of the day the activity was held, in the caller's location.
	Date time.Time
	// Present and Total are the attendance; both 0 when not given.
	Present, Total int
	// Topic is the free text after the other fields; "" when none.
	Topic string
}

// MaxTopicRunes is the longest topic accepted, in runes.
const MaxTopicRunes = 200

// maxPeople bounds attendance figures, far above any branch.
const maxPeople = 99999

// maxBranchCode bounds the length of a branch code.
const maxBranchCode = 64

// ParseError is a check-in the user must correct; Text says why, in one sentence.
type ParseError struct {
	Text Text
}

func (e *ParseError) Error() string { return "command: " + e.Text.String() }

func parseError(key string, pairs ...string) *ParseError {
	return &ParseError{Text: text(key, pairs...)}
}

// ObligationMatcher finds the obligation a word names.
type ObligationMatcher interface {
	// Match returns the code of the obligation that word names.
	Match(word string) (code string, ok bool)
	// Known lists the words for the obligations that an error message offers, e.g. "支委会".
	Known() []string
}

// MatcherEntry is one configured obligation for NewMatcher.
type MatcherEntry struct {
	Code    string
	Name    string
	Aliases []string
	// Word is what an error message offers for it (e.g. "支委会"); default Name, else Code.
	Word string
}

// Matcher is the ObligationMatcher over configured obligations. A word matches an
// obligation's code (case-insensitive), its name or one of its aliases, exactly, after
// trimming and folding full-width characters. When two entries claim the same word, a code
// beats a name and a name beats an alias; otherwise the earlier entry wins.
type Matcher struct {
	known []string
	index map[string]string
	// terms are the names and aliases (match keys), longest first, for free text.
	terms []string
	// words maps a code to the word offered for it.
	words map[string]string
}

// NewMatcher builds a Matcher over entries, in their order.
func NewMatcher(entries []MatcherEntry) *Matcher {
	m := &Matcher{index: make(map[string]string), words: make(map[string]string)}
	add := func(word, code string, term bool) {
		k := matchKey(word)
		if _, taken := m.index[k]; k != "" && !taken {
			m.index[k] = code
			if term {
				m.terms = append(m.terms, k)
			}
		}
	}
	for _, e := range entries {
		add(e.Code, e.Code, false)
		word := e.Code
		switch {
		case e.Word != "":
			word = e.Word
		case e.Name != "":
			word = e.Name
		}
		m.known = append(m.known, word)
		if _, ok := m.words[e.Code]; !ok {
			m.words[e.Code] = word
		}
	}
	for _, e := range entries {
		add(e.Name, e.Code, true)
	}
	for _, e := range entries {
		for _, a := range e.Aliases {
			add(a, e.Code, true)
		}
	}
	sortTerms(m.terms)
	return m
}

func matchKey(s string) string { return strings.ToLower(fold(strings.TrimFunc(s, isSpace))) }

// Match implements ObligationMatcher.
func (m *Matcher) Match(word string) (string, bool) {
	code, ok := m.index[matchKey(word)]
	return code, ok
}

// Known implements ObligationMatcher.
func (m *Matcher) Known() []string { return append([]string(nil), m.known...) }

var reBranch = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// looksLikeBranch reports whether s is written like a unit code (see the package doc).
func looksLikeBranch(s string) bool {
	return len(s) <= maxBranchCode && reBranch.MatchString(s) &&
		strings.ContainsFunc(s, func(r rune) bool { return r == '-' || 'A' <= r && r <= 'Z' })
}

func isJoiner(r rune) bool { return r == '+' || r == '＋' || r == '、' }

// NoObligation says that the activity is missing, offering the known words.
func NoObligation(known []string) Text { return Text{Key: "command.no_activity", Offer: known} }

// UnknownObligation says that word names no obligation, offering the known words.
func UnknownObligation(word string, known []string) Text {
	return Text{Key: "command.unknown_activity", Args: []string{"word", quote(word)}, Offer: known}
}

func noObligation(known []string) *ParseError { return &ParseError{Text: NoObligation(known)} }

// ParseCheckin reads the arguments of /checkin (see the package documentation for the
// grammar). now and loc give "today"; m names the obligations; allowBranch lets the first
// argument be a branch code (private chats). Every error is a *ParseError.
func ParseCheckin(args []string, now time.Time, loc *time.Location, m ObligationMatcher, allowBranch bool) (Checkin, error) {
	loc = orUTC(loc)
	args = nonEmpty(args)
	var c Checkin
	i := 0
	if allowBranch && len(args) > 0 && looksLikeBranch(args[0]) {
		if _, ok := m.Match(args[0]); !ok {
			c.BranchCode = args[0]
			i++
		}
	}
	if i == len(args) {
		return Checkin{}, noObligation(m.Known())
	}
	if _, st := parseDate(args[i], now, loc); st != notDate || isAttendance(args[i]) {
		return Checkin{}, noObligation(m.Known()) // "/checkin 11-20 7/9": the obligation is missing
	}

	// Obligations: "a+b", "a +b", "a+ b", "a + b".
	expr := args[i]
	for i++; i < len(args); i++ {
		last, _ := utf8.DecodeLastRuneInString(expr)
		first, _ := utf8.DecodeRuneInString(args[i])
		if !isJoiner(last) && !isJoiner(first) {
			break
		}
		expr += args[i]
	}
	for _, word := range strings.FieldsFunc(expr, isJoiner) {
		code, ok := m.Match(word)
		if !ok {
			return Checkin{}, unknownObligation(word, m.Known())
		}
		if !contains(c.Obligations, code) {
			c.Obligations = append(c.Obligations, code)
		}
	}
	if len(c.Obligations) == 0 {
		return Checkin{}, noObligation(m.Known())
	}

	// Date and attendance, in either order, each at most once.
	haveDate, haveAtt := false, false
	for ; i < len(args) && !(haveDate && haveAtt); i++ {
		tok := args[i]
		merged := false
		if halfAttendance(tok) && !haveAtt {
			// "应到9人 实到7人": the two halves of one attendance. A half alone is asked for,
			// not guessed.
			if i+1 >= len(args) || !halfAttendance(args[i+1]) {
				return Checkin{}, parseError("command.half_attendance", "written", quote(tok))
			}
			tok, merged = tok+args[i+1], true
		}
		readDate := !haveDate
		if isAttendance(tok) {
			// Only a bare "a/b" may also be a date. With no date read yet, it is one when an
			// attendance was read before it or follows it, or when it cannot be an
			// attendance (a > b).
			a, b, amb := ambiguous(tok)
			readDate = !haveDate && amb && (haveAtt || i+1 < len(args) && isAttendance(args[i+1]) || a > b)
		}
		if readDate {
			d, st := parseDate(tok, now, loc)
			switch st {
			case goodDate:
				c.Date, haveDate = d, true
				continue
			case badDate:
				return Checkin{}, parseError("command.date_unread", "date", quote(tok))
			case badCalendar:
				return Checkin{}, parseError("command.date_no_such_day", "date", quote(tok))
			}
		}
		if !haveAtt {
			p, t, ok, err := ParseAttendance(tok)
			if err != nil {
				return Checkin{}, err
			}
			if ok {
				c.Present, c.Total, haveAtt = p, t, true
				if merged {
					i++
				}
				continue
			}
		}
		break // the topic starts here
	}
	if !haveDate {
		c.Date = dayOf(now.In(loc)).in(loc)
	}

	words := make([]string, 0, len(args)-i)
	for _, a := range args[i:] {
		if a = strings.TrimFunc(clean(a), isSpace); a != "" {
			words = append(words, a)
		}
	}
	c.Topic = strings.Join(words, " ")
	if n := utf8.RuneCountInString(c.Topic); n > MaxTopicRunes {
		return Checkin{}, parseError("command.topic_too_long", "runes", strconv.Itoa(n), "max", strconv.Itoa(MaxTopicRunes))
	}
	return c, nil
}

func unknownObligation(word string, known []string) *ParseError {
	return &ParseError{Text: UnknownObligation(word, known)}
}

var (
	reAttendance = regexp.MustCompile(`^(\d+)人?/(\d+)人?$`)
	// reAttendanceCN is 应到9人实到7人 or 实到7人，应到9人 (人 and the separator optional).
	reAttendanceCN = regexp.MustCompile(`^(应到|实到)(\d+)人?[,，、;；]?(应到|实到)(\d+)人?[,，、;；。]?$`)
	// reHalfAttendance is one half of it: 应到9人 or 实到7人, perhaps followed by a separator.
	reHalfAttendance = regexp.MustCompile(`^(应到|实到)(\d+)人?[,，、;；]?$`)
)

// ParseAttendance reads present/total: 7/9, 7／9, 7人/9人, 应到9人实到7人, 实到7人，应到9人
// (full-width digits too). ok reports whether s is written as an attendance at all; err (a
// *ParseError) is set when it is, but the figures are impossible: present above total,
// total 0, or absurdly large.
func ParseAttendance(s string) (present, total int, ok bool, err error) {
	f := fold(strings.TrimFunc(s, isSpace))
	var ps, ts string
	if m := reAttendance.FindStringSubmatch(f); m != nil {
		ps, ts = m[1], m[2]
	} else if m := reAttendanceCN.FindStringSubmatch(f); m != nil {
		if m[1] == m[3] {
			return 0, 0, true, parseError("command.attendance_twice", "written", quote(s), "half", m[1])
		}
		ps, ts = m[2], m[4]
		if m[1] == "应到" {
			ps, ts = m[4], m[2]
		}
	} else {
		return 0, 0, false, nil
	}
	p, perr := strconv.Atoi(ps)
	t, terr := strconv.Atoi(ts)
	switch {
	case perr != nil || terr != nil || p > maxPeople || t > maxPeople:
		return 0, 0, true, parseError("command.attendance_absurd", "written", quote(s))
	case t < 1:
		return 0, 0, true, parseError("command.attendance_no_total")
	case p > t:
		return 0, 0, true, parseError("command.attendance_above", "present", strconv.Itoa(p), "total", strconv.Itoa(t))
	}
	return p, t, true, nil
}

// halfAttendance reports whether s is only 应到N人 or 实到N人.
func halfAttendance(s string) bool {
	return reHalfAttendance.MatchString(fold(strings.TrimFunc(s, isSpace)))
}

// isAttendance reports whether s is written as an attendance, valid or not.
func isAttendance(s string) bool {
	_, _, ok, _ := ParseAttendance(s)
	return ok
}

// ambiguous reports whether s may be a date as well as an attendance: a bare "a/b" with an
// ASCII slash and one or two digits on each side. "7／9" and "7人/9人" are attendances only.
func ambiguous(s string) (a, b int, ok bool) {
	m := reMD.FindStringSubmatch(fold(s))
	if m == nil || !strings.Contains(s, "/") {
		return 0, 0, false
	}
	a, _ = strconv.Atoi(m[1])
	b, _ = strconv.Atoi(m[2])
	return a, b, true
}

func nonEmpty(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if a = strings.TrimFunc(a, isSpace); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
