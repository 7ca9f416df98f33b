package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// PointsView is what /points shows: the household's balance (entries in
// effect), the points still in publicity, the points of claims awaiting
// review, and the newest ledger entries.
type PointsView struct {
	Household     storage.Household
	Balance       int
	Publicity     int // approved, not yet effective (公示中)
	PendingClaims int // points of claims awaiting review
	PendingCount  int
	Entries       []storage.PointEntry
}

// lastEntries is how many entries /points lists.
const lastEntries = 8

// HouseholdPoints shows a household's points. target "" is the actor's own
// household (a villager); otherwise a reviewer or shopkeeper of the village
// (or an API token over it) names it by phone or household code.
func (a *App) HouseholdPoints(ctx context.Context, actor domain.Actor, target string) (PointsView, error) {
	if strings.TrimSpace(target) == "" {
		// The sender's own household, in one statement: /points is the
		// command villagers send most.
		var snap storage.PointsSnapshot
		err := domain.ErrNotFound
		if actor.PersonID != 0 && len(actor.UnitsWith(domain.RoleVillager)) > 0 {
			snap, err = a.Store.HouseholdPoints(ctx, 0, actor.PersonID, a.Now(), lastEntries)
			if err == nil && !actor.Has(domain.RoleVillager, snap.VillageID) {
				err = domain.ErrNotFound
			}
		}
		if errors.Is(err, domain.ErrNotFound) {
			if vs, _ := a.villagesFor(ctx, actor, domain.RoleReviewer, domain.RoleShopkeeper); len(vs) > 0 {
				err = domain.Refuse(domain.ErrInvalid, "请写明要查询的农户：/points 户号或村民手机号。")
			} else {
				err = domain.Refuse(domain.ErrForbidden, "只有已登记并绑定账号的村民才能查看本户积分。")
			}
			return PointsView{}, a.Refused(ctx, actor, "points.view", "", err)
		}
		if err != nil {
			return PointsView{}, err
		}
		return viewOf(snap)
	}
	vs, err := a.villagesFor(ctx, actor, domain.RoleReviewer, domain.RoleShopkeeper)
	if err != nil {
		return PointsView{}, err
	}
	own, ownErr := a.villagerHousehold(ctx, actor)
	if len(vs) == 0 && ownErr == nil {
		vs = []domain.Unit{{ID: own.VillageID}}
	}
	if len(vs) == 0 {
		return PointsView{}, a.Refused(ctx, actor, "points.view", "", domain.Refuse(domain.ErrForbidden, "只有村积分评议员和积分超市管理员可以查询其他农户的积分。"))
	}
	hh, _, err := a.resolveHousehold(ctx, target, vs)
	if err != nil {
		return PointsView{}, a.Refused(ctx, actor, "points.view", "", err)
	}
	if ok, err := a.mayInVillage(ctx, actor, hh.VillageID, domain.RoleReviewer, domain.RoleShopkeeper); err != nil {
		return PointsView{}, err
	} else if !ok && (ownErr != nil || own.ID != hh.ID) {
		return PointsView{}, a.Refused(ctx, actor, "points.view", "", domain.Refuse(domain.ErrForbidden, "您只能查看本户积分：发送 /points。"))
	}
	snap, err := a.Store.HouseholdPoints(ctx, hh.ID, 0, a.Now(), lastEntries)
	if err != nil {
		return PointsView{}, err
	}
	return viewOf(snap)
}

func viewOf(snap storage.PointsSnapshot) (PointsView, error) {
	return PointsView{Household: snap.Household, Balance: snap.Balance, Publicity: snap.Publicity,
		PendingClaims: snap.PendingPoints, PendingCount: snap.PendingCount, Entries: snap.Entries}, nil
}

// Redemption is a recorded redemption (日常兑现) and the balance around it.
type Redemption struct {
	Entry         storage.PointEntry
	Household     storage.Household
	Before, After int
	Operator      string
}

// RedeemRequest is a shopkeeper's "/redeem <phone | household> <points> [goods]".
type RedeemRequest struct {
	Target string
	Points int
	Goods  string
}

