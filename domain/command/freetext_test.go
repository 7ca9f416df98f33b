package command

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/domain/points"
)

var cst = time.FixedZone("CST", 8*3600)

// corpusNow is "today" of the corpus: Thursday 2026-11-26, 10:00 in Shanghai.
var corpusNow = time.Date(2026, 11, 26, 10, 0, 0, 0, cst)

// defaultMatcher is the matcher the app builds over the default obligations.
func defaultMatcher() *Matcher {
	var es []MatcherEntry
	for _, o := range health.DefaultObligations() {
		if !o.TermEnd {
			es = append(es, MatcherEntry{Code: o.Code, Name: o.Name, Aliases: o.Aliases, Word: o.Word()})
		}
	}
	return NewMatcher(es)
}

type corpusLine struct {
	n                  int
	kind, text, expect string
}

func readCorpus(t testing.TB, path string) []corpusLine {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || len(f) > 3 {
			t.Fatalf("%s line %d: %d fields", path, n, len(f))
		}
		c := corpusLine{n: n, kind: f[0], text: strings.ReplaceAll(f[1], `\n`, "\n")}
		if len(f) == 3 {
			c.expect = f[2]
		}
		out = append(out, c)
	}
	return out
}

// describeReading writes a reading in the corpus's notation.
func describeReading(r Reading) map[string]string {
	m := map[string]string{"ob": strings.Join(r.Obligations, "+"), "date": "-"}
	if r.DateWritten {
		m["date"] = r.Date.Format("2006-01-02")
	}
	if r.Present != 0 || r.Total != 0 {
		m["att"] = fmt.Sprintf("%d/%d", r.Present, r.Total)
	}
	if r.Topic != "" {
		m["topic"] = r.Topic
	}
	if r.MakeUp != (health.Period{}) {
		m["makeup"] = r.MakeUp.Label()
	}
	var unsure []string
	for _, u := range r.Unsure {
		unsure = append(unsure, u.Field)
		if u.Question.Key == "" {
			m["unsure"] = "a question is missing"
		}
	}
	slices.Sort(unsure)
	if len(unsure) > 0 {
		m["unsure"] = strings.Join(unsure, ",")
	}
	return m
}

func parseExpect(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	if m["date"] == "" {
		m["date"] = "-"
	}
	if u := m["unsure"]; u != "" {
		f := strings.Split(u, ",")
		slices.Sort(f)
		m["unsure"] = strings.Join(f, ",")
	}
	return m
}

// TestCorpus measures the free-text reader on the corpus (SPEC §7.3, issue 15): the exact
// readings must be at least 95 %, and no reading may be silently wrong — differ from the
// expected one in a field it does not mark unsure, or claim another item than expected.
func TestCorpus(t *testing.T) {
	st := measureCorpus(t, "testdata/corpus.tsv", true)
	if st.n < 150 || st.kinds["ci"] < 50 || st.kinds["cl"] < 30 || st.kinds["no"] < 30 {
		t.Fatalf("the corpus is too small: %d messages %v", st.n, st.kinds)
	}
	st.check(t)
}

// TestHeldOutCorpus measures the reader on messages it was not developed on
// (testdata/heldout.tsv). The contract (issue 15) is at least 95 % exact and none
// silently wrong. The current (twenty-second) held-out batch read 85 of 87 exact (97.7 %)
// with 0 silently wrong on its first run; the four batches before it (eighteenth to
// twenty-first) read 92–96.5 % with 0–3 silently wrong on theirs (BENCHMARKS.md). This
// test holds the measured figures so that they cannot fall; when the reader is changed
// for a line of the batch, the batch moves to corpus.tsv and a fresh one replaces it.
func TestHeldOutCorpus(t *testing.T) {
	const exactFloor, silentCeiling = 85, 0
	st := measureCorpus(t, "testdata/heldout.tsv", false)
	if st.n < 80 || st.kinds["ci"] < 35 || st.kinds["cl"] < 20 || st.kinds["no"] < 20 {
		t.Fatalf("the held-out corpus is too small: %d messages %v", st.n, st.kinds)
	}
	rate := float64(st.exact) / float64(st.n)
	t.Logf("%d messages %v, exact readings %d (%.1f%%; contract 95%%), silently wrong %d (contract 0)", st.n, st.kinds, st.exact, 100*rate, st.silent)
	if st.exact < exactFloor || st.silent > silentCeiling {
		t.Errorf("held-out readings fell below the measured floor: %d exact (floor %d), %d silently wrong (ceiling %d)", st.exact, exactFloor, st.silent, silentCeiling)
	}
}

