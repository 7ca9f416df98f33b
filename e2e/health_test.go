package e2e

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// The health check end to end: a county of three townships (安字 A, 宝字 B,
// 才字 C) with five branches each lives through a month end and a quarter
// end. Secretary of branch Tn is user 7000+10n... (see hcUsers); township
// organisers are 7101-7103, the county organiser 7100. 书记C5 is not
// linked: C5's branch group (-100555) gets its notices.

func hcAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, testdb.Loc)
}

const hcC5Group = -100555

// hcCounty is one running zhibu with the health-check county seeded.
type hcCounty struct {
	*H
	fc    *clockwork.FakeClock
	users map[string]models.User // by short name: A1..C5, orgA..orgC, county
	seen  map[int64]int          // messages per chat already looked at
}

func hcStart(t *testing.T, now time.Time, opts ...option) *hcCounty {
	t.Helper()
	fc := clockwork.NewFakeClockAt(now)
	h := start(t, append([]option{withClock(fc)}, opts...)...)
	h.Env = append(h.Env, "ZHIBU_HEALTHCHECK_START=2026-10-01")
	c := &hcCounty{H: h, fc: fc, users: map[string]models.User{}, seen: map[int64]int{}}
	c.seedCounty()
	return c
}

func (c *hcCounty) seedCounty() {
	c.t.Helper()
	c.mustCLI("import", "units", "testdata/health_units.csv")
	c.mustCLI("import", "people", "testdata/health_people.csv")
	c.users["county"] = user(7100, "钱部长")
	c.link("13900001000", c.users["county"])
	for ti, t := range "ABC" {
		org := user(int64(7101+ti), "组织委员"+string(t))
		c.users["org"+string(t)] = org
		c.link(fmt.Sprintf("1390000100%d", ti+1), org)
		for b := 1; b <= 5; b++ {
			name := fmt.Sprintf("%c%d", t, b)
			u := user(int64(7000+10*(ti+1)+b), "书记"+name)
			c.users[name] = u
			if name != "C5" {
				c.link(fmt.Sprintf("139000000%d%d", ti+1, b), u)
			}
		}
	}
	c5 := c.unit("QA-C-V-B5")
	p, err := c.Srv.Store.PersonByPhone(c.Ctx, "13900000035")
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.Srv.Store.BindGroup(c.Ctx, hcC5Group, c5, "才字村第5党支部群", p.ID); err != nil {
		c.t.Fatal(err)
	}
}

func (c *hcCounty) unit(code string) int64 {
	c.t.Helper()
	u, err := c.Srv.Store.UnitByCode(c.Ctx, code)
	if err != nil {
		c.t.Fatalf("unit %s: %v", code, err)
	}
	return u.ID
}

// checkin records a held meeting directly (as the check-in use case does).
func (c *hcCounty) checkin(branch, unit, obligation, period string, held time.Time) {
	c.t.Helper()
	var id int64
	db := c.Srv.Store.DB()
	if err := db.QueryRowContext(c.Ctx, `INSERT INTO checkins (branch_id, held_on) VALUES ($1, $2) RETURNING id`,
		c.unit(branch), held.Format(time.DateOnly)).Scan(&id); err != nil {
		c.t.Fatal(err)
	}
	if _, err := db.ExecContext(c.Ctx, `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id) VALUES ($1, $2, $3, $4)`,
		id, obligation, period, c.unit(unit)); err != nil {
		c.t.Fatal(err)
	}
}

