package storage

import (
	"context"
	"fmt"

	"github.com/zhibu/zhibu/domain"
)

// PersonRow is one imported (person, role) line.
type PersonRow struct {
	Name, Phone, Role, UnitCode, Household string
}

// UpsertPerson finds a person by phone, else by name among the people who
// hold a role in the unit, else creates one. It returns the id and whether
// it was created.
func (s *Store) UpsertPerson(ctx context.Context, name, phone string, unitID int64) (int64, bool, error) {
	if phone != "" {
		var id int64
		var created bool
		err := s.q.QueryRowxContext(ctx, `
			INSERT INTO people (name, phone) VALUES ($1, $2)
			ON CONFLICT (phone) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
			RETURNING id, (xmax = 0)`, name, phone).Scan(&id, &created)
		if err != nil {
			return 0, false, fmt.Errorf("storage: upsert person %s: %w", name, err)
		}
		return id, created, nil
	}
	id, found, err := getIfAny[int64](ctx, s, "person", `
		SELECT p.id FROM people p JOIN roles r ON r.person_id = p.id
		WHERE p.name = $1 AND r.unit_id = $2 ORDER BY p.id LIMIT 1`, name, unitID)
	if err != nil || found {
		return id, false, err
	}
	if id, err = getValue[int64](ctx, s, "create person "+name, `INSERT INTO people (name) VALUES ($1) RETURNING id`, name); err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// AddRole grants role in unit; granting it twice is a no-op.
func (s *Store) AddRole(ctx context.Context, personID int64, role string, unitID int64) error {
	s.accountsChanged()
	return exec(ctx, s, "add role", `INSERT INTO roles (person_id, role, unit_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, personID, role, unitID)
}

// EnsureHousehold returns the household with code in the village, creating it.
func (s *Store) EnsureHousehold(ctx context.Context, villageID int64, code string) (int64, error) {
	return getValue[int64](ctx, s, fmt.Sprintf("household %s", code), `
		INSERT INTO households (unit_id, code) VALUES ($1, $2)
		ON CONFLICT (unit_id, code) DO UPDATE SET code = EXCLUDED.code
		RETURNING id`, villageID, code)
}

// SetHousehold puts a person in a household.
func (s *Store) SetHousehold(ctx context.Context, personID, householdID int64) error {
	return exec(ctx, s, "set household", `UPDATE people SET household_id = $2, updated_at = now() WHERE id = $1`, personID, householdID)
}

// PersonByID loads a person.
func (s *Store) PersonByID(ctx context.Context, id int64) (domain.Person, error) {
	return getOne[domain.Person](ctx, s, fmt.Sprintf("person %d", id), `SELECT id, name, phone, household_id FROM people WHERE id = $1`, id)
}

// PersonByPhone loads a person by phone.
func (s *Store) PersonByPhone(ctx context.Context, phone string) (domain.Person, error) {
	return getOne[domain.Person](ctx, s, "person with phone", `SELECT id, name, phone, household_id FROM people WHERE phone = $1`, phone)
}

// RolesOf lists a person's roles with their units.
func (s *Store) RolesOf(ctx context.Context, personID int64) ([]domain.Role, error) {
	if rs, ok := s.cachedRoles(personID); ok {
		return rs, nil
	}
	return selectAll[domain.Role](ctx, s, fmt.Sprintf("roles of %d", personID), `
		SELECT r.person_id, r.role, r.unit_id, u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind
		FROM roles r JOIN units u ON u.id = r.unit_id
		WHERE r.person_id = $1 ORDER BY r.role, u.code`, personID)
}

// Holder is a person holding a role in a unit, with their chat if linked.
type Holder struct {
	PersonID    int64   `db:"person_id"`
	Name        string  `db:"name"`
	Phone       *string `db:"phone"`
	Role        string  `db:"role"`
	UnitID      int64   `db:"unit_id"`
	UnitCode    string  `db:"unit_code"`
	ChatID      *int64  `db:"chat_id"`
	Unreachable bool    `db:"unreachable"`
}

// holdersOf selects the Holders of root $1's subtree (0 = every unit) with
// role $2 ("" = every role); the caller adds its own conditions and order.
const holdersOf = `
		SELECT p.id AS person_id, p.name, p.phone, r.role, u.id AS unit_id, u.code AS unit_code,
		       c.chat_id, (c.unreachable_at IS NOT NULL) AS unreachable
		FROM roles r
		JOIN units u ON u.id = r.unit_id
		JOIN people p ON p.id = r.person_id
		LEFT JOIN chat_links c ON c.person_id = p.id
		WHERE ($1 = 0 OR u.path @> ARRAY[$1::bigint])
		  AND ($2 = '' OR r.role = $2)`

// HoldersInSubtree lists role holders of units in root's subtree (root 0 =
// every unit); role "" means every role. unlinkedOnly keeps people without
// a chat link.
func (s *Store) HoldersInSubtree(ctx context.Context, rootID int64, role string, unlinkedOnly bool) ([]Holder, error) {
	return selectAll[Holder](ctx, s, "holders", holdersOf+`
		  AND (NOT $3 OR c.person_id IS NULL)
		ORDER BY u.path, r.role, p.name, p.id`, rootID, role, unlinkedOnly)
}

// HolderKey is a role holder's place in the order of HoldersInSubtree.
type HolderKey struct {
	UnitID   int64
	Role     string
	PersonID int64
}

// HoldersPage is one page of HoldersInSubtree (every holder, linked or
// not): at most limit holders after the one at after (nil: from the first),
// in the same order, found by the index rather than by reading the subtree.
func (s *Store) HoldersPage(ctx context.Context, rootID int64, role string, after *HolderKey, limit int) ([]Holder, error) {
	var au, ap int64
	var ar any
	if after != nil {
		au, ar, ap = after.UnitID, after.Role, after.PersonID
	}
	return orEmpty(selectAll[Holder](ctx, s, "holders page", holdersOf+`
		  AND ($4::text IS NULL OR (u.path, r.role, p.name, p.id) >
		       (SELECT cu.path, $4::text, cp.name, cp.id FROM units cu, people cp WHERE cu.id = $3 AND cp.id = $5))
		ORDER BY u.path, r.role, p.name, p.id
		LIMIT $6`, rootID, role, au, ar, ap, limit))
}
