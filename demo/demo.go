package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

// DemoSeed is the seed of the demo county `zhibu demo` and the sandbox load.
const DemoSeed uint64 = 20260

// DemoBranches and DemoCompounds are the demo county's branch counts (SPEC §7.6).
const (
	DemoBranches  = 446
	DemoCompounds = 122
)

// User is a demo person with the Telegram account the sandbox gives them.
type User struct {
	Name, Phone, Role, UnitCode string
	TelegramID                  int64
}

// Group is a sandbox group chat bound to a unit.
type Group struct {
	ChatID   int64
	UnitCode string
	Title    string
}

// Demo is the demo county, shaped like Qian'an (SPEC §7.6): its 10
// townships and towns, villages named by 千字文 characters, communities
// with compound (小区功能型) and property (物业) branches, enterprise and
// institution branches, party groups under the larger branches, small
// branches without a committee, households with heads.
//
// Units and People are import tables (zhibu import units / people). Users
// are the people the sandbox lets one act as (their chats are linked), a
// cast drawn from a few villages and branches; everyone else is in People
// only. Groups are the cast's group chats.
type Demo struct {
	Seed   uint64
	Units  [][]string
	People [][]string
	Users  []User
	Groups []Group
	// Existing is set by LoadDemoSeed when the demo was loaded before (it
	// then changed nothing).
	Existing bool

	// termDays are the branches whose committee term ends near the load
	// date: unit row index → days from the load date (negative: passed);
	// termAhead the other committees', years ahead.
	termDays, termAhead map[int]int
	// pinned is the sandbox's own branch (QA-RZ-V1-B1), whose history is
	// fixed: only last month's 支委会 is missing.
	pinned string
}

// demoUnitHeader and demoPeopleHeader are the import tables' headers.
var (
	demoUnitHeader   = []string{"code", "name", "kind", "parent_code", "branch_type", "members", "committee", "theme_day", "term_end"}
	demoPeopleHeader = []string{"name", "phone", "role", "unit_code", "household", "head"}
)

// BuildDemo returns the demo county of DemoSeed.
func BuildDemo() Demo { return BuildDemoSeed(DemoSeed) }

// demoBuilder holds what BuildDemoSeed is making.
type demoBuilder struct {
	d      Demo
	rng    *rand.Rand
	people int
	chats  int
}

// BuildDemoSeed returns the demo county of a seed: the same seed, the same
// county. Term dates are set when it is loaded (relative to the clock).
func BuildDemoSeed(seed uint64) Demo {
	b := &demoBuilder{d: Demo{Seed: seed, Units: [][]string{demoUnitHeader, {"QA", "乾安县", "county", "", "", "", "", "", ""}},
		People: [][]string{demoPeopleHeader}, termDays: map[int]int{}, termAhead: map[int]int{}, pinned: "QA-RZ-V1-B1"},
		rng: rand.New(rand.NewPCG(seed, 0x5a4842))}
	d := &b.d
	b.person(domain.RoleOrganiser, "QA", "", false, true)
	b.person(domain.RoleAdmin, "QA", "", false, true)
	villages := demoVillageNames()
	// Village branches: every village has one, some two, so that the
	// county has DemoBranches in all.
	nVillages := 0
	for _, t := range demoTownships {
		nVillages += t.villages
	}
	// The other branches: each community's own, the compounds, the
	// property companies, the enterprises, each township's 机关.
	fixed := len(demoCommunities) + DemoCompounds + len(demoProperty) + len(demoEnterprises) + len(demoTownships)
	twoBranches := DemoBranches - fixed - nVillages
	second := b.rng.Perm(nVillages)[:twoBranches]
	hasSecond := map[int]bool{}
	for _, i := range second {
		hasSecond[i] = true
	}
	vi := 0
	for ti, t := range demoTownships {
		d.Units = append(d.Units, []string{t.code, t.name, t.kind, "QA", "", "", "", "", ""})
		cast := ti < 3 // the first three townships' first villages are the sandbox's cast
		b.person(domain.RoleOrganiser, t.code, "", false, true)
		for v := 1; v <= t.villages; v++ {
			vcode := fmt.Sprintf("%s-V%d", t.code, v)
			vname := villages[t.code][v-1]
			d.Units = append(d.Units, []string{vcode, vname, "village", t.code, "", "", "", "", ""})
			inCast := cast && v == 1
			if inCast {
				b.group(vcode, vname+"积分评议群")
			}
			b.person(domain.RoleReviewer, vcode, "", false, inCast)
			b.person(domain.RoleShopkeeper, vcode, "", false, inCast)
			b.households(vcode, 5+b.rng.IntN(4), inCast)
			n := 1
			if hasSecond[vi] {
				n = 2
			}
			vi++
			for k := 1; k <= n; k++ {
				name := vname + "党支部"
				if n == 2 {
					name = vname + []string{"", "第一", "第二"}[k] + "党支部"
				}
				b.branch(fmt.Sprintf("%s-B%d", vcode, k), name, vcode, "village", 8+b.rng.IntN(45), inCast)
			}
		}
		if t.code == "QA-QA" {
			b.town(t)
		}
		b.branch(t.code+"-JG", t.name+"机关党支部", t.code, "institution", 10+b.rng.IntN(20), false)
	}
	return *d
}