// Redeem records that a household spent points at the points shop, by a
// shopkeeper of its village (or an API token with the shopkeeper or admin
// role over it). Under the household's row lock the balance in effect is
// read and the redemption refused when it would go below zero, so that
// concurrent redemptions never overdraw. Every linked member of the
// household gets a receipt.
func (a *App) Redeem(ctx context.Context, actor domain.Actor, req RedeemRequest) (Redemption, error) {
	vs, err := a.villagesFor(ctx, actor, domain.RoleShopkeeper)
	if err != nil {
		return Redemption{}, err
	}
	if len(vs) == 0 {
		return Redemption{}, a.Refused(ctx, actor, "points.redeem", "", domain.Refuse(domain.ErrForbidden, "只有积分超市管理员才能登记兑换。"))
	}
	hh, _, err := a.resolveHousehold(ctx, req.Target, vs)
	if err != nil {
		return Redemption{}, a.Refused(ctx, actor, "points.redeem", "", err)
	}
	subject := "household:" + strconv.FormatInt(hh.ID, 10)
	if err := a.Store.LockHousehold(ctx, hh.ID); err != nil {
		return Redemption{}, err
	}
	now := a.Now()
	balance, _, err := a.Store.PointBalance(ctx, hh.ID, now)
	if err != nil {
		return Redemption{}, err
	}
	if err := points.CanRedeem(balance, req.Points); err != nil {
		var r *points.Refusal
		errors.As(err, &r)
		return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, domain.Refuse(refusalKind(r.Reason), "%s", r.Msg))
	}
	name, err := a.decider(ctx, actor)
	if err != nil {
		return Redemption{}, err
	}
	e := storage.PointEntry{HouseholdID: hh.ID, VillageID: hh.VillageID, Kind: storage.EntryRedemption, Points: -req.Points,
		Goods: cut(strings.TrimSpace(req.Goods), 200), RecordedAt: now, EffectiveAt: now, Actor: actor.Label,
		HouseholdCode: hh.Code, VillageCode: hh.VillageCode}
	if actor.PersonID != 0 {
		e.RecordedBy = &actor.PersonID
	}
	if e.ID, err = a.Store.AppendPointEntry(ctx, e); err != nil {
		return Redemption{}, err
	}
	r := Redemption{Entry: e, Household: hh, Before: balance, After: balance - req.Points, Operator: name}
	if err := a.tellHousehold(ctx, hh.ID, fmt.Sprintf("redeem:%d", e.ID), a.receiptText(r)); err != nil {
		return r, err
	}
	if err := a.Store.AppendEvent(ctx, "points.redeemed", hh.VillageID, map[string]any{
		"ledger_entry": e.ID, "village": hh.VillageCode, "household": hh.Code, "points": req.Points, "goods": e.Goods,
		"balance_before": r.Before, "balance_after": r.After, "by": name, "at": now,
	}); err != nil {
		return r, err
	}
	return r, a.audit(ctx, actor, "points.redeem", subject, true, map[string]any{"points": req.Points, "goods": e.Goods, "entry": e.ID})
}

// RankedHousehold is a household's place in a village ranking.
type RankedHousehold struct {
	points.Ranked
	Code    string
	Members string
}

// Label is how the ranking shows the household.
func (r RankedHousehold) Label() string {
	if r.Members == "" {
		return r.Code
	}
	return r.Code + " " + r.Members
}

// Ranking is a village's ranking for a settlement period.
type Ranking struct {
	Village domain.Unit
	Period  points.SettlementPeriod
	Rows    []RankedHousehold
}

// rank orders a village's period totals with points.Rank.
func rank(totals []storage.PeriodTotal) []RankedHousehold {
	rows := make([]points.RankRow, len(totals))
	byID := make(map[int64]storage.PeriodTotal, len(totals))
	for i, t := range totals {
		rows[i] = points.RankRow{Household: t.HouseholdID, Name: t.Code, Points: t.Points, Vetoed: t.Vetoed}
		byID[t.HouseholdID] = t
	}
	out := make([]RankedHousehold, 0, len(rows))
	for _, r := range points.Rank(rows) {
		t := byID[r.Household]
		out = append(out, RankedHousehold{Ranked: r, Code: t.Code, Members: t.Members})
	}
	return out
}

// VillageRanking is the live ranking of the actor's village for the current
// settlement period: points in effect so far this period, vetoed households
// apart. unitCode picks a village when the actor has several.
func (a *App) VillageRanking(ctx context.Context, actor domain.Actor, unitCode string) (Ranking, error) {
	vs, err := a.villagesFor(ctx, actor, domain.RoleVillager, domain.RoleReviewer, domain.RoleShopkeeper, domain.RoleSecretary)
	if err != nil {
		return Ranking{}, err
	}
	var v *domain.Unit
	for i := range vs {
		if unitCode == "" || vs[i].Code == unitCode {
			v = &vs[i]
			break
		}
	}
	if v == nil {
		return Ranking{}, a.Refused(ctx, actor, "points.rank", unitCode, domain.Refuse(domain.ErrForbidden, "只有本村村民和村干部可以查看本村积分排名。"))
	}
	now := a.Now()
	p := a.CurrentPeriod(now)
	// Up to and including now: timestamps are stored to the microsecond.
	totals, err := a.Store.PeriodTotals(ctx, []int64{v.ID}, p.Start, now.Add(time.Microsecond))
	if err != nil {
		return Ranking{}, err
	}
	return Ranking{Village: *v, Period: p, Rows: rank(totals)}, nil
}
