package access

import (
	"strings"
	"testing"

	"github.com/zhibu/zhibu/domain"
)

// The tree: county 1 > township 2 > branch 3; township 4 beside it.
var (
	county   = []int64{1}
	township = []int64{1, 2}
	branch   = []int64{1, 2, 3}
	other    = []int64{1, 4}
)

func actor(role string, unit int64) domain.Actor {
	return domain.Actor{PersonID: 9, Label: "tg:9", Roles: []domain.Role{{PersonID: 9, Role: role, UnitID: unit}}}
}

func TestCanByRoleAndReach(t *testing.T) {
	cases := []struct {
		name   string
		actor  domain.Actor
		action Action
		path   []int64
		want   bool
	}{
		{"organiser reads a branch below", actor(domain.RoleOrganiser, 2), ViewUnit, branch, true},
		{"organiser does not read the county above", actor(domain.RoleOrganiser, 2), ViewUnit, county, false},
		{"organiser does not read a township beside", actor(domain.RoleOrganiser, 2), ViewUnit, other, false},
		{"villager reads the own branch", actor(domain.RoleVillager, 3), ViewUnit, branch, true},
		{"villager may not list people", actor(domain.RoleVillager, 3), ListPeople, branch, false},
		{"secretary lists the own branch's people", actor(domain.RoleSecretary, 3), ListPeople, branch, true},
		{"secretary checks in for the own branch", actor(domain.RoleSecretary, 3), CheckIn, branch, true},
		{"a township secretary role does not check in below", actor(domain.RoleSecretary, 2), CheckIn, branch, false},
		{"admin above checks in", actor(domain.RoleAdmin, 1), CheckIn, branch, true},
		{"organiser above rejects", actor(domain.RoleOrganiser, 2), RejectCheckin, branch, true},
		{"the branch's own organiser does not reject", actor(domain.RoleOrganiser, 3), RejectCheckin, branch, false},
		{"the branch's own admin rejects", actor(domain.RoleAdmin, 3), RejectCheckin, branch, true},
		{"exemptions come from above", actor(domain.RoleAdmin, 3), ManageHealth, branch, false},
		{"exemptions from the township", actor(domain.RoleAdmin, 2), ManageHealth, branch, true},
		{"the own unit may be silenced", actor(domain.RoleOrganiser, 2), SilenceHealth, township, true},
		{"robots are the operator's", actor(domain.RoleAdmin, 1), ManageRobots, nil, false},
		{"the operator manages robots", domain.Operator, ManageRobots, nil, true},
		{"the operator reads anything", domain.Operator, ListPeople, other, true},
		{"an unknown action is refused", actor(domain.RoleAdmin, 1), Action("nope"), county, false},
		{"an empty path is refused", actor(domain.RoleAdmin, 1), ViewUnit, nil, false},
		{"a forged cli label is not the operator", domain.Actor{Label: "cli"}, ManageRobots, nil, false},
		{"the system runs its jobs", domain.System, RunJobs, nil, true},
		{"the operator runs the jobs by hand", domain.Operator, RunJobs, nil, true},
		{"an admin does not run the jobs", actor(domain.RoleAdmin, 1), RunJobs, county, false},
		{"the system reads no unit", domain.System, ViewUnit, county, false},
		{"the system imports nothing", domain.System, ImportData, nil, false},
		{"a forged system label is not the system", domain.Actor{Label: "system"}, RunJobs, nil, false},
	}
	for _, c := range cases {
		if got := Can(c.actor, c.action, c.path); got != c.want {
			t.Errorf("%s: Can = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEveryActionHasAVerb(t *testing.T) {
	for a := range grants {
		if verbs[a] == "" {
			t.Errorf("action %s has no Chinese verb for its refusal", a)
		}
	}
}

func TestRootsAndMayAnywhere(t *testing.T) {
	a := domain.Actor{PersonID: 9, Roles: []domain.Role{
		{Role: domain.RoleVillager, UnitID: 3}, {Role: domain.RoleSecretary, UnitID: 3}, {Role: domain.RoleAdmin, UnitID: 4}}}
	if got := Roots(a, ListPeople); len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Errorf("Roots(ListPeople) = %v, want [3 4] each once", got)
	}
	if got := Roots(a, ReadAudit); len(got) != 1 || got[0] != 4 {
		t.Errorf("Roots(ReadAudit) = %v, want [4]", got)
	}
	if MayAnywhere(actor(domain.RoleVillager, 3), ListPeople) {
		t.Error("a villager may list people somewhere")
	}
}

// Refusals are Chinese, name the roles that would do and never a role code.
func TestRefusalWords(t *testing.T) {
	cases := []struct {
		actor         domain.Actor
		action        Action
		subject, want string
	}{
		{actor(domain.RoleVillager, 3), ListPeople, "单位 QA", "您的角色（村民）不能查看人员名单和联系方式。"},
		{actor(domain.RoleOrganiser, 2), ViewUnit, "单位 QA-DB", "单位 QA-DB 不在您的管辖范围内。"},
		{actor(domain.RoleSecretary, 3), ReadAudit, "", "只有管理员可以查看审计日志。"},
		{actor(domain.RoleAdmin, 1), ManageRobots, "", "只有服务器管理员可以管理群机器人。"},
	}
	for _, c := range cases {
		got := Refusal(c.actor, c.action, c.subject).Error()
		if got != c.want {
			t.Errorf("Refusal(%s) = %q, want %q", c.action, got, c.want)
		}
		for _, code := range domain.Roles {
			if strings.Contains(got, code) {
				t.Errorf("Refusal(%s) = %q names the role code %s", c.action, got, code)
			}
		}
	}
}
