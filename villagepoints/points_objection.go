package villagepoints

import (
	"context"
	"strconv"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// The steps a reviewer's objection (ObjectClaim) and a villager's
// (villagerObjection) share, so both follow one rule.

// lockClaim takes the claim's household lock and reads the claim again
// under it: what was checked before the lock may have changed.
func (a Service) lockClaim(ctx context.Context, c storage.Claim) (storage.Claim, error) {
	if err := a.db().LockHousehold(ctx, c.HouseholdID); err != nil {
		return c, err
	}
	return a.db().ClaimByID(ctx, c.ID)
}

// publicityEntry is the award entry of claim c and the instant of the
// check; an objection after 公示 (the entry already effective) is refused
// with the text overKey.
func (a Service) publicityEntry(ctx context.Context, actor domain.Actor, c storage.Claim, overKey string) (storage.PointEntry, time.Time, error) {
	e, err := a.db().ClaimEntry(ctx, c.ID)
	if err != nil {
		return e, time.Time{}, err
	}
	now := a.Now()
	if !now.Before(e.EffectiveAt) {
		return e, now, a.Refused(ctx, actor, "claim.object", claimSubject(c.ID), domain.Refuse(domain.ErrConflict,
			"%s", pt.T(overKey, "id", strconv.FormatInt(c.ID, 10), "day", a.day(e.EffectiveAt))))
	}
	return e, now, nil
}

// householdAndDecider is the claim's household and the name its cards
// give the actor deciding.
func (a Service) householdAndDecider(ctx context.Context, actor domain.Actor, householdID int64) (storage.Household, string, error) {
	hh, err := a.db().HouseholdByID(ctx, householdID)
	if err != nil {
		return hh, "", err
	}
	name, err := a.decider(ctx, actor)
	return hh, name, err
}