// town adds the communities, compounds, companies of the county seat.
func (b *demoBuilder) town(t demoTownship) {
	d := &b.d
	x, w := 0, 0
	for ci, c := range demoCommunities {
		ccode := fmt.Sprintf("%s-C%d", t.code, ci+1)
		d.Units = append(d.Units, []string{ccode, c.name, "community", t.code, "", "", "", "", ""})
		b.person(domain.RoleReviewer, ccode, "", false, false)
		b.households(ccode, 3, false)
		b.branch(ccode+"-B1", c.name+"党支部", ccode, "community", 15+b.rng.IntN(25), ci == 0)
		for k := 1; k <= c.compounds; k++ {
			name := demoCompoundPrefix[x%len(demoCompoundPrefix)] + demoCompoundSuffix[x/len(demoCompoundPrefix)]
			b.branch(fmt.Sprintf("%s-X%02d", ccode, k), name+"小区党支部", ccode, "compound", 3+b.rng.IntN(10), ci == 0 && k == 1)
			x++
		}
		for k := 1; k <= c.property; k++ {
			b.branch(fmt.Sprintf("%s-W%d", ccode, k), demoProperty[w]+"党支部", ccode, "property", 3+b.rng.IntN(7), false)
			w++
		}
	}
	for i, e := range demoEnterprises {
		b.branch(fmt.Sprintf("%s-E%d", t.code, i+1), e.name, t.code, e.branchType, 8+b.rng.IntN(28), false)
	}
}

// branch adds a branch with its attributes, its party groups (one per
// about fifteen members, from 25 members on) and its secretary.
func (b *demoBuilder) branch(code, name, parent, branchType string, members int, inCast bool) {
	d := &b.d
	theme := ""
	n := 0
	for _, t := range demoThemeDays {
		n += t.weight
	}
	r := b.rng.IntN(n)
	for _, t := range demoThemeDays {
		if r -= t.weight; r < 0 {
			theme = t.rule
			break
		}
	}
	if branchType == "village" && b.rng.IntN(20) == 0 {
		members = 4 + b.rng.IntN(3) // a small village branch
	}
	if code == d.pinned {
		members, theme = 9, "" // the sandbox's branch: see demoHistory
	}
	committee := "yes"
	if members < 7 {
		committee = "no"
	}
	row := len(d.Units)
	d.Units = append(d.Units, []string{code, name, "branch", parent, branchType, strconv.Itoa(members), committee, theme, ""})
	if committee == "yes" && code != d.pinned {
		// Most terms end years ahead; a few within six months (换届提醒
		// yellow) or just passed (red).
		switch k := b.rng.IntN(100); {
		case k < 2:
			d.termDays[row] = -1 - b.rng.IntN(20)
		case k < 7:
			d.termDays[row] = 10 + b.rng.IntN(170)
		default:
			d.termAhead[row] = 200 + b.rng.IntN(1200)
		}
	}
	groups := 0
	if members >= 25 && code != d.pinned {
		groups = max(2, members/15)
	}
	for g := 1; g <= groups; g++ {
		d.Units = append(d.Units, []string{fmt.Sprintf("%s-G%d", code, g), name + demoOrdinal(g) + "党小组", "group", code, "", "", "", "", ""})
	}
	b.person(domain.RoleSecretary, code, "", false, inCast)
	if inCast {
		b.group(code, name+"群")
	}
}

