package health

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain/notice"
)

var (
	secZhang = Recipient{PersonID: 1, Name: "张书记", ChatID: 1001}
	orgLi    = Recipient{PersonID: 10, Name: "李委员", ChatID: 1010}
	orgZhao  = Recipient{PersonID: 11, Name: "赵委员", ChatID: 1011}
	orgWang  = Recipient{PersonID: 100, Name: "王部长", ChatID: 1100}
)

// fixture builds the item of a branch for ob and period p as the caller
// would: deadline and light from the rules, recipients from the tree.
type fixture struct {
	loc      *time.Location
	branchID int64
	code     string
	name     string
	themeDay int
	facts    Facts
}

func (f fixture) item(ob Obligation, p Period, t time.Time) Item {
	yf, due := Deadline(ob, p, f.themeDay, f.loc, nil)
	facts := f.facts
	facts.Owed = true
	return Item{
		BranchID: f.branchID, BranchCode: f.code, BranchName: f.name,
		UnitPath:   []string{"乾安县", "让字镇", "新庄村"},
		Obligation: ob, Period: p,
		Light:      LightAt(ob, p, f.themeDay, facts, t, f.loc, nil),
		YellowFrom: yf, Due: due,
		CheckedIn: facts.CheckedIn, Exempt: facts.Exempt,
		Secretaries: []Recipient{secZhang},
		Organisers:  [][]Recipient{{orgLi}, {orgWang}},
	}
}

func newFixture(loc *time.Location) fixture {
	return fixture{loc: loc, branchID: 7, code: "QA-RZ-XZ-B1", name: "新庄村党支部"}
}

// digestOf finds the digest of person id, or nil.
func digestOf(out PlanOutput, id int64) *Digest {
	for i := range out.Digests {
		if out.Digests[i].PersonID == id {
			return &out.Digests[i]
		}
	}
	return nil
}

// allKeys lists every key planned, sorted.
func allKeys(out PlanOutput) []string {
	var ks []string
	for _, d := range out.Digests {
		ks = append(ks, d.Keys...)
	}
	slices.Sort(ks)
	return ks
}

func key(person, unit int64, ob, period string, level Level, slot int64) string {
	return NoticeKey{person, unit, ob, period, level, slot}.String()
}

func plan(t *testing.T, now time.Time, rules Rules, sent []string, items ...Item) PlanOutput {
	t.Helper()
	out := Plan(PlanInput{At: now, Loc: shanghai(t), Rules: rules, Items: items, AlreadySent: SentSet(sent...), Wording: wording})
	for _, d := range out.Digests {
		checkDigest(t, d)
	}
	return out
}

var tagRE = regexp.MustCompile(`<(/?)([a-z]+)>`)

// checkDigest checks what Telegram would: every text within the limit and
// valid HTML (balanced known tags, no stray < > &).
func checkDigest(t *testing.T, d Digest) {
	t.Helper()
	if len(d.Texts()) == 0 {
		t.Fatalf("digest for %d has no text", d.PersonID)
	}
	if d.Items != len(d.Keys) || len(d.Keys) != len(d.Notices) {
		t.Fatalf("digest counts: items %d, keys %d, notices %d", d.Items, len(d.Keys), len(d.Notices))
	}
	for _, text := range d.Texts() {
		if n := TelegramLen(text); n > MaxMessageLen {
			t.Fatalf("text of %d units exceeds the limit", n)
		}
		checkHTML(t, text)
	}
}

