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
