package villagepoints

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
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
func (a Service) HouseholdPoints(ctx context.Context, actor domain.Actor, target string) (PointsView, error) {
	if strings.TrimSpace(target) == "" {
		// The sender's own household, in one statement: /points is the
		// command villagers send most.
		var snap storage.PointsSnapshot
		err := domain.ErrNotFound
		if actor.PersonID != 0 && len(actor.UnitsWith(domain.RoleVillager)) > 0 {
			snap, err = a.db().HouseholdPoints(ctx, 0, actor.PersonID, a.Now(), lastEntries)
			if err == nil && !actor.Has(domain.RoleVillager, snap.VillageID) {
				err = domain.ErrNotFound
			}
		}
		if errors.Is(err, domain.ErrNotFound) {
			if vs, _ := a.villagesFor(ctx, actor, domain.RoleReviewer, domain.RoleShopkeeper); len(vs) > 0 {
				err = domain.Refuse(domain.ErrInvalid, "%s", pt.T("points.refuse.which"))
			} else {
				err = domain.Refuse(domain.ErrForbidden, "%s", pt.T("points.refuse.not_villager"))
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
	own, ownErr := a.VillagerHousehold(ctx, actor)
	if len(vs) == 0 && ownErr == nil {
		vs = []domain.Unit{{ID: own.VillageID}}
	}
	if len(vs) == 0 {
		return PointsView{}, a.Refused(ctx, actor, "points.view", "", domain.Refuse(domain.ErrForbidden, "%s", pt.T("points.refuse.others")))
	}
	hh, _, err := a.resolveHousehold(ctx, target, vs)
	if err != nil {
		return PointsView{}, a.Refused(ctx, actor, "points.view", "", err)
	}
	if ok, err := a.mayInVillage(ctx, actor, hh.VillageID, domain.RoleReviewer, domain.RoleShopkeeper); err != nil {
		return PointsView{}, err
	} else if !ok && (ownErr != nil || own.ID != hh.ID) {
		return PointsView{}, a.Refused(ctx, actor, "points.view", "", domain.Refuse(domain.ErrForbidden, "%s", pt.T("points.refuse.own_only")))
	}
	snap, err := a.db().HouseholdPoints(ctx, hh.ID, 0, a.Now(), lastEntries)
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
	// Goods and Qty are set for a redemption of listed goods; StockLeft is
	// the goods' pieces left after it (nil = unlimited).
	Goods     *storage.Goods
	Qty       int
	StockLeft *int
}

// RedeemRequest is a shopkeeper's "/redeem <phone | household> <points> [goods]"
// or, with GoodsCode set, "/redeem <phone | household> <goods code> [qty]".
type RedeemRequest struct {
	Target    string
	Points    int
	Goods     string
	GoodsCode string // listed goods (code or exact name); Points and Goods are then ignored
	Qty       int    // pieces of GoodsCode; 0 = 1
}

// Redeem records that a household spent points at the points shop, by a
// shopkeeper of its village (or an API token with the shopkeeper or admin
// role over it). Under the household's row lock the balance in effect is
// read and the redemption refused when it would go below zero, so that
// concurrent redemptions never overdraw. Listed goods cost their price ×
// qty and take qty pieces of stock with a conditional UPDATE (never more
// than is left, under concurrency); every refusal comes before any change.
// Every linked member of the household gets a receipt.
func (a Service) Redeem(ctx context.Context, actor domain.Actor, req RedeemRequest) (Redemption, error) {
	var r Redemption
	err := a.InTxRefusable(ctx, func(a *app.App) (err error) {
		r, err = Of(a).redeem(ctx, actor, req)
		return err
	})
	return r, err
}

func (a Service) redeem(ctx context.Context, actor domain.Actor, req RedeemRequest) (Redemption, error) {
	vs, err := a.villagesFor(ctx, actor, domain.RoleShopkeeper)
	if err != nil {
		return Redemption{}, err
	}
	if len(vs) == 0 {
		return Redemption{}, a.Refused(ctx, actor, "points.redeem", "", domain.Refuse(domain.ErrForbidden, "%s", pt.T("redeem.refuse.forbidden")))
	}
	hh, _, err := a.resolveHousehold(ctx, req.Target, vs)
	if err != nil {
		return Redemption{}, a.Refused(ctx, actor, "points.redeem", "", err)
	}
	subject := "household:" + strconv.FormatInt(hh.ID, 10)
	var g *storage.Goods
	qty := req.Qty
	goods := cut(strings.TrimSpace(req.Goods), 200)
	if ref := strings.TrimSpace(req.GoodsCode); ref != "" {
		if qty == 0 {
			qty = 1
		}
		if qty < 1 || qty > MaxRedeemQty {
			return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, domain.Refuse(domain.ErrInvalid,
				"%s", pt.T("redeem.refuse.qty", "max", strconv.Itoa(MaxRedeemQty))))
		}
		found, err := a.shopGoods(ctx, hh.VillageID, ref)
		if app.IsRefusal(err) {
			return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, err)
		}
		if err != nil {
			return Redemption{}, err
		}
		g = &found
		req.Points = g.Points * qty
		goods = fmt.Sprintf("%s ×%d", g.Name, qty)
	}
	if err := a.db().LockHousehold(ctx, hh.ID); err != nil {
		return Redemption{}, err
	}
	now := a.Now()
	balance, _, err := a.db().PointBalance(ctx, hh.ID, now)
	if err != nil {
		return Redemption{}, err
	}
	var left *int
	if g != nil {
		if g.Stock != nil && *g.Stock < qty {
			return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, stockShort(*g, *g.Stock))
		}
		if balance < req.Points {
			return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, domain.Refuse(domain.ErrConflict, "%s", pt.T("redeem.refuse.balance",
				"balance", strconv.Itoa(balance), "need", strconv.Itoa(req.Points), "goods", g.Name, "points", strconv.Itoa(g.Points), "qty", strconv.Itoa(qty))))
		}
		if g.Stock != nil {
			n, ok, err := a.db().TakeStock(ctx, g.ID, qty)
			if err != nil {
				return Redemption{}, err
			}
			if !ok {
				rest := 0
				if n != nil {
					rest = *n
				}
				return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, stockShort(*g, rest))
			}
			left = n
		}
	} else if err := points.CanRedeem(balance, req.Points); err != nil {
		var r *points.Refusal
		errors.As(err, &r)
		return Redemption{}, a.Refused(ctx, actor, "points.redeem", subject, domain.Refuse(refusalKind(r.Reason), "%s", RuleText(r)))
	}
	name, err := a.decider(ctx, actor)
	if err != nil {
		return Redemption{}, err
	}
	e := storage.PointEntry{HouseholdID: hh.ID, VillageID: hh.VillageID, Kind: storage.EntryRedemption, Points: -req.Points,
		Goods: goods, RecordedAt: now, EffectiveAt: now, Actor: actor.Label,
		HouseholdCode: hh.Code, VillageCode: hh.VillageCode}
	if g != nil {
		e.Note = pt.T("redeem.note", "code", g.Code)
	}
	if actor.PersonID != 0 {
		e.RecordedBy = &actor.PersonID
	}
	if e.ID, err = a.db().AppendPointEntry(ctx, e); err != nil {
		return Redemption{}, err
	}
	r := Redemption{Entry: e, Household: hh, Before: balance, After: balance - req.Points, Operator: name, Goods: g, Qty: qty, StockLeft: left}
	if err := a.tellHousehold(ctx, hh.ID, fmt.Sprintf("redeem:%d", e.ID), a.receiptText(r)); err != nil {
		return r, err
	}
	ev := map[string]any{
		"ledger_entry": e.ID, "village": hh.VillageCode, "household": hh.Code, "points": req.Points, "goods": e.Goods,
		"balance_before": r.Before, "balance_after": r.After, "by": name, "at": now,
	}
	detail := map[string]any{"points": req.Points, "goods": e.Goods, "entry": e.ID}
	if g != nil {
		ev["goods_code"], ev["quantity"], ev["unit_points"] = g.Code, qty, g.Points
		detail["goods_code"], detail["quantity"] = g.Code, qty
		if left != nil {
			ev["stock_after"] = *left
		}
	}
	if err := a.db().AppendEvent(ctx, "points.redeemed", hh.VillageID, ev); err != nil {
		return r, err
	}
	return r, a.Audit(ctx, actor, "points.redeem", subject, true, detail)
}