func checkHTML(t *testing.T, text string) {
	t.Helper()
	var stack []string
	for _, m := range tagRE.FindAllStringSubmatch(text, -1) {
		switch name := m[2]; {
		case !slices.Contains([]string{"b", "i", "code"}, name):
			t.Fatalf("unexpected tag %q in %q", m[0], text)
		case m[1] == "":
			stack = append(stack, name)
		case len(stack) == 0 || stack[len(stack)-1] != name:
			t.Fatalf("unbalanced %q in %q", m[0], text)
		default:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed tags %v in %q", stack, text)
	}
	rest := tagRE.ReplaceAllString(text, "")
	rest = regexp.MustCompile(`&(lt|gt|amp|quot|#[0-9]+);`).ReplaceAllString(rest, "")
	if strings.ContainsAny(rest, "<>&") {
		t.Fatalf("unescaped markup in %q", text)
	}
}

func TestPlanYellowRepeats(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	rules := DefaultRules()
	k0 := key(1, 7, "committee_meeting", "2026-11", LevelYellow, 0)
	k1 := key(1, 7, "committee_meeting", "2026-11", LevelYellow, 1)
	// The month's green prompt went out on the 1st.
	prompt := key(1, 7, AllObligations, "2026-11", LevelGreen, 0)
	steps := []struct {
		name string
		t    time.Time
		sent []string
		want []string
	}{
		{"before the window: nothing", at(sh, 2026, 11, 23, 10, 0, 0), nil, nil},
		{"window open: slot 0 to the secretary only", at(sh, 2026, 11, 24, 9, 0, 0), nil, []string{k0}},
		{"next evaluation: already sent", at(sh, 2026, 11, 24, 9, 15, 0), []string{k0}, nil},
		{"71h later: not yet", at(sh, 2026, 11, 26, 20, 59, 0), []string{k0}, nil},
		{"after 72h (first allowed time): slot 1", at(sh, 2026, 11, 27, 8, 0, 0), []string{k0}, []string{k1}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			it := f.item(committee, nov, st.t)
			out := plan(t, st.t, rules, append(st.sent, prompt), it)
			if got := allKeys(out); !slices.Equal(got, st.want) {
				t.Fatalf("keys %v, want %v", got, st.want)
			}
			if d := digestOf(out, 1); d != nil {
				if d.Level != LevelYellow || !strings.Contains(d.Texts()[0], "【黄灯提醒】") || !strings.Contains(d.Texts()[0], "<code>打卡 支委会 ") {
					t.Fatalf("digest %+v", d)
				}
			}
		})
	}
	// Repeats off: slot 0 only.
	noRepeat := rules
	noRepeat.YellowRepeat = 0
	tm := at(sh, 2026, 11, 29, 10, 0, 0)
	if got := allKeys(plan(t, tm, noRepeat, []string{prompt}, f.item(committee, nov, tm))); !slices.Equal(got, []string{k0}) {
		t.Fatalf("no repeat: %v", got)
	}
}

