package app

import (
	"context"
	"errors"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
)

// Can asks the one policy (domain/access) whether actor may do action to
// the unit unitID.
func (a *App) Can(ctx context.Context, actor domain.Actor, action access.Action, unitID int64) (bool, error) {
	if actor.IsOperator() {
		return true, nil
	}
	path, err := a.Store.UnitPath(ctx, unitID)
	if err != nil {
		return false, err
	}
	return access.Can(actor, action, path), nil
}

// Authorise is the step every use case takes before it reads or changes a
// unit: it asks the policy and audits a refusal under useCase (the audit
// log's action). subject is the unit as the caller named it, for the
// refusal's text.
func (a *App) Authorise(ctx context.Context, actor domain.Actor, action access.Action, useCase string, u domain.Unit, subject string) error {
	ok, err := a.Can(ctx, actor, action, u.ID)
	if err != nil || ok {
		return err
	}
	return a.Refused(ctx, actor, useCase, "unit:"+u.Code, access.Refusal(actor, action, subject))
}

// AuthoriseID is authorise for a unit known by id.
func (a *App) AuthoriseID(ctx context.Context, actor domain.Actor, action access.Action, useCase string, unitID int64) error {
	if actor.IsOperator() {
		return nil
	}
	u, err := a.Store.UnitByID(ctx, unitID)
	if err != nil {
		return err
	}
	return a.Authorise(ctx, actor, action, useCase, u, u.Name)
}

// AuthoriseGlobal is authorise for an action that is not about one unit
// (the operator's alone, such as managing robots).
func (a *App) AuthoriseGlobal(ctx context.Context, actor domain.Actor, action access.Action, useCase string) error {
	if access.Can(actor, action, nil) {
		return nil
	}
	return a.Refused(ctx, actor, useCase, "", access.Refusal(actor, action, ""))
}

// SetActive turns something global (an integration, a robot) on or off:
// authorised as action (AuthoriseGlobal) under useCase, changed by set in
// a transaction and audited there under useCase and subject with the new
// state.
func (a *App) SetActive(ctx context.Context, actor domain.Actor, action access.Action, useCase, subject string, active bool, set func(*App) error) error {
	if err := a.AuthoriseGlobal(ctx, actor, action, useCase); err != nil {
		return err
	}
	return a.InTx(ctx, func(a *App) error {
		if err := set(a); err != nil {
			return err
		}
		return a.Audit(ctx, actor, useCase, subject, true, map[string]any{"active": active})
	})
}

// Scope resolves the unit a request names by code and authorises action on
// it. Code "" means the first unit where the actor's roles allow the action.
func (a *App) Scope(ctx context.Context, actor domain.Actor, action access.Action, useCase, code string) (domain.Unit, error) {
	if code == "" {
		roots := access.Roots(actor, action)
		if len(roots) == 0 {
			if access.MayAnywhere(actor, action) {
				return domain.Unit{}, access.NoUnit()
			}
			return domain.Unit{}, a.Refused(ctx, actor, useCase, "", access.Refusal(actor, action, ""))
		}
		return a.Store.UnitByID(ctx, roots[0])
	}
	u, err := a.Store.UnitByCode(ctx, code)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Unit{}, domain.UnitNotFound(code)
	}
	if err != nil {
		return domain.Unit{}, err
	}
	if err := a.Authorise(ctx, actor, action, useCase, u, access.UnitSubject(code)); err != nil {
		return domain.Unit{}, err
	}
	return u, nil
}

// RoleNamesOf is the actor's roles in Chinese, for refusals.
func RoleNamesOf(actor domain.Actor) string { return access.RoleNames(actor.Roles) }

// InTxAudited runs a use case that writes as InTxRefusable does, and
// audits under action and subject a refusal that fn did not audit itself:
// every refusal of the use case is audited, whichever door it came by.
func (a *App) InTxAudited(ctx context.Context, actor domain.Actor, action, subject string, fn func(*App) error) error {
	return a.InTxRefusable(ctx, func(a *App) error {
		before := a.Store.RefusalsRecorded()
		err := fn(a)
		var ue *domain.UserError
		if errors.As(err, &ue) && a.Store.RefusalsRecorded() == before {
			return a.Refused(ctx, actor, action, subject, err)
		}
		return err
	})
}

// UnitForActor resolves the unit a summary is asked for: code "" means the
// actor's own unit (its first role's); a unit outside every subtree the
// actor may see is refused.
func (a *App) UnitForActor(ctx context.Context, actor domain.Actor, code string) (domain.Unit, error) {
	return a.Scope(ctx, actor, access.ViewUnit, string(access.ViewUnit), code)
}

// UnitByID returns a unit known by id (one of the actor's roles' units, a
// parent, the unit of a record a use case returned) when the actor may see
// it; domain.ErrNotFound when there is none.
func (a *App) UnitByID(ctx context.Context, actor domain.Actor, id int64) (domain.Unit, error) {
	u, err := a.Store.UnitByID(ctx, id)
	if err != nil {
		return domain.Unit{}, err
	}
	if err := a.Authorise(ctx, actor, access.ViewUnit, string(access.ViewUnit), u, u.Name); err != nil {
		return domain.Unit{}, err
	}
	return u, nil
}

// MayViewDashboard reports whether the actor holds a role that may see the
// dashboard: organiser or admin, of any unit.
func MayViewDashboard(actor domain.Actor) bool {
	return access.MayAnywhere(actor, access.ViewDashboard)
}
