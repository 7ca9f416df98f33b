package healthcheck_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
)

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
	var n int
	if err := f.st.DB().QueryRowContext(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