func TestPlanRedAndEscalation(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	rk := func(person int64, slot int64) string {
		return key(person, 7, "committee_meeting", "2026-11", LevelRed, slot)
	}
	steps := []struct {
		name string
		t    time.Time
		want []string
	}{
		{"first morning: secretary and township", at(sh, 2026, 12, 1, 8, 0, 0), []string{rk(1, 0), rk(10, 0)}},
		{"next day: repeat", at(sh, 2026, 12, 2, 9, 0, 0), []string{rk(1, 1), rk(10, 1)}},
		{"6 days 20 hours: no county yet", at(sh, 2026, 12, 7, 20, 0, 0), []string{rk(1, 6), rk(10, 6)}},
		{"7 days: county added", at(sh, 2026, 12, 8, 9, 0, 0), []string{rk(1, 7), rk(10, 7), rk(100, 0)}},
		{"8 days: county repeats from its own start", at(sh, 2026, 12, 9, 9, 0, 0), []string{rk(1, 8), rk(10, 8), rk(100, 1)}},
	}
	rules7 := DefaultRules()
	rules7.EscalateDays = 7 // every day is a working day: no calendar
	firstRed := []string{rk(1, 0), rk(10, 0)}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var sent []string
			if i > 0 {
				sent = firstRed
			}
			out := plan(t, st.t, rules7, sent, f.item(committee, nov, st.t))
			want := slices.Clone(st.want)
			slices.Sort(want)
			if got := allKeys(out); !slices.Equal(got, want) {
				t.Fatalf("keys %v, want %v", got, want)
			}
			sec, org := digestOf(out, 1), digestOf(out, 10)
			if sec.Level != LevelRed || !strings.Contains(sec.Texts()[0], "请尽快整改并补录") || !strings.Contains(sec.Texts()[0], "<code>打卡 支委会 补开2026年11月 今天") || !strings.Contains(sec.Texts()[0], "<code>收到 ") {
				t.Fatalf("secretary text %q", sec.Texts()[0])
			}
			if !strings.Contains(org.Texts()[0], "请督促整改") || strings.Contains(org.Texts()[0], "<code>打卡 ") {
				t.Fatalf("organiser text %q", org.Texts()[0])
			}
			if !strings.Contains(org.Texts()[0], "截止 2026-11-30") || !strings.Contains(org.Texts()[0], "〔乾安县/让字镇/新庄村〕") {
				t.Fatalf("organiser line lacks due date or path: %q", org.Texts()[0])
			}
			if c := digestOf(out, 100); c != nil && !strings.Contains(c.Texts()[0], "提级督办") {
				t.Fatalf("county text %q", c.Texts()[0])
			}
		})
	}
	// The first red notice and the escalation never go out together: an
	// item first seen red long after its due time (a long holiday) gets
	// level 0 first.
	late := at(sh, 2026, 12, 12, 9, 0, 0)
	if got := allKeys(plan(t, late, rules7, nil, f.item(committee, nov, late))); !slices.Equal(got, []string{rk(1, 11), rk(10, 11)}) {
		t.Fatalf("first red with escalation due: %v", got)
	}
	// Escalation off.
	rules := DefaultRules()
	rules.EscalateDays = 0
	tm := at(sh, 2026, 12, 20, 9, 0, 0)
	if d := digestOf(plan(t, tm, rules, firstRed, f.item(committee, nov, tm)), 100); d != nil {
		t.Fatal("escalation disabled but the county was notified")
	}
}

// TestPlanEscalationCountsWorkingDays: under the official calendar the 5
// working days after 2026-12-01 end on Monday 7 December (5 and 6 December
// are a weekend), and nothing goes out at the weekend.
func TestPlanEscalationCountsWorkingDays(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	rules := DefaultRules()
	rules.Calendar = NewCalendar(OfficialDays())
	sent := []string{key(1, 7, "committee_meeting", "2026-11", LevelRed, 0), key(10, 7, "committee_meeting", "2026-11", LevelRed, 0)}
	sat := at(sh, 2026, 12, 5, 10, 0, 0)
	if out := plan(t, sat, rules, sent, f.item(committee, nov, sat)); !out.Deferred || !strings.Contains(out.DeferReason, "休息日") ||
		!out.NextAllowed.Equal(at(sh, 2026, 12, 7, 8, 0, 0)) {
		t.Fatalf("Saturday: deferred %v %q next %v", out.Deferred, out.DeferReason, out.NextAllowed)
	}
	mon := at(sh, 2026, 12, 7, 10, 0, 0)
	if d := digestOf(plan(t, mon, rules, sent, f.item(committee, nov, mon)), 100); d != nil {
		t.Fatalf("county told after 4 working days: %q", d.Texts()[0])
	}
	tue := at(sh, 2026, 12, 8, 10, 0, 0)
	d := digestOf(plan(t, tue, rules, sent, f.item(committee, nov, tue)), 100)
	if d == nil || !strings.Contains(d.Texts()[0], "逾期超过 5 个工作日，提级督办") {
		t.Fatalf("county digest after 5 working days: %+v", d)
	}
}

