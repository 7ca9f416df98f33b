package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// The suite's rules at calendar edges: each case starts a fresh zhibu on a
// fake clock set to one instant in Asia/Shanghai (the last minute of a
// month, a quarter, the year; the first minute of a month and of a year; a
// leap day), checks in as 李书记 (secretary of QA-RZ-XZ-B2 only) and runs
// `zhibu healthcheck --json` with no --at, so both read the injected clock.
// QA-RZ-XZ-B1 never checks in: its lights show each period turning yellow
// inside its window and red the instant its due time (the period's end in
// the configured zone) passes.

// edgeRecurs is the recurrence of each default obligation the test county
// owes (its branches have no party groups, so no 党小组会, and no term end,
// so no 换届提醒).
var edgeRecurs = map[string]string{
	"committee_meeting": "month", "theme_day": "month", "dues": "month",
	"general_meeting": "quarter", "party_lecture": "quarter",
	"life_meeting": "year", "member_appraisal": "year", "heart_talk": "year", "secretary_lecture": "year",
}

type edgeKeys struct{ month, quarter, year string }

func (k edgeKeys) of(obligation string) string {
	switch edgeRecurs[obligation] {
	case "month":
		return k.month
	case "quarter":
		return k.quarter
	}
	return k.year
}

type edgeCase struct {
	name   string
	at     time.Time // the server's "now"
	start  string    // every unit's start date
	word   string    // the date as the secretary writes it
	heldOn string    // the local date it must be stored as
	keys   edgeKeys  // the current periods at `at`
	labels []string  // in the check-in reply: the periods in Chinese
	// lifeFiled is the year the 组织生活会 is filed for when not keys.year:
	// in January–February the last year's is still open (due_after).
	lifeFiled string
	lights    []string  // "obligation period light" of B1 at `at`
	next      time.Time // the clock is then advanced here (zero: not)
	nkeys     edgeKeys  // the current periods at `next`
	nlights   []string  // B1 at `next`
	// At the first minute of a period: the local date of 昨天 and the
	// Chinese name of its month.
	late, lateLabel string
	// What 李书记's digest says at `at` (outside the quiet hours only).
	digest []string
	// QA-DB-HX-B1's fixed 主题党日 (0: none) and its theme_day lights at
	// `at` and at `next`.
	hxTheme int
	hx, nhx []string
}

