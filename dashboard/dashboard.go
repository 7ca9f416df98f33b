package dashboard

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

// dash is what the dashboard use cases say (internal/texts/dashboard.yaml);
// errNotManager refuses a board to whoever is not an organiser or admin.
var (
	dash          = texts.Dashboard
	errNotManager = domain.Refuse(domain.ErrForbidden, "%s", dash.T("refuse.not_manager"))
)

// The dashboard's view models. They only read: the board of a unit's
// subtree (lights counted per child unit, a branch's obligations with the
// check-ins behind them), and a village's live points ranking. Who may see
// what is decided here, once: an organiser or admin token sees its unit's
// subtree and nothing else (the pages show people's names).

// Limits on what one dashboard page lists.
const (
	dashAttention = 30 // yellow and red branches listed under a board
	dashRecent    = 10 // last check-ins of a branch
	dashCheckins  = 500
)

// Board is the traffic-light board of one unit at one instant.
type Board struct {
	At   time.Time
	Unit domain.Unit
	// Path is the breadcrumb trail from the actor's own unit down to Unit
	// (inclusive); units above the actor's are not shown.
	Path []domain.Unit
	// Counts counts the subtree's branches per light.
	Counts health.Counts
	// Children are the unit's child units (party groups excluded) with
	// their branches counted, for a unit that is not a branch.
	Children []BoardChild
	// Attention lists the subtree's yellow and red branches, worst first
	// (at most dashAttention; AttentionMore says how many were left off).
	Attention     []AttentionRow
	AttentionMore int
	// Branch is set when Unit is a branch.
	Branch *BranchBoard
}

// BoardChild is one child unit on a board.
type BoardChild struct {
	Unit   domain.Unit
	Counts health.Counts
	Light  health.Light // the worst light of its branches (green when none)
	// Red and Yellow count the items of a child that is itself a branch.
	Red, Yellow int
}

// IsBranch reports whether the child is a branch (it shows items, not
// branch counts).
func (c BoardChild) IsBranch() bool { return c.Unit.Kind == domain.KindBranch }

// IsVillage reports whether the child is a village or community (it has a
// points ranking).
func (c BoardChild) IsVillage() bool { return dashIsVillage(c.Unit.Kind) }

// AttentionRow is a yellow or red branch on a board: how many items are
// red and yellow, and the worst few of them.
type AttentionRow struct {
	healthcheck.BranchStatus
	Red, Yellow int
	Shown       []healthcheck.ItemStatus // the first dashShownItems items, worst first
	More        int                      // items not shown
}

// Len is the number of yellow and red items.
func (r AttentionRow) Len() int { return len(r.Items) }

// dashShownItems is how many items an attention row names.
const dashShownItems = 4

func attentionRow(bs healthcheck.BranchStatus) AttentionRow {
	items := slices.Clone(bs.Items)
	slices.SortStableFunc(items, worstItemFirst)
	r := AttentionRow{BranchStatus: bs}
	for _, it := range items {
		switch it.Light {
		case health.Red:
			r.Red++
		case health.Yellow:
			r.Yellow++
		}
	}
	r.Shown = items[:min(len(items), dashShownItems)]
	r.More = len(items) - len(r.Shown)
	return r
}

// BranchBoard is a branch's page: its listed obligations (current and
// missed periods, and the next one once its yellow window is open), worst
// first, with the check-ins behind them, and its last check-ins.
type BranchBoard struct {
	Status healthcheck.BranchStatus
	Items  []BoardItem
	Recent []storage.Checkin
}

// BoardItem is one listed (obligation, period) of a branch or party group.
type BoardItem struct {
	healthcheck.ItemStatus
	Name string // the obligation's Chinese name
	// Checkin is the active check-in that counts for the item (the first
	// one filed for it), nil when none; Entry is its line for the item
	// (late, extra).
	Checkin *storage.Checkin
	Entry   storage.CheckinItem
	// Rejected are the rejected (驳回) check-ins filed for the item.
	Rejected []storage.Checkin
	// DaysOverdue is health.DaysOverdue of a red item (calendar days), 0 otherwise.
	DaysOverdue int
}

// LastDay is the last calendar day of the item's period (its due instant
// is the first instant after it).
func (it BoardItem) LastDay() time.Time { return it.Due.Add(-time.Second) }