func TestPlanOneDigestPerOrganiser(t *testing.T) {
	sh := shanghai(t)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	tm := at(sh, 2026, 12, 3, 10, 0, 0)
	build := func(n int) []Item {
		items := make([]Item, n)
		for i := range items {
			f := fixture{loc: sh, branchID: int64(1000 + i), code: fmt.Sprintf("QA-RZ-V%03d-B1", i), name: fmt.Sprintf("第%d村党支部<&>", i)}
			items[i] = f.item(committee, nov, tm)
			items[i].Secretaries = []Recipient{{PersonID: int64(5000 + i), Name: "书记", ChatID: int64(9000 + i)}}
		}
		return items
	}
	t.Run("30 red branches: one message", func(t *testing.T) {
		out := plan(t, tm, DefaultRules(), nil, build(30)...)
		if len(out.Digests) != 31 {
			t.Fatalf("%d digests, want 30 secretaries + 1 organiser", len(out.Digests))
		}
		d := digestOf(out, 10)
		if d.Items != 30 || len(d.Texts()) != 1 {
			t.Fatalf("organiser digest: %d items, %d texts", d.Items, len(d.Texts()))
		}
		for i := range 30 {
			if !strings.Contains(d.Texts()[0], fmt.Sprintf("第%d村党支部&lt;&amp;&gt; · 支部委员会 · 2026年11月", i)) {
				t.Fatalf("branch %d missing or unescaped", i)
			}
		}
		if strings.Contains(d.Texts()[0], "QA-RZ-") || strings.Contains(d.Texts()[0], " 2026-11 ") {
			t.Fatalf("a unit code or period key shown: %s", d.Texts()[0])
		}
		if strings.Count(d.Texts()[0], "【红灯督办】") != 1 {
			t.Fatal("one header per section")
		}
	})
	t.Run("300 red branches: split at the limit, every line kept", func(t *testing.T) {
		out := plan(t, tm, DefaultRules(), nil, build(300)...)
		d := digestOf(out, 10)
		if len(d.Texts()) < 2 {
			t.Fatalf("%d texts, want a split", len(d.Texts()))
		}
		all := strings.Join(d.Texts(), "\n")
		for i := range 300 {
			if n := strings.Count(all, fmt.Sprintf("〕第%d村党支部&lt;", i)); n != 1 {
				t.Fatalf("branch %d appears %d times", i, n)
			}
		}
		for j, text := range d.Texts() {
			if !strings.HasPrefix(text, "🔴 <b>【红灯督办】") {
				t.Fatalf("part %d does not start with the section header: %.60q", j, text)
			}
			if j > 0 && !strings.Contains(text, "（续）") {
				t.Fatalf("part %d is not marked as continued", j)
			}
			if j < len(d.Texts())-1 && TelegramLen(text) < MaxMessageLen-200 {
				t.Fatalf("part %d is only %d long", j, TelegramLen(text))
			}
		}
	})
}

func TestPlanQuietHoursAndHolidays(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	night := at(sh, 2026, 12, 1, 22, 0, 0)

	out := plan(t, night, DefaultRules(), nil, f.item(committee, nov, night))
	if !out.Deferred || len(out.Digests) != 0 || !strings.Contains(out.DeferReason, "静默时段") {
		t.Fatalf("quiet hours: %+v", out)
	}
	if out.Stats.Lines != 2 || !out.NextAllowed.Equal(at(sh, 2026, 12, 2, 8, 0, 0)) {
		t.Fatalf("pending %d, next %v", out.Stats.Lines, out.NextAllowed)
	}
	// The next allowed evaluation sends the then-current slot.
	morning := at(sh, 2026, 12, 2, 8, 0, 0)
	got := allKeys(plan(t, morning, DefaultRules(), nil, f.item(committee, nov, morning)))
	if want := []string{key(1, 7, "committee_meeting", "2026-11", LevelRed, 1), key(10, 7, "committee_meeting", "2026-11", LevelRed, 1)}; !slices.Equal(got, want) {
		t.Fatalf("after quiet hours: %v", got)
	}

	// No quiet hours: sent at night.
	none := DefaultRules()
	none.QuietFrom, none.QuietTo = 0, 0
	if out := plan(t, night, none, nil, f.item(committee, nov, night)); out.Deferred || len(out.Digests) != 2 {
		t.Fatalf("without quiet hours: deferred %v, %d digests", out.Deferred, len(out.Digests))
	}

	// Holiday.
	hol := DefaultRules()
	hol.Calendar = (*Calendar)(nil).WithExtraHolidays(map[string]bool{"2026-12-01": true})
	noon := at(sh, 2026, 12, 1, 12, 0, 0)
	out = plan(t, noon, hol, nil, f.item(committee, nov, noon))
	if !out.Deferred || len(out.Digests) != 0 || !strings.Contains(out.DeferReason, "休息日（2026-12-01）") {
		t.Fatalf("holiday: %+v", out)
	}
	if !out.NextAllowed.Equal(at(sh, 2026, 12, 2, 8, 0, 0)) {
		t.Fatalf("holiday next %v", out.NextAllowed)
	}
}