func TestHealthAndCheckinAtCalendarEdges(t *testing.T) {
	cases := []edgeCase{{
		name: "last minute of Q3", at: hcAt(2026, 9, 30, 23, 59), start: "2026-01-01", word: "今天", heldOn: "2026-09-30",
		keys:   edgeKeys{"2026-09", "2026-Q3", "2026"},
		labels: []string{"支部委员会 · 2026年9月", "党课 · 2026年第三季度", "组织生活会 · 2026年度"},
		lights: []string{"committee_meeting 2026-08 red", "committee_meeting 2026-09 yellow", "theme_day 2026-09 yellow",
			"general_meeting 2026-Q2 red", "general_meeting 2026-Q3 yellow", "party_lecture 2026-Q3 yellow",
			"life_meeting 2026 green", "member_appraisal 2026 green"},
		next: hcAt(2026, 10, 1, 0, 0), nkeys: edgeKeys{"2026-10", "2026-Q4", "2026"},
		nlights: []string{"committee_meeting 2026-09 red", "committee_meeting 2026-10 green", "theme_day 2026-09 red",
			"general_meeting 2026-Q3 red", "general_meeting 2026-Q4 green", "party_lecture 2026-Q3 red", "life_meeting 2026 green"},
	}, {
		name: "last minute of a month", at: hcAt(2026, 11, 30, 23, 59), start: "2026-01-01", word: "今天", heldOn: "2026-11-30",
		keys:   edgeKeys{"2026-11", "2026-Q4", "2026"},
		labels: []string{"支部委员会 · 2026年11月", "党课 · 2026年第四季度", "组织生活会 · 2026年度"},
		// The yearly 31-day window opens at 12-01 00:00, one minute later.
		lights: []string{"committee_meeting 2026-10 red", "committee_meeting 2026-11 yellow", "theme_day 2026-11 yellow",
			"general_meeting 2026-Q4 green", "life_meeting 2026 green", "member_appraisal 2026 green"},
		next: hcAt(2026, 12, 1, 0, 0), nkeys: edgeKeys{"2026-12", "2026-Q4", "2026"},
		// The yearly meetings are due at the end of February of the next
		// year: still green in December.
		nlights: []string{"committee_meeting 2026-11 red", "committee_meeting 2026-12 green", "theme_day 2026-11 red",
			"general_meeting 2026-Q4 green", "life_meeting 2026 green", "member_appraisal 2026 green"},
	}, {
		// 00:00 in Shanghai is still 2026-11-30 in UTC.
		name: "first minute of a month", at: hcAt(2026, 12, 1, 0, 0), start: "2026-01-01", word: "今天", heldOn: "2026-12-01",
		late: "2026-11-30", lateLabel: "2026年11月",
		keys:   edgeKeys{"2026-12", "2026-Q4", "2026"},
		labels: []string{"支部委员会 · 2026年12月", "党课 · 2026年第四季度", "组织生活会 · 2026年度"},
		lights: []string{"committee_meeting 2026-11 red", "committee_meeting 2026-12 green", "theme_day 2026-11 red",
			"general_meeting 2026-Q4 green", "life_meeting 2026 green", "member_appraisal 2026 green"},
	}, {
		name: "last minute of the year", at: hcAt(2026, 12, 31, 23, 59), start: "2026-01-01", word: "12月31日", heldOn: "2026-12-31",
		keys:   edgeKeys{"2026-12", "2026-Q4", "2026"},
		labels: []string{"支部委员会 · 2026年12月", "党课 · 2026年第四季度", "组织生活会 · 2026年度"},
		lights: []string{"committee_meeting 2026-12 yellow", "theme_day 2026-12 yellow", "general_meeting 2026-Q4 yellow",
			"party_lecture 2026-Q4 yellow", "life_meeting 2026 green", "member_appraisal 2026 green"},
		next: hcAt(2027, 1, 1, 0, 0), nkeys: edgeKeys{"2027-01", "2027-Q1", "2027"},
		// 元旦 turns no branch red for the yearly meetings (due end of February).
		nlights: []string{"committee_meeting 2026-12 red", "committee_meeting 2027-01 green", "general_meeting 2026-Q4 red",
			"general_meeting 2027-Q1 green", "life_meeting 2027 green"},
		// A 主题党日 on the 1st warns from 12-29, across the year.
		hxTheme: 1, hx: []string{"theme_day 2026-12 red", "theme_day 2027-01 yellow"}, nhx: []string{"theme_day 2027-01 yellow"},
	}, {
		// 00:00 in Shanghai is still 2026-12-31 in UTC: another year there.
		name: "first minute of a year", at: hcAt(2027, 1, 1, 0, 0), start: "2026-01-01", word: "今天", heldOn: "2027-01-01",
		late: "2026-12-31", lateLabel: "2026年12月",
		keys: edgeKeys{"2027-01", "2027-Q1", "2027"},
		// A 组织生活会 on 1 January counts for 2026, still open until the end
		// of February (the oldest open period whose window holds the date).
		lifeFiled: "2026",
		labels:    []string{"支部委员会 · 2027年1月", "党课 · 2027年第一季度", "组织生活会 · 2026年度"},
		lights: []string{"committee_meeting 2026-12 red", "committee_meeting 2027-01 green", "general_meeting 2026-Q4 red",
			"general_meeting 2027-Q1 green", "life_meeting 2027 green"},
	}, {
		name: "leap day", at: hcAt(2028, 2, 29, 12, 0), start: "2028-01-01", word: "2月29日", heldOn: "2028-02-29",
		keys:   edgeKeys{"2028-02", "2028-Q1", "2028"},
		labels: []string{"支部委员会 · 2028年2月", "党课 · 2028年第一季度", "组织生活会 · 2028年度"},
		lights: []string{"committee_meeting 2028-01 red", "committee_meeting 2028-02 yellow", "theme_day 2028-02 yellow",
			"general_meeting 2028-Q1 green", "life_meeting 2028 green"},
		digest: []string{"党费收缴 · 2028年2月 · 截止 2028-02-29 · 今日截止", "支部委员会 · 2028年1月 · 截止 2028-01-31 · 已逾期 29 天"},
		next:   hcAt(2028, 3, 1, 0, 0), nkeys: edgeKeys{"2028-03", "2028-Q1", "2028"},
		nlights: []string{"committee_meeting 2028-02 red", "committee_meeting 2028-03 green", "theme_day 2028-02 red",
			"general_meeting 2028-Q1 green"},
		// A 主题党日 on the 31st falls on 02-29; its 7 days' grace runs into March.
		hxTheme: 31, hx: []string{"theme_day 2028-01 red", "theme_day 2028-02 yellow"},
		nhx: []string{"theme_day 2028-02 yellow", "theme_day 2028-03 green"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { edgeRun(t, tc) })
	}
}

func edgeRun(t *testing.T, tc edgeCase) {
	fc := clockwork.NewFakeClockAt(tc.at)
	h := start(t, withClock(fc))
	h.seed()
	startDay, err := time.Parse(time.DateOnly, tc.start)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range h.startUnits(func(string) time.Time { return startDay }) {
		if u.Code == "QA-DB-HX-B1" && tc.hxTheme != 0 {
			if err := h.Srv.Store.SetThemeDay(h.Ctx, u.ID, &tc.hxTheme); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.link("13800000002", li)

	// One sitting for a monthly, a quarterly and a yearly obligation, filed
	// at the instant: it counts for the periods of the local date.
	h.say(h.Fake.PrivateChat(li), li, "/checkin 支委会+党课+生活会 "+tc.word+" 7/9 学习")
	m := h.waitMsg(li.ID, "打卡成功")
	mustContain(t, m.Text, tc.labels...)
	if lines, _, _ := strings.Cut(m.Text, "本支部当前状态"); strings.Contains(lines, "补开") || strings.Contains(m.Text, "补录打卡") {
		t.Errorf("an on-time check-in reads as late: %q", m.Text)
	}
	var id int64
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &id, `SELECT max(id) FROM checkins`); err != nil {
		t.Fatal(err)
	}
	c, err := h.Srv.Store.CheckinByID(h.Ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.BranchCode != "QA-RZ-XZ-B2" || c.HeldOn != tc.heldOn || !c.RecordedAt.Equal(tc.at) || len(c.Items) != 3 {
		t.Fatalf("stored %+v, want held on %s (UTC date %s) recorded at %s", c, tc.heldOn, tc.at.UTC().Format(time.DateOnly), tc.at)
	}
	lifeYear := tc.keys.year
	if tc.lifeFiled != "" {
		lifeYear = tc.lifeFiled
	}
	for _, it := range c.Items {
		want := tc.keys.of(it.Obligation)
		if it.Obligation == "life_meeting" {
			want = lifeYear
		}
		if it.Period != want || it.Late || it.Extra {
			t.Errorf("item %+v: want period %s, on time, first", it, want)
		}
	}
	done := []string{"committee_meeting " + tc.keys.month, "party_lecture " + tc.keys.quarter, "life_meeting " + lifeYear}
	b2 := make([]string, len(done))
	for i, d := range done {
		b2[i] = d + " green"
	}
	if lifeYear != tc.keys.year { // a past period, done: not listed; the current one is
		b2[2] = "life_meeting " + tc.keys.year + " green"
	}

	// At the first minute of a period, 昨天 is the last day of the old one:
	// the meeting counts for the old month, recorded late (its due time,
	// midnight, has just passed), and the old month is no longer red.
	var prev []string
	if tc.late != "" {
		h.say(h.Fake.PrivateChat(li), li, "/checkin 支委会 昨天")
		m = h.waitMsg(li.ID, "（#2）")
		mustContain(t, m.Text, "支部委员会 · "+tc.lateLabel+" · 补开", "日期："+tc.late, "已于 "+tc.late+" 截止")
		c, err := h.Srv.Store.CheckinByID(h.Ctx, id+1)
		if err != nil {
			t.Fatal(err)
		}
		if c.HeldOn != tc.late || len(c.Items) != 1 || c.Items[0].Period != tc.late[:7] || !c.Items[0].Late {
			t.Fatalf("stored %+v", c)
		}
		prev = []string{"QA-RZ-XZ-B2 committee_meeting " + tc.late[:7]}
	}

	// The health check as of the injected clock.
	digests := edgeHealth(t, h, tc.at, tc.keys, map[string][]string{"QA-RZ-XZ-B1": tc.lights, "QA-RZ-XZ-B2": b2, "QA-DB-HX-B1": tc.hx}, append(prev, notRedInJanuary(tc.keys)...))
	if len(tc.digest) > 0 {
		mustContain(t, digests["李书记"], tc.digest...)
	}
	if tc.next.IsZero() {
		return
	}

	// Across the edge: B1's missed obligations turn red; B2's check-in of
	// just before still counts for the old periods, which are done (a
	// past period is listed only while it is missing).
	fc.Advance(tc.next.Sub(tc.at))
	var b2done []string
	for _, d := range done {
		b2done = append(b2done, "QA-RZ-XZ-B2 "+d)
	}
	edgeHealth(t, h, tc.next, tc.nkeys, map[string][]string{"QA-RZ-XZ-B1": tc.nlights, "QA-DB-HX-B1": tc.nhx}, append(b2done, notRedInJanuary(tc.nkeys)...))
}

// notRedInJanuary: in January the last year's yearly meetings of B1 (which
// did none) are neither yellow nor red — they are due at the end of
// February (due_after).
func notRedInJanuary(k edgeKeys) []string {
	if !strings.HasSuffix(k.month, "-01") {
		return nil
	}
	y, _ := strconv.Atoi(k.year)
	last := strconv.Itoa(y - 1)
	return []string{"QA-RZ-XZ-B1 life_meeting " + last, "QA-RZ-XZ-B1 member_appraisal " + last}
}

// edgeLight is one light of `zhibu healthcheck --json`.
type edgeLight struct {
	Branch, Group, Obligation, Period, Light string
}

// edgeHealth runs `zhibu healthcheck --json` without --at and checks that
// it evaluated at `at`, that every obligation's newest period is the
// current one of `at` (never one of UTC's calendar), and that each
// "obligation period light" wanted per branch is there and that none of
// the "branch obligation period" in done is yellow or red.
// It returns the digests' texts by person.
func edgeHealth(t *testing.T, h *H, at time.Time, keys edgeKeys, want map[string][]string, done []string) map[string]string {
	t.Helper()
	out := h.mustCLI("healthcheck", "--json")
	var res struct {
		At      string      `json:"at"`
		Lights  []edgeLight `json:"lights"`
		Digests []struct{ Person, Text string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("healthcheck --json: %v\n%s", err, out)
	}
	if got, err := time.Parse(time.RFC3339, res.At); err != nil || !got.Equal(at) || res.At != at.Format(time.RFC3339) {
		t.Errorf("at %q, want %s", res.At, at.Format(time.RFC3339))
	}
	have := map[string]bool{}
	newest := map[string]string{} // branch obligation -> newest period
	for _, l := range res.Lights {
		if _, ok := edgeRecurs[l.Obligation]; !ok {
			t.Errorf("unexpected obligation %+v", l)
			continue
		}
		have[l.Branch+" "+l.Obligation+" "+l.Period+" "+l.Light] = true
		if k := l.Branch + " " + l.Obligation; l.Period > newest[k] {
			newest[k] = l.Period
		}
	}
	for _, b := range []string{"QA-RZ-XZ-B1", "QA-RZ-XZ-B2", "QA-DB-HX-B1"} {
		for ob := range edgeRecurs {
			got := newest[b+" "+ob]
			if b == "QA-DB-HX-B1" && ob == "theme_day" && got > keys.of(ob) {
				continue // a fixed day early in the month warns the month before (checked by want)
			}
			if got != keys.of(ob) {
				t.Errorf("at %s: %s %s newest period %q, want %q", at.Format(time.RFC3339), b, ob, got, keys.of(ob))
			}
		}
	}
	for _, d := range done {
		if have[d+" yellow"] || have[d+" red"] {
			t.Errorf("at %s: %s is not done", at.Format(time.RFC3339), d)
		}
	}
	for b, ls := range want {
		for _, l := range ls {
			if !have[b+" "+l] {
				t.Errorf("at %s: no light %s %s in\n%s", at.Format(time.RFC3339), b, l, edgeDump(res.Lights, b))
			}
		}
	}
	texts := map[string]string{}
	for _, d := range res.Digests {
		texts[d.Person] += d.Text
	}
	return texts
}

func edgeDump(ls []edgeLight, branch string) string {
	var b strings.Builder
	for _, l := range ls {
		if l.Branch == branch {
			b.WriteString("  " + l.Obligation + " " + l.Period + " " + l.Light + "\n")
		}
	}
	return b.String()
}