// households adds n households to a village or community, each with its
// head and one to three more members.
func (b *demoBuilder) households(unit string, n int, inCast bool) {
	for h := 1; h <= n; h++ {
		hh := fmt.Sprintf("H%03d", h)
		m := 1 + b.rng.IntN(3)
		for k := 0; k < m; k++ {
			// The cast: the heads of the first four households.
			b.person(domain.RoleVillager, unit, hh, k == 0, inCast && k == 0 && h <= 4)
		}
	}
}

// person adds a person with one role; a cast member gets a sandbox account.
func (b *demoBuilder) person(role, unit, household string, head, inCast bool) {
	b.people++
	n := b.people
	name := string(demoSurnames[b.rng.IntN(len(demoSurnames))]) + string(demoGiven[b.rng.IntN(len(demoGiven))])
	if b.rng.IntN(3) > 0 {
		name += string(demoGiven[b.rng.IntN(len(demoGiven))])
	}
	phone := fmt.Sprintf("139%08d", n)
	h := ""
	if household != "" {
		h = "no"
		if head {
			h = "yes"
		}
	}
	b.d.People = append(b.d.People, []string{name, phone, role, unit, household, h})
	if inCast {
		b.d.Users = append(b.d.Users, User{Name: name, Phone: phone, Role: role, UnitCode: unit, TelegramID: int64(100000 + n)})
	}
}

// group adds a sandbox group chat of a cast unit.
func (b *demoBuilder) group(unit, title string) {
	b.d.Groups = append(b.d.Groups, Group{ChatID: -1001000000000 - int64(b.chats), UnitCode: unit, Title: title})
	b.chats++
}

// demoOrdinal is 第一, 第二 … for small n.
func demoOrdinal(n int) string {
	zh := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	if n < len(zh) {
		return "第" + zh[n]
	}
	return "第" + strconv.Itoa(n)
}

// demoVillageNames gives each township its villages' names: a run of
// 千字文 characters from the township's own character on (the next unused
// one when it is taken), each character used once, + 字村.
func demoVillageNames() map[string][]string {
	chars := []rune(demoQianzi)
	used := map[rune]bool{}
	for _, r := range demoSkip {
		used[r] = true
	}
	out := map[string][]string{}
	for _, t := range demoTownships {
		i := strings.Index(demoQianzi, t.from)
		i = len([]rune(demoQianzi[:i]))
		for len(out[t.code]) < t.villages {
			r := chars[i%len(chars)]
			i++
			if used[r] {
				continue
			}
			used[r] = true
			out[t.code] = append(out[t.code], string(r)+"字村")
		}
	}
	return out
}

// ChatsOf lists the demo groups u is a member of: those of u's own unit (a
// branch's group for its secretary; the village's reviewer group for the
// village's reviewer, shopkeeper and villagers, who see their claims reviewed
// there) and, for a township's organisers, every group of the township.
func (d Demo) ChatsOf(u User) []Group {
	township := false
	for _, row := range d.Units[1:] {
		township = township || row[0] == u.UnitCode && row[2] == "township"
	}
	var gs []Group
	for _, g := range d.Groups {
		if g.UnitCode == u.UnitCode || township && strings.HasPrefix(g.UnitCode, u.UnitCode+"-") {
			gs = append(gs, g)
		}
	}
	return gs
}

// LoadDemo loads the demo county of DemoSeed (see LoadDemoSeed).
func (a Service) LoadDemo(ctx context.Context, actor domain.Actor) (Demo, error) {
	return a.LoadDemoSeed(ctx, actor, DemoSeed)
}