// corpusStats is what the reader did on a corpus.
type corpusStats struct {
	n, exact, silent int
	kinds            map[string]int
}

func (st corpusStats) check(t *testing.T) {
	t.Helper()
	rate := float64(st.exact) / float64(st.n)
	t.Logf("%d messages %v, exact readings %d (%.1f%%), silently wrong %d", st.n, st.kinds, st.exact, 100*rate, st.silent)
	if rate < 0.95 {
		t.Errorf("exact-reading rate %.1f%% is below 95%%", 100*rate)
	}
	if st.silent > 0 {
		t.Errorf("%d readings silently wrong", st.silent)
	}
}

// measureCorpus reads every message of the corpus at path and logs each reading
// that is not exact; strict fails the test on each silently wrong one.
func measureCorpus(t *testing.T, path string, strict bool) corpusStats {
	t.Helper()
	m := defaultMatcher()
	items := points.DefaultCatalog()
	lines := readCorpus(t, path)
	st := corpusStats{n: len(lines), kinds: map[string]int{}}
	for _, c := range lines {
		st.kinds[c.kind]++
		r, isCheckin := ReadCheckin(c.text, corpusNow, cst, m)
		cr, isClaim := ReadClaim(items, c.text)
		ok, wrong := false, ""
		switch c.kind {
		case "no":
			ok = !isCheckin && !isClaim
			if isCheckin && r.Sure() {
				wrong = fmt.Sprintf("chatter read as a check-in %v", describeReading(r))
			}
			if isClaim && cr.Item != nil {
				wrong = fmt.Sprintf("chatter read as a claim for %s", cr.Item.Code)
			}
			if !ok && wrong == "" {
				t.Logf("line %d %q: chatter offered for confirmation (not exact)", c.n, c.text)
			}
		case "ci":
			if !isCheckin {
				t.Logf("line %d %q: not seen as a check-in", c.n, c.text)
				break
			}
			ok, wrong = compareReading(r, parseExpect(c.expect))
			if !ok && wrong == "" {
				t.Logf("line %d %q: got %v, want %v", c.n, c.text, describeReading(r), parseExpect(c.expect))
			}
		case "cl":
			if !isClaim {
				t.Logf("line %d %q: not seen as a claim", c.n, c.text)
				break
			}
			want := parseExpect(c.expect)
			if code := want["item"]; code != "" {
				switch {
				case cr.Item != nil && cr.Item.Code == code:
					ok = true
				case cr.Item != nil:
					wrong = fmt.Sprintf("item %s, want %s", cr.Item.Code, code)
				default:
					t.Logf("line %d %q: candidates %v, want %s", c.n, c.text, codes(cr.Candidates), code)
				}
				break
			}
			if cr.Item != nil {
				wrong = fmt.Sprintf("item %s, want candidates %s", cr.Item.Code, want["cands"])
				break
			}
			ok = true
			for _, code := range strings.Split(want["cands"], ",") {
				ok = ok && slices.Contains(codes(cr.Candidates), code)
			}
			if !ok {
				t.Logf("line %d %q: candidates %v, want %s among them", c.n, c.text, codes(cr.Candidates), want["cands"])
			}
		default:
			t.Fatalf("%s line %d: kind %q", path, c.n, c.kind)
		}
		if ok {
			st.exact++
		}
		if wrong != "" {
			st.silent++
			report := t.Errorf
			if !strict {
				report = t.Logf
			}
			report("line %d %q: silently wrong: %s", c.n, c.text, wrong)
		}
	}
	return st
}

// compareReading compares a check-in reading with the expected one: exact
// when every field matches; wrong (a description) when a field differs that
// the reading does not mark unsure. The activities are compared as a set, and
// a field both the reading and the expectation mark unsure is asked, so its
// value does not count. A topic to confirm (TopicToConfirm) is asked on the
// confirmation: when it differs the reading is not exact, but not silent.
func compareReading(r Reading, want map[string]string) (exact bool, wrong string) {
	got := describeReading(r)
	got["ob"], want["ob"] = sortedPlus(got["ob"]), sortedPlus(want["ob"])
	exact = true
	for _, k := range []string{"ob", "date", "att", "topic", "makeup", "unsure"} {
		field := map[string]string{"ob": FieldActivity, "date": FieldDate, "att": FieldAttendance, "makeup": FieldMakeUp}[k]
		if got[k] == want[k] || (field != "" && r.UnsureOf(field) && slices.Contains(strings.Split(want["unsure"], ","), field)) {
			continue
		}
		exact = false
		if k == "topic" && r.TopicToConfirm {
			continue // the confirmation asks whether it is the topic: asked, not silent
		}
		if k != "unsure" && (field == "" || !r.UnsureOf(field)) {
			wrong = fmt.Sprintf("%s = %q, want %q", k, got[k], want[k])
		}
	}
	return exact, wrong
}

