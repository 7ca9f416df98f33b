package checkin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// ciLoc is the county's zone, Asia/Shanghai.
var ciLoc = testdb.Loc

// ciFixture: county QA > township QA-RZ > branch B1 (started 2026-10-01),
// at 2026-11-26 10:00 in Asia/Shanghai.
type ciFixture struct {
	ctx     context.Context
	app     *app.App
	st      *storage.Store
	now     time.Time
	branch  domain.Unit
	town    domain.Unit
	sec     domain.Actor
	org     domain.Actor
	branchO domain.Actor // an organiser of the branch itself: not above it
}

func newCIFixture(t *testing.T) *ciFixture {
	t.Helper()
	ctx := context.Background()
	st := testdb.New(t)
	f := &ciFixture{ctx: ctx, st: st, now: time.Date(2026, 11, 26, 10, 0, 0, 0, ciLoc)}
	f.app = app.New(st, config.Default(), func() time.Time { return f.now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	county, err := st.CreateUnit(ctx, "QA", "乾安县", domain.KindCounty, nil, start)
	if err != nil {
		t.Fatal(err)
	}
	f.town, _ = st.CreateUnit(ctx, "QA-RZ", "让字镇", domain.KindTownship, &county.ID, start)
	f.branch, _ = st.CreateUnit(ctx, "QA-RZ-B1", "一支部", domain.KindBranch, &f.town.ID, start)
	actor := func(name, role string, unit domain.Unit) domain.Actor {
		id, _, err := st.UpsertPerson(ctx, name, "", unit.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddRole(ctx, id, role, unit.ID); err != nil {
			t.Fatal(err)
		}
		roles, _ := st.RolesOf(ctx, id)
		return domain.Actor{PersonID: id, Label: name, Roles: roles}
	}
	f.sec = actor("书记", domain.RoleSecretary, f.branch)
	f.org = actor("委员", domain.RoleOrganiser, f.town)
	f.branchO = actor("支部组织委员", domain.RoleOrganiser, f.branch)
	return f
}

func (f *ciFixture) req(date string, obligations ...string) checkin.Request {
	d, err := time.ParseInLocation(time.DateOnly, date, ciLoc)
	if err != nil {
		panic(err)
	}
	return checkin.Request{Obligations: obligations, Date: d, Source: checkin.SourceAPI}
}

func TestCheckinLateAndThemeDay(t *testing.T) {
	f := newCIFixture(t)
	day := 28
	if err := f.st.SetThemeDay(f.ctx, f.branch.ID, &day); err != nil {
		t.Fatal(err)
	}
	f.branch.ThemeDay = &day
	tests := []struct {
		date, obligation, period string
		late                     bool
	}{
		{"2026-10-20", "committee_meeting", "2026-10", true}, // due 11-01: a make-up for a missed month
		{"2026-11-20", "committee_meeting", "2026-11", false},
		{"2026-10-29", "theme_day", "2026-10", true}, // fixed day 28 + 7 grace: due 11-05
		{"2026-11-20", "theme_day", "2026-11", false},
		{"2026-10-02", "party_lecture", "2026-Q4", false},
	}
	for _, tc := range tests {
		res, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req(tc.date, tc.obligation))
		if err != nil {
			t.Fatalf("%s %s: %v", tc.date, tc.obligation, err)
		}
		l := res.Lines[0]
		if l.Period.Key() != tc.period || l.Late != tc.late || res.Checkin.Items[0].Late != tc.late {
			t.Fatalf("%s %s: period %s late %v", tc.date, tc.obligation, l.Period.Key(), l.Late)
		}
	}
	// The late make-up clears October's red.
	text := checkin.Of(f.app).RenderLights(mustLights(t, f))
	if strings.Contains(text, "🔴 支部委员会") || strings.Contains(text, "🔴 主题党日") {
		t.Fatalf("October still red:\n%s", text)
	}
	// A missed month is shown; a branch without party groups owes no 党小组会.
	if !strings.Contains(text, "🔴 党费收缴 · 2026年10月") || strings.Contains(text, "党小组会") {
		t.Fatalf("missed dues not shown, or a group meeting owed without groups:\n%s", text)
	}
	// Before the start period: refused.
	_, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-09-30", "committee_meeting"))
	var ue *domain.UserError
	if !errors.As(err, &ue) || !errors.Is(err, domain.ErrInvalid) || !strings.Contains(ue.Msg, "2026-10-01") {
		t.Fatalf("before start: %v", err)
	}
}

func mustLights(t *testing.T, f *ciFixture) checkin.LightsView {
	t.Helper()
	res, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-11-26", "member_appraisal"))
	if err != nil {
		t.Fatal(err)
	}
	return res.Lights
}

func TestCheckinConcurrentFirstIsUnique(t *testing.T) {
	f := newCIFixture(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-11-25", "committee_meeting"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var firsts, extras int
	if err := f.st.DB().GetContext(f.ctx, &firsts, `SELECT count(*) FROM checkin_items WHERE NOT extra`); err != nil {
		t.Fatal(err)
	}
	if err := f.st.DB().GetContext(f.ctx, &extras, `SELECT count(*) FROM checkin_items WHERE extra`); err != nil {
		t.Fatal(err)
	}
	if firsts != 1 || extras != n-1 {
		t.Fatalf("%d first and %d extra records", firsts, extras)
	}
}

func TestCheckinUndoAndRejectRules(t *testing.T) {
	f := newCIFixture(t)
	res, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-11-25", "committee_meeting"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Checkin.ID

	// Only the author's own check-ins are undone.
	if _, err := checkin.Of(f.app).UndoCheckin(f.ctx, f.org); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("undo by someone else: %v", err)
	}
	// An organiser of the branch itself is not above it; the secretary is not an organiser.
	for _, who := range []domain.Actor{f.branchO, f.sec} {
		if _, err := checkin.Of(f.app).RejectCheckin(f.ctx, who, id, "理由"); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("reject by %s: %v", who.Label, err)
		}
	}
	if _, err := checkin.Of(f.app).RejectCheckin(f.ctx, f.org, 999999, "理由"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("reject unknown: %v", err)
	}
	ch, err := checkin.Of(f.app).RejectCheckin(f.ctx, f.org, id, "照片不清楚")
	if err != nil {
		t.Fatal(err)
	}
	if ch.NotifiedChat != 0 {
		t.Fatalf("nobody to tell, yet notified %d", ch.NotifiedChat)
	}
	// An admin token above the branch may reject too; a rejected one cannot be undone.
	admin := domain.Actor{Label: "api:1", Roles: []domain.Role{{Role: domain.RoleAdmin, UnitID: f.town.ID, UnitCode: f.town.Code}}}
	res, _ = checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-11-25", "committee_meeting"))
	if _, err := checkin.Of(f.app).RejectCheckin(f.ctx, admin, res.Checkin.ID, "重复"); err != nil {
		t.Fatalf("admin reject: %v", err)
	}
	if _, err := checkin.Of(f.app).UndoCheckin(f.ctx, f.sec); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("undo with only rejected check-ins: %v", err)
	}
	// Every refusal is audited.
	if _, refused := testdb.AuditTally(t, f.st, "checkin.reject", 20); refused != 3 {
		t.Fatalf("%d refusals audited, want 3", refused)
	}
}

