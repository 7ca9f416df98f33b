package healthcheck_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/testdb"
)

// hcOnlyCommittee keeps the monthly committee meeting alone, so that each
// step of a scenario has few, predictable lines.
func hcOnlyCommittee(c *config.Config) {
	for _, ob := range health.DefaultObligations() {
		if ob.Code != "committee_meeting" {
			c.Healthcheck.Obligations = append(c.Healthcheck.Obligations, config.Obligation{Code: ob.Code, Disabled: true})
		}
	}
}

// hcEveryDayWorking is healthcheck.calendar none: the scenarios about
// repeats and quiet hours run on any day of the week.
func hcEveryDayWorking(c *config.Config) { c.Healthcheck.Calendar = "none" }

// hcNotifyCounty: county (organiser 钱), township (organiser 赵), village,
// branch B1 with secretaries 王 (linked) and 李 (not linked; the branch
// group is bound), started 2026-10-01. Every day is a working day unless a
// cfg says otherwise.
func hcNotifyCounty(t *testing.T, now time.Time, cfgs ...func(*config.Config)) *hcFixture {
	f := newHCFixture(t, now, append([]func(*config.Config){hcOnlyCommittee, hcEveryDayWorking}, cfgs...)...)
	hcCounty(f, hcDay(2026, 10, 1))
	f.person("钱部长", "organiser", "QA", 900)
	f.person("赵委员", "organiser", "QA-RZ", 800)
	f.person("王书记", "secretary", "B1", 100)
	f.person("李副书记", "secretary", "B1", 0)
	if err := f.st.BindGroup(f.ctx, -1001, f.units["B1"].ID, "一支部群", f.ppl["王书记"]); err != nil {
		t.Fatal(err)
	}
	return f
}

// run evaluates and sends at t, returning the digests by person name.
func (f *hcFixture) run(t time.Time) (*healthcheck.Evaluation, map[string]health.Digest) {
	f.t.Helper()
	f.now = t
	ev, err := healthcheck.Of(f.app).RunHealthcheck(f.ctx, domain.System, t, "", true)
	if err != nil {
		f.t.Fatalf("run at %s: %v", t, err)
	}
	out := map[string]health.Digest{}
	for _, d := range ev.Digests {
		if _, dup := out[d.Name]; dup {
			f.t.Fatalf("two digests for %s at %s", d.Name, t)
		}
		out[d.Name] = d
	}
	return ev, out
}

func hcLevels(d health.Digest) string {
	var ls []string
	for _, n := range d.Notices {
		s := string(n.Level)
		if n.Role == health.RoleOrganiser {
			s += "@" + string(rune('0'+n.OrgLevel))
		}
		ls = append(ls, s)
	}
	return strings.Join(ls, ",")
}

func hcExpect(t *testing.T, when string, got map[string]health.Digest, want map[string]string) {
	t.Helper()
	for name, d := range got {
		if w, ok := want[name]; !ok {
			t.Errorf("%s: unexpected digest for %s: %s %q", when, name, hcLevels(d), d.Texts())
		} else if l := hcLevels(d); l != w {
			t.Errorf("%s: %s got %s, want %s", when, name, l, w)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: no digest for %s", when, name)
		}
	}
}