// LoadDemoSeed imports the demo county of a seed, links the cast to their
// sandbox Telegram accounts, binds the cast's groups and writes a history
// (demoHistory) relative to the App's clock: branches owe from the first
// of the month three months back and have checked in for most of it. It is
// idempotent: a second load changes nothing. An import: the operator's.
func (a Service) LoadDemoSeed(ctx context.Context, actor domain.Actor, seed uint64) (Demo, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "demo.load"); err != nil {
		return Demo{}, err
	}
	d := BuildDemoSeed(seed)
	now := a.Now().In(a.Loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for row, days := range d.termDays {
		d.Units[row][8] = today.AddDate(0, 0, days).Format(time.DateOnly)
	}
	for row, days := range d.termAhead {
		d.Units[row][8] = today.AddDate(0, 0, days).Format(time.DateOnly)
	}
	err := a.InTx(ctx, func(a *app.App) error {
		if _, err := Of(a).db().UnitByCode(ctx, d.pinned); err == nil {
			d.Existing = true // loaded before
			return nil
		} else if !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		if _, err := accounts.Of(a).ImportUnits(ctx, domain.Operator, &tabular.Table{File: "demo-units", Header: d.Units[0], Rows: d.Units[1:]}); err != nil {
			return err
		}
		people := make([]storage.DemoPerson, 0, len(d.People)-1)
		for _, p := range d.People[1:] {
			people = append(people, storage.DemoPerson{Name: p[0], Phone: p[1], Role: p[2], UnitCode: p[3], Household: p[4], Head: p[5] == "yes"})
		}
		ids, err := Of(a).db().InsertDemoPeople(ctx, people)
		if err != nil {
			return err
		}
		// The month three back counted from the 1st: AddDate(0, -3, 0) on
		// 12-31 gives "09-31", normalised to 10-01, only two months back.
		start := time.Date(now.Year(), now.Month()-3, 1, 0, 0, 0, 0, time.UTC)
		if err := Of(a).db().SetAllStartedOn(ctx, start); err != nil {
			return err
		}
		for _, u := range d.Users {
			if err := Of(a).db().LinkChat(ctx, ids.People[u.Phone], u.TelegramID, u.TelegramID, fmt.Sprintf("demo%d", u.TelegramID)); err != nil {
				return err
			}
		}
		if err := Of(a).demoHistory(ctx, d, ids, start); err != nil {
			return err
		}
		if err := Of(a).demoPoints(ctx, d, ids); err != nil {
			return err
		}
		for _, g := range d.Groups {
			unit, err := Of(a).db().UnitByCode(ctx, g.UnitCode)
			if err != nil {
				return err
			}
			if err := Of(a).db().BindGroup(ctx, g.ChatID, unit.ID, g.Title, 0); err != nil {
				return err
			}
		}
		return a.Audit(ctx, domain.Operator, "demo.load", "", true, map[string]any{"seed": seed})
	})
	return d, err
}

