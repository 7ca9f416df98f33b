package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// CalendarDay is one imported day of the official calendar.
type CalendarDay struct {
	Day  time.Time `db:"day"`
	Kind string    `db:"kind"` // holiday | workday
	Name string    `db:"name"`
}

// CalendarDays lists the imported days, oldest first.
func (s *Store) CalendarDays(ctx context.Context) ([]CalendarDay, error) {
	return selectAll[CalendarDay](ctx, s, "calendar days", `SELECT day, kind, name FROM calendar_days ORDER BY day`)
}

// ReplaceCalendarYears replaces every imported day of the given years with
// days (which must lie in those years). It returns how many days of those
// years were stored before.
func (s *Store) ReplaceCalendarYears(ctx context.Context, years []int, days []CalendarDay) (replaced int, err error) {
	ys := make([]int64, len(years))
	for i, y := range years {
		ys[i] = int64(y)
	}
	n, err := execCount(ctx, s, fmt.Sprintf("clear calendar years %v", years), `DELETE FROM calendar_days WHERE extract(year FROM day)::int = ANY($1)`, pq.Array(ys))
	if err != nil {
		return 0, err
	}
	if len(days) == 0 {
		return int(n), nil
	}
	dates := make([]string, len(days))
	kinds := make([]string, len(days))
	names := make([]string, len(days))
	for i, d := range days {
		dates[i], kinds[i], names[i] = d.Day.Format(time.DateOnly), d.Kind, d.Name
	}
	if err := exec(ctx, s, "store calendar days", `INSERT INTO calendar_days (day, kind, name)
		SELECT d::date, k, n FROM unnest($1::text[], $2::text[], $3::text[]) AS t(d, k, n)`,
		pq.Array(dates), pq.Array(kinds), pq.Array(names)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// TopOrganisers lists the organisers of the units at the top of the tree
// (no parent), linked or not.
func (s *Store) TopOrganisers(ctx context.Context) ([]Holder, error) {
	return selectAll[Holder](ctx, s, "top organisers", `
		SELECT p.id AS person_id, p.name, p.phone, r.role, u.id AS unit_id, u.code AS unit_code,
		       c.chat_id, (c.unreachable_at IS NOT NULL) AS unreachable
		FROM roles r
		JOIN units u ON u.id = r.unit_id AND u.parent_id IS NULL
		JOIN people p ON p.id = r.person_id
		LEFT JOIN chat_links c ON c.person_id = p.id
		WHERE r.role = 'organiser'
		ORDER BY u.id, p.name, p.id`)
}