func TestNoticesThroughAMonth(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 10, 24, 10, 0))

	// Start of the period: the green prompt to both secretaries, 李 via
	// the branch group.
	_, ds := f.run(hcAt(2026, 10, 24, 10, 0))
	hcExpect(t, "prompt", ds, map[string]string{"王书记": "green", "李副书记": "green"})
	if d := ds["王书记"]; d.ChatID != 100 || d.ViaFallback {
		t.Errorf("王 digest to %d fallback=%v", d.ChatID, d.ViaFallback)
	}
	if d := ds["李副书记"]; d.ChatID != -1001 || !d.ViaFallback || !strings.Contains(d.Texts()[0], "尚未绑定") {
		t.Errorf("李 digest to %d fallback=%v: %q", d.ChatID, d.ViaFallback, d.Texts())
	}
	// Yellow window: secretaries only.
	_, ds = f.run(hcAt(2026, 10, 25, 9, 0))
	hcExpect(t, "yellow", ds, map[string]string{"王书记": "yellow", "李副书记": "yellow"})
	// Nothing new later the same day.
	if _, ds = f.run(hcAt(2026, 10, 25, 15, 0)); len(ds) != 0 {
		t.Fatalf("repeat within the slot: %v", ds)
	}
	// Due passed: red to secretaries and the township; the new month's
	// prompt rides in the same digest.
	_, ds = f.run(hcAt(2026, 11, 1, 8, 0))
	hcExpect(t, "red", ds, map[string]string{"王书记": "red,green", "李副书记": "red,green", "赵委员": "red@0"})
	if !strings.Contains(ds["赵委员"].Texts()[0], "〕幸福村第一党支部 · 支部委员会 · 2026年10月") || !strings.Contains(ds["赵委员"].Texts()[0], "让字镇") {
		t.Errorf("organiser text: %q", ds["赵委员"].Texts())
	}
	// The next day: the daily repeat.
	_, ds = f.run(hcAt(2026, 11, 2, 8, 0))
	hcExpect(t, "repeat", ds, map[string]string{"王书记": "red", "李副书记": "red", "赵委员": "red@0"})
	// A week overdue: the county is added.
	_, ds = f.run(hcAt(2026, 11, 8, 8, 0))
	hcExpect(t, "escalation", ds, map[string]string{"王书记": "red", "李副书记": "red", "赵委员": "red@0", "钱部长": "red@1"})
	if !strings.Contains(ds["钱部长"].Texts()[0], "提级督办") {
		t.Errorf("escalation text: %q", ds["钱部长"].Texts())
	}
	// A late check-in: the organisers who had red notices are told.
	f.checkin("B1", "B1", "committee_meeting", "2026-10", hcDay(2026, 10, 30), "")
	ev, ds := f.run(hcAt(2026, 11, 9, 8, 0))
	hcExpect(t, "resolved", ds, map[string]string{"赵委员": "resolved@0", "钱部长": "resolved@1"})
	if !strings.Contains(ds["赵委员"].Texts()[0], "已补录打卡") {
		t.Errorf("resolved text: %q", ds["赵委员"].Texts())
	}
	if ev.Changes != 1 {
		t.Errorf("changes %d, want 1 (red → green)", ev.Changes)
	}
	// And only once.
	if _, ds = f.run(hcAt(2026, 11, 9, 9, 0)); len(ds) != 0 {
		t.Fatalf("resolved twice: %v", ds)
	}
	// light.changed events: yellow, red, green for 2026-10.
	var evs []string
	rows, err := f.st.DB().QueryContext(f.ctx, `SELECT payload->>'period', payload->>'from', payload->>'to' FROM events WHERE type = 'light.changed' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, from, to string
		if err := rows.Scan(&p, &from, &to); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, p+":"+from+">"+to)
	}
	rows.Close()
	if got := strings.Join(evs, " "); got != "2026-10:green>yellow 2026-10:yellow>red 2026-10:red>green" {
		t.Errorf("events: %s", got)
	}
}

func TestQuietHoursDeferUntilMorning(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 1, 0, 30))
	// Due passed at midnight, inside the quiet hours: nothing yet.
	ev, ds := f.run(hcAt(2026, 11, 1, 0, 30))
	if !ev.Deferred || len(ds) != 0 || ev.Stats.Lines == 0 || !ev.NextAllowed.Equal(hcAt(2026, 11, 1, 8, 0)) {
		t.Fatalf("quiet hours: deferred=%v digests=%d lines=%d next=%s", ev.Deferred, len(ds), ev.Stats.Lines, ev.NextAllowed)
	}
	var n int
	if err := f.st.DB().GetContext(f.ctx, &n, `SELECT count(*) FROM outbox`); err != nil || n != 0 {
		t.Fatalf("outbox rows during quiet hours: %d %v", n, err)
	}
	// 08:00: sent.
	_, ds = f.run(hcAt(2026, 11, 1, 8, 0))
	hcExpect(t, "morning", ds, map[string]string{"王书记": "red,green", "李副书记": "red,green", "赵委员": "red@0"})
	// A holiday holds everything too.
	g := hcNotifyCounty(t, hcAt(2026, 11, 1, 10, 0), func(c *config.Config) { c.Healthcheck.Holidays = []string{"2026-11-01"} })
	if ev, ds := g.run(hcAt(2026, 11, 1, 10, 0)); !ev.Deferred || len(ds) != 0 {
		t.Fatalf("holiday: deferred=%v digests=%d", ev.Deferred, len(ds))
	}
}

// TestSchedulerTickInQuietHoursDoesNotPlan: the scheduler's evaluation
// (which keeps no digests) in the quiet hours records the run as deferred
// with the items held, plans nothing, sends nothing, and the morning sends
// what the night held.
func TestSchedulerTickInQuietHoursDoesNotPlan(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 1, 0, 30))
	for _, at := range []time.Time{hcAt(2026, 11, 1, 0, 30), hcAt(2026, 11, 1, 7, 45)} {
		f.now = at
		ev, err := healthcheck.Of(f.app).RunHealthcheck(f.ctx, domain.System, at, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.Deferred || ev.Items == 0 || ev.Stats.Lines != 0 || ev.Sent != 0 || !ev.NextAllowed.Equal(hcAt(2026, 11, 1, 8, 0)) {
			t.Fatalf("%s: deferred=%v items=%d lines=%d sent=%d next=%s", at, ev.Deferred, ev.Items, ev.Stats.Lines, ev.Sent, ev.NextAllowed)
		}
	}
	var outbox, runs int
	if err := f.st.DB().GetContext(f.ctx, &outbox, `SELECT count(*) FROM outbox`); err != nil || outbox != 0 {
		t.Fatalf("outbox rows during quiet hours: %d %v", outbox, err)
	}
	if err := f.st.DB().GetContext(f.ctx, &runs, `SELECT count(*) FROM health_runs WHERE deferred AND items > 0 AND digests = 0`); err != nil || runs != 2 {
		t.Fatalf("deferred runs recorded: %d %v", runs, err)
	}
	_, ds := f.run(hcAt(2026, 11, 1, 8, 0))
	hcExpect(t, "morning", ds, map[string]string{"王书记": "red,green", "李副书记": "red,green", "赵委员": "red@0"})
}

func TestNoticeLogAtMostOnce(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 1, 9, 0))
	// Two replicas evaluate at once: one of them sends, the other waits on
	// the lock and then finds everything logged.
	var wg sync.WaitGroup
	evs := make([]*healthcheck.Evaluation, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs[i], errs[i] = healthcheck.Of(f.app).RunHealthcheck(f.ctx, domain.System, hcAt(2026, 11, 1, 9, 0), "", false)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if evs[0].Sent+evs[1].Sent != 3 || min(evs[0].Sent, evs[1].Sent) != 0 {
		t.Fatalf("digests %d + %d, want 3 + 0", evs[0].Sent, evs[1].Sent)
	}
	var outbox, logged int
	if err := f.st.DB().GetContext(f.ctx, &outbox, `SELECT count(*) FROM outbox WHERE kind = 'health'`); err != nil {
		t.Fatal(err)
	}
	if err := f.st.DB().GetContext(f.ctx, &logged, `SELECT count(*) FROM notification_log`); err != nil {
		t.Fatal(err)
	}
	if outbox != 3 || logged != 5 { // 王, 李: red + green; 赵: red
		t.Fatalf("outbox %d, log %d", outbox, logged)
	}
	// A dry run afterwards plans nothing and writes nothing: everything due
	// is in the memory, so no item even reaches the planner.
	ev, err := healthcheck.Of(f.app).Evaluate(f.ctx, domain.System, hcAt(2026, 11, 1, 9, 30), "")
	if err != nil || len(ev.Digests) != 0 || ev.Items != 0 {
		t.Fatalf("dry run after sending: %d digests, %d items planned, %v", len(ev.Digests), ev.Items, err)
	}
	// The log's key is the notice key: a second row for one is refused.
	_, err = f.st.DB().ExecContext(f.ctx, `INSERT INTO notification_log (key, person_id, unit_id, obligation, period, level, slot, role, digest_id, at)
		SELECT key, person_id, unit_id, obligation, period, level, slot, role, digest_id, at FROM notification_log LIMIT 1`)
	if err == nil || !strings.Contains(err.Error(), "duplicate key") {
		t.Fatalf("duplicate notice key accepted: %v", err)
	}
	// The log is the authority: with the memory lost, the lines it refuses
	// are planned again as sent, and nothing goes out twice.
	if _, err := f.st.DB().ExecContext(f.ctx, `UPDATE health_units SET memory = ''`); err != nil {
		t.Fatal(err)
	}
	ev, err = healthcheck.Of(f.app).RunHealthcheck(f.ctx, domain.System, hcAt(2026, 11, 1, 9, 45), "", true)
	if err != nil || len(ev.Digests) != 0 || ev.Messages != 0 {
		t.Fatalf("run without memory: %d digests, %d messages, %v", len(ev.Digests), ev.Messages, err)
	}
	if err := f.st.DB().GetContext(f.ctx, &outbox, `SELECT count(*) FROM outbox WHERE kind = 'health'`); err != nil || outbox != 3 {
		t.Fatalf("outbox after a run without memory: %d %v", outbox, err)
	}
	// and the memory is back: the next run plans nothing at all.
	if ev, err = healthcheck.Of(f.app).Evaluate(f.ctx, domain.System, hcAt(2026, 11, 1, 10, 0), ""); err != nil || ev.Items != 0 {
		t.Fatalf("memory not rebuilt: %d items planned, %v", ev.Items, err)
	}
	// The 收到 button rides on the secretary's red digest.
	var payload string
	if err := f.st.DB().GetContext(f.ctx, &payload, `SELECT payload::text FROM outbox WHERE chat_id = 100`); err != nil {
		t.Fatal(err)
	}
	want := healthcheck.AckData(f.units["B1"].ID, "committee_meeting", "2026-10")
	if !strings.Contains(payload, want) || !strings.Contains(payload, "收到") {
		t.Fatalf("secretary payload lacks the ack button %s: %s", want, payload)
	}
}

func TestAckPausesRepeats(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 1, 9, 0))
	f.run(hcAt(2026, 11, 1, 9, 0))
	wang := f.actor("王书记")
	planned := hcDay(2026, 11, 4)
	res, err := healthcheck.Of(f.app).Ack(f.ctx, wang, healthcheck.AckRequest{Planned: &planned})
	if err != nil || len(res.Items) != 1 || !res.Until.Equal(hcAt(2026, 11, 5, 0, 0)) {
		t.Fatalf("ack: %+v %v", res, err)
	}
	for d := 2; d <= 4; d++ {
		if _, ds := f.run(hcAt(2026, 11, d, 9, 0)); len(ds) != 0 {
			t.Fatalf("Nov %d: repeats while acknowledged: %v", d, ds)
		}
	}
	// After the promised date the repeats resume, and the organiser sees
	// who promised what.
	_, ds := f.run(hcAt(2026, 11, 5, 9, 0))
	hcExpect(t, "resumed", ds, map[string]string{"王书记": "red", "李副书记": "red", "赵委员": "red@0"})
	if txt := ds["赵委员"].Texts()[0]; !strings.Contains(txt, "王书记 已回复收到，计划 2026-11-04 前完成") {
		t.Errorf("organiser text lacks the ack: %q", txt)
	}
	// Acknowledging needs a red item and a secretary of the branch.
	if _, err := healthcheck.Of(f.app).Ack(f.ctx, f.actor("赵委员"), healthcheck.AckRequest{}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("organiser ack: %v", err)
	}
	f.checkin("B1", "B1", "committee_meeting", "2026-10", hcDay(2026, 10, 30), "")
	if _, err := healthcheck.Of(f.app).Ack(f.ctx, wang, healthcheck.AckRequest{}); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("ack with nothing red: %v", err)
	}
	past := hcDay(2026, 10, 1)
	if _, err := healthcheck.Of(f.app).Ack(f.ctx, wang, healthcheck.AckRequest{Planned: &past}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("ack with a past date: %v", err)
	}
}

func (f *hcFixture) actor(name string) domain.Actor {
	f.t.Helper()
	roles, err := f.st.RolesOf(f.ctx, f.ppl[name])
	if err != nil {
		f.t.Fatal(err)
	}
	return domain.Actor{PersonID: f.ppl[name], Label: "test:" + name, Roles: roles}
}

func TestSilenceAndExemption(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 1, 9, 0))
	zhao := f.actor("赵委员")
	// A secretary may not silence or exempt.
	if _, err := healthcheck.Of(f.app).Silence(f.ctx, f.actor("王书记"), healthcheck.SilenceRequest{UnitCode: "QA-RZ", Until: hcAt(2026, 11, 3, 0, 0), Reason: "台风"}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("secretary silence: %v", err)
	}
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, f.actor("王书记"), healthcheck.ExemptRequest{UnitCode: "B1", Obligation: "支委会", Period: "2026-10", Reason: "x"}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("secretary exempt: %v", err)
	}
	if _, err := healthcheck.Of(f.app).Silence(f.ctx, zhao, healthcheck.SilenceRequest{UnitCode: "QA-RZ", Obligation: "支委会", Until: hcAt(2026, 11, 3, 0, 0), Reason: "台风"}); err != nil {
		t.Fatal(err)
	}
	ev, ds := f.run(hcAt(2026, 11, 1, 9, 0))
	// The red item is silenced, and so is the new month's prompt of the
	// silenced obligation.
	hcExpect(t, "silenced", ds, map[string]string{})
	if len(ev.Silenced) != 1 || ev.Silenced[0].Period.Key() != "2026-10" {
		t.Fatalf("silenced items: %+v", ev.Silenced)
	}
	// After the silence: sent (the current slot).
	_, ds = f.run(hcAt(2026, 11, 3, 9, 0))
	hcExpect(t, "after silence", ds, map[string]string{"王书记": "red,green", "李副书记": "red,green", "赵委员": "red@0"})
	// The township exempts the month: green again, and 赵 is told.
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, healthcheck.ExemptRequest{UnitCode: "B1", Obligation: "支委会", Period: "2026-Q4", Reason: "受灾"}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("exempt with a quarter for a monthly obligation: %v", err)
	}
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, healthcheck.ExemptRequest{UnitCode: "B1", Obligation: "支委会", Period: "2026-09", Reason: "受灾"}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("exempt before the start: %v", err)
	}
	xs, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, healthcheck.ExemptRequest{UnitCode: "B1", Obligation: "支委会", Period: "2026-10", Reason: "受灾"})
	if err != nil || len(xs) != 1 {
		t.Fatalf("exempt: %v %v", xs, err)
	}
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, healthcheck.ExemptRequest{UnitCode: "B1", Obligation: "committee_meeting", Period: "2026-10", Reason: "受灾"}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("exempt twice: %v", err)
	}
	_, ds = f.run(hcAt(2026, 11, 4, 9, 0))
	hcExpect(t, "exempted", ds, map[string]string{"赵委员": "resolved@0"})
	if !strings.Contains(ds["赵委员"].Texts()[0], "已豁免") {
		t.Errorf("resolved text: %q", ds["赵委员"].Texts())
	}
	// Both are audited.
	if allowed, refused := testdb.AuditTally(t, f.st, "health.exempt", 10); allowed != 1 || refused != 4 {
		t.Fatalf("audit: %d allowed, %d refused", allowed, refused)
	}
}

func TestUnitSummaryAndEscalations(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	f.unit("B2", "第二党支部", "branch", "QA-RZ-XZ", hcDay(2026, 10, 1))
	f.checkin("B2", "B2", "committee_meeting", "2026-10", hcDay(2026, 10, 30), "")
	counts, bs, err := healthcheck.Of(f.app).UnitSummary(f.ctx, domain.Operator, f.units["QA-RZ"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts != (health.Counts{Green: 1, Red: 1}) || len(bs) != 2 || bs[0].Code != "B1" || bs[0].Light != health.Red {
		t.Fatalf("summary %+v %+v", counts, bs)
	}
	_, esc, err := healthcheck.Of(f.app).Escalations(f.ctx, domain.Operator, "QA")
	if err != nil || len(esc) != 1 || esc[0].Branch != "B1" || !esc[0].Escalated || esc[0].DaysOverdue != 9 { // 11-01 is day 1, 11-09 day 9
		t.Fatalf("escalations %+v %v", esc, err)
	}
}

// StatusUnits is what /status shows when neither the command nor the chat
// names a unit: the branches the actor is secretary of and the units they
// organise or administer, each once, in the order of the actor's roles; an
// actor with none is refused, and nothing is audited.
func TestStatusUnitsFollowTheActorsRoles(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	f.person("孙村民", "villager", "QA-RZ-XZ", 0)
	f.person("冯委员", "secretary", "B1", 0)
	f.person("冯委员", "organiser", "QA-RZ", 0)
	f.person("冯委员", "admin", "QA-RZ", 0)       // the same unit again: shown once
	f.person("冯委员", "secretary", "B1-G1", 0)   // a party group's secretary sees no status of it
	f.person("冯委员", "villager", "QA-RZ-XZ", 0) // nor does a villager
	f.person("陈组长", "secretary", "B1-G1", 0)

	codes := func(actor domain.Actor) string {
		t.Helper()
		us, err := healthcheck.Of(f.app).StatusUnits(f.ctx, actor)
		if err != nil {
			t.Fatalf("%s: %v", actor.Label, err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.Code)
		}
		return strings.Join(out, " ")
	}
	feng := f.actor("冯委员")
	if got := codes(feng); got != "QA-RZ B1" { // RolesOf: admin, organiser, secretary, …
		t.Errorf("units of %v: %q, want QA-RZ B1", feng.Roles, got)
	}
	slices.Reverse(feng.Roles)
	if got := codes(feng); got != "B1 QA-RZ" {
		t.Errorf("units of %v: %q, want B1 QA-RZ", feng.Roles, got)
	}
	if got := codes(f.actor("王书记")); got != "B1" {
		t.Errorf("the branch's secretary: %q, want B1", got)
	}

	audited := f.count(`SELECT count(*) FROM audit_log`)
	for _, name := range []string{"孙村民", "陈组长"} {
		us, err := healthcheck.Of(f.app).StatusUnits(f.ctx, f.actor(name))
		if !errors.Is(err, domain.ErrForbidden) || err.Error() != "只有党支部书记、组织委员或管理员可以查看体检情况。" || us != nil {
			t.Errorf("%s: %v %v, want the refusal of status.forbidden", name, us, err)
		}
	}
	if n := f.count(`SELECT count(*) FROM audit_log`); n != audited {
		t.Errorf("the refusals wrote %d audit entries, want none", n-audited)
	}
}

// 收到 said in a group bound to a branch is about that branch when the
// sender is its secretary; elsewhere, or from a secretary of another
// branch, it covers all the sender's branches.
func TestAckInABranchGroupNarrowsToIt(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	f.unit("B2", "第二党支部", "branch", "QA-RZ-XZ", hcDay(2026, 10, 1))
	f.person("王书记", "secretary", "B2", 0)
	f.person("周书记", "secretary", "B2", 0)
	const branchGroup, otherGroup = -1001, -1002 // -1001 is bound to B1

	acked := func(name string, chat int64) string {
		t.Helper()
		res, err := healthcheck.Of(f.app).Ack(f.ctx, f.actor(name), healthcheck.AckRequest{ChatID: chat})
		if err != nil {
			t.Fatalf("%s acks in chat %d: %v", name, chat, err)
		}
		var out []string
		for _, b := range res.Branches {
			out = append(out, b.Code)
		}
		return strings.Join(out, " ")
	}
	if got := acked("王书记", branchGroup); got != "B1" {
		t.Errorf("the secretary of B1 and B2 in B1's group acked %q, want B1", got)
	}
	if got := acked("王书记", otherGroup); got != "B1 B2" {
		t.Errorf("the secretary of B1 and B2 in an unbound group acked %q, want B1 B2", got)
	}
	if got := acked("王书记", 0); got != "B1 B2" {
		t.Errorf("the secretary of B1 and B2 in private acked %q, want B1 B2", got)
	}
	if got := acked("周书记", branchGroup); got != "B2" {
		t.Errorf("the secretary of B2 in B1's group acked %q, want B2", got)
	}
}

// count runs a counting query.
func (f *hcFixture) count(q string, args ...any) int {
	f.t.Helper()
	return testdb.Count(f.t, f.st, q, args...)
}