// stockShort refuses a redemption of more pieces than are left.
func stockShort(g storage.Goods, left int) error {
	if left == 0 {
		return domain.Refuse(domain.ErrConflict, "%s", pt.T("redeem.refuse.sold_out", "goods", g.Name))
	}
	return domain.Refuse(domain.ErrConflict, "%s", pt.T("redeem.refuse.stock", "left", strconv.Itoa(left), "goods", g.Name))
}

// RankedHousehold is a household's place in a village ranking.
type RankedHousehold struct {
	points.Ranked
	Code    string
	Members string
	Head    string
	Stars   int // yearly settlements: 星级文明户 (0 = none)
}

// Label is how the ranking shows the household (storage.HouseholdLabel):
// by its head (张三户), else its first member (李四家), never its code.
func (r RankedHousehold) Label() string {
	return storage.HouseholdLabel(r.Head, r.Code, r.Members, "")
}

// Ranking is a village's ranking for a settlement period.
type Ranking struct {
	Village domain.Unit
	Period  points.SettlementPeriod
	Rows    []RankedHousehold
	// Own is the asking villager's household among Rows; nil when the
	// actor has none there, or when it is vetoed and the ranking is asked
	// in a group: a veto is the household's matter, not said in a group.
	Own *RankedHousehold
}