// demoHistory records the branches' check-ins since start. Each branch
// draws from its own random stream (seed, its row), so that one branch's
// history does not depend on another's:
//   - every period already due is checked in, except that about one
//     branch in twelve missed one or two (red);
//   - of the current periods, those whose usual day has come are checked
//     in by three branches in four; the others leave each one with odds of
//     two in five to the last days (yellow once its window opens).
//
// The sandbox's branch (pinned) missed only last month's 支委会 and has
// not met yet this month. The check-ins are written directly: no
// confirmations are sent for a made-up past.
func (a Service) demoHistory(ctx context.Context, d Demo, ids storage.DemoIDs, start time.Time) error {
	now := a.Now()
	cal, err := healthcheck.Of(a.App).Calendar(ctx)
	if err != nil {
		return err
	}
	units, err := a.db().AllUnits(ctx)
	if err != nil {
		return err
	}
	byCode := make(map[string]domain.Unit, len(units))
	groups := map[int64][]int64{}
	for _, u := range units {
		byCode[u.Code] = u
		if u.Kind == domain.KindGroup && u.ParentID != nil {
			groups[*u.ParentID] = append(groups[*u.ParentID], u.ID)
		}
	}
	secretaries := map[string]int64{}
	for _, p := range d.People[1:] {
		if p[2] == domain.RoleSecretary {
			secretaries[p[3]] = ids.People[p[1]]
		}
	}
	obs := healthcheck.Of(a.App).Obligations()
	var batch []storage.DemoCheckin
	for row, u := range d.Units[1:] {
		if u[2] != domain.KindBranch {
			continue
		}
		branch := byCode[u[0]]
		parentKind := byCode[u[3]].Kind
		info := branch.Info(parentKind, len(groups[branch.ID]) > 0)
		theme := app.UnitTheme(branch)
		rng := rand.New(rand.NewPCG(d.Seed, uint64(row)+1))
		pinned := u[0] == d.pinned
		// The obligations this branch missed: code → how many of the
		// latest due periods.
		gaps := map[string]int{}
		if pinned {
			gaps["committee_meeting"] = 1
		} else if rng.IntN(12) == 0 {
			for k := 1 + rng.IntN(2); k > 0; k-- {
				ob := obs[rng.IntN(len(obs))]
				if !ob.TermEnd && ob.Binds(info.Type, info.Committee, info.HasGroups) {
					gaps[ob.Code]++
				}
			}
		}
		// Most branches meet as soon as the period's day comes; the others
		// leave some of it to the last days (yellow).
		diligent := rng.IntN(100) < 75
		members := 9
		if info.Members != nil {
			members = max(3, *info.Members)
		}
		for _, ob := range obs {
			if ob.TermEnd || !ob.Binds(info.Type, info.Committee, info.HasGroups) {
				continue
			}
			units := []int64{branch.ID}
			if ob.PerGroup {
				units = groups[branch.ID]
			}
			var due, open []health.Period
			for _, p := range health.OpenPeriods(ob, theme, start, now, a.Loc) {
				if _, end := health.Deadline(ob, p, theme, a.Loc, cal); !now.Before(end) {
					due = append(due, p)
				} else {
					open = append(open, p)
				}
			}
			due = due[:max(0, len(due)-gaps[ob.Code])]
			for _, p := range open {
				if !pinned && (diligent || rng.IntN(100) < 60) {
					due = append(due, p) // held already, if its day has come
				}
			}
			for _, p := range due {
				held, ok := demoHeldOn(ob, p, theme, start, now, a.Loc, cal, rng)
				if !ok {
					continue
				}
				topics := demoTopics[ob.Code]
				if len(topics) == 0 {
					topics = []string{ob.Name}
				}
				for _, unit := range units {
					total := members
					batch = append(batch, storage.DemoCheckin{
						Checkin: storage.NewCheckin{BranchID: branch.ID, HeldOn: held.Format(time.DateOnly),
							Present: total - rng.IntN(total/4+1), Total: total, Topic: topics[rng.IntN(len(topics))], Source: "telegram",
							RecordedBy: secretaries[u[0]], RecordedAt: minTime(held.Add(19*time.Hour), now)},
						Item: storage.CheckinItem{Obligation: ob.Code, Period: p.Key(), UnitID: unit},
					})
				}
			}
		}
	}
	return a.db().InsertDemoCheckins(ctx, batch)
}

// demoHeldOn is the day a branch held ob for p: the 主题党日's fixed day,
// else a day in the period's window (a yearly meeting due after its year
// in January of the next). ok is false when that day is still to come.
func demoHeldOn(ob health.Obligation, p health.Period, theme int, start, now time.Time, loc *time.Location, cal *health.Calendar, rng *rand.Rand) (time.Time, bool) {
	yellowFrom, due := health.Deadline(ob, p, theme, loc, cal)
	from := p.Start(loc)
	if s := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); from.Before(s) {
		from = s
	}
	var held time.Time
	switch {
	case ob.ThemeDay && theme != 0:
		held = yellowFrom.AddDate(0, 0, ob.YellowDays)
	case !ob.DueAfter.IsZero():
		held = p.End(loc).AddDate(0, 0, 3+rng.IntN(30))
	default:
		span := int(due.Sub(from).Hours()/24) - 1
		held = from.AddDate(0, 0, rng.IntN(max(1, min(span, 25))))
	}
	if !held.Before(due) {
		held = due.AddDate(0, 0, -1)
	}
	if held.Before(from) {
		held = from
	}
	today := now.In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	return held, !held.After(today)
}

func minTime(x, y time.Time) time.Time {
	if x.Before(y) {
		return x
	}
	return y
}

