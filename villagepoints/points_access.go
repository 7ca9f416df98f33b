package villagepoints

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// Who may do what with points (SPEC §4). A person acts in exactly the
// villages where they hold the role. An API token acts in every village of
// its subtree, as its role, and an admin token may do what any role may.
// The operator's CLI may do everything.

func isAPI(actor domain.Actor) bool { return strings.HasPrefix(actor.Label, "api:") }

func isVillage(kind string) bool { return kind == domain.KindVillage || kind == domain.KindCommunity }

// rolesFor adds admin to the roles an API token may act as.
func rolesFor(actor domain.Actor, roles []string) []string {
	if isAPI(actor) {
		return append(slices.Clone(roles), domain.RoleAdmin)
	}
	return roles
}

// mayInVillage reports whether the actor holds one of roles for the village.
func (a Service) mayInVillage(ctx context.Context, actor domain.Actor, villageID int64, roles ...string) (bool, error) {
	if actor.IsOperator() {
		return true, nil
	}
	roles = rolesFor(actor, roles)
	for _, r := range actor.Roles {
		if !slices.Contains(roles, r.Role) {
			continue
		}
		if r.UnitID == villageID {
			return true, nil
		}
		if isAPI(actor) {
			ok, err := a.db().InSubtree(ctx, r.UnitID, villageID)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// villagesFor lists the villages (and communities) where the actor holds
// one of roles, in a stable order.
func (a Service) villagesFor(ctx context.Context, actor domain.Actor, roles ...string) ([]domain.Unit, error) {
	var roots []int64
	if actor.IsOperator() {
		us, err := a.db().AllUnits(ctx)
		if err != nil {
			return nil, err
		}
		return villagesOf(us), nil
	}
	roles = rolesFor(actor, roles)
	var out []domain.Unit
	seen := map[int64]bool{}
	for _, r := range actor.Roles {
		if !slices.Contains(roles, r.Role) || seen[r.UnitID] {
			continue
		}
		if isAPI(actor) {
			roots = append(roots, r.UnitID)
			continue
		}
		if isVillage(r.UnitKind) {
			seen[r.UnitID] = true
			out = append(out, domain.Unit{ID: r.UnitID, Code: r.UnitCode, Name: r.UnitName, Kind: r.UnitKind})
		}
	}
	for _, root := range roots {
		us, err := a.db().Subtree(ctx, root)
		if err != nil {
			return nil, err
		}
		for _, u := range villagesOf(us) {
			if !seen[u.ID] {
				seen[u.ID] = true
				out = append(out, u)
			}
		}
	}
	return out, nil
}

func villagesOf(us []domain.Unit) []domain.Unit {
	var out []domain.Unit
	for _, u := range us {
		if isVillage(u.Kind) {
			out = append(out, u)
		}
	}
	return out
}

func unitIDs(us []domain.Unit) []int64 {
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

// scopeRoot is the unit subtree an API listing covers: the token's unit, or
// unitCode when it lies inside it. For a person, their role units decide.
func (a Service) scopeRoot(ctx context.Context, actor domain.Actor, unitCode string, roles ...string) (root int64, villages []int64, err error) {
	if actor.IsOperator() {
		if unitCode == "" {
			return 0, nil, nil
		}
		u, err := a.db().UnitByCode(ctx, unitCode)
		if err != nil {
			return 0, nil, domain.UnitNotFound(unitCode)
		}
		return u.ID, nil, nil
	}
	roles = rolesFor(actor, roles)
	if isAPI(actor) {
		for _, r := range actor.Roles {
			if !slices.Contains(roles, r.Role) {
				continue
			}
			if unitCode == "" {
				return r.UnitID, nil, nil
			}
			u, err := a.db().UnitByCode(ctx, unitCode)
			if errors.Is(err, domain.ErrNotFound) {
				return 0, nil, domain.UnitNotFound(unitCode)
			}
			if err != nil {
				return 0, nil, err
			}
			ok, err := a.db().InSubtree(ctx, r.UnitID, u.ID)
			if err != nil {
				return 0, nil, err
			}
			if !ok {
				return 0, nil, domain.Refuse(domain.ErrForbidden, "%s", pt.T("scope.refuse.unit", "code", unitCode))
			}
			return u.ID, nil, nil
		}
		return 0, nil, domain.Refuse(domain.ErrForbidden, "%s", pt.T("scope.refuse.token", "roles", app.RoleNamesOf(actor)))
	}
	vs, err := a.villagesFor(ctx, actor, roles...)
	if err != nil {
		return 0, nil, err
	}
	ids := unitIDs(vs)
	if unitCode != "" {
		ids = nil
		for _, v := range vs {
			if v.Code == unitCode {
				ids = []int64{v.ID}
			}
		}
	}
	if len(ids) == 0 {
		return 0, nil, domain.Refuse(domain.ErrForbidden, "%s", pt.T("scope.refuse.village"))
	}
	return 0, ids, nil
}

// VillagerHousehold is the household a linked villager claims for.
func (a Service) VillagerHousehold(ctx context.Context, actor domain.Actor) (storage.Household, error) {
	notVillager := domain.Refuse(domain.ErrForbidden, "%s", pt.T("claim.refuse.not_villager"))
	if actor.PersonID == 0 || len(actor.UnitsWith(domain.RoleVillager)) == 0 {
		return storage.Household{}, notVillager
	}
	p, err := a.db().PersonByID(ctx, actor.PersonID)
	if err != nil {
		return storage.Household{}, err
	}
	if p.HouseholdID == nil {
		return storage.Household{}, notVillager
	}
	hh, err := a.db().HouseholdByID(ctx, *p.HouseholdID)
	if err != nil {
		return storage.Household{}, err
	}
	if !actor.Has(domain.RoleVillager, hh.VillageID) {
		return storage.Household{}, notVillager
	}
	return hh, nil
}

// resolveHousehold reads "/deduct 13800000006 …" or "/redeem H001 …": a
// mobile number names the person's household, anything else a household
// code, looked up in the given villages. personID is the named person (0
// for a household code). A phone of nobody in those villages gets the same
// answer whether or not it is known elsewhere, naming nobody (SPEC §7.5).
func (a Service) resolveHousehold(ctx context.Context, ref string, villages []domain.Unit) (hh storage.Household, personID int64, err error) {
	phone, code := points.ParseMemberRef(ref)
	if phone == "" && code == "" {
		return hh, 0, domain.Refuse(domain.ErrInvalid, "%s", pt.T("household.refuse.which"))
	}
	if phone != "" {
		notHere := domain.Refuse(domain.ErrNotFound, "%s", pt.T("household.refuse.no_phone", "phone", phone))
		p, err := a.db().PersonByPhone(ctx, phone)
		if errors.Is(err, domain.ErrNotFound) {
			return hh, 0, notHere
		}
		if err != nil {
			return hh, 0, err
		}
		if p.HouseholdID == nil {
			// Named only when the person holds a role in one of the villages.
			roles, err := a.db().RolesOf(ctx, p.ID)
			if err != nil {
				return hh, 0, err
			}
			for _, r := range roles {
				if slices.Contains(unitIDs(villages), r.UnitID) {
					return hh, 0, domain.Refuse(domain.ErrNotFound, "%s", pt.T("household.refuse.no_household", "name", p.Name))
				}
			}
			return hh, 0, notHere
		}
		hh, err = a.db().HouseholdByID(ctx, *p.HouseholdID)
		if err != nil {
			return hh, 0, err
		}
		if !slices.Contains(unitIDs(villages), hh.VillageID) {
			return storage.Household{}, 0, notHere
		}
		return hh, p.ID, nil
	}
	hs, err := a.db().HouseholdsByCode(ctx, unitIDs(villages), code)
	if err != nil {
		return hh, 0, err
	}
	switch len(hs) {
	case 0:
		return hh, 0, domain.Refuse(domain.ErrNotFound, "%s", pt.T("household.refuse.no_code", "code", code))
	case 1:
		return hs[0], 0, nil
	}
	return hh, 0, domain.Refuse(domain.ErrConflict, "%s", pt.T("household.refuse.many", "code", code))
}

func claimSubject(id int64) string { return "claim:" + strconv.FormatInt(id, 10) }

// NarrowActor limits an actor to unitCode: each role held at or (for an API
// token) above the unit becomes the same role held in the unit. It refuses a
// unit outside the actor's scope.
//
// A unit out of reach (or unknown) is a refusal of action, audited.
func (a Service) NarrowActor(ctx context.Context, actor domain.Actor, action, unitCode string) (domain.Actor, error) {
	u, err := a.db().UnitByCode(ctx, unitCode)
	if errors.Is(err, domain.ErrNotFound) {
		return actor, a.Refused(ctx, actor, action, "unit:"+unitCode, domain.UnitNotFound(unitCode))
	}
	if err != nil {
		return actor, err
	}
	out := actor
	out.Roles = nil
	for _, r := range actor.Roles {
		ok := r.UnitID == u.ID
		if !ok && isAPI(actor) {
			if ok, err = a.db().InSubtree(ctx, r.UnitID, u.ID); err != nil {
				return actor, err
			}
		}
		if ok {
			out.Roles = append(out.Roles, domain.Role{PersonID: r.PersonID, Role: r.Role, UnitID: u.ID, UnitCode: u.Code, UnitName: u.Name, UnitKind: u.Kind})
		}
	}
	if len(out.Roles) == 0 {
		return actor, a.Refused(ctx, actor, action, "unit:"+unitCode, domain.Refuse(domain.ErrForbidden, "%s", pt.T("scope.refuse.unit", "code", unitCode)))
	}
	return out, nil
}
