package accounts

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/storage"
)

// UnitTree lists the units of a subtree the actor may see.
func (a Service) UnitTree(ctx context.Context, actor domain.Actor, code string) ([]domain.Unit, error) {
	u, err := a.UnitForActor(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	us, err := a.db().Subtree(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return a.WithBranchInfo(ctx, us)
}

// PeopleScope resolves the unit a listing that names people is asked for
// (see UnitForActor), refusing (and auditing under action) an actor whose
// roles there may not list people (SPEC §7.5: villager, reviewer and
// shopkeeper tokens may not).
func (a Service) PeopleScope(ctx context.Context, actor domain.Actor, action, code string) (domain.Unit, error) {
	return a.Scope(ctx, actor, access.ListPeople, action, code)
}

// Directory lists role holders of a subtree the actor may see; only roles
// that may list people may.
func (a Service) Directory(ctx context.Context, actor domain.Actor, code, role string) ([]storage.Holder, error) {
	u, err := a.PeopleScope(ctx, actor, "people.list", code)
	if err != nil {
		return nil, err
	}
	if role != "" && !domain.ValidRole(role) {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", acct.T("role.refuse.unknown", "role", role))
	}
	return a.db().HoldersInSubtree(ctx, u.ID, role, false)
}

// DirectoryPage is one page of Directory: at most limit holders after the
// one at after (nil: from the first).
func (a Service) DirectoryPage(ctx context.Context, actor domain.Actor, code, role string, limit int, after *storage.HolderKey) ([]storage.Holder, error) {
	u, err := a.PeopleScope(ctx, actor, "people.list", code)
	if err != nil {
		return nil, err
	}
	if role != "" && !domain.ValidRole(role) {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", acct.T("role.refuse.unknown", "role", role))
	}
	return a.db().HoldersPage(ctx, u.ID, role, after, limit)
}

// IssuedCode is a fresh bind code and its deep link.
type IssuedCode struct {
	PersonID int64  `json:"person_id"`
	Name     string `json:"name"`
	Code     string `json:"code"`
	Link     string `json:"link"`
}

// IssueBindCode gives a person (by phone) a fresh bind code; only an admin
// over every unit the person holds a role in may. The new code revokes the
// person's older unused codes. "No such person" and "not yours" get the
// same answer, so that the endpoint does not tell whether a phone number
// is known outside the admin's subtree (SPEC §7.5).
func (a Service) IssueBindCode(ctx context.Context, actor domain.Actor, phone string) (code IssuedCode, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { code, err = Of(tx).issueBindCode(ctx, actor, phone); return err })
	return code, err
}

// issueBindCode is IssueBindCode in the transaction IssueBindCode opens.
func (a Service) issueBindCode(ctx context.Context, actor domain.Actor, phone string) (IssuedCode, error) {
	// The refusal's audit entry names the phone asked for, never the
	// person found: admins read the audit log of their subtree.
	refuse := func() error {
		return a.Refused(ctx, actor, "bind.code", "phone:"+phone, domain.Refuse(domain.ErrForbidden, "%s",
			acct.T("code.refuse.no_person", "phone", phone)))
	}
	p, err := a.db().PersonByPhone(ctx, phone)
	if errors.Is(err, domain.ErrNotFound) {
		return IssuedCode{}, refuse()
	}
	if err != nil {
		return IssuedCode{}, err
	}
	roles, err := a.db().RolesOf(ctx, p.ID)
	if err != nil {
		return IssuedCode{}, err
	}
	// The code carries all of the person's roles, so the admin must be over
	// every one of them (SPEC §7.5), not just one.
	allowed := len(roles) > 0
	for _, r := range roles {
		if allowed, err = a.Can(ctx, actor, access.IssueBindCodes, r.UnitID); err != nil {
			return IssuedCode{}, err
		}
		if !allowed {
			break
		}
	}
	if !allowed {
		return IssuedCode{}, refuse()
	}
	code, err := a.newBindCode(ctx, p.ID)
	if err != nil {
		return IssuedCode{}, err
	}
	if err := a.Audit(ctx, actor, "bind.code", "person:"+strconv.FormatInt(p.ID, 10), true, nil); err != nil {
		return IssuedCode{}, err
	}
	return IssuedCode{PersonID: p.ID, Name: p.Name, Code: code, Link: "https://t.me/" + url.PathEscape(a.BotUsername()) + "?start=" + code}, nil
}

// AuditLog lists the audit log for an admin: only the entries of actors in
// the admin's subtree (see Store.AuditLog for how an entry maps to a unit,
// SPEC §7.5). The operator sees every entry.
func (a Service) AuditLog(ctx context.Context, actor domain.Actor, action string, limit int) ([]storage.AuditRow, error) {
	return a.AuditLogBefore(ctx, actor, action, limit, 0)
}

// AuditLogBefore is AuditLog from the entry before beforeID on (0: from the
// newest); limit is at most 1,001 (a page of 1,000 and one to tell whether
// more follow).
func (a Service) AuditLogBefore(ctx context.Context, actor domain.Actor, action string, limit int, beforeID int64) ([]storage.AuditRow, error) {
	if limit <= 0 || limit > 1001 {
		limit = 100
	}
	if actor.IsOperator() {
		return a.db().AuditLogBefore(ctx, action, nil, limit, beforeID)
	}
	roots := access.Roots(actor, access.ReadAudit)
	if len(roots) == 0 {
		return nil, a.Refused(ctx, actor, string(access.ReadAudit), "", access.Refusal(actor, access.ReadAudit, ""))
	}
	rows, err := a.db().AuditLogBefore(ctx, action, roots, limit, beforeID)
	if rows == nil && err == nil {
		rows = []storage.AuditRow{}
	}
	return rows, err
}