// RankingRequest asks VillageRanking for a village's ranking.
type RankingRequest struct {
	Unit string // village code; "" = the actor's first village
	// ChatID is the group chat the ranking is asked in; 0 in private or
	// from no chat at all.
	ChatID int64
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
		out = append(out, RankedHousehold{Ranked: r, Code: t.Code, Members: t.Members, Head: t.Head})
	}
	return out
}

// VillageRanking is the live ranking of the actor's village for the current
// settlement period: points in effect so far this period, vetoed households
// apart, with the actor's own household's place (Ranking.Own). req.Unit
// picks a village when the actor has several.
func (a Service) VillageRanking(ctx context.Context, actor domain.Actor, req RankingRequest) (Ranking, error) {
	unitCode := req.Unit
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
		return Ranking{}, a.Refused(ctx, actor, "points.rank", unitCode, domain.Refuse(domain.ErrForbidden, "%s", pt.T("rank.refuse.forbidden")))
	}
	now := a.Now()
	p := a.CurrentPeriod(now)
	// Up to and including now: timestamps are stored to the microsecond.
	totals, err := a.db().PeriodTotals(ctx, []int64{v.ID}, p.Start, now.Add(time.Microsecond))
	if err != nil {
		return Ranking{}, err
	}
	rk := Ranking{Village: *v, Period: p, Rows: rank(totals)}
	// Only personalises the reply: an actor with no household of its own
	// gets the ranking alone.
	hh, err := a.VillagerHousehold(ctx, actor)
	var refusal *domain.UserError
	if errors.As(err, &refusal) || errors.Is(err, domain.ErrNotFound) {
		return rk, nil
	}
	if err != nil {
		return Ranking{}, fmt.Errorf("the household of person %d: %w", actor.PersonID, err)
	}
	for i, r := range rk.Rows {
		if r.Household == hh.ID && (!r.Vetoed || req.ChatID == 0) {
			rk.Own = &rk.Rows[i]
		}
	}
	return rk, nil
}
