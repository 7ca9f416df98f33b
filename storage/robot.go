package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// Group robots (migration 00007): WeCom, DingTalk and Feishu webhook robots
// of a unit, which the outbox channels of the same names post to.

// Robot is a stored group robot.
type Robot struct {
	ID        int64     `db:"id"`
	UnitID    int64     `db:"unit_id"`
	UnitCode  string    `db:"unit_code"`
	Kind      string    `db:"kind"`
	URL       string    `db:"url"`
	Secret    string    `db:"secret"`
	Active    bool      `db:"active"`
	CreatedAt time.Time `db:"created_at"`
}

// ErrRobotExists is a robot of the same kind and URL registered already; the
// app puts it in words.
var ErrRobotExists = fmt.Errorf("storage: a robot with this kind and URL exists: %w", domain.ErrConflict)

const robotCols = `r.id, r.unit_id, u.code AS unit_code, r.kind, r.url, r.secret, r.active, r.created_at`

// CreateRobot stores a robot; a robot with the same kind and URL already
// registered is domain.ErrConflict.
func (s *Store) CreateRobot(ctx context.Context, unitID int64, kind, url, secret string) (Robot, error) {
	var id int64
	err := s.q.QueryRowxContext(ctx, `INSERT INTO robots (unit_id, kind, url, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
		unitID, kind, url, secret).Scan(&id)
	if isUnique(err) {
		return Robot{}, ErrRobotExists
	}
	if err != nil {
		return Robot{}, fmt.Errorf("storage: create robot: %w", err)
	}
	return s.RobotByID(ctx, id)
}

// RobotByID returns a robot, active or not.
func (s *Store) RobotByID(ctx context.Context, id int64) (Robot, error) {
	return getOne[Robot](ctx, s, fmt.Sprintf("robot %d", id), `SELECT `+robotCols+` FROM robots r JOIN units u ON u.id = r.unit_id WHERE r.id = $1`, id)
}

// ActiveRobotsOf lists a unit's active robots, by id.
func (s *Store) ActiveRobotsOf(ctx context.Context, unitID int64) ([]Robot, error) {
	return orEmpty(selectAll[Robot](ctx, s, fmt.Sprintf("robots of %d", unitID), `SELECT `+robotCols+` FROM robots r JOIN units u ON u.id = r.unit_id
		WHERE r.unit_id = $1 AND r.active ORDER BY r.id`, unitID))
}

// RobotsIn lists the robots of root's subtree (root 0: all), by id.
func (s *Store) RobotsIn(ctx context.Context, root int64) ([]Robot, error) {
	return orEmpty(selectAll[Robot](ctx, s, "robots", `SELECT `+robotCols+` FROM robots r JOIN units u ON u.id = r.unit_id
		WHERE ($1 = 0 OR u.path @> ARRAY[$1::bigint]) ORDER BY r.id`, root))
}

// SetRobotActive turns a robot on or off.
func (s *Store) SetRobotActive(ctx context.Context, id int64, active bool) error {
	res, err := s.q.ExecContext(ctx, `UPDATE robots SET active = $2 WHERE id = $1`, id, active)
	return affectedOne(res, err, "set robot active", fmt.Sprintf("robot %d", id))
}

// RobotUnits lists the units that have at least one active robot.
func (s *Store) RobotUnits(ctx context.Context) ([]int64, error) {
	return selectAll[int64](ctx, s, "robot units", `SELECT DISTINCT unit_id FROM robots WHERE active ORDER BY unit_id`)
}

// OrganiserUnitsOver answers, for each (persons[i], units[i]), in which of
// the candidate units the person holds the organiser role over units[i]:
// the nearest such unit at or above it, 0 when there is none.
func (s *Store) OrganiserUnitsOver(ctx context.Context, persons, units, candidates []int64) ([]int64, error) {
	return selectAll[int64](ctx, s, "organiser units", `
		SELECT COALESCE((
			SELECT r.unit_id FROM roles r JOIN units a ON a.id = r.unit_id
			WHERE r.person_id = t.person AND r.role = 'organiser' AND r.unit_id = ANY($3)
			  AND (SELECT path FROM units WHERE id = t.unit) @> ARRAY[r.unit_id]
			ORDER BY cardinality(a.path) DESC LIMIT 1), 0)
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS t(person, unit, ord)
		ORDER BY ord`, pq.Array(persons), pq.Array(units), pq.Array(candidates))
}
