package healthcheck

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// Calendar is the calendar the health check runs on (SPEC §7.2): with
// healthcheck.calendar official, the shipped State Council arrangements with
// the imported years over them; with none, every day a working day. The
// configuration's healthcheck.holidays are days off on top of either.
func (a Service) Calendar(ctx context.Context) (*health.Calendar, error) {
	hol, err := health.ParseHolidays(a.Cfg.Healthcheck.Holidays)
	if err != nil {
		return nil, err
	}
	var cal *health.Calendar
	if a.Cfg.Healthcheck.Calendar != "none" {
		rows, err := a.db().CalendarDays(ctx)
		if err != nil {
			return nil, err
		}
		imported := make([]health.CalendarDay, len(rows))
		for i, r := range rows {
			imported[i] = health.CalendarDay{Date: civilUTC(r.Day), Kind: health.DayKind(r.Kind), Name: r.Name}
		}
		cal = health.NewCalendar(health.OfficialDays(), imported)
	}
	return cal.WithExtraHolidays(hol), nil
}

// civilUTC is the civil date of a DATE column as midnight UTC.
func civilUTC(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ImportHolidays applies a 放假调休 file (columns date, kind, optional name):
// every year that appears in the file replaces what was known of that year
// (shipped or imported before), so a correction lists the whole year. All
// rows or none.
func (a Service) ImportHolidays(ctx context.Context, actor domain.Actor, t *tabular.Table) (app.ImportResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.holidays"); err != nil {
		return app.ImportResult{File: t.File}, err
	}
	res := app.ImportResult{File: t.File}
	if err := t.RequireHeader("date", "kind"); err != nil {
		if err2 := t.RequireHeader("date", "kind", "name"); err2 != nil {
			return res, fmt.Errorf("%w (or \"date,kind,name\")", err)
		}
	}
	var days []storage.CalendarDay
	rowOf := map[string]int{}
	years := map[int]bool{}
	for i := range t.Rows {
		if t.Blank(i) {
			continue
		}
		ds, ks, name := t.Cell(i, "date"), t.Cell(i, "kind"), t.Cell(i, "name")
		d, err := time.Parse(time.DateOnly, ds)
		if err != nil {
			return res, t.Err(i, "date", "%q is not a date like 2027-01-01", ds)
		}
		kind, ok := health.ParseDayKind(ks)
		if !ok {
			return res, t.Err(i, "kind", "%q is not holiday (休) or workday (班)", ks)
		}
		if wd := d.Weekday(); kind == health.DayWorkday && wd != time.Saturday && wd != time.Sunday {
			return res, t.Err(i, "kind", "%s is a %s: only a weekend day can be a workday (调休上班)", ds, wd)
		}
		if utf8.RuneCountInString(name) > app.MaxNameLen {
			return res, t.Err(i, "name", "is longer than %d characters", app.MaxNameLen)
		}
		if prev, dup := rowOf[ds]; dup {
			return res, t.Err(i, "date", "%s already appears in row %d", ds, prev+2)
		}
		rowOf[ds] = i
		years[d.Year()] = true
		days = append(days, storage.CalendarDay{Day: d, Kind: string(kind), Name: name})
	}
	if len(days) == 0 {
		return res, fmt.Errorf("%s: no days in the file", t.File)
	}
	ys := slices.Sorted(maps.Keys(years))
	err := a.InTx(ctx, func(a *app.App) error {
		replaced, err := Of(a).db().ReplaceCalendarYears(ctx, ys, days)
		if err != nil {
			return err
		}
		res.Rows = len(days)
		res.Created = len(days)
		if replaced > 0 {
			res.Created, res.Updated = max(0, len(days)-replaced), min(replaced, len(days))
		}
		return a.Audit(ctx, domain.Operator, "import.holidays", t.File, true, map[string]any{"rows": res.Rows, "years": ys})
	})
	return res, err
}

// warnMissingCalendar tells the organisers of the top units, once, when the
// coming year's official calendar is missing from December on: until it is
// imported, only weekends count as days off in that year.
func (a Service) warnMissingCalendar(ctx context.Context, cal *health.Calendar, at time.Time) error {
	lt := at.In(a.Loc)
	next := lt.Year() + 1
	if !cal.Official() || lt.Month() != time.December || cal.Knows(next) {
		return nil
	}
	orgs, err := a.db().TopOrganisers(ctx)
	if err != nil {
		return err
	}
	text := texts.Health.T("calendar.missing_year", "year", strconv.Itoa(next))
	for _, h := range orgs {
		if h.ChatID == nil {
			continue
		}
		key := "calendar-missing:" + strconv.Itoa(next) + ":" + strconv.FormatInt(h.PersonID, 10)
		if err := a.db().Enqueue(ctx, storage.OutMessage{DedupeKey: key, ChatID: *h.ChatID, PersonID: h.PersonID,
			Priority: storage.PriorityDefault, Kind: "calendar_missing", Payload: map[string]any{"text": text}}); err != nil {
			return err
		}
	}
	return nil
}
