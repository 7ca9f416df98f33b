package healthcheck_test

import (
	"errors"
	"testing"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
)

// Exempt owns its transaction: a branch-wide exemption of a per-group
// obligation exempts the groups not yet exempted, one already exempted
// being skipped; asked again, it is refused, the refusal audited once (its
// own transaction rolled back, the entry written again on its own), and
// what was exempted stays.
func TestRefusedExemptionIsAuditedOnce(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 11, 20, 10, 0))
	hcCounty(f, hcDay(2026, 9, 1))
	f.unit("B1-G2", "第二党小组", "group", "B1", hcDay(2026, 9, 1))
	f.person("赵委员", "organiser", "QA-RZ", 800)
	zhao := f.actor("赵委员")
	ob, ok := healthcheck.Of(f.app).Obligation("group_meeting")
	if !ok || !ob.PerGroup {
		t.Fatalf("group_meeting: %+v %v", ob, ok)
	}
	period := health.PeriodAt(ob.Recurs, f.now, f.app.Loc).Key()
	req := healthcheck.ExemptRequest{UnitCode: "B1-G2", Obligation: "group_meeting", Period: period, Reason: "受灾"}
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, req); err != nil {
		t.Fatal(err)
	}
	req.UnitCode = "B1"
	xs, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, req)
	if err != nil || len(xs) != 1 || xs[0].UnitCode != "B1-G1" {
		t.Fatalf("branch-wide exemption: %+v %v, want B1-G1's alone", xs, err)
	}
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, req); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("the same exemption again: %v, want a conflict", err)
	}
	if xs, err = f.st.Exemptions(f.ctx, f.units["B1"].ID, 10); err != nil || len(xs) != 2 {
		t.Errorf("exemptions after the refusal: %+v %v, want both groups'", xs, err)
	}
	if refused := f.refusals("health.exempt"); refused != 1 {
		t.Errorf("%d refusals audited, want 1", refused)
	}
}

// The refusal of an exemption made already names the unit and the period as
// people read them, never their codes.
func TestExemptionRefusalNamesNoCodes(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 11, 20, 10, 0))
	hcCounty(f, hcDay(2026, 9, 1))
	f.person("赵委员", "organiser", "QA-RZ", 800)
	zhao := f.actor("赵委员")
	req := healthcheck.ExemptRequest{UnitCode: "B1", Obligation: "committee_meeting", Period: "2026-10", Reason: "受灾"}
	if _, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, req); err != nil {
		t.Fatal(err)
	}
	_, err := healthcheck.Of(f.app).Exempt(f.ctx, zhao, req)
	if err == nil || err.Error() != "幸福村第一党支部的支部委员会（2026年10月）已经豁免过。" {
		t.Fatalf("second exemption: %v", err)
	}
}
