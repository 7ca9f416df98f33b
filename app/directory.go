package app

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// isAdminOver reports whether the actor is an admin of unitID or above it.
func (a *App) isAdminOver(ctx context.Context, actor domain.Actor, unitID int64) (bool, error) {
	for _, r := range actor.UnitsWith(domain.RoleAdmin) {
		in, err := a.Store.InSubtree(ctx, r.UnitID, unitID)
		if err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// UnitTree lists the units of a subtree the actor may see.
func (a *App) UnitTree(ctx context.Context, actor domain.Actor, code string) ([]domain.Unit, error) {
	u, err := a.UnitForActor(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	us, err := a.Store.Subtree(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return a.withBranchInfo(ctx, us)
}

// Directory lists role holders of a subtree the actor may see.
func (a *App) Directory(ctx context.Context, actor domain.Actor, code, role string) ([]storage.Holder, error) {
	u, err := a.UnitForActor(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	if role != "" && !domain.ValidRole(role) {
		return nil, domain.Refuse(domain.ErrInvalid, "未知角色 %s。", role)
	}
	return a.Store.HoldersInSubtree(ctx, u.ID, role, false)
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
// person's older unused codes.
func (a *App) IssueBindCode(ctx context.Context, actor domain.Actor, phone string) (IssuedCode, error) {
	p, err := a.Store.PersonByPhone(ctx, phone)
	if errors.Is(err, domain.ErrNotFound) {
		return IssuedCode{}, domain.Refuse(domain.ErrNotFound, "没有手机号为 %s 的人员。", phone)
	}
	if err != nil {
		return IssuedCode{}, err
	}
	roles, err := a.Store.RolesOf(ctx, p.ID)
	if err != nil {
		return IssuedCode{}, err
	}
	// The code carries all of the person's roles, so the admin must be over
	// every one of them (SPEC §7.5), not just one.
	allowed := len(roles) > 0
	for _, r := range roles {
		if allowed, err = a.isAdminOver(ctx, actor, r.UnitID); err != nil {
			return IssuedCode{}, err
		}
		if !allowed {
			break
		}
	}
	if !allowed {
		return IssuedCode{}, a.Refused(ctx, actor, "bind.code", "person:"+strconv.FormatInt(p.ID, 10),
			domain.Refuse(domain.ErrForbidden, "您无权为该人员生成绑定码。"))
	}
	code, err := a.NewBindCode(ctx, p.ID)
	if err != nil {
		return IssuedCode{}, err
	}
	if err := a.audit(ctx, actor, "bind.code", "person:"+strconv.FormatInt(p.ID, 10), true, nil); err != nil {
		return IssuedCode{}, err
	}
	return IssuedCode{PersonID: p.ID, Name: p.Name, Code: code, Link: "https://t.me/" + url.PathEscape(a.BotUsername()) + "?start=" + code}, nil
}

// AuditLog lists the audit log for an admin: only the entries of actors in
// the admin's subtree (see Store.AuditLog for how an entry maps to a unit,
// SPEC §7.5). The operator sees every entry.
func (a *App) AuditLog(ctx context.Context, actor domain.Actor, action string, limit int) ([]storage.AuditRow, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if actor.IsOperator() {
		return a.Store.AuditLog(ctx, action, nil, limit)
	}
	admin := actor.UnitsWith(domain.RoleAdmin)
	if len(admin) == 0 {
		return nil, a.Refused(ctx, actor, "audit.read", "", domain.Refuse(domain.ErrForbidden, "只有管理员可以查看审计日志。"))
	}
	roots := make([]int64, 0, len(admin))
	for _, r := range admin {
		roots = append(roots, r.UnitID)
	}
	return a.Store.AuditLog(ctx, action, roots, limit)
}