// sortedPlus sorts the codes of "a+b".
func sortedPlus(s string) string {
	f := strings.Split(s, "+")
	slices.Sort(f)
	return strings.Join(f, "+")
}

func codes(items []points.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Code
	}
	return out
}

// The reader takes "today" from its arguments: on 1 January a 12月 date is last year's and
// 补开12月 asks for last December.
func TestReadCheckinOnNewYear(t *testing.T) {
	now := time.Date(2027, 1, 1, 9, 0, 0, 0, cst)
	r, ok := ReadCheckin("补开12月支委会，12月31日开的，应到9人实到7人", now, cst, defaultMatcher())
	if !ok || !r.Sure() {
		t.Fatalf("not read: %v %+v", ok, r)
	}
	if got := r.Date.Format("2006-01-02"); got != "2026-12-31" || r.MakeUp.Label() != "2026年12月" || r.Present != 7 || r.Total != 9 {
		t.Fatalf("read %s %s %d/%d", got, r.MakeUp.Label(), r.Present, r.Total)
	}
	cmd := CheckinCommand(r, now, cst, defaultMatcher())
	if cmd != "打卡 支委会 补开2026年12月 2026年12月31日 7/9" {
		t.Fatalf("command %q", cmd)
	}
	if mu, ok := health.ParseMakeUp(strings.Fields(cmd)[2]); !ok || mu.Year != 2026 || mu.Month != 12 {
		t.Fatalf("the make-up word reads back as %+v %v", mu, ok)
	}
	r, _ = ReadCheckin("昨天开了党员大会 30/32", now, cst, defaultMatcher())
	if got := r.Date.Format("2006-01-02"); got != "2026-12-31" {
		t.Fatalf("昨天 on 1 January = %s", got)
	}
	if got := CheckinCommand(r, now, cst, defaultMatcher()); got != "打卡 党员大会 2026年12月31日 30/32" {
		t.Fatalf("command %q", got)
	}
}

func TestReadCheckinAsksNotGuesses(t *testing.T) {
	r, ok := ReadCheckin("周五开了支委会，7/9", corpusNow, cst, defaultMatcher())
	if !ok || !r.UnsureOf(FieldDate) || !reflect.DeepEqual(r.Unsure[0].Question, text("command.ask.weekday", "weekday", "周五")) {
		t.Fatalf("a bare weekday: %v %+v", ok, r)
	}
	r, _ = ReadCheckin("支委会 11/20", corpusNow, cst, defaultMatcher())
	if !r.UnsureOf(FieldAttendance) || !reflect.DeepEqual(r.Unsure[0].Question,
		text("command.ask.attendance_or_date", "written", "11/20", "present", "11", "total", "20", "month", "11", "day", "20")) {
		t.Fatalf("11/20: %+v", r)
	}
}

func TestCheckinCommandRoundTrips(t *testing.T) {
	m := defaultMatcher()
	r, ok := ReadCheckin("今天支委会和党课一起开了，应到9人实到8人，主题：学习全会精神", corpusNow, cst, m)
	if !ok {
		t.Fatal("not read")
	}
	cmd := CheckinCommand(r, corpusNow, cst, m)
	if cmd != "打卡 支委会+党课 11月26日 8/9 学习全会精神" {
		t.Fatalf("command %q", cmd)
	}
	c, err := ParseCheckin(strings.Fields(cmd)[1:], corpusNow, cst, m, false)
	if err != nil || !slices.Equal(c.Obligations, r.Obligations) || !c.Date.Equal(r.Date) || c.Present != 8 || c.Total != 9 || c.Topic != r.Topic {
		t.Fatalf("the command reads back as %+v, %v", c, err)
	}
}

// BenchmarkReadCheckin is the cost of reading one message of the corpus.
func BenchmarkReadCheckin(b *testing.B) {
	m := defaultMatcher()
	items := points.DefaultCatalog()
	lines := readCorpus(b, "testdata/corpus.tsv")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := lines[i%len(lines)]
		if _, ok := ReadCheckin(c.text, corpusNow, cst, m); !ok {
			ReadClaim(items, c.text)
		}
	}
}