// TestCheckinCountsForOldestOpenPeriod: a meeting counts for the oldest open
// period whose window contains its date (SPEC §7.1).
func TestCheckinCountsForOldestOpenPeriod(t *testing.T) {
	f := newCIFixture(t)
	day := 28
	if err := f.st.SetThemeDay(f.ctx, f.branch.ID, &day); err != nil {
		t.Fatal(err)
	}
	f.branch.ThemeDay = &day
	f.now = time.Date(2026, 12, 3, 10, 0, 0, 0, ciLoc)
	res, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-12-03", "theme_day"))
	if err != nil || res.Lines[0].Period.Key() != "2026-11" || res.Lines[0].Late {
		t.Fatalf("主题党日 made up on 3 December: %+v %v", res.Lines, err)
	}
	res, err = checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2026-12-03", "theme_day"))
	if err != nil || res.Lines[0].Period.Key() != "2026-12" || res.Lines[0].Extra {
		t.Fatalf("the next one is December's: %+v %v", res.Lines, err)
	}

	f.now = time.Date(2027, 1, 20, 10, 0, 0, 0, ciLoc)
	for _, want := range []struct {
		period string
		extra  bool
	}{{"2026", false}, {"2027", false}, {"2027", true}} {
		res, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, f.req("2027-01-15", "life_meeting"))
		if err != nil {
			t.Fatal(err)
		}
		if l := res.Lines[0]; l.Period.Key() != want.period || l.Late || l.Extra != want.extra {
			t.Fatalf("组织生活会 on 2027-01-15: period %s late %v extra %v, want %s extra %v", l.Period.Key(), l.Late, l.Extra, want.period, want.extra)
		}
	}
}