// doneExcept checks every branch in for Q4 2026 and the year 2026, except
// the "BRANCH obligation period" triples listed.
func (c *hcCounty) doneExcept(missing ...string) {
	c.t.Helper()
	skip := map[string]bool{}
	for _, m := range missing {
		skip[m] = true
	}
	items := []struct{ ob, period, held string }{
		{"general_meeting", "2026-Q4", "2026-10-10"}, {"party_lecture", "2026-Q4", "2026-10-10"},
		{"life_meeting", "2026", "2026-10-12"}, {"member_appraisal", "2026", "2026-10-12"},
		{"heart_talk", "2026", "2026-10-12"}, {"secretary_lecture", "2026", "2026-10-12"},
	}
	for _, m := range []string{"10", "11", "12"} {
		for _, ob := range []string{"committee_meeting", "group_meeting", "theme_day", "dues"} {
			items = append(items, struct{ ob, period, held string }{ob, "2026-" + m, "2026-" + m + "-05"})
		}
	}
	for _, t := range "ABC" {
		for b := 1; b <= 5; b++ {
			branch := fmt.Sprintf("QA-%c-V-B%d", t, b)
			for _, it := range items {
				if skip[fmt.Sprintf("%c%d %s %s", t, b, it.ob, it.period)] {
					continue
				}
				unit := branch
				if it.ob == "group_meeting" && branch == "QA-C-V-B2" {
					unit = "QA-C-V-B2-G1"
				}
				held, _ := time.ParseInLocation(time.DateOnly, it.held, testdb.Loc)
				c.checkin(branch, unit, it.ob, it.period, held)
			}
		}
	}
}

// to moves the clock to t.
func (c *hcCounty) to(t time.Time) {
	if d := t.Sub(c.fc.Now()); d > 0 {
		c.fc.Advance(d)
	}
}

// evaluate runs the health check at t as the scheduler would.
func (c *hcCounty) evaluate(t time.Time) {
	c.t.Helper()
	c.to(t)
	if _, err := healthcheck.Of(c.Srv.App).RunHealthcheck(c.Ctx, domain.System, t, "", false); err != nil {
		c.t.Fatalf("healthcheck at %s: %v", t, err)
	}
}

// chats are every chat the county's notices may go to.
func (c *hcCounty) chats() map[string]int64 {
	out := map[string]int64{"C5group": hcC5Group}
	for k, u := range c.users {
		if k != "C5" {
			out[k] = u.ID
		}
	}
	return out
}

// expect waits for delivery, then checks that each chat got exactly the
// messages wanted since the last check (one entry per message: substrings
// it must contain), and nothing anywhere else.
func (c *hcCounty) expect(step string, want map[string][][]string) {
	c.t.Helper()
	c.drainOutbox()
	names := make([]string, 0)
	for k := range c.chats() {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		chat := c.chats()[name]
		all := c.Fake.MessagesTo(chat)
		fresh := all[c.seen[chat]:]
		c.seen[chat] = len(all)
		w := want[name]
		if len(fresh) != len(w) {
			var texts []string
			for _, m := range fresh {
				texts = append(texts, m.Text)
			}
			c.t.Errorf("%s: %s got %d messages, want %d: %q", step, name, len(fresh), len(w), texts)
			continue
		}
		for i, subs := range w {
			for _, s := range subs {
				if !strings.Contains(fresh[i].Text, s) {
					c.t.Errorf("%s: %s message %d lacks %q: %q", step, name, i, s, fresh[i].Text)
				}
			}
		}
	}
	for k := range want {
		if _, ok := c.chats()[k]; !ok {
			c.t.Fatalf("%s: unknown chat %q in expectations", step, k)
		}
	}
}

// each gives every listed chat the same expectation.
func each(want map[string][][]string, msg []string, names ...string) {
	for _, n := range names {
		want[n] = append(want[n], msg)
	}
}

var hcAll = []string{"A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4"}

func others(except ...string) []string {
	var out []string
	for _, n := range hcAll {
		skip := false
		for _, e := range except {
			skip = skip || n == e
		}
		if !skip {
			out = append(out, n)
		}
	}
	return out
}

