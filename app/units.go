package app

import (
	"context"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/texts"
)

// UnitTheme is the theme code of a branch's 主题党日 (health.ThemeCode).
func UnitTheme(u domain.Unit) int {
	day, weekday := 0, ""
	if u.ThemeDay != nil {
		day = *u.ThemeDay
	}
	if u.ThemeWeekday != nil {
		weekday = *u.ThemeWeekday
	}
	return health.ThemeCode(day, weekday)
}

// ck is the check-in catalogue (internal/texts/checkin.yaml).
var ck = texts.Checkin

// NotOwedReason says, in Chinese, why branch does not owe ob ("" when it
// does): the rule of health.Obligation.Binds, worded for the secretary.
func (a *App) NotOwedReason(ctx context.Context, branch domain.Unit, hasGroups bool, ob health.Obligation) (string, error) {
	parentKind := ""
	if branch.ParentID != nil {
		p, err := a.Store.UnitByID(ctx, *branch.ParentID)
		if err != nil {
			return "", err
		}
		parentKind = p.Kind
	}
	info := branch.Info(parentKind, hasGroups)
	if ob.Binds(info.Type, info.Committee, info.HasGroups) {
		return "", nil
	}
	switch {
	case ob.Needs == health.NeedsCommittee && !info.Committee:
		return ck.T("refuse.not_owed_committee", "branch", branch.Name, "obligation", ob.Name), nil
	case ob.Needs == health.NeedsGroups && !info.HasGroups:
		return ck.T("refuse.not_owed_groups", "branch", branch.Name, "obligation", ob.Name), nil
	}
	return ck.T("refuse.not_owed_type", "branch", branch.Name, "type", domain.BranchTypeNames[info.Type], "obligation", ob.Name), nil
}

// WithBranchInfo fills in Branch, the attributes with their defaults, of
// every branch of a unit listing (a subtree: a branch's party groups are in
// it; a parent outside it is read).
func (a *App) WithBranchInfo(ctx context.Context, us []domain.Unit) ([]domain.Unit, error) {
	kinds := make(map[int64]string, len(us))
	groups := map[int64]bool{}
	for _, u := range us {
		kinds[u.ID] = u.Kind
		if u.Kind == domain.KindGroup && u.ParentID != nil {
			groups[*u.ParentID] = true
		}
	}
	for i := range us {
		u := &us[i]
		if u.Kind != domain.KindBranch {
			continue
		}
		parentKind := ""
		if u.ParentID != nil {
			k, ok := kinds[*u.ParentID]
			if !ok {
				p, err := a.Store.UnitByID(ctx, *u.ParentID)
				if err != nil {
					return nil, err
				}
				k = p.Kind
				kinds[p.ID] = k
			}
			parentKind = k
		}
		info := u.Info(parentKind, groups[u.ID])
		u.Branch = &info
	}
	return us, nil
}