// TestGeneralMeetingBelowQuorum: a 支部党员大会 with no more than half
// present is recorded but stays yellow, with the reason, even past its due
// time; a meeting with a quorum then counts for the same quarter.
func TestGeneralMeetingBelowQuorum(t *testing.T) {
	f := newCIFixture(t)
	f.now = time.Date(2026, 11, 21, 10, 0, 0, 0, ciLoc)
	req := f.req("2026-11-20", "general_meeting")
	req.Present, req.Total = 3, 25
	res, err := checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, req)
	if err != nil {
		t.Fatal(err)
	}
	if l := res.Lines[0]; !l.BelowQuorum || l.Period.Key() != "2026-Q4" || !res.Checkin.Items[0].BelowQuorum {
		t.Fatalf("line %+v, item %+v", l, res.Checkin.Items[0])
	}
	if text := checkin.Of(f.app).CheckinConfirmation(res); !strings.Contains(text, "未过半数，不计为已召开") {
		t.Fatalf("the reply does not say why it does not count:\n%s", text)
	}
	light := func(at time.Time) healthcheck.ItemStatus {
		t.Helper()
		f.now = at
		st, err := healthcheck.Of(f.app).BranchStatus(f.ctx, domain.Operator, f.branch.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range st.Items {
			if it.Obligation == "general_meeting" && it.Period.Key() == "2026-Q4" {
				return it
			}
		}
		t.Fatalf("no 2026-Q4 general_meeting item at %s: %+v", at, st.Items)
		return healthcheck.ItemStatus{}
	}
	for _, at := range []time.Time{time.Date(2026, 11, 21, 10, 0, 0, 0, ciLoc), time.Date(2027, 1, 6, 10, 0, 0, 0, ciLoc)} {
		if it := light(at); it.Light != "yellow" || !strings.Contains(it.Reason, "实到 3 人、应到 25 人") {
			t.Fatalf("at %s: %s %q, want yellow with the reason", at, it.Light, it.Reason)
		}
	}
	// A meeting with a quorum counts for the quarter, not as an extra.
	f.now = time.Date(2026, 12, 21, 10, 0, 0, 0, ciLoc)
	req = f.req("2026-12-20", "general_meeting")
	req.Present, req.Total = 20, 25
	res, err = checkin.Of(f.app).RecordCheckin(f.ctx, f.sec, req)
	if err != nil || res.Lines[0].Extra || res.Lines[0].BelowQuorum || res.Lines[0].Period.Key() != "2026-Q4" {
		t.Fatalf("the quorate meeting: %+v %v", res.Lines, err)
	}
	if it := light(time.Date(2026, 12, 21, 10, 0, 0, 0, ciLoc)); it.Light != "green" {
		t.Fatalf("after a quorate meeting: %s", it.Light)
	}
}

// /checkin's gate comes before its arguments: someone who may check in
// nowhere is told so whatever they wrote, and the refusal is audited as
// RecordCheckin's; a secretary's mistakes are told and not audited.
func TestParseCheckinArgsGatesTheActorFirst(t *testing.T) {
	f := newCIFixture(t)
	for _, c := range []struct {
		who   domain.Actor
		words string
	}{
		{f.org, "只有党支部书记才能打卡。"},
		{domain.Actor{Label: "tg:1"}, "您还没有绑定账号"},
	} {
		_, err := checkin.Of(f.app).ParseCheckinArgs(f.ctx, c.who, []string{"无从说起"}, true)
		var ue *domain.UserError
		if !errors.As(err, &ue) || !errors.Is(err, domain.ErrForbidden) || !strings.Contains(ue.Msg, c.words) {
			t.Errorf("%s: %v, want a refusal saying %q", c.who.Label, err, c.words)
		}
	}
	if _, err := checkin.Of(f.app).ParseCheckinArgs(f.ctx, f.sec, []string{"无从说起"}, true); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("the secretary's unreadable words: %v, want domain.ErrInvalid", err)
	}
	req, err := checkin.Of(f.app).ParseCheckinArgs(f.ctx, f.sec, []string{"支委会", "2026-11-25"}, true)
	if err != nil || len(req.Obligations) != 1 || req.Obligations[0] != "committee_meeting" {
		t.Errorf("the secretary's check-in: %+v %v", req, err)
	}
	rows, err := f.st.AuditLog(f.ctx, "checkin.record", nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Allowed || rows[1].Allowed {
		t.Errorf("audited %+v, want the two refusals", rows)
	}
}
