// Package domain holds the core types shared by every door into zhibu (chat,
// API, CLI, scheduler) and the errors they map to. It does no I/O.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; storage and use cases wrap them, callers test with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid input")
)

// Unit kinds, from the county down.
const (
	KindCounty    = "county"
	KindTownship  = "township"
	KindStreet    = "street"
	KindVillage   = "village"
	KindCommunity = "community"
	KindBranch    = "branch"
	KindGroup     = "group"
)

// UnitKinds lists the kinds in import order.
var UnitKinds = []string{KindCounty, KindTownship, KindStreet, KindVillage, KindCommunity, KindBranch, KindGroup}

// Roles a person may hold in a unit.
const (
	RoleSecretary  = "secretary"
	RoleOrganiser  = "organiser"
	RoleReviewer   = "reviewer"
	RoleVillager   = "villager"
	RoleShopkeeper = "shopkeeper"
	RoleAdmin      = "admin"
)

// Roles lists every role.
var Roles = []string{RoleSecretary, RoleOrganiser, RoleReviewer, RoleVillager, RoleShopkeeper, RoleAdmin}

// RoleNames are the Chinese names shown to users.
var RoleNames = map[string]string{
	RoleSecretary:  "支部书记",
	RoleOrganiser:  "组织委员",
	RoleReviewer:   "积分评议员",
	RoleVillager:   "村民",
	RoleShopkeeper: "积分超市管理员",
	RoleAdmin:      "管理员",
}

// RoleLabel is the Chinese name of a role held in a unit of kind unitKind.
// An organiser above the branches is not a branch's 组织委员: at a county
// it is the county committee's organisation department (县委组织部), at a
// township the township committee's 组织委员; elsewhere RoleNames.
func RoleLabel(role, unitKind string) string {
	if role == RoleOrganiser {
		switch unitKind {
		case KindCounty:
			return "县委组织部"
		case KindTownship:
			return "乡镇党委组织委员"
		case KindStreet:
			return "街道党工委组织委员"
		}
	}
	return RoleNames[role]
}

// KindNames are the Chinese names of unit kinds.
var KindNames = map[string]string{
	KindCounty: "县", KindTownship: "乡镇", KindStreet: "街道", KindVillage: "村",
	KindCommunity: "社区", KindBranch: "党支部", KindGroup: "党小组",
}

// ValidKind reports whether k is a unit kind.
func ValidKind(k string) bool { return contains(UnitKinds, k) }

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return contains(Roles, r) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Unit is one node of the organisation tree.
type Unit struct {
	ID        int64     `db:"id" json:"id"`
	Code      string    `db:"code" json:"code"`
	Name      string    `db:"name" json:"name"`
	Kind      string    `db:"kind" json:"kind"`
	ParentID  *int64    `db:"parent_id" json:"parent_id,omitempty"`
	ThemeDay  *int      `db:"theme_day" json:"theme_day,omitempty"`
	StartedOn time.Time `db:"started_on" json:"started_on"`

	// A branch's attributes as imported (nil = never given; see Info for
	// the defaults). ThemeWeekday is a weekday rule of the 主题党日 such as
	// "first-fri", set instead of ThemeDay.
	BranchType   *string    `db:"branch_type" json:"-"`
	Members      *int       `db:"members" json:"-"`
	Committee    *bool      `db:"committee" json:"-"`
	ThemeWeekday *string    `db:"theme_weekday" json:"theme_weekday,omitempty"`
	TermEnd      *time.Time `db:"term_end" json:"-"`
	// Branch is, for a branch in a unit listing, its attributes with the
	// defaults applied (nil elsewhere).
	Branch *BranchInfo `db:"-" json:"branch,omitempty"`
}

// IsBranch reports whether obligations are owed by the unit itself.
func (u Unit) IsBranch() bool { return u.Kind == KindBranch }

// Person is someone known to the service.
type Person struct {
	ID          int64   `db:"id" json:"id"`
	Name        string  `db:"name" json:"name"`
	Phone       *string `db:"phone" json:"phone,omitempty"`
	HouseholdID *int64  `db:"household_id" json:"household_id,omitempty"`
}

// Role is a person's role in one unit.
type Role struct {
	PersonID int64  `db:"person_id" json:"person_id"`
	Role     string `db:"role" json:"role"`
	UnitID   int64  `db:"unit_id" json:"unit_id"`
	UnitCode string `db:"unit_code" json:"unit_code"`
	UnitName string `db:"unit_name" json:"unit_name"`
	UnitKind string `db:"unit_kind" json:"unit_kind"`
}

// Actor is whoever performs an action: a person (chat), an API token, or the
// operator's CLI. Use cases authorise against it.
type Actor struct {
	PersonID int64  // 0 when not a person
	Label    string // "tg:12345", "api:7", "cli"
	Roles    []Role
	operator bool
	system   bool
}

// Operator is the person at the command line of the server: the one actor
// above every unit. Only this package can make it, so no label, token or
// chat account can pass for it.
var Operator = Actor{Label: "cli", operator: true}

// IsOperator reports the operator's actor.
func (a Actor) IsOperator() bool { return a.operator }

// System is the service itself running its scheduled jobs (health check,
// settlement, publicity, retention): an actor with no roles that the policy
// allows only those jobs. Only this package can make it.
var System = Actor{Label: "system", system: true}

// IsSystem reports the system's actor.
func (a Actor) IsSystem() bool { return a.system }

// Has reports whether the actor holds role in exactly unitID.
func (a Actor) Has(role string, unitID int64) bool {
	for _, r := range a.Roles {
		if r.Role == role && r.UnitID == unitID {
			return true
		}
	}
	return false
}

// UnitsWith lists the roles of the given kind.
func (a Actor) UnitsWith(role string) []Role {
	var out []Role
	for _, r := range a.Roles {
		if r.Role == role {
			out = append(out, r)
		}
	}
	return out
}

// UserError is a refusal meant for the user, in Chinese. It wraps a sentinel
// so that HTTP can pick a status and logs can classify it.
type UserError struct {
	Msg  string
	Kind error
}

func (e *UserError) Error() string { return e.Msg }
func (e *UserError) Unwrap() error { return e.Kind }

// Refuse builds a UserError.
func Refuse(kind error, format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...), Kind: kind}
}
