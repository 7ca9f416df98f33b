package villagepoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// SettleResult says what one settlement run did: per configured period
// kind (points.settle) in Runs, the first one's period and the sums.
type SettleResult struct {
	Period  string
	Settled int // villages settled by this run
	Posted  int // rankings posted to a village group (any period waiting for it)
	Runs    []SettleRun
}

// SettleRun is what a run did for one period kind.
type SettleRun struct {
	Period  string
	Settled int
	Posted  int // rankings of this period announced by this run
}

// settleBatch is how many villages one ranking query covers.
const settleBatch = 500

// settleTxVillages is how many villages one transaction settles.
const settleTxVillages = 50

// Settle closes the settlement period that ended last before now (定期结算):
// for every village with households and no settlement for it yet, it
// freezes the ranking (points effective in the period, redemptions not
// counted, vetoed households unranked) into the settlements table, posts it
// to the village's group (priority Ranking) and appends settlement.closed.
// Villages commit in groups (settleTxVillages); a village settled before is skipped by
// the unique (village, period) key, so running twice changes nothing and a
// run after downtime catches up.
//
// Every configured kind (points.settle: e.g. monthly and yearly) is settled
// in turn; a yearly settlement rates each household 1–5 stars by
// points.stars. No period that ended before the first point was recorded
// is settled. A quarter or a year sums the months settled before it (see
// periodTotals). The posts go to the village's villagers' group (its bound
// group when none), by the first run outside quiet hours and days off.
//
// The system's job, or the operator's.
func (a Service) Settle(ctx context.Context, actor domain.Actor, now time.Time) (SettleResult, error) {
	var res SettleResult
	if err := a.AuthoriseGlobal(ctx, actor, access.RunJobs, "points.settle"); err != nil {
		return res, err
	}
	first, err := a.db().FirstPointAt(ctx)
	if err != nil {
		return res, err
	}
	rules, err := a.sendRules(ctx)
	if err != nil {
		return res, err
	}
	for i, kind := range a.SettleKinds() {
		period, err := points.PeriodAt(kind, now, a.Loc)
		if err != nil {
			return res, err
		}
		period = period.Prev()
		run := SettleRun{Period: period.Key()}
		if !first.IsZero() && period.End.After(first) {
			if run, err = a.settlePeriod(ctx, period, now); err != nil {
				return res, err
			}
		}
		if i == 0 {
			res.Period = run.Period
		}
		res.Settled += run.Settled
		res.Runs = append(res.Runs, run)
	}
	// Announcements keep quiet hours and days off (SPEC §7.4): held now,
	// they go out with the first hourly run when sending is allowed.
	if rules.Hold(now, a.Loc) != "" {
		return res, nil
	}
	byPeriod, err := a.postSettlements(ctx)
	for _, n := range byPeriod {
		res.Posted += n
	}
	for i := range res.Runs {
		res.Runs[i].Posted = byPeriod[res.Runs[i].Period]
	}
	return res, err
}

// settlePeriod settles one period for every village not settled for it.
func (a Service) settlePeriod(ctx context.Context, period points.SettlementPeriod, now time.Time) (SettleRun, error) {
	res := SettleRun{Period: period.Key()}
	villages, err := a.db().UnsettledVillages(ctx, period.Key())
	if err != nil {
		return res, err
	}
	for len(villages) > 0 {
		batch := villages[:min(settleBatch, len(villages))]
		villages = villages[len(batch):]
		totals, err := a.periodTotals(ctx, unitIDs(batch), period)
		if err != nil {
			return res, err
		}
		byVillage := map[int64][]storage.PeriodTotal{}
		for _, t := range totals {
			byVillage[t.VillageID] = append(byVillage[t.VillageID], t)
		}
		// Villages commit settleTxVillages at a time: one commit per
		// village was most of a run's time on a busy database.
		for len(batch) > 0 {
			chunk := batch[:min(settleTxVillages, len(batch))]
			batch = batch[len(chunk):]
			n := 0
			err := a.InTx(ctx, func(a *app.App) error {
				for _, v := range chunk {
					settled, err := Of(a).settleVillage(ctx, v, period, now, byVillage[v.ID])
					if err != nil {
						return fmt.Errorf("settle %s %s: %w", v.Code, period.Key(), err)
					}
					if settled {
						n++
					}
				}
				return nil
			})
			if err != nil {
				return res, err
			}
			res.Settled += n
		}
	}
	a.Log.Info("points settlement", slog.String("period", res.Period), slog.Int("settled", res.Settled))
	return res, nil
}