func TestPlanAcknowledgement(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	acked := func(tm time.Time) Item {
		it := f.item(committee, nov, tm)
		it.AckBy = "张书记"
		it.AckUntil = at(sh, 2026, 12, 10, 9, 0, 0)
		it.AckPlanned = at(sh, 2026, 12, 10, 0, 0, 0)
		return it
	}
	rk := func(person int64, slot int64) string {
		return key(person, 7, "committee_meeting", "2026-11", LevelRed, slot)
	}
	rules7 := DefaultRules()
	rules7.EscalateDays = 7
	firstRed := []string{rk(1, 0), rk(10, 0)}
	t.Run("slot 0 is never paused", func(t *testing.T) {
		tm := at(sh, 2026, 12, 1, 9, 0, 0)
		if got := allKeys(plan(t, tm, DefaultRules(), nil, acked(tm))); len(got) != 2 {
			t.Fatalf("keys %v", got)
		}
	})
	t.Run("repeats paused", func(t *testing.T) {
		tm := at(sh, 2026, 12, 3, 9, 0, 0)
		out := plan(t, tm, DefaultRules(), nil, acked(tm))
		if len(out.Digests) != 0 || out.Stats.Paused != 2 {
			t.Fatalf("digests %d, paused %d", len(out.Digests), out.Stats.Paused)
		}
	})
	t.Run("escalation still goes out and shows the acknowledgement", func(t *testing.T) {
		tm := at(sh, 2026, 12, 8, 9, 0, 0)
		out := plan(t, tm, rules7, firstRed, acked(tm))
		if got := allKeys(out); !slices.Equal(got, []string{rk(100, 0)}) {
			t.Fatalf("keys %v", got)
		}
		text := digestOf(out, 100).Texts()[0]
		if !strings.Contains(text, "张书记 已回复收到，计划 2026-12-10 前完成") || strings.Contains(text, "已过期") {
			t.Fatalf("county text %q", text)
		}
	})
	t.Run("resumes after AckUntil with the current slot", func(t *testing.T) {
		tm := at(sh, 2026, 12, 10, 9, 0, 0)
		out := plan(t, tm, rules7, firstRed, acked(tm))
		want := []string{rk(1, 9), rk(10, 9), rk(100, 2)}
		slices.Sort(want)
		if got := allKeys(out); !slices.Equal(got, want) {
			t.Fatalf("keys %v, want %v", got, want)
		}
		if text := digestOf(out, 10).Texts()[0]; !strings.Contains(text, "（已过期）") {
			t.Fatalf("organiser text %q", text)
		}
	})
}

