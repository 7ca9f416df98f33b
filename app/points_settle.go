package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// SettleResult says what one settlement run did.
type SettleResult struct {
	Period  string
	Settled int // villages settled by this run
	Posted  int // rankings posted to a village group
}

// settleBatch is how many villages one ranking query covers.
const settleBatch = 500

// Settle closes the settlement period that ended last before now (定期结算):
// for every village with households and no settlement for it yet, it
// freezes the ranking (points effective in the period, redemptions not
// counted, vetoed households unranked) into the settlements table, posts it
// to the village's group (priority Ranking) and appends settlement.closed.
// Each village commits on its own; a village settled before is skipped by
// the unique (village, period) key, so running twice changes nothing and a
// run after downtime catches up.
func (a *App) Settle(ctx context.Context, now time.Time) (SettleResult, error) {
	period, err := points.PeriodAt(a.PeriodKind(), now, a.Loc)
	if err != nil {
		return SettleResult{}, err
	}
	period = period.Prev()
	res := SettleResult{Period: period.Key()}
	villages, err := a.Store.UnsettledVillages(ctx, period.Key())
	if err != nil {
		return res, err
	}
	for len(villages) > 0 {
		batch := villages[:min(settleBatch, len(villages))]
		villages = villages[len(batch):]
		totals, err := a.Store.PeriodTotals(ctx, unitIDs(batch), period.Start, period.End)
		if err != nil {
			return res, err
		}
		byVillage := map[int64][]storage.PeriodTotal{}
		for _, t := range totals {
			byVillage[t.VillageID] = append(byVillage[t.VillageID], t)
		}
		for _, v := range batch {
			settled, posted, err := a.settleVillage(ctx, v, period, now, byVillage[v.ID])
			if err != nil {
				return res, fmt.Errorf("settle %s %s: %w", v.Code, period.Key(), err)
			}
			if settled {
				res.Settled++
			}
			if posted {
				res.Posted++
			}
		}
	}
	a.Log.Info("points settlement", slog.String("period", res.Period), slog.Int("settled", res.Settled), slog.Int("posted", res.Posted))
	return res, nil
}

func (a *App) settleVillage(ctx context.Context, v domain.Unit, period points.SettlementPeriod, now time.Time, totals []storage.PeriodTotal) (settled, posted bool, err error) {
	ranked := rank(totals)
	rows := make([]storage.SettlementRow, len(ranked))
	active := false
	for i, r := range ranked {
		rows[i] = storage.SettlementRow{Rank: r.Rank, Household: r.Code, Members: r.Members, Head: r.Head, Points: r.Points, Vetoed: r.Vetoed}
		active = active || r.Points != 0 || r.Vetoed
	}
	err = a.InTx(ctx, func(a *App) error {
		id, inserted, err := a.Store.InsertSettlement(ctx, storage.Settlement{VillageID: v.ID, Period: period.Key(), Kind: string(period.Kind),
			Start: period.Start, End: period.End, ClosedAt: now}, rows)
		if err != nil || !inserted {
			return err
		}
		settled = true
		// A village where nothing happened is recorded, not announced.
		if active {
			g, err := a.Store.GroupOfUnit(ctx, v.ID)
			switch {
			case err == nil:
				title := fmt.Sprintf("🏆 %s %s 积分排名（%s结算）", v.Name, period.Label(), periodWords[period.Kind])
				err = a.Store.Enqueue(ctx, storage.OutMessage{DedupeKey: fmt.Sprintf("settlement:%d:%s", v.ID, period.Key()),
					ChatID: g.ChatID, Priority: storage.PriorityRanking, Kind: "settlement",
					Payload: map[string]any{"text": RankingText(title, ranked, 30), "parse_mode": "HTML"}})
				if err != nil {
					return err
				}
				posted = true
			case !isNotFoundErr(err):
				return err
			}
		}
		top := []storage.SettlementRow{}
		for _, r := range rows {
			if r.Rank >= 1 && r.Rank <= 3 {
				top = append(top, r)
			}
		}
		if err := a.Store.AppendEvent(ctx, "settlement.closed", v.ID, map[string]any{
			"settlement_id": id, "village": v.Code, "period": period.Key(), "kind": period.Kind,
			"period_start": period.Start, "period_end": period.End, "households": len(rows), "top": top,
		}); err != nil {
			return err
		}
		return a.audit(ctx, domain.Actor{Label: "scheduler"}, "points.settle", v.Code, true, map[string]any{"period": period.Key(), "households": len(rows)})
	})
	return settled, posted, err
}

var periodWords = map[points.PeriodKind]string{points.Monthly: "月度", points.Quarterly: "季度", points.Yearly: "年度"}

// SettlementCron is when the settlement job runs: hourly at minute 5, so
// the first run of a period is at 00:05 on its first day (settling the
// period just ended) and later runs catch up a period missed while no
// replica was up; a settled village costs nothing.
const SettlementCron = "5 * * * *"

// Settlements lists settled rankings in the actor's scope (API: the token's
// subtree; a person: their villages).
func (a *App) Settlements(ctx context.Context, actor domain.Actor, unitCode, period string) ([]storage.Settlement, error) {
	root, villages, err := a.scopeRoot(ctx, actor, unitCode, domain.Roles...)
	if err != nil {
		return nil, a.Refused(ctx, actor, "settlements.list", unitCode, err)
	}
	ss, err := a.Store.Settlements(ctx, storage.SettlementFilter{RootID: root, VillageIDs: villages, Period: period, Limit: 1000})
	if ss == nil && err == nil {
		ss = []storage.Settlement{}
	}
	return ss, err
}

func isNotFoundErr(err error) bool { return errors.Is(err, domain.ErrNotFound) }
