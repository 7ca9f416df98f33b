// Package access is the one policy of who may do what to which unit. Use
// cases ask it through app's authorise step; adapters never decide.
//
// A grant names a role that allows an action and how far the role reaches:
// most roles count on the unit acted on and on every unit above it (an
// organiser of a township reads its branches; a secretary of one branch
// reads only that branch); some count only on the unit itself (a secretary
// checks in for the own branch) or only above it (an exemption is granted
// by the committee above, never by the branch itself). The operator at the
// server's command line may do everything; actions with no grants are the
// operator's alone.
package access

import (
	"slices"
	"strings"

	"github.com/zhibu/zhibu/domain"
)

// Action is something an actor does to a unit.
type Action string

// The actions use cases authorise.
const (
	// ViewUnit reads a unit's subtree: its units, lights and summaries.
	ViewUnit Action = "unit.view"
	// ViewDashboard signs in to the dashboard and reads its boards.
	ViewDashboard Action = "dashboard.view"
	// ListPeople reads what names people: role holders, phones, who
	// acknowledged or missed a notice, who is overdue (SPEC §7.5).
	ListPeople Action = "people.list"
	// ListCheckins reads check-ins and their ledger, which name who
	// recorded each.
	ListCheckins Action = "checkins.list"
	// IssueBindCodes links a person's chat account to the person's roles.
	IssueBindCodes Action = "bindcode.issue"
	// CheckIn records a branch's activity.
	CheckIn Action = "checkin.record"
	// RejectCheckin sends a branch's check-in back as not meeting the rules.
	RejectCheckin Action = "checkin.reject"
	// ManageHealth exempts a branch from an obligation or revokes an
	// exemption: the committee above decides.
	ManageHealth Action = "health.manage"
	// SilenceHealth pauses a unit's health-check notices.
	SilenceHealth Action = "health.silence"
	// ManageWebhooks creates, lists and deletes outbound webhooks.
	ManageWebhooks Action = "webhook.manage"
	// ManageRobots adds, lists and switches group robots.
	ManageRobots Action = "robot.manage"
	// ManageIntegrations creates, lists and switches inbound integrations.
	ManageIntegrations Action = "integration.manage"
	// ImportData applies an import file (units, people, catalogue,
	// holidays, goods) or lists chat invitations.
	ImportData Action = "data.import"
	// ReadAudit reads the audit log of a subtree.
	ReadAudit Action = "audit.read"
	// RunJobs runs the scheduled jobs (health check, settlement, publicity,
	// retention) over every unit: the system's, and the operator's by hand.
	RunJobs Action = "jobs.run"
)

// Reach is how far up from the unit acted on a role counts.
type Reach int

const (
	// HereOrAbove: a role on the unit or on any unit above it.
	HereOrAbove Reach = iota
	// Here: a role on the unit itself.
	Here
	// Above: a role on a unit above it, not on the unit itself.
	Above
)

// Grant is one role that allows an action, and its reach.
type Grant struct {
	Role  string
	Reach Reach
}

func anyOf(reach Reach, roles ...string) []Grant {
	out := make([]Grant, 0, len(roles))
	for _, r := range roles {
		out = append(out, Grant{Role: r, Reach: reach})
	}
	return out
}

// peopleReaders may read what names people (SPEC §7.5): villager, reviewer
// and shopkeeper roles may not.
var peopleReaders = anyOf(HereOrAbove, domain.RoleAdmin, domain.RoleOrganiser, domain.RoleSecretary)