// Board builds the board of unitCode ("" = the actor's own unit) at
// a.Now(). A unit outside the actor's subtree is refused (ErrForbidden), an
// unknown one is ErrNotFound.
func (a Service) Board(ctx context.Context, actor domain.Actor, unitCode string) (Board, error) {
	u, path, err := a.boardUnit(ctx, actor, unitCode)
	if err != nil {
		return Board{}, err
	}
	b := Board{At: a.Now(), Unit: u, Path: path}
	if u.Kind == domain.KindGroup && u.ParentID != nil {
		// A party group is shown as its branch.
		parent, err := a.db().UnitByID(ctx, *u.ParentID)
		if err != nil {
			return Board{}, err
		}
		return a.Board(ctx, actor, parent.Code)
	}
	if u.Kind == domain.KindBranch {
		bb, err := a.branchBoard(ctx, u)
		if err != nil {
			return Board{}, err
		}
		b.Branch = &bb
		b.Counts.Add(bb.Status.Light)
		return b, nil
	}
	sub, err := a.db().Subtree(ctx, u.ID)
	if err != nil {
		return Board{}, err
	}
	counts, branches, err := healthcheck.Of(a.App).UnitSummaryOf(ctx, u.ID)
	if err != nil {
		return Board{}, err
	}
	b.Counts = counts
	parent := make(map[int64]int64, len(sub))
	index := map[int64]int{}
	for _, x := range sub {
		if x.ParentID != nil {
			parent[x.ID] = *x.ParentID
		}
		if x.ParentID != nil && *x.ParentID == u.ID && x.Kind != domain.KindGroup {
			index[x.ID] = len(b.Children)
			b.Children = append(b.Children, BoardChild{Unit: x, Light: health.Green})
		}
	}
	for _, bs := range branches {
		id := bs.ID
		for id != 0 && parent[id] != u.ID {
			id = parent[id]
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		c := &b.Children[i]
		c.Counts.Add(bs.Light)
		c.Light = health.Worst(c.Light, bs.Light)
		if bs.ID == c.Unit.ID {
			for _, it := range bs.Items {
				switch it.Light {
				case health.Red:
					c.Red++
				case health.Yellow:
					c.Yellow++
				}
			}
		}
		if bs.Light != health.Green {
			if len(b.Attention) < dashAttention {
				b.Attention = append(b.Attention, attentionRow(bs))
			} else {
				b.AttentionMore++
			}
		}
	}
	slices.SortStableFunc(b.Children, func(x, y BoardChild) int { return strings.Compare(x.Unit.Code, y.Unit.Code) })
	return b, nil
}

// boardUnit is what every board starts from: the unit unitCode names ("" =
// the actor's own), refused to an actor who may not see the dashboard or
// the unit, and its dashPath.
func (a Service) boardUnit(ctx context.Context, actor domain.Actor, unitCode string) (domain.Unit, []domain.Unit, error) {
	if !app.MayViewDashboard(actor) {
		return domain.Unit{}, nil, errNotManager
	}
	u, err := a.UnitForActor(ctx, actor, unitCode)
	if err != nil {
		return domain.Unit{}, nil, err
	}
	path, err := a.dashPath(ctx, actor, u)
	if err != nil {
		return domain.Unit{}, nil, err
	}
	return u, path, nil
}

// dashPath is the breadcrumb trail of u as the actor may see it.
func (a Service) dashPath(ctx context.Context, actor domain.Actor, u domain.Unit) ([]domain.Unit, error) {
	anc, err := a.db().Ancestors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	path := append(anc, u)
	for i, x := range path {
		for _, r := range actor.Roles {
			if r.UnitID == x.ID {
				return path[i:], nil
			}
		}
	}
	return []domain.Unit{u}, nil
}

// branchBoard lists a branch's obligations with their check-ins.
func (a Service) branchBoard(ctx context.Context, u domain.Unit) (BranchBoard, error) {
	st, err := healthcheck.Of(a.App).BranchStatusOf(ctx, u.ID)
	if err != nil {
		return BranchBoard{}, err
	}
	bb := BranchBoard{Status: st}
	names := map[string]string{}
	for _, ob := range healthcheck.Of(a.App).Obligations() {
		names[ob.Code] = ob.Name
	}
	// Check-ins are dated within (or after) the period they are filed
	// for, so those held since the oldest listed period cover every item.
	var from time.Time
	for _, it := range st.Items {
		if s := it.Period.Start(a.Loc); from.IsZero() || s.Before(from) {
			from = s
		}
	}
	var cs []storage.Checkin
	if !from.IsZero() {
		cs, err = a.db().Checkins(ctx, storage.CheckinFilter{RootID: u.ID, From: from.In(a.Loc).Format(time.DateOnly), Limit: dashCheckins})
		if err != nil {
			return BranchBoard{}, err
		}
	}
	// Oldest first, so that the first check-in filed for an item counts.
	slices.SortStableFunc(cs, func(x, y storage.Checkin) int {
		return cmp.Or(x.RecordedAt.Compare(y.RecordedAt), cmp.Compare(x.ID, y.ID))
	})
	now := a.Now()
	for _, it := range st.Items {
		bi := BoardItem{ItemStatus: it, Name: names[it.Obligation]}
		if bi.Name == "" {
			bi.Name = it.Obligation
		}
		unitID := it.BranchID
		if it.GroupID != 0 {
			unitID = it.GroupID
		}
		key := it.Period.Key()
		for i := range cs {
			c := &cs[i]
			for _, ci := range c.Items {
				if ci.Obligation != it.Obligation || ci.Period != key || ci.UnitID != unitID {
					continue
				}
				switch {
				case c.RejectedAt != nil:
					bi.Rejected = append(bi.Rejected, *c)
				case c.Active() && bi.Checkin == nil:
					bi.Checkin, bi.Entry = c, ci
				}
			}
		}
		if it.Light == health.Red {
			bi.DaysOverdue = health.DaysOverdue(it.Due, now, a.Loc)
		}
		bb.Items = append(bb.Items, bi)
	}
	slices.SortStableFunc(bb.Items, func(x, y BoardItem) int { return worstItemFirst(x.ItemStatus, y.ItemStatus) })
	if bb.Recent, err = a.db().Checkins(ctx, storage.CheckinFilter{RootID: u.ID, Limit: dashRecent}); err != nil {
		return BranchBoard{}, err
	}
	return bb, nil
}

// EscPageSize is how many red items one page of /escalations lists.
const EscPageSize = 50

// EscalationFilter narrows the escalations page: an obligation code, a
// township (or street) code, and the page (from 1; 0 = the first).
type EscalationFilter struct {
	Obligation, Township string
	Page                 int
}

// EscalationsBoard is the red list of a unit's subtree as the dashboard
// shows it: counted per township and obligation, filtered, one page of
// rows at a time, the rows grouped by township.
type EscalationsBoard struct {
	Unit   domain.Unit
	Path   []domain.Unit
	Filter EscalationFilter
	// Total counts every red item of the subtree, Matched those the filter keeps.
	Total, Matched int
	Page, Pages    int
	// Townships are the groups of the matched items, in unit-code order,
	// each with its counts per obligation and the page's rows.
	Townships []EscalationGroup
	// Obligations and Areas are the filter's choices, with their counts
	// among all red items of the subtree.
	Obligations []EscalationChoice
	Areas       []EscalationChoice
}

// EscalationGroup is one township's red items.
type EscalationGroup struct {
	Township domain.Unit
	Count    int                // matched items of the township (all pages)
	ByOb     []EscalationChoice // Count per obligation, most first
	Rows     []EscalationRow    // those on this page
}

// EscalationRow is a red item on the page, its party group named.
type EscalationRow struct {
	healthcheck.Escalation
	GroupName string
}

// EscalationChoice is an obligation or a township with its count.
type EscalationChoice struct {
	Code, Name string
	Count      int
}

// HasPrev and HasNext say whether there are pages before and after this one.
func (b EscalationsBoard) HasPrev() bool { return b.Page > 1 }
func (b EscalationsBoard) HasNext() bool { return b.Page < b.Pages }

// Prev and Next are the neighbouring page numbers.
func (b EscalationsBoard) Prev() int { return b.Page - 1 }
func (b EscalationsBoard) Next() int { return b.Page + 1 }

// Filtered reports whether an obligation or township is chosen.
func (b EscalationsBoard) Filtered() bool {
	return b.Filter.Obligation != "" || b.Filter.Township != ""
}

// Rows counts the rows on this page.
func (b EscalationsBoard) Rows() int {
	n := 0
	for _, g := range b.Townships {
		n += len(g.Rows)
	}
	return n
}

// DashboardEscalations lists the red items of unitCode's subtree ("" = the
// actor's own unit) for the dashboard: grouped by township, by township
// then longest overdue first, filtered by f, EscPageSize rows a page (see
// Escalations). An unknown obligation or a township outside the subtree
// is refused naming it; a page past the last shows the last.
func (a Service) DashboardEscalations(ctx context.Context, actor domain.Actor, unitCode string, f EscalationFilter) (EscalationsBoard, error) {
	u, path, err := a.boardUnit(ctx, actor, unitCode)
	if err != nil {
		return EscalationsBoard{}, err
	}
	b := EscalationsBoard{Unit: u, Path: path, Filter: f}
	if f.Obligation != "" {
		if _, ok := healthcheck.Of(a.App).Obligation(f.Obligation); !ok {
			return EscalationsBoard{}, domain.Refuse(domain.ErrInvalid, "%s", dash.T("refuse.unknown_obligation", "obligation", f.Obligation))
		}
	}
	if f.Page < 0 {
		return EscalationsBoard{}, domain.Refuse(domain.ErrInvalid, "%s", dash.T("refuse.page_number"))
	}
	es, err := healthcheck.Of(a.App).EscalationsUnder(ctx, u.ID)
	if err != nil {
		return EscalationsBoard{}, err
	}
	// Each branch's township: below a county, its ancestor right below
	// the county; at a township or below, the township itself.
	sub, err := a.db().Subtree(ctx, u.ID)
	if err != nil {
		return EscalationsBoard{}, err
	}
	byCode := make(map[string]domain.Unit, len(sub))
	byID := make(map[int64]domain.Unit, len(sub))
	for _, x := range sub {
		byCode[x.Code], byID[x.ID] = x, x
	}
	own := u
	if u.Kind != domain.KindCounty {
		anc, err := a.db().Ancestors(ctx, u.ID)
		if err != nil {
			return EscalationsBoard{}, err
		}
		for _, x := range anc {
			if x.Kind == domain.KindTownship || x.Kind == domain.KindStreet {
				own = x
			}
		}
	}
	townshipOf := func(code string) domain.Unit {
		if u.Kind != domain.KindCounty {
			return own
		}
		x := byCode[code]
		for x.ParentID != nil && *x.ParentID != u.ID {
			p, ok := byID[*x.ParentID]
			if !ok {
				break
			}
			x = p
		}
		return x
	}
	if _, ok := byCode[f.Township]; f.Township != "" && !ok {
		return EscalationsBoard{}, domain.Refuse(domain.ErrNotFound, "%s", dash.T("refuse.no_township", "unit", u.Name, "township", f.Township))
	}
	type row struct {
		healthcheck.Escalation
		town domain.Unit
	}
	rows := make([]row, 0, len(es))
	obCount, areaCount := map[string]int{}, map[string]int{}
	areas := map[string]domain.Unit{}
	for _, e := range es {
		t := townshipOf(e.Branch)
		obCount[e.Obligation]++
		areaCount[t.Code]++
		areas[t.Code] = t
		if f.Obligation != "" && e.Obligation != f.Obligation || f.Township != "" && t.Code != f.Township {
			continue
		}
		rows = append(rows, row{e, t})
	}
	b.Total, b.Matched = len(es), len(rows)
	for _, ob := range healthcheck.Of(a.App).Obligations() {
		if n := obCount[ob.Code]; n > 0 || ob.Code == f.Obligation {
			b.Obligations = append(b.Obligations, EscalationChoice{Code: ob.Code, Name: ob.Name, Count: n})
		}
	}
	if t, ok := byCode[f.Township]; ok && areaCount[f.Township] == 0 {
		areas[t.Code] = t
	}
	for code, t := range areas {
		b.Areas = append(b.Areas, EscalationChoice{Code: code, Name: t.Name, Count: areaCount[code]})
	}
	slices.SortFunc(b.Areas, func(x, y EscalationChoice) int { return strings.Compare(x.Code, y.Code) })
	// By township, then as Escalations orders them (longest overdue first).
	slices.SortStableFunc(rows, func(x, y row) int { return strings.Compare(x.town.Code, y.town.Code) })
	b.Pages = max(1, (len(rows)+EscPageSize-1)/EscPageSize)
	b.Page = min(max(f.Page, 1), b.Pages)
	page := rows[min(len(rows), (b.Page-1)*EscPageSize):min(len(rows), b.Page*EscPageSize)]
	index := map[string]int{}
	perOb := map[[2]string]int{} // township, obligation → matched items
	for _, r := range rows {
		i, ok := index[r.town.Code]
		if !ok {
			i = len(b.Townships)
			index[r.town.Code] = i
			b.Townships = append(b.Townships, EscalationGroup{Township: r.town})
		}
		b.Townships[i].Count++
		perOb[[2]string{r.town.Code, r.Obligation}]++
	}
	obs := healthcheck.Of(a.App).Obligations()
	for i := range b.Townships {
		g := &b.Townships[i]
		for _, ob := range obs {
			if n := perOb[[2]string{g.Township.Code, ob.Code}]; n > 0 {
				g.ByOb = append(g.ByOb, EscalationChoice{Code: ob.Code, Name: ob.Name, Count: n})
			}
		}
		slices.SortStableFunc(g.ByOb, func(x, y EscalationChoice) int { return cmp.Compare(y.Count, x.Count) })
	}
	for _, r := range page {
		g := &b.Townships[index[r.town.Code]]
		g.Rows = append(g.Rows, EscalationRow{Escalation: r.Escalation, GroupName: byCode[r.Group].Name})
	}
	return b, nil
}

// RankingRow is one household in a dashboard ranking.
type RankingRow struct {
	Rank    int // 0 for a vetoed household
	Code    string
	Members string
	Head    string // the head's name (户主), "" when none is recorded
	Label   string // how people name the household (storage.HouseholdLabel)
	Points  int
	Vetoed  bool
}

// RankingBoard is a village's live points ranking for the current
// settlement period, or, for a unit above villages, the villages to pick.
type RankingBoard struct {
	At       time.Time
	Unit     domain.Unit
	Path     []domain.Unit
	Villages []domain.Unit // villages and communities of the subtree (Unit not a village)
	// For a village:
	Period string // settlement period key: 2026-11, 2026-Q4, 2026
	From   time.Time
	To     time.Time // exclusive
	Rows   []RankingRow
	// Months are the village's points per month over the last 12 months
	// (awards and deductions in effect, not redemptions), for the chart.
	Months []MonthBar
	// ChartMax is the largest month's points (the chart's scale).
	ChartMax int
	// Settled are the village's settled rankings, newest first (at most 6),
	// with the yearly settlements' stars.
	Settled []SettledBoard
}

// MonthBar is one month of the village's chart: its label, points and the
// bar's geometry in the inline SVG (viewBox 0 0 480 180).
type MonthBar struct {
	Label  string // 11月
	Points int
	X, Y   int
	W, H   int
}

// SettledBoard is a settled ranking on the dashboard.
type SettledBoard struct {
	Label    string // 2026年11月, 2026年度
	Kind     string // 月度, 季度, 年度
	Yearly   bool
	ClosedAt time.Time
	Rows     []SettledRow
}

// SettledRow is one household of a settled ranking.
type SettledRow struct {
	Rank   int
	Name   string
	Points int
	Vetoed bool
	Stars  int
}

// StarMarks is the stars as ★ (empty for none).
func (r SettledRow) StarMarks() string { return strings.Repeat("★", r.Stars) }

// IsVillage reports whether the board ranks one village.
func (r RankingBoard) IsVillage() bool { return dashIsVillage(r.Unit.Kind) }

// DashboardRanking is the live ranking of the village unitCode for the
// current settlement period: points in effect so far, vetoed households
// last with no rank. For a unit above villages ("" = the actor's own unit)
// it lists the villages of its subtree.
func (a Service) DashboardRanking(ctx context.Context, actor domain.Actor, unitCode string) (RankingBoard, error) {
	u, path, err := a.boardUnit(ctx, actor, unitCode)
	if err != nil {
		return RankingBoard{}, err
	}
	now := a.Now()
	rb := RankingBoard{At: now, Unit: u, Path: path}
	if !dashIsVillage(u.Kind) {
		sub, err := a.db().Subtree(ctx, u.ID)
		if err != nil {
			return RankingBoard{}, err
		}
		for _, x := range sub {
			if dashIsVillage(x.Kind) {
				rb.Villages = append(rb.Villages, x)
			}
		}
		return rb, nil
	}
	p, err := points.PeriodAt(villagepoints.Of(a.App).PeriodKind(), now, a.Loc)
	if err != nil {
		return RankingBoard{}, err
	}
	rb.Period, rb.From, rb.To = p.Key(), p.Start, p.End
	// Up to and including now: timestamps are stored to the microsecond.
	totals, err := a.db().PeriodTotals(ctx, []int64{u.ID}, p.Start, now.Add(time.Microsecond))
	if err != nil {
		return RankingBoard{}, err
	}
	rows := make([]points.RankRow, len(totals))
	byID := make(map[int64]storage.PeriodTotal, len(totals))
	for i, t := range totals {
		rows[i] = points.RankRow{Household: t.HouseholdID, Name: t.Code, Points: t.Points, Vetoed: t.Vetoed}
		byID[t.HouseholdID] = t
	}
	for _, r := range points.Rank(rows) {
		t := byID[r.Household]
		rb.Rows = append(rb.Rows, RankingRow{Rank: r.Rank, Code: t.Code, Members: t.Members, Head: t.Head,
			Label: storage.HouseholdLabel(t.Head, t.Code, t.Members, ""), Points: r.Points, Vetoed: r.Vetoed})
	}
	if err := a.dashVillageHistory(ctx, &rb, now); err != nil {
		return RankingBoard{}, err
	}
	return rb, nil
}

// dashVillageHistory adds the village's monthly chart and settled rankings.
func (a Service) dashVillageHistory(ctx context.Context, rb *RankingBoard, now time.Time) error {
	cur, _ := points.PeriodAt(points.Monthly, now, a.Loc)
	first := cur
	for range 11 {
		first = first.Prev()
	}
	ms, err := a.db().VillageMonthlyTotals(ctx, rb.Unit.ID, first.Start, now.Add(time.Microsecond), a.Loc.String())
	if err != nil {
		return err
	}
	byMonth := map[string]int{}
	for _, m := range ms {
		byMonth[m.Month.Format("2006-01")] = m.Points
	}
	p := first
	for range 12 {
		n := byMonth[p.Key()]
		rb.Months = append(rb.Months, MonthBar{Label: dash.T("rankings.month", "month", strconv.Itoa(int(p.Start.Month()))), Points: n})
		rb.ChartMax = max(rb.ChartMax, n)
		p = p.Next()
	}
	const top, height, slot = 20, 130, 40
	for i := range rb.Months {
		m := &rb.Months[i]
		m.X, m.W = i*slot+6, slot-12
		if rb.ChartMax > 0 && m.Points > 0 {
			m.H = max(m.Points*height/rb.ChartMax, 1)
		}
		m.Y = top + height - m.H
	}
	ss, err := a.db().Settlements(ctx, storage.SettlementFilter{VillageIDs: []int64{rb.Unit.ID}, Limit: 6})
	if err != nil {
		return err
	}
	for _, st := range ss {
		rows, err := st.Ranking()
		if err != nil {
			return err
		}
		kind, _ := points.ParsePeriodKind(st.Kind)
		sb := SettledBoard{Label: points.SettlementPeriod{Kind: kind, Start: st.Start.In(a.Loc)}.Label(), Kind: villagepoints.PeriodWords[kind],
			Yearly: kind == points.Yearly, ClosedAt: st.ClosedAt}
		for _, r := range rows {
			sb.Rows = append(sb.Rows, SettledRow{Rank: r.Rank, Name: storage.HouseholdLabel(r.Head, r.Household, r.Members, ""),
				Points: r.Points, Vetoed: r.Vetoed, Stars: r.Stars})
		}
		rb.Settled = append(rb.Settled, sb)
	}
	return nil
}

// worstItemFirst orders items red, yellow, green, keeping the order within
// a light (obligation, then period).
func worstItemFirst(x, y healthcheck.ItemStatus) int {
	return cmp.Compare(y.Light.Severity(), x.Light.Severity())
}

// dashIsVillage reports whether a unit kind keeps village points.
func dashIsVillage(kind string) bool {
	return kind == domain.KindVillage || kind == domain.KindCommunity
}
