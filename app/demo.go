package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/storage"
)

// DemoUser is a demo person with the Telegram account the sandbox gives them.
type DemoUser struct {
	Name, Phone, Role, UnitCode string
	TelegramID                  int64
}

// DemoGroup is a sandbox group chat bound to a unit.
type DemoGroup struct {
	ChatID   int64
	UnitCode string
	Title    string
}

// Demo is the sandbox's demo county: 3 townships with 5 branches each, a
// village per township with villagers, a reviewer and a shopkeeper.
type Demo struct {
	Units  [][]string
	People [][]string
	Users  []DemoUser
	Groups []DemoGroup
}

// BuildDemo returns the demo county's data.
func BuildDemo() Demo {
	d := Demo{Units: [][]string{{"code", "name", "kind", "parent_code"}, {"QA", "乾安县", "county", ""}},
		People: [][]string{{"name", "phone", "role", "unit_code", "household"}}}
	townships := []struct{ code, name, village string }{
		{"QA-RZ", "让字镇", "幸福村"}, {"QA-DB", "大布苏镇", "和兴村"}, {"QA-SZ", "所字镇", "永安村"},
	}
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
	n := 0
	person := func(role, unit, household string) DemoUser {
		n++
		name := string(surnames[n%len(surnames)]) + map[string]string{
			domain.RoleSecretary: "书记", domain.RoleOrganiser: "委员", domain.RoleReviewer: "评议员",
			domain.RoleVillager: "村民", domain.RoleShopkeeper: "店长", domain.RoleAdmin: "管理员"}[role] + fmt.Sprint(n)
		u := DemoUser{Name: name, Phone: fmt.Sprintf("139%08d", n), Role: role, UnitCode: unit, TelegramID: int64(100000 + n)}
		d.People = append(d.People, []string{u.Name, u.Phone, role, unit, household})
		d.Users = append(d.Users, u)
		return u
	}
	person(domain.RoleOrganiser, "QA", "")
	person(domain.RoleAdmin, "QA", "")
	for ti, t := range townships {
		d.Units = append(d.Units, []string{t.code, t.name, "township", "QA"})
		person(domain.RoleOrganiser, t.code, "")
		v := t.code + "-V1"
		d.Units = append(d.Units, []string{v, t.village, "village", t.code})
		d.Groups = append(d.Groups, DemoGroup{ChatID: -1001000000000 - int64(ti*100), UnitCode: v, Title: t.village + "积分评议群"})
		person(domain.RoleReviewer, v, "")
		person(domain.RoleShopkeeper, v, "")
		for h := 1; h <= 4; h++ {
			person(domain.RoleVillager, v, fmt.Sprintf("H%03d", h))
		}
		for b := 1; b <= 5; b++ {
			bc := fmt.Sprintf("%s-B%d", v, b)
			d.Units = append(d.Units, []string{bc, fmt.Sprintf("%s第%d党支部", t.village, b), "branch", v})
			d.Groups = append(d.Groups, DemoGroup{ChatID: -1001000000000 - int64(ti*100+b), UnitCode: bc, Title: fmt.Sprintf("%s第%d党支部群", t.village, b)})
			person(domain.RoleSecretary, bc, "")
		}
	}
	return d
}

// ChatsOf lists the demo groups u is a member of: those of u's own unit (a
// branch's group for its secretary; the village's reviewer group for the
// village's reviewer, shopkeeper and villagers, who see their claims reviewed
// there) and, for a township's organisers, every group of the township.
func (d Demo) ChatsOf(u DemoUser) []DemoGroup {
	township := false
	for _, row := range d.Units[1:] {
		township = township || row[0] == u.UnitCode && row[2] == "township"
	}
	var gs []DemoGroup
	for _, g := range d.Groups {
		if g.UnitCode == u.UnitCode || township && strings.HasPrefix(g.UnitCode, u.UnitCode+"-") {
			gs = append(gs, g)
		}
	}
	return gs
}

