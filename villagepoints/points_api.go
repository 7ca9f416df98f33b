package villagepoints

import (
	"context"
	"slices"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// Listings for the HTTP API and exports, scoped like everything else: an
// API token sees its unit's subtree (narrowed by unit), a person their
// villages, the CLI everything.

// claimReaders may list claims; ledgerReaders may read ledgers.
var (
	claimReaders  = []string{domain.RoleReviewer, domain.RoleOrganiser}
	ledgerReaders = []string{domain.RoleReviewer, domain.RoleOrganiser, domain.RoleShopkeeper}
)

var claimStatuses = []string{"", storage.ClaimPending, storage.ClaimApproved, storage.ClaimRejected, storage.ClaimFrozen}

// ListClaims lists claims in scope, newest first; status "" is any;
// beforeID > 0 lists those older than that claim (the next page).
func (a Service) ListClaims(ctx context.Context, actor domain.Actor, unitCode, status string, limit int, beforeID int64) ([]storage.Claim, error) {
	if !slices.Contains(claimStatuses, status) {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", pt.T("api.refuse.status"))
	}
	root, villages, err := a.scopeRoot(ctx, actor, unitCode, claimReaders...)
	if err != nil {
		return nil, a.Refused(ctx, actor, "claims.list", unitCode, err)
	}
	if limit <= 0 || limit > 1001 {
		limit = 1001
	}
	cs, err := a.db().Claims(ctx, storage.ClaimFilter{RootID: root, VillageIDs: villages, Status: status, Limit: limit, BeforeID: beforeID})
	if cs == nil && err == nil {
		cs = []storage.Claim{}
	}
	return cs, err
}

// LedgerView is a household's ledger with running balances (the API
// serves it as views: handlers' ledgerPage).
type LedgerView struct {
	Household storage.Household
	Balance   int
	Publicity int
	Entries   []storage.PointLedgerRow
}

// HouseholdLedger returns a household's ledger (newest first, up to 1,000
// entries) named by household code or phone within the actor's scope;
// unitCode narrows the scope (a village, when household codes repeat).
func (a Service) HouseholdLedger(ctx context.Context, actor domain.Actor, unitCode, household string) (LedgerView, error) {
	if household == "" {
		return LedgerView{}, domain.Refuse(domain.ErrInvalid, "%s", pt.T("api.refuse.household"))
	}
	root, villages, err := a.scopeRoot(ctx, actor, unitCode, ledgerReaders...)
	if err != nil {
		return LedgerView{}, a.Refused(ctx, actor, "ledger.read", household, err)
	}
	var vs []domain.Unit
	if villages != nil {
		for _, id := range villages {
			vs = append(vs, domain.Unit{ID: id})
		}
	} else {
		var us []domain.Unit
		if root == 0 {
			us, err = a.db().AllUnits(ctx)
		} else {
			us, err = a.db().Subtree(ctx, root)
		}
		if err != nil {
			return LedgerView{}, err
		}
		vs = villagesOf(us)
	}
	hh, _, err := a.resolveHousehold(ctx, household, vs)
	if err != nil {
		return LedgerView{}, a.Refused(ctx, actor, "ledger.read", household, err)
	}
	v := LedgerView{Household: hh}
	if v.Balance, v.Publicity, err = a.db().PointBalance(ctx, hh.ID, a.Now()); err != nil {
		return v, err
	}
	v.Entries, err = a.db().PointLedger(ctx, storage.PointLedgerFilter{HouseholdID: hh.ID, Limit: 1000})
	if v.Entries == nil {
		v.Entries = []storage.PointLedgerRow{}
	}
	return v, err
}

// ExportTable is an export: column keys (the CSV header), Chinese titles
// (the XLSX header) and rows of typed cells (string, int, int64, bool,
// time.Time, *time.Time; nil is an empty cell).
type ExportTable struct {
	Keys   []string
	Titles []string
	Rows   [][]any
}

func (a Service) exportRoot(ctx context.Context, actor domain.Actor, unitCode string) (int64, error) {
	if unitCode == "" && actor.IsOperator() {
		return 0, nil
	}
	// The exports name households and their members: for those who may
	// list people, in their subtree.
	u, err := a.Scope(ctx, actor, access.ListPeople, "points.export", unitCode)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

var entryKindWords = map[string]string{
	storage.EntryAward: "加分", storage.EntryDeduction: "扣分", storage.EntryVeto: "一票否决",
	storage.EntryRedemption: "兑换", storage.EntryReversal: "冲正",
}

// ExportLedger is the points ledger of the subtree of unitCode ("" = all),
// one row per entry in order of effect, with each household's balance
// after it: what a village accountant keeps.
func (a Service) ExportLedger(ctx context.Context, actor domain.Actor, unitCode string) (ExportTable, error) {
	root, stars, err := a.exportStars(ctx, actor, unitCode)
	if err != nil {
		return ExportTable{}, err
	}
	rows, err := a.db().PointLedger(ctx, storage.PointLedgerFilter{RootID: root})
	if err != nil {
		return ExportTable{}, err
	}
	t := ExportTable{
		Keys: []string{"entry_id", "date", "village", "village_name", "household", "members", "kind", "item_code", "item_name",
			"goods", "points", "claim_id", "recorded_by", "recorded_at", "effective_at", "status", "balance_after", "reverses", "note", "stars", "household_name"},
		Titles: []string{"流水号", "日期", "村代码", "村名", "户号", "家庭成员", "类型", "项目编号", "项目名称",
			"兑换物品", "积分", "申报号", "经办人", "登记时间", "生效时间", "状态", "变动后余额", "冲正流水号", "说明", "年度星级", "户名"},
	}
	now := a.Now()
	for _, r := range rows {
		status := "已生效"
		switch {
		case r.ReversedBy != nil:
			status = "已冲正"
		case r.EffectiveAt.After(now):
			status = "公示中"
		}
		by := r.RecorderName
		if by == "" {
			by = r.Actor
		}
		t.Rows = append(t.Rows, []any{
			r.ID, r.RecordedAt.In(a.Loc).Format("2006-01-02"), r.VillageCode, r.VillageName, r.HouseholdCode, r.Members,
			entryKindWords[r.Kind], r.ItemCode, r.ItemName, r.Goods, r.Points, optID(r.ClaimID), by,
			r.RecordedAt, r.EffectiveAt, status, r.BalanceAfter, optID(r.Reverses), r.Note,
			stars.of(r.VillageCode, r.HouseholdCode, r.EffectiveAt.In(a.Loc).Year()), r.HouseholdName,
		})
	}
	return t, nil
}

var claimStatusWords = map[string]string{
	storage.ClaimPending: "待审核", storage.ClaimApproved: "已通过", storage.ClaimRejected: "已驳回", storage.ClaimFrozen: "已冻结",
}

// ExportClaims is every claim, deduction and veto of the subtree of
// unitCode ("" = all), oldest first.
func (a Service) ExportClaims(ctx context.Context, actor domain.Actor, unitCode string) (ExportTable, error) {
	root, stars, err := a.exportStars(ctx, actor, unitCode)
	if err != nil {
		return ExportTable{}, err
	}
	cs, err := a.db().Claims(ctx, storage.ClaimFilter{RootID: root, Ascending: true})
	if err != nil {
		return ExportTable{}, err
	}
	t := ExportTable{
		Keys: []string{"claim_id", "date", "village", "village_name", "household", "person", "kind", "item_code", "item_name",
			"category", "points", "veto", "status", "claimed_at", "decided_by", "decided_at", "effective_at", "reason", "note", "photo", "objections", "source",
			"act_date", "stars", "household_name"},
		Titles: []string{"申报号", "日期", "村代码", "村名", "户号", "申报人", "类型", "项目编号", "项目名称",
			"类别", "积分", "一票否决", "状态", "申报时间", "审核人", "审核时间", "生效时间", "理由", "说明", "照片", "异议次数", "来源",
			"发生日期", "年度星级", "户名"},
	}
	for _, c := range cs {
		kind, person := "村民申报", c.PersonName
		if c.Kind == storage.ClaimKindDeduction {
			kind = "评议登记"
			if person == "" {
				person = c.RecorderName
			}
		}
		photo := ""
		if c.HasPhoto() {
			photo = *c.Photo
		}
		t.Rows = append(t.Rows, []any{
			c.ID, c.ClaimedAt.In(a.Loc).Format("2006-01-02"), c.VillageCode, c.VillageName, c.HouseholdCode, person,
			kind, c.ItemCode, c.ItemName, c.Category, c.Points, c.Veto, claimStatusWords[c.Status], c.ClaimedAt,
			c.Decider, optTime(c.DecidedAt), optTime(c.EffectiveAt), c.Reason, c.Note, photo, c.Objections, c.Source,
			optDate(c.ActDate), stars.of(c.VillageCode, c.HouseholdCode, c.ClaimedAt.In(a.Loc).Year()), c.HouseholdName,
		})
	}
	return t, nil
}

// starsByYear holds the households' stars of the yearly settlements:
// village code → household code → year → stars.
type starsByYear map[string]map[string]map[int]int

// of is a household's stars of a year's settlement; empty when that year is
// not settled (0 when it is and the household earned none).
func (s starsByYear) of(village, household string, year int) any {
	n, ok := s[village][household][year]
	if !ok {
		return nil
	}
	return n
}

// exportStars is the root of an export of unitCode's subtree (see
// exportRoot) and the yearly stars in it, which every row carries.
func (a Service) exportStars(ctx context.Context, actor domain.Actor, unitCode string) (int64, starsByYear, error) {
	root, err := a.exportRoot(ctx, actor, unitCode)
	if err != nil {
		return 0, nil, err
	}
	stars, err := a.yearStars(ctx, root)
	return root, stars, err
}

// yearStars reads the stars of every yearly settlement in the subtree.
func (a Service) yearStars(ctx context.Context, root int64) (starsByYear, error) {
	ss, err := a.db().Settlements(ctx, storage.SettlementFilter{RootID: root})
	if err != nil {
		return nil, err
	}
	out := starsByYear{}
	for _, st := range ss {
		if st.Kind != string(points.Yearly) {
			continue
		}
		rows, err := st.Ranking()
		if err != nil {
			return nil, err
		}
		year := st.Start.In(a.Loc).Year()
		for _, r := range rows {
			if out[st.VillageCode] == nil {
				out[st.VillageCode] = map[string]map[int]int{}
			}
			if out[st.VillageCode][r.Household] == nil {
				out[st.VillageCode][r.Household] = map[int]int{}
			}
			out[st.VillageCode][r.Household][year] = r.Stars
		}
	}
	return out, nil
}

// ExportSettlements is every settled ranking of the subtree of unitCode
// ("" = all), one row per household and period, with the yearly stars.
func (a Service) ExportSettlements(ctx context.Context, actor domain.Actor, unitCode string) (ExportTable, error) {
	root, err := a.exportRoot(ctx, actor, unitCode)
	if err != nil {
		return ExportTable{}, err
	}
	ss, err := a.db().Settlements(ctx, storage.SettlementFilter{RootID: root})
	if err != nil {
		return ExportTable{}, err
	}
	t := ExportTable{
		Keys:   []string{"settlement_id", "period", "period_name", "kind", "village", "village_name", "rank", "household", "head", "members", "points", "vetoed", "stars", "closed_at"},
		Titles: []string{"结算号", "期间代码", "期间", "结算类型", "村代码", "村名", "名次", "户号", "户主", "家庭成员", "积分", "一票否决", "星级", "结算时间"},
	}
	for _, st := range ss {
		rows, err := st.Ranking()
		if err != nil {
			return ExportTable{}, err
		}
		kind, _ := points.ParsePeriodKind(st.Kind)
		label := points.SettlementPeriod{Kind: kind, Start: st.Start.In(a.Loc)}.Label()
		for _, r := range rows {
			var stars any
			if kind == points.Yearly {
				stars = r.Stars
			}
			t.Rows = append(t.Rows, []any{st.ID, st.Period, label, PeriodWords[kind], st.VillageCode, st.VillageName, r.Rank, r.Household,
				r.Head, r.Members, r.Points, r.Vetoed, stars, st.ClosedAt})
		}
	}
	return t, nil
}

// optDate is a civil date cell (empty when nil).
func optDate(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.DateOnly)
}

// optID and optTime turn nil pointers into empty cells.
func optID(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
