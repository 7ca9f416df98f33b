package healthcheck_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func hcAt(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, testdb.Loc)
}

func hcDay(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// hcFixture is a small county in a fresh database with a settable clock.
type hcFixture struct {
	t     *testing.T
	ctx   context.Context
	st    *storage.Store
	app   *app.App
	now   time.Time
	units map[string]domain.Unit
	ppl   map[string]int64
}

func newHCFixture(t *testing.T, now time.Time, cfgs ...func(*config.Config)) *hcFixture {
	t.Helper()
	st := testdb.New(t)
	cfg := config.Default()
	for _, f := range cfgs {
		f(&cfg)
	}
	f := &hcFixture{t: t, ctx: context.Background(), st: st, now: now, units: map[string]domain.Unit{}, ppl: map[string]int64{}}
	f.app = app.New(st, cfg, func() time.Time { return f.now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

// unit creates a unit under parent ("" = root) owing obligations from start.
func (f *hcFixture) unit(code, name, kind, parent string, start time.Time) domain.Unit {
	f.t.Helper()
	var pid *int64
	if parent != "" {
		id := f.units[parent].ID
		pid = &id
	}
	u, err := f.st.CreateUnit(f.ctx, code, name, kind, pid, start)
	if err != nil {
		f.t.Fatal(err)
	}
	f.units[code] = u
	return u
}

// person creates a person with a role, linked to chat when chat != 0.
func (f *hcFixture) person(name, role, unit string, chat int64) int64 {
	f.t.Helper()
	id, ok := f.ppl[name]
	if !ok {
		var err error
		id, _, err = f.st.UpsertPerson(f.ctx, name, fmt.Sprintf("139%08d", len(f.ppl)+1), f.units[unit].ID)
		if err != nil {
			f.t.Fatal(err)
		}
		f.ppl[name] = id
		if chat != 0 {
			if err := f.st.LinkChat(f.ctx, id, chat, chat, ""); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	if err := f.st.AddRole(f.ctx, id, role, f.units[unit].ID); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// checkin records a check-in of unit for obligation and period directly,
// as the check-in use case would; state is "", "withdrawn" or "rejected".
func (f *hcFixture) checkin(branch, unit, obligation, period string, held time.Time, state string) {
	f.t.Helper()
	var id int64
	err := f.st.DB().QueryRowContext(f.ctx, `INSERT INTO checkins (branch_id, held_on, withdrawn_at, rejected_at)
		VALUES ($1, $2, CASE WHEN $3 = 'withdrawn' THEN now() END, CASE WHEN $3 = 'rejected' THEN now() END) RETURNING id`,
		f.units[branch].ID, held, state).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.DB().ExecContext(f.ctx, `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id) VALUES ($1, $2, $3, $4)`,
		id, obligation, period, f.units[unit].ID); err != nil {
		f.t.Fatal(err)
	}
}

func (f *hcFixture) exempt(unit, obligation, period string) {
	f.t.Helper()
	if _, _, err := f.st.CreateExemption(f.ctx, storage.Exemption{UnitID: f.units[unit].ID, Obligation: obligation, Period: period,
		Reason: "受灾", Actor: "test", At: f.now}); err != nil {
		f.t.Fatal(err)
	}
}

// hcLightsText renders lights as "obligation[/group] period light" lines.
func hcLightsText(f *hcFixture, ls []health.ItemLight) string {
	codes := map[int64]string{}
	for c, u := range f.units {
		codes[u.ID] = c
	}
	var out []string
	for _, l := range ls {
		s := l.Obligation
		if l.GroupID != 0 {
			s += "/" + codes[l.GroupID]
		}
		out = append(out, s+" "+l.Period.Key()+" "+string(l.Light))
	}
	return strings.Join(out, "\n")
}

func hcCounty(f *hcFixture, start time.Time) {
	f.unit("QA", "乾安县", "county", "", start)
	f.unit("QA-RZ", "让字镇", "township", "QA", start)
	f.unit("QA-RZ-XZ", "幸福村", "village", "QA-RZ", start)
	f.unit("B1", "幸福村第一党支部", "branch", "QA-RZ-XZ", start)
	f.unit("B1-G1", "第一党小组", "group", "B1", start)
}

func TestBranchLights(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 11, 25, 10, 0))
	hcCounty(f, hcDay(2026, 9, 1))
	f.checkin("B1", "B1", "committee_meeting", "2026-09", hcDay(2026, 9, 10), "")
	f.checkin("B1", "B1", "committee_meeting", "2026-10", hcDay(2026, 10, 10), "withdrawn")
	f.checkin("B1", "B1", "general_meeting", "2026-Q3", hcDay(2026, 9, 12), "rejected")
	f.checkin("B1", "B1", "theme_day", "2026-10", hcDay(2026, 10, 20), "")
	f.checkin("B1", "B1-G1", "group_meeting", "2026-11", hcDay(2026, 11, 2), "withdrawn")
	f.exempt("B1", "party_lecture", "2026-Q3")

	got, err := healthcheck.Of(f.app).BranchLights(f.ctx, domain.Operator, f.units["B1"].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"general_meeting 2026-Q3 red",
		"general_meeting 2026-Q4 green",
		"committee_meeting 2026-10 red",
		"committee_meeting 2026-11 yellow",
		"group_meeting/B1-G1 2026-09 red",
		"group_meeting/B1-G1 2026-10 red",
		"group_meeting/B1-G1 2026-11 yellow",
		"party_lecture 2026-Q4 green",
		"theme_day 2026-09 red",
		"theme_day 2026-11 green",
		"life_meeting 2026 green",
		"member_appraisal 2026 green",
		"heart_talk 2026 green",
		"dues 2026-09 red",
		"dues 2026-10 red",
		"dues 2026-11 yellow",
		"secretary_lecture 2026 green",
	}, "\n")
	if s := hcLightsText(f, got); s != want {
		t.Fatalf("lights:\n%s\nwant:\n%s", s, want)
	}

	// The themed party day on the 1st warns at the end of the month before.
	if err := f.st.SetThemeDay(f.ctx, f.units["B1"].ID, hcPtr(1)); err != nil {
		t.Fatal(err)
	}
	f.now = hcAt(2026, 11, 29, 9, 0)
	got, err = healthcheck.Of(f.app).BranchLights(f.ctx, domain.Operator, f.units["B1"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := hcLightsText(f, got); !strings.Contains(s, "theme_day 2026-12 yellow") || !strings.Contains(s, "theme_day 2026-11 red") {
		t.Fatalf("theme day on the 1st:\n%s", s)
	}
}

func hcPtr[T any](v T) *T { return &v }

func TestLightsOwedFromStartOnly(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 11, 25, 10, 0))
	hcCounty(f, hcDay(2026, 11, 10))
	// A branch without party groups owes no group meeting (SPEC §7.1).
	f.unit("B2", "第二党支部", "branch", "QA-RZ-XZ", hcDay(2026, 11, 10))
	got, err := healthcheck.Of(f.app).BranchLights(f.ctx, domain.Operator, f.units["B2"].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"general_meeting 2026-Q4 green",
		"committee_meeting 2026-11 yellow",
		"party_lecture 2026-Q4 green",
		"theme_day 2026-11 green",
		"life_meeting 2026 green",
		"member_appraisal 2026 green",
		"heart_talk 2026 green",
		"dues 2026-11 yellow",
		"secretary_lecture 2026 green",
	}, "\n")
	if s := hcLightsText(f, got); s != want {
		t.Fatalf("lights:\n%s\nwant:\n%s", s, want)
	}
	// Starting next year: nothing owed yet, not even the current periods.
	if err := f.st.SetStartedOn(f.ctx, f.units["B2"].ID, hcDay(2027, 1, 1)); err != nil {
		t.Fatal(err)
	}
	got, err = healthcheck.Of(f.app).BranchLights(f.ctx, domain.Operator, f.units["B2"].ID)
	if err != nil || len(got) != 0 {
		t.Fatalf("future start: %v %v", got, err)
	}
	// A unit that is not a branch is refused.
	if _, err := healthcheck.Of(f.app).BranchLights(f.ctx, domain.Operator, f.units["QA-RZ"].ID); err == nil {
		t.Fatal("township accepted as a branch")
	}
}