// demoPoints records the villages' points history: approved claims in
// the ledger, a few still in 公示 (approved in the last days), a few
// pending review, and redemptions at the points shop. Nothing is claimed
// today, nor with the items the sandbox suggests, so the cast's claims
// are accepted.
func (a Service) demoPoints(ctx context.Context, d Demo, ids storage.DemoIDs) error {
	now := a.Now()
	loc := a.Loc
	day := now.In(loc)
	today := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	var catalog map[string]points.Item
	reviewers, shopkeepers := map[string]int64{}, map[string]int64{}
	for _, p := range d.People[1:] {
		switch p[2] {
		case domain.RoleReviewer:
			reviewers[p[3]] = ids.People[p[1]]
		case domain.RoleShopkeeper:
			shopkeepers[p[3]] = ids.People[p[1]]
		}
	}
	type hh struct{ unit, code, head string }
	var households []hh
	seen := map[string]bool{}
	for _, p := range d.People[1:] {
		if p[4] != "" && !seen[p[3]+"/"+p[4]] {
			seen[p[3]+"/"+p[4]] = true
			households = append(households, hh{p[3], p[4], p[1]})
		}
	}
	all, err := a.db().AllUnits(ctx)
	if err != nil {
		return err
	}
	units := make(map[string]int64, len(all))
	for _, u := range all {
		units[u.Code] = u.ID
	}
	var claims []storage.DemoClaim
	for i, h := range households {
		villageID := units[h.unit]
		if catalog == nil {
			items, err := villagepoints.Of(a.App).CatalogFor(ctx, villageID)
			if err != nil {
				return err
			}
			catalog = map[string]points.Item{}
			for _, it := range items {
				catalog[it.Code] = it
			}
		}
		household, head := ids.Households[h.unit+"/"+h.code], ids.People[h.head]
		if household == 0 || head == 0 {
			return fmt.Errorf("demo: household %s of %s not stored", h.code, h.unit)
		}
		rng := rand.New(rand.NewPCG(d.Seed, 1<<32+uint64(i)))
		reviewer := reviewers[h.unit]
		// A redemption at the shop (for about one household in three)
		// spends what was in effect a few hours before now.
		redeemAt := now.Add(-time.Duration(30+rng.IntN(600)) * time.Minute)
		balance := 0
		for k := 2 + rng.IntN(5); k > 0; k-- {
			it, ok := catalog[demoClaimItems[rng.IntN(len(demoClaimItems))]]
			if !ok {
				continue
			}
			// Claimed 1 to 80 days ago, by day; reviewed a day later.
			ago := 1 + rng.IntN(80)
			at := today.AddDate(0, 0, -ago).Add(time.Duration(9+rng.IntN(9)) * time.Hour)
			c := storage.DemoClaim{Claim: storage.NewClaim{VillageID: villageID, HouseholdID: household, PersonID: head, Kind: storage.ClaimKindClaim,
				ItemCode: it.Code, ItemName: it.Name, Category: it.Category, Points: it.Points, Evidence: string(it.Evidence),
				Note: "", Status: storage.ClaimPending, ClaimedAt: at, Source: "telegram"}}
			decided := at.Add(24 * time.Hour)
			switch {
			case ago <= 2 && rng.IntN(2) == 0: // not reviewed yet
			case decided.After(now):
			case rng.IntN(12) == 0:
				c.Decision = &storage.ClaimDecision{Status: storage.ClaimRejected, At: decided, By: reviewer, Decider: "评议员", Reason: "证明材料不足"}
			default:
				c.Decision = &storage.ClaimDecision{Status: storage.ClaimApproved, At: decided, By: reviewer, Decider: "评议员"}
				c.Entry = &storage.PointEntry{HouseholdID: household, VillageID: villageID, Kind: storage.EntryAward, Points: it.Points,
					ItemCode: it.Code, ItemName: it.Name, RecordedAt: decided, EffectiveAt: points.EffectiveAt(decided, a.Cfg.Points.PublicityDays, loc),
					RecordedBy: &reviewer, Actor: "评议员"}
				if !c.Entry.EffectiveAt.After(redeemAt) {
					balance += it.Points
				}
			}
			claims = append(claims, c)
		}
		if g := demoGoods[rng.IntN(len(demoGoods))]; rng.IntN(3) == 0 && balance >= g.points {
			shop := shopkeepers[h.unit]
			claims = append(claims, storage.DemoClaim{Entry: &storage.PointEntry{HouseholdID: household, VillageID: villageID,
				Kind: storage.EntryRedemption, Points: -g.points, Goods: g.name, RecordedAt: redeemAt, EffectiveAt: redeemAt, RecordedBy: &shop, Actor: "积分超市管理员"}})
		}
	}
	return a.db().InsertDemoClaims(ctx, claims)
}