// grants maps each action to the grants that allow it: the policy's table.
var grants = map[Action][]Grant{
	ViewUnit:           anyOf(HereOrAbove, domain.Roles...),
	ViewDashboard:      anyOf(HereOrAbove, domain.RoleOrganiser, domain.RoleAdmin),
	ListPeople:         peopleReaders,
	ListCheckins:       peopleReaders,
	IssueBindCodes:     anyOf(HereOrAbove, domain.RoleAdmin),
	CheckIn:            {{domain.RoleSecretary, Here}, {domain.RoleAdmin, HereOrAbove}},
	RejectCheckin:      {{domain.RoleOrganiser, Above}, {domain.RoleAdmin, HereOrAbove}},
	ManageHealth:       anyOf(Above, domain.RoleOrganiser, domain.RoleAdmin),
	SilenceHealth:      anyOf(HereOrAbove, domain.RoleOrganiser, domain.RoleAdmin),
	ManageWebhooks:     anyOf(HereOrAbove, domain.RoleAdmin),
	ManageRobots:       nil,
	ManageIntegrations: nil,
	ImportData:         nil,
	ReadAudit:          anyOf(HereOrAbove, domain.RoleAdmin),
	RunJobs:            nil,
}

// systemActions are what the system (domain.System) may do: its jobs, nothing else.
var systemActions = map[Action]bool{RunJobs: true}

// reaches reports whether a role on unitID reaches the unit at the end of
// path.
func (g Grant) reaches(unitID int64, path []int64) bool {
	if len(path) == 0 {
		return false
	}
	last := len(path) - 1
	switch g.Reach {
	case Here:
		return path[last] == unitID
	case Above:
		return slices.Contains(path[:last], unitID)
	default:
		return slices.Contains(path, unitID)
	}
}

// allows reports whether the grants of action name role.
func allows(action Action, role string) bool {
	return slices.ContainsFunc(grants[action], func(g Grant) bool { return g.Role == role })
}

// Can reports whether actor may do action to the unit whose path is path
// (the ids from the root down to the unit itself, as units.path stores it).
// An unknown action is refused.
func Can(actor domain.Actor, action Action, path []int64) bool {
	if actor.IsOperator() {
		return true
	}
	if actor.IsSystem() {
		return systemActions[action]
	}
	for _, g := range grants[action] {
		for _, r := range actor.Roles {
			if r.Role == g.Role && g.reaches(r.UnitID, path) {
				return true
			}
		}
	}
	return false
}

// MayAnywhere reports whether actor holds a role that allows action on some
// unit: what a listing of "all my units" asks before it reads any.
func MayAnywhere(actor domain.Actor, action Action) bool {
	if actor.IsOperator() {
		return true
	}
	for _, r := range actor.Roles {
		if allows(action, r.Role) {
			return true
		}
	}
	return false
}

// Roots lists the units where actor holds a role allowing action: the
// roots of the subtrees it may act in (none for the operator, who is not
// bounded; check IsOperator first).
func Roots(actor domain.Actor, action Action) []int64 {
	var out []int64
	for _, r := range actor.Roles {
		if allows(action, r.Role) && !slices.Contains(out, r.UnitID) {
			out = append(out, r.UnitID)
		}
	}
	return out
}

// Refusal is the Chinese refusal of action to actor. subject is the unit as
// the caller named it (UnitSubject; "" when the action is not about one
// unit). It names the roles that would allow the action and nobody outside
// the caller's scope.
func Refusal(actor domain.Actor, action Action, subject string) error {
	gs := grants[action]
	if MayAnywhere(actor, action) && len(gs) > 0 {
		if subject == "" {
			return NoUnit()
		}
		return domain.Refuse(domain.ErrForbidden, textOutOfScope, subject)
	}
	if action == ListPeople || action == ListCheckins {
		return domain.Refuse(domain.ErrForbidden, textRoleCannot, RoleNames(actor.Roles), verbs[action])
	}
	who := textOperator
	if len(gs) > 0 {
		who = RoleNames(grantRoles(gs))
	}
	return domain.Refuse(domain.ErrForbidden, textOnly, who, verbs[action])
}

func grantRoles(gs []Grant) []domain.Role {
	out := make([]domain.Role, 0, len(gs))
	for _, g := range gs {
		out = append(out, domain.Role{Role: g.Role})
	}
	return out
}

// RoleNames is a list of roles in Chinese, each once, for refusals.
func RoleNames(rs []domain.Role) string {
	var names []string
	for _, r := range rs {
		if n := domain.RoleNames[r.Role]; n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, "、")
}
