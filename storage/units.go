package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

const unitCols = `u.id, u.code, u.name, u.kind, u.parent_id, u.theme_day, u.started_on,
	u.branch_type, u.members, u.committee, u.theme_weekday, u.term_end`

// UnitRow is one unit as imported: parents are named by code. A branch's
// attributes are nil when the file does not give them: a new unit has none
// (the defaults apply), an existing one keeps what it has.
type UnitRow struct {
	Code, Name, Kind, ParentCode string

	BranchType *string
	Members    *int
	Committee  *bool
	// Theme says the 主题党日 is given: ThemeDay (a day of the month) or
	// ThemeWeekday (a weekday rule); the other one is cleared.
	Theme        bool
	ThemeDay     *int
	ThemeWeekday *string
	TermEnd      *time.Time // a civil date
}

// UpsertUnits inserts or updates units by code, links parents and recomputes
// the tree paths. Callers validate rows first and run it inside InTx so that
// an import applies every row or none.
func (s *Store) UpsertUnits(ctx context.Context, rows []UnitRow, startedOn time.Time) (created, updated int, err error) {
	s.accountsChanged()
	for _, r := range rows {
		var termEnd any
		if r.TermEnd != nil {
			termEnd = r.TermEnd.Format(time.DateOnly)
		}
		inserted, err := getValue[bool](ctx, s, "upsert unit "+r.Code, `
			INSERT INTO units (code, name, kind, started_on, branch_type, members, committee, theme_day, theme_weekday, term_end)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
				branch_type = COALESCE(EXCLUDED.branch_type, units.branch_type),
				members = COALESCE(EXCLUDED.members, units.members),
				committee = COALESCE(EXCLUDED.committee, units.committee),
				theme_day = CASE WHEN $11 THEN EXCLUDED.theme_day ELSE units.theme_day END,
				theme_weekday = CASE WHEN $11 THEN EXCLUDED.theme_weekday ELSE units.theme_weekday END,
				term_end = COALESCE(EXCLUDED.term_end, units.term_end),
				updated_at = now()
			RETURNING (xmax = 0)`, r.Code, r.Name, r.Kind, startedOn,
			r.BranchType, r.Members, r.Committee, r.ThemeDay, r.ThemeWeekday, termEnd, r.Theme)
		if err != nil {
			return 0, 0, err
		}
		if inserted {
			created++
		} else {
			updated++
		}
	}
	for _, r := range rows {
		var parent any
		if r.ParentCode != "" {
			parent = r.ParentCode
		}
		// The code is unique: one row, or none.
		res, err := s.q.ExecContext(ctx, `
			UPDATE units SET parent_id = (SELECT id FROM units WHERE code = $2)
			WHERE code = $1`, r.Code, parent)
		if err := affectedOne(res, err, "link unit "+r.Code, "link unit "+r.Code); err != nil {
			return 0, 0, err
		}
	}
	if err := s.RecomputePaths(ctx); err != nil {
		return 0, 0, err
	}
	return created, updated, nil
}

// RecomputePaths rebuilds every unit's root-to-self id path.
func (s *Store) RecomputePaths(ctx context.Context) error {
	return exec(ctx, s, "recompute unit paths", `
		WITH RECURSIVE t(id, path) AS (
			SELECT id, ARRAY[id] FROM units WHERE parent_id IS NULL
			UNION ALL
			SELECT u.id, t.path || u.id FROM units u JOIN t ON u.parent_id = t.id
		)
		UPDATE units u SET path = t.path FROM t WHERE u.id = t.id AND u.path IS DISTINCT FROM t.path`)
}

// CreateUnit inserts one unit under parent (nil for a root).
func (s *Store) CreateUnit(ctx context.Context, code, name, kind string, parentID *int64, startedOn time.Time) (domain.Unit, error) {
	s.accountsChanged()
	var id int64
	err := s.q.QueryRowxContext(ctx, `
		INSERT INTO units (code, name, kind, parent_id, started_on,
			path) VALUES ($1, $2, $3, $4, $5,
			COALESCE((SELECT path FROM units WHERE id = $4), '{}'))
		RETURNING id`, code, name, kind, parentID, startedOn).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return domain.Unit{}, fmt.Errorf("storage: create unit %s: %w", code, domain.Exists("单位", "编码", code))
		}
		return domain.Unit{}, fmt.Errorf("storage: create unit %s: %w", code, err)
	}
	if err := exec(ctx, s, fmt.Sprintf("create unit %s", code), `UPDATE units SET path = path || id WHERE id = $1`, id); err != nil {
		return domain.Unit{}, err
	}
	return s.UnitByID(ctx, id)
}