// periodTotals is what settling period ranks the villages by. A quarter
// or a year is the sum of its months settled already (frozen, as they were
// announced) and of the ledger for the months no settlement covers (e.g.
// before the first point was recorded, or before monthly settlement was
// configured), so that the yearly settlement does not read a year of
// ledger again.
func (a Service) periodTotals(ctx context.Context, villageIDs []int64, period points.SettlementPeriod) ([]storage.PeriodTotal, error) {
	if period.Kind == points.Monthly {
		return a.db().PeriodTotals(ctx, villageIDs, period.Start, period.End)
	}
	months, err := a.db().SettledWithin(ctx, villageIDs, string(points.Monthly), period.Start, period.End)
	if err != nil {
		return nil, err
	}
	covered := map[int64][]points.Interval{}
	var settled []int64
	for _, m := range months {
		covered[m.VillageID] = append(covered[m.VillageID], points.Interval{From: m.Start, To: m.End})
		settled = append(settled, m.ID)
	}
	var gaps []storage.LedgerGap
	for _, v := range villageIDs {
		for _, g := range points.Uncovered(period.Start, period.End, covered[v]) {
			gaps = append(gaps, storage.LedgerGap{VillageID: v, From: g.From, To: g.To})
		}
	}
	return a.db().PeriodTotalsFrom(ctx, villageIDs, period.Start, period.End, settled, gaps)
}

func (a Service) settleVillage(ctx context.Context, v domain.Unit, period points.SettlementPeriod, now time.Time, totals []storage.PeriodTotal) (settled bool, err error) {
	ranked := rank(totals)
	rows := make([]storage.SettlementRow, len(ranked))
	active := false
	for i, r := range ranked {
		if period.Kind == points.Yearly {
			ranked[i].Stars = points.Stars(r.Points, a.Cfg.Points.Stars, r.Vetoed)
		}
		rows[i] = storage.SettlementRow{Rank: r.Rank, Household: r.Code, Members: r.Members, Head: r.Head, Points: r.Points, Vetoed: r.Vetoed,
			Stars: ranked[i].Stars}
		active = active || r.Points != 0 || r.Vetoed
	}
	err = a.InTx(ctx, func(a *app.App) error {
		id, inserted, err := Of(a).db().InsertSettlement(ctx, storage.Settlement{VillageID: v.ID, Period: period.Key(), Kind: string(period.Kind),
			Start: period.Start, End: period.End, ClosedAt: now}, rows)
		if err != nil || !inserted {
			return err
		}
		settled = true
		// A village where nothing happened is recorded, not announced; the
		// announcement waits for a time when sending is allowed.
		if active {
			if err := Of(a).db().InsertSettlementPost(ctx, id); err != nil {
				return err
			}
		}
		top := []storage.SettlementRow{}
		for _, r := range rows {
			if r.Rank >= 1 && r.Rank <= 3 {
				top = append(top, r)
			}
		}
		if err := Of(a).db().AppendEvent(ctx, "settlement.closed", v.ID, map[string]any{
			"settlement_id": id, "village": v.Code, "period": period.Key(), "kind": period.Kind,
			"period_start": period.Start, "period_end": period.End, "households": len(rows), "top": top,
		}); err != nil {
			return err
		}
		return a.Audit(ctx, domain.Actor{Label: "scheduler"}, "points.settle", v.Code, true, map[string]any{"period": period.Key(), "households": len(rows)})
	})
	return settled, err
}