func TestPlanSilencedAndAlreadySent(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	tm := at(sh, 2026, 12, 2, 9, 0, 0)

	it := f.item(committee, nov, tm)
	it.Silenced, it.SilenceReason = true, "汛期抢险"
	out := plan(t, tm, DefaultRules(), nil, it)
	if len(out.Digests) != 0 || len(out.Silenced) != 1 || out.Silenced[0].SilenceReason != "汛期抢险" || out.Stats.Silenced != 1 {
		t.Fatalf("silenced: %+v", out)
	}

	sent := []string{key(1, 7, "committee_meeting", "2026-11", LevelRed, 1)}
	out = plan(t, tm, DefaultRules(), sent, f.item(committee, nov, tm))
	if got := allKeys(out); !slices.Equal(got, []string{key(10, 7, "committee_meeting", "2026-11", LevelRed, 1)}) || out.Stats.AlreadySent != 1 {
		t.Fatalf("already sent: %v, stats %+v", got, out.Stats)
	}
}

func TestPlanResolved(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	f.facts.CheckedIn = true
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	tm := at(sh, 2026, 12, 10, 9, 0, 0)
	base := f.item(committee, nov, tm)
	base.Resolved = true
	base.Organisers = [][]Recipient{{orgLi, orgZhao}, {orgWang}}

	t.Run("to the organisers who were notified", func(t *testing.T) {
		it := base
		it.RedNotified = []int64{1, 10, 100}
		out := plan(t, tm, DefaultRules(), nil, it)
		want := []string{key(10, 7, "committee_meeting", "2026-11", LevelResolved, 0), key(100, 7, "committee_meeting", "2026-11", LevelResolved, 0)}
		if got := allKeys(out); !slices.Equal(got, want) {
			t.Fatalf("keys %v, want %v", got, want)
		}
		d := digestOf(out, 10)
		if d.Level != LevelResolved || !strings.Contains(d.Texts()[0], "【已整改】") || !strings.Contains(d.Texts()[0], "已补录打卡") {
			t.Fatalf("digest %+v", d)
		}
	})
	t.Run("log without recipients: level 0", func(t *testing.T) {
		got := allKeys(plan(t, tm, DefaultRules(), nil, base))
		want := []string{key(10, 7, "committee_meeting", "2026-11", LevelResolved, 0), key(11, 7, "committee_meeting", "2026-11", LevelResolved, 0)}
		if !slices.Equal(got, want) {
			t.Fatalf("keys %v, want %v", got, want)
		}
	})
	t.Run("not resolved: nothing", func(t *testing.T) {
		it := base
		it.Resolved = false
		if out := plan(t, tm, DefaultRules(), nil, it); len(out.Digests) != 0 {
			t.Fatalf("digests %+v", out.Digests)
		}
	})
}

func TestPlanFallbackAndUndeliverable(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	committee := obligation(t, "committee_meeting")
	nov := Period{Monthly, 2026, 11}
	tm := at(sh, 2026, 11, 25, 10, 0, 0)

	it := f.item(committee, nov, tm)
	it.Secretaries = []Recipient{{PersonID: 2, Name: "孙书记", FallbackChatID: -100777}}
	d := digestOf(plan(t, tm, DefaultRules(), nil, it), 2)
	if d.ChatID != -100777 || !d.ViaFallback || d.Undeliverable || !strings.Contains(d.Texts()[0], "孙书记") || !strings.Contains(d.Texts()[0], "未绑定") {
		t.Fatalf("fallback digest %+v", d)
	}

	it.Secretaries = []Recipient{{PersonID: 2, Name: "孙书记"}}
	out := plan(t, tm, DefaultRules(), nil, it)
	d = digestOf(out, 2)
	if d.ChatID != 0 || d.ViaFallback || !d.Undeliverable || len(d.Texts()) == 0 || out.Stats.Undeliverable != 1 {
		t.Fatalf("undeliverable digest %+v", d)
	}
}

