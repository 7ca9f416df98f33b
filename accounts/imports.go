package accounts

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// imp is what an import says of a bad file (internal/texts/imports.yaml).
var imp = texts.Imports

var (
	unitCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	phoneRe    = regexp.MustCompile(`^\+?[0-9]{5,15}$`)
)

// StartDate is the day from which a newly imported branch owes obligations:
// healthcheck.start when set, else today in the configured zone.
func (a Service) StartDate() time.Time {
	if a.Cfg.Healthcheck.Start != "" {
		if d, err := time.ParseInLocation("2006-01-02", a.Cfg.Healthcheck.Start, a.Loc); err == nil {
			return d
		}
	}
	y, m, d := a.Now().In(a.Loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ImportUnits validates every row, then applies them all in one
// transaction: either every row is imported or none.
func (a Service) ImportUnits(ctx context.Context, actor domain.Actor, t *tabular.Table) (app.ImportResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.units"); err != nil {
		return app.ImportResult{File: t.File}, err
	}
	res := app.ImportResult{File: t.File}
	if err := unitsHeader(t); err != nil {
		return res, err
	}
	err := a.InTx(ctx, func(a *app.App) error {
		existing, err := Of(a).db().UnitParents(ctx)
		if err != nil {
			return err
		}
		kinds, err := Of(a).db().UnitCodes(ctx)
		if err != nil {
			return err
		}
		parents := map[string]string{}
		for k, v := range existing {
			parents[k] = v
		}
		rowOf := map[string]int{}
		var rows []storage.UnitRow
		for i := range t.Rows {
			if t.Blank(i) {
				continue
			}
			r := storage.UnitRow{Code: t.Cell(i, "code"), Name: t.Cell(i, "name"), Kind: t.Cell(i, "kind"), ParentCode: t.Cell(i, "parent_code")}
			switch {
			case r.Code == "":
				return t.Err(i, "code", "must not be empty")
			case !unitCodeRe.MatchString(r.Code):
				return t.Err(i, "code", "%q may contain only letters, digits, - and _", r.Code)
			case utf8.RuneCountInString(r.Code) > app.MaxCodeLen:
				return t.Err(i, "code", "is longer than %d characters", app.MaxCodeLen)
			case r.Name == "":
				return t.Err(i, "name", "must not be empty")
			case utf8.RuneCountInString(r.Name) > app.MaxNameLen:
				return t.Err(i, "name", "is longer than %d characters", app.MaxNameLen)
			case !domain.ValidKind(r.Kind):
				return t.Err(i, "kind", "%q is not one of %s", r.Kind, strings.Join(domain.UnitKinds, ", "))
			case r.Kind == domain.KindCounty && r.ParentCode != "":
				return t.Err(i, "parent_code", "a county has no parent")
			case r.Kind != domain.KindCounty && r.ParentCode == "":
				return t.Err(i, "parent_code", "a %s needs a parent unit", r.Kind)
			case r.ParentCode == r.Code:
				return t.Err(i, "parent_code", "a unit cannot be its own parent")
			}
			if err := branchAttributes(t, i, &r); err != nil {
				return err
			}
			if prev, dup := rowOf[r.Code]; dup {
				return t.Err(i, "code", "%q already appears in row %d", r.Code, prev+2)
			}
			rowOf[r.Code] = i
			parents[r.Code] = r.ParentCode
			kinds[r.Code] = r.Kind
			rows = append(rows, r)
		}
		for _, r := range rows {
			i := rowOf[r.Code]
			pk, ok := kinds[r.ParentCode]
			if r.ParentCode != "" && !ok {
				return t.Err(i, "parent_code", "unit %q is neither in this file nor imported before", r.ParentCode)
			}
			if r.Kind == domain.KindGroup && pk != domain.KindBranch {
				return t.Err(i, "parent_code", "a party group's parent must be a branch, %q is a %s", r.ParentCode, pk)
			}
			if r.Kind != domain.KindGroup && (pk == domain.KindBranch || pk == domain.KindGroup) {
				return t.Err(i, "parent_code", "a %s cannot be under the %s %q", r.Kind, pk, r.ParentCode)
			}
			// Walk up: reaching the unit again means a cycle.
			seen := map[string]bool{r.Code: true}
			for p := r.ParentCode; p != ""; p = parents[p] {
				if seen[p] {
					return t.Err(i, "parent_code", "%q makes a cycle in the unit tree", r.ParentCode)
				}
				seen[p] = true
			}
		}
		res.Rows = len(rows)
		res.Created, res.Updated, err = Of(a).db().UpsertUnits(ctx, rows, Of(a).StartDate())
		if err != nil {
			return err
		}
		return a.Audit(ctx, domain.Operator, "import.units", t.File, true, map[string]any{"rows": res.Rows, "created": res.Created, "updated": res.Updated})
	})
	return res, err
}

// unitOptional are the optional columns of a units file, a branch's
// attributes (SPEC §7.1).
var unitOptional = []string{"branch_type", "members", "committee", "theme_day", "term_end"}

// unitsHeader checks a units file's header: code,name,kind,parent_code,
// then any of the optional columns, each at most once.
func unitsHeader(t *tabular.Table) error {
	required := []string{"code", "name", "kind", "parent_code"}
	ok := len(t.Header) >= len(required) && slices.Equal(t.Header[:len(required)], required)
	seen := map[string]bool{}
	for _, h := range t.Header[min(len(required), len(t.Header)):] {
		if !slices.Contains(unitOptional, h) || seen[h] {
			ok = false
		}
		seen[h] = true
	}
	if !ok {
		return &tabular.RowError{File: t.File, Row: 1, Msg: imp.T("units.header",
			"want", strconv.Quote(strings.Join(required, ",")), "optional", strings.Join(unitOptional, "、"),
			"got", strconv.Quote(strings.Join(t.Header, ",")))}
	}
	return nil
}

// branchAttributes reads row i's optional branch columns into r. An empty
// cell leaves the field nil (keep what is stored); a value on a unit that
// is not a branch, or a bad value, is refused naming the row, column and
// value.
func branchAttributes(t *tabular.Table, i int, r *storage.UnitRow) error {
	for _, col := range unitOptional {
		v := t.Cell(i, col)
		if v == "" {
			continue
		}
		if r.Kind != domain.KindBranch {
			return t.Err(i, col, "%s", imp.T("branch.only", "value", v, "code", r.Code, "kind", domain.KindNames[r.Kind]))
		}
		switch col {
		case "branch_type":
			bt, ok := domain.ParseBranchType(v)
			if !ok {
				return t.Err(i, col, "%s", imp.T("branch.type", "value", v, "types", strings.Join(domain.BranchTypes, "、"), "words", branchTypeWords()))
			}
			r.BranchType = &bt
		case "members":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxMembers {
				return t.Err(i, col, "%s", imp.T("branch.members", "value", v, "max", strconv.Itoa(maxMembers)))
			}
			r.Members = &n
		case "committee":
			var c bool
			switch strings.ToLower(v) {
			case "yes", "是", "有", "y", "true":
				c = true
			case "no", "否", "无", "n", "false":
			default:
				return t.Err(i, col, "%s", imp.T("branch.committee", "value", v))
			}
			r.Committee = &c
		case "theme_day":
			day, weekday, err := health.ParseThemeDay(v)
			if err != nil {
				return t.Err(i, col, "%s", imp.T("branch.theme_day", "value", v, "why", err.Error()))
			}
			r.Theme = true
			if weekday != "" {
				r.ThemeWeekday = &weekday
			} else {
				r.ThemeDay = &day
			}
		case "term_end":
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return t.Err(i, col, "%s", imp.T("branch.term_end", "value", v))
			}
			r.TermEnd = &d
		}
	}
	return nil
}