// LoadDemo imports the demo county, links every demo person to their
// sandbox Telegram account and binds the demo groups. Branches owe
// obligations from three months back and have checked in for all of them
// but a few (see demoGaps), so the board shows mostly green, a few red and,
// near a deadline, yellow. Dates follow the App's clock. It is idempotent.
func (a *App) LoadDemo(ctx context.Context) (Demo, error) {
	d := BuildDemo()
	err := a.InTx(ctx, func(a *App) error {
		if _, err := a.ImportUnits(ctx, &tabular.Table{File: "demo-units", Header: d.Units[0], Rows: d.Units[1:]}); err != nil {
			return err
		}
		if _, err := a.ImportPeople(ctx, &tabular.Table{File: "demo-people", Header: d.People[0], Rows: d.People[1:]}); err != nil {
			return err
		}
		// The month three back counted from the 1st: AddDate(0, -3, 0) on
		// 12-31 gives "09-31", normalised to 10-01, only two months back.
		y, m, _ := a.Now().In(a.Loc).Date()
		start := time.Date(y, m-3, 1, 0, 0, 0, 0, time.UTC)
		for _, u := range d.Units[1:] {
			unit, err := a.Store.UnitByCode(ctx, u[0])
			if err != nil {
				return err
			}
			if err := a.Store.SetStartedOn(ctx, unit.ID, start); err != nil {
				return err
			}
		}
		secretaries := map[string]int64{}
		for _, u := range d.Users {
			p, err := a.Store.PersonByPhone(ctx, u.Phone)
			if err != nil {
				return err
			}
			if err := a.Store.LinkChat(ctx, p.ID, u.TelegramID, u.TelegramID, fmt.Sprintf("demo%d", u.TelegramID)); err != nil {
				return err
			}
			if u.Role == domain.RoleSecretary {
				secretaries[u.UnitCode] = p.ID
			}
		}
		if err := a.demoHistory(ctx, d, start, secretaries); err != nil {
			return err
		}
		for _, g := range d.Groups {
			unit, err := a.Store.UnitByCode(ctx, g.UnitCode)
			if err != nil {
				return err
			}
			if err := a.Store.BindGroup(ctx, g.ChatID, unit.ID, g.Title, 0); err != nil {
				return err
			}
		}
		return a.audit(ctx, domain.Operator, "demo.load", "", true, nil)
	})
	return d, err
}

// demoGaps are the past obligations the demo branches did not check in
// for, by branch code: obligation code → how many of the latest past
// periods are missing. The first branch's secretary is the sandbox's
// default identity: its only red light is last month's committee meeting,
// which the sandbox suggests checking in for, turning the branch green.
var demoGaps = map[string]map[string]int{
	"QA-RZ-V1-B1": {"committee_meeting": 1},
	"QA-DB-V1-B3": {"theme_day": 1},
	"QA-SZ-V1-B5": {"committee_meeting": 2, "group_meeting": 2},
}

// demoHistory records, for every demo branch, a check-in for each period
// already due since start, except the demoGaps. It writes the check-ins
// directly: no confirmations are sent for this made-up past.
func (a *App) demoHistory(ctx context.Context, d Demo, start time.Time, secretaries map[string]int64) error {
	now := a.Now()
	for _, u := range d.Units[1:] {
		if u[2] != "branch" {
			continue
		}
		branch, err := a.Store.UnitByCode(ctx, u[0])
		if err != nil {
			return err
		}
		if done, err := a.Store.CheckedIn(ctx, branch.ID); err != nil {
			return err
		} else if len(done) > 0 {
			continue // loaded before
		}
		cal, err := a.Calendar(ctx)
		if err != nil {
			return err
		}
		for _, ob := range a.Obligations() {
			if ob.TermEnd { // a reminder, never checked in
				continue
			}
			var due []health.Period
			for _, p := range health.OpenPeriods(ob, 0, start, now, a.Loc) {
				if _, end := health.Deadline(ob, p, 0, a.Loc, cal); !now.Before(end) {
					due = append(due, p)
				}
			}
			due = due[:max(0, len(due)-demoGaps[u[0]][ob.Code])]
			for _, p := range due {
				from := p.Start(a.Loc)
				if from.Before(start) {
					from = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, a.Loc)
				}
				held := from.AddDate(0, 0, 9)
				id, err := a.Store.InsertCheckin(ctx, storage.NewCheckin{
					BranchID: branch.ID, HeldOn: held.Format(time.DateOnly), Present: 7, Total: 9,
					Topic: "学习贯彻党的二十届三中全会精神", Source: "telegram",
					RecordedBy: secretaries[u[0]], RecordedAt: held.Add(19 * time.Hour),
				})
				if err != nil {
					return err
				}
				if err := a.Store.InsertCheckinItem(ctx, storage.CheckinItem{CheckinID: id, Obligation: ob.Code, Period: p.Key(), UnitID: branch.ID}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
