package healthcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/domain"
)

// app.UnitByID is how the bot reads a unit it names in a reply (the
// sender's own, a group's branch, the unit an exemption is for): it shows
// only a unit the actor may see, and audits a refusal under unit.view.
func TestUnitByIDAuthorisesTheActor(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	f.unit("B2", "第二党支部", "branch", "QA-RZ-XZ", hcDay(2026, 10, 1))
	f.person("周书记", "secretary", "B2", 0)
	secretary, organiser, other := f.actor("王书记"), f.actor("赵委员"), f.actor("周书记")
	b1 := f.units["B1"].ID

	for name, actor := range map[string]domain.Actor{"secretary of the branch": secretary, "organiser above": organiser, "operator": domain.Operator} {
		if u, err := f.app.UnitByID(f.ctx, actor, b1); err != nil || u.ID != b1 {
			t.Errorf("%s reads B1: %+v %v", name, u, err)
		}
	}
	if u, err := f.app.UnitByID(f.ctx, other, b1); !errors.Is(err, domain.ErrForbidden) || !strings.Contains(err.Error(), "不在您的管辖范围内") || u.ID != 0 {
		t.Errorf("secretary of another branch reads B1: %+v %v, want a refusal", u, err)
	}
	if _, err := f.app.UnitByID(f.ctx, organiser, f.units["QA"].ID); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("township organiser reads the county: %v, want a refusal", err)
	}
	if _, err := f.app.UnitByID(f.ctx, domain.Operator, 1<<40); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("no such unit: %v, want domain.ErrNotFound", err)
	}
	if n := f.refusals("unit.view"); n != 2 {
		t.Errorf("%d refusals audited under unit.view, want 2", n)
	}
}
