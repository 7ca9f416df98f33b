package domain

import "testing"

// Nothing but the Operator value is the operator: not a "cli" label, not an
// actor without roles.
func TestOperatorCannotBeForged(t *testing.T) {
	if !Operator.IsOperator() {
		t.Fatal("Operator is not the operator")
	}
	for _, a := range []Actor{{Label: "cli"}, {}, {Label: "api:1"}, {Label: "cli", Roles: []Role{{Role: RoleAdmin, UnitID: 1}}}} {
		if a.IsOperator() {
			t.Errorf("%+v passes for the operator", a)
		}
	}
}

// An organiser above the branches is named by the committee it works for,
// never as a branch's 组织委员.
func TestRoleLabel(t *testing.T) {
	for _, c := range []struct{ role, kind, want string }{
		{RoleOrganiser, KindCounty, "县委组织部"},
		{RoleOrganiser, KindTownship, "乡镇党委组织委员"},
		{RoleOrganiser, KindStreet, "街道党工委组织委员"},
		{RoleOrganiser, KindBranch, "组织委员"},
		{RoleSecretary, KindBranch, "支部书记"},
		{RoleAdmin, KindCounty, "管理员"},
	} {
		if got := RoleLabel(c.role, c.kind); got != c.want {
			t.Errorf("RoleLabel(%s, %s) = %q, want %q", c.role, c.kind, got, c.want)
		}
	}
}
