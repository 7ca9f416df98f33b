package checkin

import (
	"context"
	"html"
	"sort"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

// LightsView is a branch's lights as a check-in reply shows them.
type LightsView struct {
	Branch   domain.Unit
	ThemeDay int
	Items    []health.ItemLight
	Groups   map[int64]string // party group id → name
	Done     map[storage.DoneKey]bool
	At       time.Time
	Calendar *health.Calendar // due times move off days off
}

// lightsView gathers the branch's current lights for a check-in reply.
func (a Service) lightsView(ctx context.Context, branch domain.Unit) (LightsView, error) {
	items, err := a.checkinLights(ctx, branch)
	if err != nil {
		return LightsView{}, err
	}
	groups, err := a.db().GroupsOf(ctx, branch.ID)
	if err != nil {
		return LightsView{}, err
	}
	done, err := a.db().CheckedIn(ctx, branch.ID)
	if err != nil {
		return LightsView{}, err
	}
	cal, err := healthcheck.Of(a.App).Calendar(ctx)
	if err != nil {
		return LightsView{}, err
	}
	v := LightsView{Branch: branch, Items: items, Groups: map[int64]string{}, Done: done, At: a.Now(), Calendar: cal}
	v.ThemeDay = app.UnitTheme(branch)
	for _, g := range groups {
		v.Groups[g.ID] = g.Name
	}
	return v, nil
}

// checkinLights is the branch's lights for a check-in reply: the health
// check's, which also know exemptions and read through a.db(), so inside
// the check-in's transaction they see the new check-in.
func (a Service) checkinLights(ctx context.Context, branch domain.Unit) ([]health.ItemLight, error) {
	return healthcheck.Of(a.App).BranchLightsOf(ctx, branch.ID)
}

// lightEmoji is the light as a coloured dot.
func lightEmoji(l health.Light) string {
	switch l {
	case health.Green:
		return "🟢"
	case health.Yellow:
		return "🟡"
	case health.Red:
		return "🔴"
	}
	return "⚪"
}

// RenderLights lists the items of the current periods and every item that
// is not green (missed periods, early warnings), obligations in configured
// order: "🟢 支部委员会 · 2026年11月". HTML; names escaped.
func (a Service) RenderLights(v LightsView) string {
	order := map[string]int{}
	obs := map[string]health.Obligation{}
	for i, ob := range healthcheck.Of(a.App).Obligations() {
		order[ob.Code], obs[ob.Code] = i, ob
	}
	var shown []health.ItemLight
	for _, it := range v.Items {
		ob, ok := obs[it.Obligation]
		if !ok {
			continue
		}
		if it.Light != health.Green || it.Period == health.PeriodAt(ob.Recurs, v.At, a.Loc) {
			shown = append(shown, it)
		}
	}
	sort.SliceStable(shown, func(i, j int) bool {
		x, y := shown[i], shown[j]
		if order[x.Obligation] != order[y.Obligation] {
			return order[x.Obligation] < order[y.Obligation]
		}
		if c := x.Period.Compare(y.Period); c != 0 {
			return c < 0
		}
		return v.Groups[x.GroupID] < v.Groups[y.GroupID]
	})
	if len(shown) == 0 {
		return ck.T("lights.none")
	}
	var b strings.Builder
	for i, it := range shown {
		if i > 0 {
			b.WriteByte('\n')
		}
		ob := obs[it.Obligation]
		if ob.TermEnd && v.Branch.TermEnd != nil {
			_, due := health.TermDeadline(*v.Branch.TermEnd, a.Loc)
			b.WriteString(lightEmoji(it.Light) + " " + health.TermNotice(due, v.At, a.Loc))
			continue
		}
		b.WriteString(lightEmoji(it.Light) + " " + html.EscapeString(ob.Name))
		if name := v.Groups[it.GroupID]; name != "" {
			b.WriteString(ck.T("lights.group", "group", html.EscapeString(name)))
		}
		b.WriteString(ck.T("lights.period", "period", it.Period.Label()))
		_, due := health.Deadline(ob, it.Period, v.ThemeDay, a.Loc, v.Calendar)
		unitID := it.BranchID
		if it.GroupID != 0 {
			unitID = it.GroupID
		}
		switch {
		case v.Done[storage.DoneKey{UnitID: unitID, Obligation: it.Obligation, Period: it.Period.Key()}]:
			b.WriteString(ck.T("lights.done"))
		case it.Light == health.Yellow:
			b.WriteString(ck.T("lights.due", "due", due.Add(-time.Nanosecond).In(a.Loc).Format("01-02")))
		case it.Light == health.Red:
			b.WriteString(ck.T("lights.overdue"))
		}
	}
	return b.String()
}
