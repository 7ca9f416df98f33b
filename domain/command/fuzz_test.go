package command

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// fuzzBase is the fuzzers' "now" at offset 0: 10:00 on 2026-11-20 in Shanghai.
var fuzzBase = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

// fuzzNow maps any offset (seconds) to an instant within ten years of fuzzBase.
func fuzzNow(offset int64) time.Time {
	const span = 10 * 366 * 24 * 3600
	return fuzzBase.Add(time.Duration(offset%span) * time.Second)
}

// FuzzParseCheckin feeds a message body through Parse and ParseCheckin, with and without a
// branch, at an instant derived from offset. Seeds live in testdata/fuzz/FuzzParseCheckin.
func FuzzParseCheckin(f *testing.F) {
	loc := shanghai(f)
	m := testMatcher()
	codes := map[string]bool{}
	for _, code := range m.index {
		codes[code] = true
	}
	f.Fuzz(func(t *testing.T, text string, offset int64) {
		now := fuzzNow(offset)
		cmd, ok := Parse("/checkin "+text, "zhibu_bot", testWords)
		if !ok || cmd.Name != CheckinName {
			t.Fatalf("Parse(/checkin %q) = %#v, %v", text, cmd, ok)
		}
		for _, allowBranch := range []bool{false, true} {
			c, err := ParseCheckin(cmd.Args, now, loc, m, allowBranch)
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Text.Key == "" || !utf8.ValidString(strings.Join(pe.Text.Args, "")) {
					t.Fatalf("error %T %q: want a *ParseError with a message and valid values", err, err)
				}
				continue
			}
			checkCheckin(t, c, loc, codes, allowBranch)
		}
		for _, a := range cmd.Args {
			if d, ok := ParseDate(a, now, loc); ok && !isMidnight(d, loc) {
				t.Fatalf("ParseDate(%q) = %v: not a midnight in %v", a, d, loc)
			}
		}
	})
}

func checkCheckin(t *testing.T, c Checkin, loc *time.Location, codes map[string]bool, allowBranch bool) {
	t.Helper()
	if len(c.Obligations) == 0 {
		t.Fatal("success without an obligation")
	}
	seen := map[string]bool{}
	for _, o := range c.Obligations {
		if !codes[o] || seen[o] {
			t.Fatalf("obligations %q: unknown or repeated %q", c.Obligations, o)
		}
		seen[o] = true
	}
	if c.Present < 0 || c.Present > c.Total || (c.Total == 0) != (c.Present == 0 && c.Total == 0) || c.Total > maxPeople {
		t.Fatalf("attendance %d/%d", c.Present, c.Total)
	}
	if !isMidnight(c.Date, loc) {
		t.Fatalf("date %v is not a midnight in %v", c.Date, loc)
	}
	if !utf8.ValidString(c.Topic) || utf8.RuneCountInString(c.Topic) > MaxTopicRunes ||
		strings.ContainsFunc(c.Topic, unicode.IsControl) || strings.Contains(c.Topic, "  ") ||
		strings.TrimFunc(c.Topic, isSpace) != c.Topic {
		t.Fatalf("topic %q", c.Topic)
	}
	if c.BranchCode != "" && (!allowBranch || !looksLikeBranch(c.BranchCode)) {
		t.Fatalf("branch %q with allowBranch=%v", c.BranchCode, allowBranch)
	}
}

func isMidnight(d time.Time, loc *time.Location) bool {
	y, mo, dd := d.Date()
	return d.Location() == loc && d.Equal(time.Date(y, mo, dd, 0, 0, 0, 0, loc))
}

// FuzzParse checks the command recogniser's invariants on any text and bot username.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/checkin 支委会 11-20 7/9 学习", "/checkin@zhibu_bot 党课", "/checkin@other_bot 党课",
		"打卡 党课", "签到：主题党日", "打卡党课", "积分项目", "积分很重要", "我的积分？", "/", "/@", "/a@b@c", "/ä", "/checkin\u3000党课",
		"/start abc123", "\u3000\u200b/points", "/usr/bin", "/x\xff", "签\xff到", "",
	} {
		f.Add(s, "zhibu_bot")
	}
	f.Add("/checkin@ZHIBU_BOT x", "@zhibu_bot")
	f.Add("/checkin@x y", "")
	f.Fuzz(func(t *testing.T, text, bot string) {
		c, ok := Parse(text, bot, testWords)
		if !ok {
			if c.Name != "" || c.Args != nil || c.Rest != "" {
				t.Fatalf("refused but returned %#v", c)
			}
			return
		}
		if c.Name == "" || len(c.Name) > maxNameLen || strings.ContainsAny(c.Name, "@/") || c.Name != strings.ToLower(c.Name) {
			t.Fatalf("name %q", c.Name)
		}
		if wordLen(c.Name) != len(c.Name) {
			t.Fatalf("name %q has characters outside [a-z0-9_]", c.Name)
		}
		if c.Plain != !strings.HasPrefix(strings.TrimLeftFunc(text, isSpace), "/") {
			t.Fatalf("Plain = %v for %q", c.Plain, text)
		}
		if c.Plain && (testWords[c.Word] != c.Name || !strings.HasPrefix(strings.TrimLeftFunc(text, isSpace), c.Word)) {
			t.Fatalf("word %q → %q for %q", c.Word, c.Name, text)
		}
		if strings.TrimFunc(c.Rest, isSpace) != c.Rest {
			t.Fatalf("rest %q is not trimmed", c.Rest)
		}
		for _, a := range c.Args {
			if a == "" || strings.ContainsFunc(a, isSpace) {
				t.Fatalf("arg %q", a)
			}
		}
		if got := strings.FieldsFunc(c.Rest, isSpace); len(got) != len(c.Args) {
			t.Fatalf("args %q do not split rest %q", c.Args, c.Rest)
		}
	})
}