// FuzzReadCheckin: any text reads without a panic, and a sure reading is a recordable one
// (attendance within bounds, a date not after today, a topic within its limit).
func FuzzReadCheckin(f *testing.F) {
	for _, c := range readCorpus(f, "testdata/corpus.tsv") {
		f.Add(c.text)
	}
	m := defaultMatcher()
	items := points.DefaultCatalog()
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := ReadCheckin(s, corpusNow, cst, m)
		ReadClaim(items, s)
		if !ok {
			return
		}
		if len(r.Obligations) == 0 {
			t.Fatalf("%q: a check-in without an activity", s)
		}
		if !r.Sure() {
			return
		}
		if r.Total != 0 && (r.Present < 0 || r.Present > r.Total || r.Total > maxPeople) || r.Total == 0 && r.Present != 0 {
			t.Fatalf("%q: sure attendance %d/%d", s, r.Present, r.Total)
		}
		if IsFuture(r.Date, corpusNow, cst) {
			t.Fatalf("%q: sure date %v after today", s, r.Date)
		}
		if n := len([]rune(r.Topic)); n > MaxTopicRunes {
			t.Fatalf("%q: topic of %d runes", s, n)
		}
	})
}

// A year-less date resolves a few weeks into last year (12月20日 on 5 January), but not
// most of a year back (12月3日 on 26 November): that is asked.
func TestReadCheckinStaleDate(t *testing.T) {
	m := defaultMatcher()
	r, ok := ReadCheckin("12月20日开了支委会，应到7人实到6人", time.Date(2027, 1, 5, 9, 0, 0, 0, cst), cst, m)
	if !ok || !r.Sure() || r.Date.Format("2006-01-02") != "2026-12-20" {
		t.Fatalf("12月20日 on 5 January: %v %+v", ok, r)
	}
	r, ok = ReadCheckin("12月3日开了支委会，应到7人实到6人", corpusNow, cst, m)
	if !ok || !r.UnsureOf(FieldDate) || len(r.Unsure) != 1 || !reflect.DeepEqual(r.Unsure[0].Question, text("command.ask.date_year", "date", "12月3日")) {
		t.Fatalf("12月3日 on 26 November: %v %+v", ok, r)
	}
	r, _ = ReadCheckin("2025年12月3日开了支委会，应到7人实到6人", corpusNow, cst, m)
	if !r.Sure() || r.Date.Format("2006-01-02") != "2025-12-03" {
		t.Fatalf("a written year is taken: %+v", r)
	}
}

// Activities named apart (not as one sitting) are asked; one named only in the topic is
// no activity.
func TestReadCheckinPlacesActivities(t *testing.T) {
	m := defaultMatcher()
	r, _ := ReadCheckin("昨天开了支委会，应到7人实到7人，议题：研究党费收缴工作", corpusNow, cst, m)
	if !r.Sure() || strings.Join(r.Obligations, "+") != "committee_meeting" || r.Topic != "研究党费收缴工作" {
		t.Fatalf("activity in the topic: %+v", r)
	}
	r, _ = ReadCheckin("昨天召开了党员大会，30/32，支委都参加了", corpusNow, cst, m)
	if !r.UnsureOf(FieldActivity) || !reflect.DeepEqual(r.Unsure[0].Question, text("command.ask.activity", "names", "党员大会、支委会", "joined", "党员大会和支委会")) {
		t.Fatalf("activities apart: %+v", r)
	}
	r, _ = ReadCheckin("昨天召开了党员大会暨党课，30/32", corpusNow, cst, m)
	if !r.Sure() || len(r.Obligations) != 2 {
		t.Fatalf("one sitting: %+v", r)
	}
}

// A topic written after a label is read; one found without a label (a verb of the list, or
// the one clause nothing else was read in) is to be confirmed, and a clause that says how
// the meeting went is no topic.
func TestReadCheckinTopicToConfirm(t *testing.T) {
	m := defaultMatcher()
	for _, tc := range []struct {
		text, topic string
		confirm     bool
	}{
		{"昨天开了支委会，5个人都到了，主题：商量冬季防火", "商量冬季防火", false},
		{"昨天开了支委会，5个人都到了，商量冬季防火", "商量冬季防火", true},
		{"昨天开了支委会，5/5，研究了冬季防火工作", "研究了冬季防火工作", true},
		{"前天主题党日：重温入党誓词，观看红色电影，应到20，实到20", "重温入党誓词，观看红色电影", false},
		{"昨天开了支委会，5/5，大家发言很积极", "", false},
	} {
		r, ok := ReadCheckin(tc.text, corpusNow, cst, m)
		if !ok || !r.Sure() || r.Topic != tc.topic || r.TopicToConfirm != tc.confirm {
			t.Errorf("%q: %v topic %q to confirm %v, want %q %v", tc.text, ok, r.Topic, r.TopicToConfirm, tc.topic, tc.confirm)
		}
	}
}
