package storage

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// actorCache holds the chat links and roles of the senders of a batch of
// updates, read ahead in one statement (PrefetchActors) so that handling
// each update does not cost a round trip to learn who sent it. It lives in
// one transaction and is dropped by any write that could change what it
// holds (links, roles, units), so reads through it see the same as reads
// without it.
type actorCache struct {
	person map[int64]int64         // Telegram user → person; 0 = not linked
	roles  map[int64][]domain.Role // person → roles
}

// PrefetchActors reads ahead the links and roles of tgUserIDs for the rest
// of the transaction (a no-op outside one). Links and roles come in one
// statement, a row per role (one with no role for a person who has none):
// a batch costs one round trip whether its senders are linked or not.
func (s *Store) PrefetchActors(ctx context.Context, tgUserIDs []int64) error {
	if s.tx == nil || len(tgUserIDs) == 0 {
		return nil
	}
	// A person without roles comes as one row with an empty role.
	var rows []struct {
		TG int64 `db:"tg_user_id"`
		domain.Role
	}
	// The same roles, in the same order, as RolesOf.
	err := s.selectP(ctx, &rows, `
		SELECT l.tg_user_id, l.person_id, COALESCE(r.role, '') AS role, COALESCE(r.unit_id, 0) AS unit_id,
			COALESCE(r.unit_code, '') AS unit_code, COALESCE(r.unit_name, '') AS unit_name, COALESCE(r.unit_kind, '') AS unit_kind
		FROM chat_links l
		LEFT JOIN (SELECT r.person_id, r.role, r.unit_id, u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind
			FROM roles r JOIN units u ON u.id = r.unit_id) r ON r.person_id = l.person_id
		WHERE l.tg_user_id = ANY($1) ORDER BY l.tg_user_id, r.role, r.unit_code`, pq.Array(tgUserIDs))
	if err != nil {
		return fmt.Errorf("storage: prefetch chat links and roles: %w", err)
	}
	c := actorCache{person: make(map[int64]int64, len(tgUserIDs)), roles: map[int64][]domain.Role{}}
	for _, id := range tgUserIDs {
		c.person[id] = 0
	}
	// A link is one Telegram user to one person (both unique in
	// chat_links), so a person's rows all come with the same user.
	for _, r := range rows {
		c.person[r.TG] = r.PersonID
		if _, ok := c.roles[r.PersonID]; !ok {
			c.roles[r.PersonID] = nil
		}
		if r.Role.Role != "" {
			c.roles[r.PersonID] = append(c.roles[r.PersonID], r.Role)
		}
	}
	s.tx.actors = &c
	return nil
}

// cachedPerson answers PersonByTelegram from the read-ahead, if it has it.
func (s *Store) cachedPerson(tgUserID int64) (id int64, ok bool) {
	if s.tx == nil || s.tx.actors == nil {
		return 0, false
	}
	id, ok = s.tx.actors.person[tgUserID]
	return id, ok
}

// cachedRoles answers RolesOf from the read-ahead, if it has it.
func (s *Store) cachedRoles(personID int64) ([]domain.Role, bool) {
	if s.tx == nil || s.tx.actors == nil {
		return nil, false
	}
	rs, ok := s.tx.actors.roles[personID]
	return rs, ok
}

// accountsChanged drops the read-ahead after a write to links, roles or units.
func (s *Store) accountsChanged() {
	if s.tx != nil {
		s.tx.actors = nil
	}
}