func TestHealthCountyThroughMonthAndQuarterEnd(t *testing.T) {
	c := hcStart(t, hcAt(2026, 10, 24, 10, 0))
	c.doneExcept(
		"A1 committee_meeting 2026-10", "A2 committee_meeting 2026-10", "A3 committee_meeting 2026-10",
		"A4 committee_meeting 2026-10", "A5 committee_meeting 2026-10", "C1 committee_meeting 2026-10",
		"B1 general_meeting 2026-Q4", "B2 life_meeting 2026")

	// The start of the month (and quarter): every secretary gets the list
	// of the period's activities; 书记C5, not linked, in C5's group.
	c.evaluate(hcAt(2026, 10, 24, 10, 0))
	want := map[string][][]string{}
	each(want, []string{"本期规定动作", "2026年10月", "2026年第四季度", "支部委员会"}, hcAll...)
	each(want, []string{"本期规定动作", "尚未绑定", "书记C5"}, "C5group")
	c.expect("prompt", want)

	// The yellow window opens (via the CLI, as an operator would run it).
	out := c.mustCLI("healthcheck", "--at", "2026-10-25T09:00:00+08:00", "--unit", "QA-A")
	if !strings.Contains(out, "QA-A-V-B1") || strings.Contains(out, "QA-B-V-B1") {
		t.Fatalf("healthcheck --unit QA-A printed:\n%s", out)
	}
	c.mustCLI("healthcheck", "--at", "2026-10-25T09:00:00+08:00")
	want = map[string][][]string{}
	each(want, []string{"黄灯提醒", "支部委员会", "还有 6 天"}, "A1", "A2", "A3", "A4", "A5", "C1")
	c.expect("yellow", want)

	// Due passed at midnight, inside the quiet hours: nothing until 08:00.
	c.evaluate(hcAt(2026, 11, 1, 0, 30))
	c.expect("quiet hours", nil)

	// 08:00: red notices to the secretaries (with the new month's list in
	// the same message) and ONE digest per township organiser.
	c.evaluate(hcAt(2026, 11, 1, 8, 0))
	want = map[string][][]string{}
	each(want, []string{"红灯督办", "支部委员会", "2026年10月", "本期规定动作", "2026年11月"}, "A1", "A2", "A3", "A4", "A5", "C1")
	each(want, []string{"本期规定动作", "2026年11月"}, others("A1", "A2", "A3", "A4", "A5", "C1")...)
	each(want, []string{"本期规定动作", "尚未绑定"}, "C5group")
	want["orgA"] = [][]string{{"红灯督办", "请督促整改", "安字村第1党支部", "安字村第2党支部", "安字村第3党支部", "安字村第4党支部", "安字村第5党支部", "安字镇"}}
	want["orgC"] = [][]string{{"红灯督办", "才字村第1党支部"}}
	c.expect("red", want)

	// The red notice carries 收到; A1 taps it: repeats pause for 72h.
	msgs := c.Fake.MessagesTo(c.users["A1"].ID)
	red := msgs[len(msgs)-1]
	if bs := red.Buttons(); len(bs) != 1 || bs[0].Text != "收到" || !strings.HasPrefix(bs[0].CallbackData, "ack:") {
		t.Fatalf("red notice buttons: %+v", bs)
	}
	c.send(c.Fake.CallbackQuery(c.users["A1"], red, red.Buttons()[0].CallbackData))
	// /ack with a promised date, from A3 in private.
	c.to(hcAt(2026, 11, 1, 9, 0))
	c.say(c.Fake.PrivateChat(c.users["A3"]), c.users["A3"], "/ack 支委会 11-03")
	c.waitMsg(c.users["A3"].ID, "计划 2026-11-03 前完成")
	c.seen[c.users["A3"].ID]++

	// The next morning: repeats, except A1 and A3 who acknowledged.
	c.evaluate(hcAt(2026, 11, 2, 8, 0))
	want = map[string][][]string{}
	each(want, []string{"红灯督办", "已逾期 2 天"}, "A2", "A4", "A5", "C1")
	want["orgA"] = [][]string{{"红灯督办", "安字村第2党支部", "安字村第4党支部", "安字村第5党支部"}}
	want["orgC"] = [][]string{{"红灯督办", "才字村第1党支部"}}
	c.expect("repeat", want)
	if txt := c.Fake.MessagesTo(c.users["orgA"].ID); strings.Contains(txt[len(txt)-1].Text, "安字村第1党支部 ") {
		t.Errorf("acknowledged A1 repeated to the organiser: %q", txt[len(txt)-1].Text)
	}

	// /status: the secretary sees the branch's lights, the organiser the
	// township's summary with who acknowledged.
	c.say(c.Fake.PrivateChat(c.users["A3"]), c.users["A3"], "/status")
	st := c.waitMsg(c.users["A3"].ID, "体检")
	if !strings.Contains(st.Text, "🔴") || !strings.Contains(st.Text, "逾期未完成") || !strings.Contains(st.Text, "支部委员会 2026年10月") {
		t.Errorf("secretary /status: %q", st.Text)
	}
	c.seen[c.users["A3"].ID]++
	c.say(c.Fake.PrivateChat(c.users["orgA"]), c.users["orgA"], "/status")
	st = c.waitMsg(c.users["orgA"].ID, "支部体检")
	if !strings.Contains(st.Text, "🔴 5") || !strings.Contains(st.Text, "书记A3已确认，计划 11-03") {
		t.Errorf("organiser /status: %q", st.Text)
	}
	c.seen[c.users["orgA"].ID]++

	// A week overdue: the county gets one digest escalating all six.
	c.evaluate(hcAt(2026, 11, 8, 8, 0))
	want = map[string][][]string{}
	each(want, []string{"红灯督办", "已逾期 8 天"}, "A1", "A2", "A3", "A4", "A5", "C1")
	want["orgA"] = [][]string{{"红灯督办", "安字村第1党支部", "安字村第5党支部"}}
	want["orgC"] = [][]string{{"红灯督办", "才字村第1党支部"}}
	want["county"] = [][]string{{"提级督办", "安字村第1党支部", "安字村第2党支部", "安字村第3党支部", "安字村第4党支部", "安字村第5党支部", "才字村第1党支部"}}
	c.expect("escalation", want)

	// A2 checks in late: the township and the county are told, in the same
	// digest as the remaining red items.
	c.checkin("QA-A-V-B2", "QA-A-V-B2", "committee_meeting", "2026-10", hcAt(2026, 11, 8, 0, 0))
	c.evaluate(hcAt(2026, 11, 9, 8, 0))
	want = map[string][][]string{}
	each(want, []string{"红灯督办"}, "A1", "A3", "A4", "A5", "C1")
	want["orgA"] = [][]string{{"红灯督办", "已整改", "安字村第2党支部", "已补录打卡"}}
	want["orgC"] = [][]string{{"红灯督办", "才字村第1党支部"}}
	want["county"] = [][]string{{"提级督办", "已整改", "安字村第2党支部"}}
	c.expect("resolved", want)
	if txt := c.Fake.MessagesTo(c.users["orgA"].ID); strings.Count(txt[len(txt)-1].Text, "安字村第2党支部") != 1 {
		t.Errorf("A2 still red for the township: %q", txt[len(txt)-1].Text)
	}

	// The organiser exempts A3–A5 and C1 through the API, scoped to his
	// township; misses (C5 via its group) are listed.
	token := strings.TrimSpace(c.mustCLI("token", "create", "--unit", "QA-A", "--role", "organiser"))
	if code, _ := hcAPI(t, c.H, token, "GET", "/api/v1/lights?unit=QA-B", ""); code != http.StatusForbidden {
		t.Errorf("lights outside the token's subtree: %d", code)
	}
	code, body := hcAPI(t, c.H, token, "GET", "/api/v1/lights?unit=QA-A", "")
	if code != http.StatusOK || !strings.Contains(body, `"red":4`) || !strings.Contains(body, `"branch":"QA-A-V-B1","obligation":"committee_meeting","period":"2026-10","light":"red"`) {
		t.Errorf("lights: %d %s", code, body)
	}
	code, body = hcAPI(t, c.H, token, "GET", "/api/v1/escalations", "")
	if code != http.StatusOK || !strings.Contains(body, `"branch":"QA-A-V-B3"`) || !strings.Contains(body, `"escalated":true`) {
		t.Errorf("escalations: %d %s", code, body)
	}
	for _, b := range []string{"QA-A-V-B3", "QA-A-V-B4", "QA-A-V-B5"} {
		if code, body := hcAPI(t, c.H, token, "POST", "/api/v1/exemptions",
			`{"branch":"`+b+`","obligation":"支委会","period":"2026-10","reason":"村委换届"}`); code != http.StatusCreated {
			t.Errorf("exempt %s: %d %s", b, code, body)
		}
	}
	if code, _ := hcAPI(t, c.H, token, "POST", "/api/v1/exemptions",
		`{"branch":"QA-C-V-B1","obligation":"支委会","period":"2026-10","reason":"越权"}`); code != http.StatusForbidden {
		t.Errorf("exempt outside the township: %d", code)
	}
	tokC := strings.TrimSpace(c.mustCLI("token", "create", "--unit", "QA-C", "--role", "organiser"))
	code, body = hcAPI(t, c.H, tokC, "GET", "/api/v1/notifications/misses?since=2026-10-01", "")
	if code != http.StatusOK || !strings.Contains(body, `"person":"书记C5"`) || !strings.Contains(body, `"via_fallback":true`) {
		t.Errorf("misses: %d %s", code, body)
	}

	// The quarter and the year end: B1's party members' assembly turns red
	// and the township is told; every secretary gets the new month, quarter
	// and year.
	c.checkin("QA-A-V-B1", "QA-A-V-B1", "committee_meeting", "2026-10", hcAt(2026, 11, 20, 0, 0))
	c.checkin("QA-C-V-B1", "QA-C-V-B1", "committee_meeting", "2026-10", hcAt(2026, 11, 20, 0, 0))
	c.evaluate(hcAt(2026, 11, 20, 8, 0))
	want = map[string][][]string{}
	want["orgA"] = [][]string{{"已整改", "安字村第1党支部", "安字村第3党支部", "安字村第4党支部", "安字村第5党支部", "已豁免"}}
	want["orgC"] = [][]string{{"已整改", "才字村第1党支部"}}
	want["county"] = [][]string{{"已整改", "安字村第1党支部", "才字村第1党支部"}}
	c.expect("all clear", want)

	c.evaluate(hcAt(2027, 1, 1, 8, 0))
	want = map[string][][]string{}
	// B2's 2026 组织生活会 is not red on 元旦: the yearly meetings of 2026
	// are due at the end of February 2027 (due_after).
	each(want, []string{"本期规定动作", "2027年1月", "2027年第一季度", "2027年度"}, others("B1")...)
	want["B1"] = [][]string{{"红灯督办", "支部党员大会", "2026年第四季度", "2027年1月"}}
	each(want, []string{"本期规定动作", "2027年1月"}, "C5group")
	want["orgB"] = [][]string{{"红灯督办", "宝字村第1党支部", "支部党员大会"}}
	c.expect("quarter end", want)
	if hcCount(t, c.H, `SELECT count(*) FROM notification_log WHERE obligation = 'life_meeting' AND period = '2026' AND level = 'red'`) != 0 {
		t.Error("a red notice for 2026's 组织生活会 went out before the end of February 2027")
	}
}