// SetThemeDay sets a branch's fixed 主题党日 day of month and clears its
// weekday rule (nil clears both).
func (s *Store) SetThemeDay(ctx context.Context, unitID int64, day *int) error {
	return exec(ctx, s, "set theme day", `UPDATE units SET theme_day = $2, theme_weekday = NULL, updated_at = now() WHERE id = $1`, unitID, day)
}

// SetStartedOn sets the date from which a unit's obligations are owed.
func (s *Store) SetStartedOn(ctx context.Context, unitID int64, d time.Time) error {
	return exec(ctx, s, "set start date", `UPDATE units SET started_on = $2, updated_at = now() WHERE id = $1`, unitID, d)
}

// UnitByCode finds a unit by its code.
func (s *Store) UnitByCode(ctx context.Context, code string) (domain.Unit, error) {
	u, err := getOne[domain.Unit](ctx, s, "unit "+code, `SELECT `+unitCols+` FROM units u WHERE u.code = $1`, code)
	if isNotFound(err) {
		// The code is what the user typed: say so in their words.
		return u, fmt.Errorf("storage: unit %s: %w", code, domain.UnitNotFound(code))
	}
	return u, err
}

// UnitByID finds a unit by id.
func (s *Store) UnitByID(ctx context.Context, id int64) (domain.Unit, error) {
	return getOne[domain.Unit](ctx, s, fmt.Sprintf("unit %d", id), `SELECT `+unitCols+` FROM units u WHERE u.id = $1`, id)
}

// UnitCodes returns every unit code with its kind, for import validation.
func (s *Store) UnitCodes(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Code string `db:"code"`
		Kind string `db:"kind"`
	}
	if err := sqlxSelect(ctx, s, &rows, `SELECT code, kind FROM units`); err != nil {
		return nil, fmt.Errorf("storage: unit codes: %w", err)
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Code] = r.Kind
	}
	return m, nil
}

// UnitParents returns code -> parent code for every unit (cycle checks).
func (s *Store) UnitParents(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Code   string  `db:"code"`
		Parent *string `db:"parent"`
	}
	if err := sqlxSelect(ctx, s, &rows, `SELECT u.code, p.code AS parent FROM units u LEFT JOIN units p ON p.id = u.parent_id`); err != nil {
		return nil, fmt.Errorf("storage: unit parents: %w", err)
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		if r.Parent != nil {
			m[r.Code] = *r.Parent
		} else {
			m[r.Code] = ""
		}
	}
	return m, nil
}

// Ancestors returns the unit's ancestors from the root down, excluding it.
func (s *Store) Ancestors(ctx context.Context, unitID int64) ([]domain.Unit, error) {
	return selectAll[domain.Unit](ctx, s, fmt.Sprintf("ancestors of %d", unitID), `
		SELECT `+unitCols+` FROM units me
		JOIN LATERAL unnest(me.path) WITH ORDINALITY AS a(id, n) ON true
		JOIN units u ON u.id = a.id
		WHERE me.id = $1 AND u.id <> me.id ORDER BY a.n`, unitID)
}

// Subtree returns the unit and all units below it, ordered by path.
func (s *Store) Subtree(ctx context.Context, unitID int64) ([]domain.Unit, error) {
	return selectAll[domain.Unit](ctx, s, fmt.Sprintf("subtree of %d", unitID), `SELECT `+unitCols+` FROM units u WHERE u.path @> ARRAY[$1::bigint] ORDER BY u.path`, unitID)
}

// AllUnits returns every unit ordered by path.
func (s *Store) AllUnits(ctx context.Context) ([]domain.Unit, error) {
	return selectAll[domain.Unit](ctx, s, "units", `SELECT `+unitCols+` FROM units u ORDER BY u.path`)
}

// InSubtree reports whether unit lies in root's subtree (root included).
func (s *Store) InSubtree(ctx context.Context, root, unit int64) (bool, error) {
	return getValue[bool](ctx, s, "in subtree", `SELECT EXISTS (SELECT 1 FROM units WHERE id = $2 AND path @> ARRAY[$1::bigint])`, root, unit)
}

// Int64s adapts a slice for "= ANY($1)".
func Int64s(ids []int64) any { return pq.Array(ids) }

// UnitPath returns the ids from the root down to the unit itself: what the
// access policy checks a role against.
func (s *Store) UnitPath(ctx context.Context, unitID int64) ([]int64, error) {
	path, err := getOne[pq.Int64Array](ctx, s, fmt.Sprintf("path of unit %d", unitID), `SELECT path FROM units WHERE id = $1`, unitID)
	if err != nil {
		return nil, err
	}
	return path, nil
}
