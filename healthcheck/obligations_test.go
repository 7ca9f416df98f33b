package healthcheck

import (
	"strings"
	"testing"

	"github.com/zhibu/zhibu/config"
)

func TestBuildObligations(t *testing.T) {
	hc := config.Default().Healthcheck
	obs, err := BuildObligations(hc)
	if err != nil || len(obs) != 11 {
		t.Fatalf("defaults: %d %v", len(obs), err)
	}
	hc.Obligations = []config.Obligation{
		{Code: "committee_meeting", YellowDays: 10},
		{Code: "life_meeting", Disabled: true},
		{Code: "visit", Name: "走访慰问", Recurs: "yearly", YellowDays: 30, AppliesTo: []string{"village"}},
		{Code: "group_meeting", Needs: "none", YellowDays: 7, PerGroup: true},
	}
	hc.Aliases = map[string]string{"支委": "committee_meeting"}
	obs, err = BuildObligations(hc)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]int{}
	for i, o := range obs {
		byCode[o.Code] = i
	}
	if _, ok := byCode["life_meeting"]; ok || len(obs) != 11 {
		t.Fatalf("disable/add failed: %+v", obs)
	}
	cm := obs[byCode["committee_meeting"]]
	if cm.YellowDays != 10 || cm.Name != "支部委员会" || !strings.Contains(strings.Join(cm.Aliases, ","), "支委") {
		t.Fatalf("override: %+v", cm)
	}
	// An override keeps what binds a branch unless it says otherwise.
	if cm.Needs != "committee" {
		t.Fatalf("override lost needs: %+v", cm)
	}
	if gm := obs[byCode["group_meeting"]]; gm.Needs != "" {
		t.Fatalf("needs: none kept %q", gm.Needs)
	}
	if v := obs[byCode["visit"]]; len(v.AppliesTo) != 1 || v.AppliesTo[0] != "village" {
		t.Fatalf("applies_to: %+v", v)
	}
	if obs[byCode["term_end"]].TermEnd != true {
		t.Fatal("term_end lost its nature")
	}
	hc.Aliases = map[string]string{"x": "life_meeting"}
	if _, err := BuildObligations(hc); err == nil || !strings.Contains(err.Error(), "healthcheck.aliases") {
		t.Fatalf("alias to disabled obligation: %v", err)
	}
}