func TestPlanGreenPrompt(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	f.themeDay = 15
	obs := DefaultObligations()
	build := func(tm time.Time) []Item {
		var items []Item
		for _, ob := range obs {
			p := PeriodAt(ob.Recurs, tm, sh)
			if ob.PerGroup {
				for g, name := range []string{"第一党小组", "第二党小组"} {
					it := f.item(ob, p, tm)
					it.GroupID, it.GroupName = int64(70+g), name
					items = append(items, it)
				}
				continue
			}
			it := f.item(ob, p, tm)
			if ob.Code == "party_lecture" {
				it.Exempt, it.Light = true, Green
			}
			items = append(items, it)
		}
		return items
	}
	green := func(period string) string { return key(1, 7, AllObligations, period, LevelGreen, 0) }

	t.Run("first month of a quarter", func(t *testing.T) {
		tm := at(sh, 2026, 10, 1, 9, 0, 0)
		out := plan(t, tm, DefaultRules(), nil, build(tm)...)
		if got := allKeys(out); !slices.Equal(got, []string{green("2026-10"), green("2026-Q4")}) {
			t.Fatalf("keys %v", got)
		}
		d := digestOf(out, 1)
		text := d.Texts()[0]
		for _, s := range []string{"【本期规定动作】", "2026年10月", "2026年第四季度", "支部委员会", "主题党日 · 截止 2026-10-22", "党小组会（第一党小组）", "党小组会（第二党小组）", "支部党员大会"} {
			if !strings.Contains(text, s) {
				t.Fatalf("prompt lacks %q:\n%s", s, text)
			}
		}
		if strings.Contains(text, "党课") || d.Level != LevelGreen || len(d.Notices[0].Items) == 0 {
			t.Fatalf("exempt lecture listed or bad digest:\n%s", text)
		}
	})
	t.Run("second month: only the month", func(t *testing.T) {
		tm := at(sh, 2026, 11, 1, 9, 0, 0)
		out := plan(t, tm, DefaultRules(), []string{green("2026-10")}, build(tm)...)
		if got := allKeys(out); !slices.Equal(got, []string{green("2026-11")}) {
			t.Fatalf("keys %v", got)
		}
	})
	t.Run("January: the year too, sent once", func(t *testing.T) {
		tm := at(sh, 2027, 1, 4, 9, 0, 0)
		items := build(tm)
		out := plan(t, tm, DefaultRules(), nil, items...)
		want := []string{green("2027"), green("2027-01"), green("2027-Q1")}
		slices.Sort(want)
		if got := allKeys(out); !slices.Equal(got, want) {
			t.Fatalf("keys %v, want %v", got, want)
		}
		if out := plan(t, tm.Add(15*time.Minute), DefaultRules(), want, items...); len(out.Digests) != 0 {
			t.Fatalf("prompt repeated: %v", allKeys(out))
		}
	})
}

func TestPlanMixedDigest(t *testing.T) {
	sh := shanghai(t)
	f := newFixture(sh)
	f.themeDay = 28
	tm := at(sh, 2026, 12, 3, 9, 0, 0)
	theme := f.item(obligation(t, "theme_day"), Period{Monthly, 2026, 11}, tm)             // yellow: inside grace
	committee := f.item(obligation(t, "committee_meeting"), Period{Monthly, 2026, 11}, tm) // red
	group := f.item(obligation(t, "group_meeting"), Period{Monthly, 2026, 11}, tm)         // red, per group
	group.GroupID, group.GroupName = 71, "第一党小组"
	if theme.Light != Yellow || committee.Light != Red {
		t.Fatalf("fixture lights %s %s", theme.Light, committee.Light)
	}
	// The secretary is also an organiser of the township (small villages).
	committee.Organisers = [][]Recipient{{secZhang, orgLi}}
	out := plan(t, tm, DefaultRules(), []string{key(1, 7, AllObligations, "2026-12", LevelGreen, 0)}, theme, committee, group)
	d := digestOf(out, 1)
	if d.Level != LevelRed || d.Items != 3 || len(d.Texts()) != 1 {
		t.Fatalf("digest %+v", d)
	}
	text := d.Texts()[0]
	if r, y := strings.Index(text, "【红灯督办】"), strings.Index(text, "【黄灯提醒】"); r < 0 || y < r {
		t.Fatalf("red must come before yellow:\n%s", text)
	}
	if !slices.Contains(d.Keys, key(1, 71, "group_meeting", "2026-11", LevelRed, 2)) {
		t.Fatalf("group key missing: %v", d.Keys)
	}
	if !strings.Contains(text, "新庄村党支部 第一党小组 · 党小组会") || !strings.Contains(text, "截止 2026-12-05 · 还有 2 天") {
		t.Fatalf("text:\n%s", text)
	}
	// Deterministic.
	again := plan(t, tm, DefaultRules(), []string{key(1, 7, AllObligations, "2026-12", LevelGreen, 0)}, theme, committee, group)
	if !reflect.DeepEqual(out, again) {
		t.Fatal("Plan is not deterministic")
	}
}