// postSettlements announces the settlements still waiting for it, each in
// its own transaction: to the village's villagers' group (its bound group
// when none), priority Ranking; a village with no group is marked done.
func (a Service) postSettlements(ctx context.Context) (map[string]int, error) {
	ss, err := a.db().PendingSettlementPosts(ctx)
	if err != nil {
		return nil, err
	}
	posted := map[string]int{}
	for _, st := range ss {
		err := a.InTx(ctx, func(a *app.App) error {
			if ok, err := Of(a).db().MarkSettlementPosted(ctx, st.ID, a.Now()); err != nil || !ok {
				return err
			}
			g, err := Of(a).db().PublicGroupOfUnit(ctx, st.VillageID)
			if isNotFoundErr(err) {
				return nil
			}
			if err != nil {
				return err
			}
			stored, err := st.Ranking()
			if err != nil {
				return err
			}
			ranked := make([]RankedHousehold, len(stored))
			for i, r := range stored {
				ranked[i] = RankedHousehold{Ranked: points.Ranked{RankRow: points.RankRow{Name: r.Household, Points: r.Points, Vetoed: r.Vetoed}, Rank: r.Rank},
					Code: r.Household, Members: r.Members, Head: r.Head, Stars: r.Stars}
			}
			kind, _ := points.ParsePeriodKind(st.Kind)
			period := points.SettlementPeriod{Kind: kind, Start: st.Start.In(a.Loc), End: st.End.In(a.Loc)}
			title := pt.T("settle.title", "village", st.VillageName, "period", period.Label(), "kind", PeriodWords[kind])
			text := RankingText(title, ranked, 30)
			if kind == points.Yearly {
				text += "\n\n" + Of(a).starsText(ranked)
			}
			if err := Of(a).db().Enqueue(ctx, storage.OutMessage{DedupeKey: fmt.Sprintf("settlement:%d:%s", st.VillageID, st.Period),
				ChatID: g.ChatID, Priority: storage.PriorityRanking, Kind: "settlement",
				Payload: map[string]any{"text": text, "parse_mode": "HTML"}}); err != nil {
				return err
			}
			posted[st.Period]++
			return nil
		})
		if err != nil {
			return posted, fmt.Errorf("post settlement %d: %w", st.ID, err)
		}
	}
	return posted, nil
}

var PeriodWords = map[points.PeriodKind]string{points.Monthly: pt.T("period.monthly"), points.Quarterly: pt.T("period.quarterly"),
	points.Yearly: pt.T("period.yearly")}

// SettlementCron is when the settlement job runs: hourly at minute 5, so
// the first run of a period is at 00:05 on its first day (settling the
// period just ended) and later runs catch up a period missed while no
// replica was up; a settled village costs nothing.
const SettlementCron = "5 * * * *"

// Settlements lists settled rankings in the actor's scope (API: the token's
// subtree; a person: their villages).
func (a Service) Settlements(ctx context.Context, actor domain.Actor, unitCode, period string) ([]storage.Settlement, error) {
	root, villages, err := a.scopeRoot(ctx, actor, unitCode, domain.Roles...)
	if err != nil {
		return nil, a.Refused(ctx, actor, "settlements.list", unitCode, err)
	}
	ss, err := a.db().Settlements(ctx, storage.SettlementFilter{RootID: root, VillageIDs: villages, Period: period, Limit: 1000})
	if ss == nil && err == nil {
		ss = []storage.Settlement{}
	}
	return ss, err
}

func isNotFoundErr(err error) bool { return errors.Is(err, domain.ErrNotFound) }

// starsText lists the yearly 星级文明户 by stars, 5 first; vetoed
// households are left out without naming why.
func (a Service) starsText(rows []RankedHousehold) string {
	var b strings.Builder
	b.WriteString(pt.T("stars.head"))
	found := false
	for n := 5; n >= 1; n-- {
		var names []string
		for _, r := range rows {
			if !r.Vetoed && r.Stars == n {
				names = append(names, esc(r.Label()))
			}
		}
		if len(names) == 0 {
			continue
		}
		found = true
		b.WriteString(pt.T("stars.line", "stars", strings.Repeat("⭐", n), "count", strconv.Itoa(n), "names", strings.Join(names, "、")))
	}
	if !found {
		b.WriteString(pt.T("stars.none"))
	}
	return b.String()
}
