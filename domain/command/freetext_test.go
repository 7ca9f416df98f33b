package command

import (
	"bufio"
	"fmt"
	"os"
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

func readCorpus(t testing.TB) []corpusLine {
	f, err := os.Open("testdata/corpus.tsv")
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
			t.Fatalf("corpus line %d: %d fields", n, len(f))
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
		if u.Question == "" {
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
	m := defaultMatcher()
	items := points.DefaultCatalog()
	lines := readCorpus(t)
	kinds := map[string]int{}
	exact, silent := 0, 0
	for _, c := range lines {
		kinds[c.kind]++
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
			got, want := describeReading(r), parseExpect(c.expect)
			ok = true
			for _, k := range []string{"ob", "date", "att", "topic", "makeup", "unsure"} {
				if got[k] == want[k] {
					continue
				}
				ok = false
				field := map[string]string{"date": FieldDate, "att": FieldAttendance, "makeup": FieldMakeUp}[k]
				if k != "unsure" && (field == "" || !r.UnsureOf(field)) {
					wrong = fmt.Sprintf("%s = %q, want %q", k, got[k], want[k])
				}
			}
			if !ok && wrong == "" {
				t.Logf("line %d %q: got %v, want %v", c.n, c.text, got, want)
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
			t.Fatalf("line %d: kind %q", c.n, c.kind)
		}
		if ok {
			exact++
		}
		if wrong != "" {
			silent++
			t.Errorf("line %d %q: silently wrong: %s", c.n, c.text, wrong)
		}
	}
	if len(lines) < 150 || kinds["ci"] < 50 || kinds["cl"] < 30 || kinds["no"] < 30 {
		t.Fatalf("the corpus is too small: %d messages %v", len(lines), kinds)
	}
	rate := float64(exact) / float64(len(lines))
	t.Logf("corpus: %d messages %v, exact readings %d (%.1f%%), silently wrong %d", len(lines), kinds, exact, 100*rate, silent)
	if rate < 0.95 {
		t.Errorf("exact-reading rate %.1f%% is below 95%%", 100*rate)
	}
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
	if !ok || !r.UnsureOf(FieldDate) || !strings.Contains(r.Unsure[0].Question, "“周五”是哪一天") {
		t.Fatalf("a bare weekday: %v %+v", ok, r)
	}
	r, _ = ReadCheckin("支委会 11/20", corpusNow, cst, defaultMatcher())
	if !r.UnsureOf(FieldAttendance) || !strings.Contains(r.Unsure[0].Question, "还是日期（11月20日）") {
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
	lines := readCorpus(b)
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
	for _, c := range readCorpus(f) {
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