func TestNoticeKeyRoundTrip(t *testing.T) {
	k := NoticeKey{PersonID: 12, UnitID: 340, Obligation: "committee_meeting", Period: "2026-11", Level: LevelRed, Slot: 2}
	if s := k.String(); s != "12/340/committee_meeting/2026-11/red/2" {
		t.Fatalf("String = %q", s)
	}
	back, err := ParseNoticeKey(k.String())
	if err != nil || back != k {
		t.Fatalf("ParseNoticeKey = %+v, %v", back, err)
	}
	g := NoticeKey{PersonID: 1, UnitID: 7, Obligation: AllObligations, Period: "2026-Q4", Level: LevelGreen}
	if back, err := ParseNoticeKey(g.String()); err != nil || back != g {
		t.Fatalf("green key: %+v, %v", back, err)
	}
	for _, bad := range []string{"", "1/2/x/2026/red", "a/2/x/2026/red/0", "1/2/x/2026/red/z"} {
		if _, err := ParseNoticeKey(bad); err == nil {
			t.Errorf("ParseNoticeKey(%q) accepted", bad)
		}
	}
}

func TestTelegramLen(t *testing.T) {
	tests := map[string]int{
		"":                   0,
		"abc":                3,
		"中文":                 2,
		"<b>ab</b>":          2,
		"&lt;&amp;&gt;&#34;": 4,
		"😀":                  2,
		"&#128512;":          2,
		"a & b":              5,
		"🔴 <b>红灯</b>\nx":     7,
	}
	for s, want := range tests {
		if got := TelegramLen(s); got != want {
			t.Errorf("TelegramLen(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestPackerTinyLimit(t *testing.T) {
	pk := packer{limit: 40, prelude: []notice.Line{{notice.I("前言")}}, more: notice.Line{notice.P("（续）")}}
	pk.reset()
	pk.section(notice.Line{notice.B("标题")})
	long := notice.Line{notice.P("• " + strings.Repeat("长&", 30)), notice.B("粗")}
	pk.block([]notice.Line{{notice.P("• 第一行")}, {notice.P("• 第二行")}})
	pk.block([]notice.Line{long})
	pk.block([]notice.Line{{notice.P("• 末行")}})
	var parts []string
	for _, m := range pk.finish() {
		parts = append(parts, notice.HTML(m))
	}
	joined := strings.Join(parts, "\n")
	for i, p := range parts {
		if TelegramLen(p) > 40 {
			t.Fatalf("part %q too long", p)
		}
		checkHTML(t, p)
		head := "<i>前言</i>\n<b>标题</b>"
		if i > 0 {
			head += "（续）"
		}
		if !strings.HasPrefix(p, head) {
			t.Fatalf("part %q lacks prelude and header", p)
		}
	}
	if strings.Count(joined, "长") != 30 || strings.Count(joined, "&amp;") != 30 || strings.Contains(joined, "<b></b>") || !strings.Contains(joined, "• 末行") || !strings.Contains(joined, "<b>粗</b>") {
		t.Fatalf("content lost: %q", parts)
	}
}