// hcAPI calls the API with a bearer token and returns status and body.
func hcAPI(t *testing.T, h *H, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// hcCount counts rows.
func hcCount(t *testing.T, h *H, q string) int {
	t.Helper()
	return testdb.Count(t, h.Srv.Store, q)
}

// hcTick advances the scheduler's clock a minute at a time until its
// healthcheck job has recorded a run (the job's timer may be created a
// moment after the server starts), at most max.
func hcTick(t *testing.T, h *H, fc *clockwork.FakeClock, max time.Duration) {
	t.Helper()
	runs := hcCount(t, h, `SELECT count(*) FROM health_runs`)
	if err := fc.BlockUntilContext(h.Ctx, 1); err != nil {
		t.Fatal(err)
	}
	for moved := time.Duration(0); moved < max; moved += time.Minute {
		fc.Advance(time.Minute)
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) {
			if hcCount(t, h, `SELECT count(*) FROM health_runs`) > runs {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Fatalf("no scheduled healthcheck ran within %s", max)
}

func TestHealthSchedulerRestartAndReplicas(t *testing.T) {
	every := func(c *config.Config) { c.Healthcheck.Every = config.Duration(15 * time.Minute) }
	c := hcStart(t, hcAt(2026, 11, 1, 7, 55), withConfig(every))
	c.doneExcept("A1 committee_meeting 2026-10", "A2 committee_meeting 2026-10")

	// The scheduler's job evaluates at 08:10 (its clock): red notices go.
	hcTick(t, c.H, c.fc, 30*time.Minute)
	c.drainOutbox()
	c.waitMsg(c.users["orgA"].ID, "红灯督办")
	c.waitMsg(c.users["A1"].ID, "红灯督办")
	sent := hcCount(t, c.H, `SELECT count(*) FROM outbox WHERE kind = 'health'`)
	logged := hcCount(t, c.H, `SELECT count(*) FROM notification_log`)
	if sent != 16 { // 15 prompts (two with red) + the township
		t.Fatalf("%d health messages after the first run", sent)
	}

	// Restart: a new server on the same database (and a new Telegram
	// fake) evaluates the same slot again and sends nothing.
	if err := c.Srv.Shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	fc2 := clockwork.NewFakeClockAt(hcAt(2026, 11, 1, 8, 20))
	h2 := start(t, withDB(c.DBURL), withClock(fc2), withConfig(every))
	hcTick(t, h2, fc2, 30*time.Minute)
	if n := hcCount(t, h2, `SELECT count(*) FROM outbox WHERE kind = 'health'`); n != sent {
		t.Fatalf("after restart: %d health messages, want %d", n, sent)
	}
	if n := hcCount(t, h2, `SELECT count(*) FROM notification_log`); n != logged {
		t.Fatalf("after restart: %d log rows, want %d", n, logged)
	}

	// Two servers on one database at once, evaluating the next morning's
	// slot together: the repeats go out once.
	fc3 := clockwork.NewFakeClockAt(hcAt(2026, 11, 2, 8, 0))
	h3 := start(t, withDB(c.DBURL), withClock(fc3), withConfig(every))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, h := range []*H{h2, h3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = healthcheck.Of(h.Srv.App).RunHealthcheck(h.Ctx, domain.System, hcAt(2026, 11, 2, 8, 0), "", false)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := hcCount(t, h2, `SELECT count(*) FROM outbox WHERE kind = 'health'`); n != sent+3 { // A1, A2, township A
		t.Fatalf("two replicas: %d health messages, want %d", n, sent+3)
	}
	h2.drainOutbox()
	total := 0
	for _, f := range []*tgfake.Server{h2.Fake, h3.Fake} {
		total += len(f.MessagesTo(c.users["orgA"].ID))
	}
	if total != 1 {
		t.Fatalf("township organiser got %d messages from the two replicas, want 1", total)
	}
	// The schedulers tick (only the leader's job runs): still nothing new
	// in the same slot.
	fc3.Advance(15 * time.Minute)
	fc2.Advance(fc3.Now().Sub(fc2.Now()) - 16*time.Minute)
	hcTick(t, h2, fc2, 30*time.Minute)
	if n := hcCount(t, h2, `SELECT count(*) FROM outbox WHERE kind = 'health'`); n != sent+3 {
		t.Fatalf("after both schedulers ticked: %d health messages, want %d", n, sent+3)
	}
}