// maxMembers bounds a branch's member count (a sanity limit).
const maxMembers = 100000

// branchTypeWords lists the Chinese words of the branch types.
func branchTypeWords() string {
	var out []string
	for _, bt := range domain.BranchTypes {
		out = append(out, domain.BranchTypeNames[bt])
	}
	return strings.Join(out, "、")
}

// roleKinds says which unit kinds each role may be held in.
var roleKinds = map[string][]string{
	domain.RoleSecretary:  {domain.KindBranch},
	domain.RoleReviewer:   {domain.KindVillage, domain.KindCommunity},
	domain.RoleVillager:   {domain.KindVillage, domain.KindCommunity},
	domain.RoleShopkeeper: {domain.KindVillage, domain.KindCommunity},
}

// ImportPeople validates every row, then applies them all in one
// transaction. A person is identified by phone, else by name within the unit.
// An optional last column head (yes/是) marks a villager as the household's
// head (户主); households are then shown by the head (张三户).
func (a Service) ImportPeople(ctx context.Context, actor domain.Actor, t *tabular.Table) (app.ImportResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.people"); err != nil {
		return app.ImportResult{File: t.File}, err
	}
	res := app.ImportResult{File: t.File}
	peopleCols := []string{"name", "phone", "role", "unit_code", "household"}
	if len(t.Header) == len(peopleCols)+1 && t.Header[len(peopleCols)] == "head" {
		peopleCols = append(peopleCols, "head")
	}
	if err := t.RequireHeader(peopleCols...); err != nil {
		return res, err
	}
	err := a.InTx(ctx, func(a *app.App) error {
		kinds, err := Of(a).db().UnitCodes(ctx)
		if err != nil {
			return err
		}
		type row struct {
			i                                  int
			name, phone, role, unit, household string
			head                               bool
		}
		var rows []row
		headRow := map[string]int{} // unit and household -> the row naming its head
		for i := range t.Rows {
			if t.Blank(i) {
				continue
			}
			r := row{i: i, name: t.Cell(i, "name"), phone: normalisePhone(t.Cell(i, "phone")), role: t.Cell(i, "role"),
				unit: t.Cell(i, "unit_code"), household: t.Cell(i, "household")}
			kind, unitKnown := kinds[r.unit]
			switch {
			case r.name == "":
				return t.Err(i, "name", "must not be empty")
			case utf8.RuneCountInString(r.name) > app.MaxNameLen:
				return t.Err(i, "name", "is longer than %d characters", app.MaxNameLen)
			case utf8.RuneCountInString(r.household) > app.MaxCodeLen:
				return t.Err(i, "household", "is longer than %d characters", app.MaxCodeLen)
			case r.phone != "" && !phoneRe.MatchString(r.phone):
				return t.Err(i, "phone", "%q is not a phone number", t.Cell(i, "phone"))
			case !domain.ValidRole(r.role):
				return t.Err(i, "role", "%q is not one of %s", r.role, strings.Join(domain.Roles, ", "))
			case r.unit == "":
				return t.Err(i, "unit_code", "must not be empty")
			case !unitKnown:
				return t.Err(i, "unit_code", "unit %q does not exist; import units first", r.unit)
			case r.role == domain.RoleVillager && r.household == "":
				return t.Err(i, "household", "a villager needs a household")
			case r.role != domain.RoleVillager && r.household != "":
				return t.Err(i, "household", "only villagers have a household")
			}
			if allowed, ok := roleKinds[r.role]; ok && !app.ContainsStr(allowed, kind) {
				return t.Err(i, "unit_code", "a %s belongs to a %s, but %q is a %s", r.role, strings.Join(allowed, " or "), r.unit, kind)
			}
			if h := t.Cell(i, "head"); h != "" {
				v, ok := app.ParseYesNo(h)
				switch {
				case !ok:
					return t.Err(i, "head", "%q must be yes or no (是/否)", h)
				case v && r.household == "":
					return t.Err(i, "head", "only a villager with a household can be its head")
				}
				key := r.unit + "\x00" + r.household
				if prev, dup := headRow[key]; v && dup {
					return t.Err(i, "head", "household %q already has its head in row %d", r.household, prev+2)
				}
				if v {
					headRow[key] = i
				}
				r.head = v
			}
			rows = append(rows, r)
		}
		seen := map[int64]bool{}
		for _, r := range rows {
			u, err := Of(a).db().UnitByCode(ctx, r.unit)
			if err != nil {
				return err
			}
			pid, created, err := Of(a).db().UpsertPerson(ctx, r.name, r.phone, u.ID)
			if err != nil {
				return fmt.Errorf("%s: row %d: %w", t.File, r.i+2, err)
			}
			if !seen[pid] {
				seen[pid] = true
				if created {
					res.Created++
				} else {
					res.Updated++
				}
			}
			if err := Of(a).db().AddRole(ctx, pid, r.role, u.ID); err != nil {
				return err
			}
			if r.household != "" {
				hid, err := Of(a).db().EnsureHousehold(ctx, u.ID, r.household)
				if err != nil {
					return err
				}
				if err := Of(a).db().SetHousehold(ctx, pid, hid); err != nil {
					return err
				}
				if r.head {
					if err := Of(a).db().SetHouseholdHead(ctx, hid, pid); err != nil {
						return err
					}
				}
			}
		}
		res.Rows = len(rows)
		return a.Audit(ctx, domain.Operator, "import.people", t.File, true, map[string]any{"rows": res.Rows, "created": res.Created, "updated": res.Updated})
	})
	return res, err
}

func normalisePhone(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(s)
}
