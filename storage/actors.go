package storage

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// actorCache holds the chat links and roles of the senders of a batch of
// updates, read ahead in two statements (PrefetchActors) so that handling
// each update does not cost a round trip to learn who sent it. It lives in
// one transaction and is dropped by any write that could change what it
// holds (links, roles, units), so reads through it see the same as reads
// without it.
type actorCache struct {
	person map[int64]int64         // Telegram user → person; 0 = not linked
	roles  map[int64][]domain.Role // person → roles
}

// PrefetchActors reads ahead the links and roles of tgUserIDs for the rest
// of the transaction (a no-op outside one).
func (s *Store) PrefetchActors(ctx context.Context, tgUserIDs []int64) error {
	if s.tx == nil || len(tgUserIDs) == 0 {
		return nil
	}
	var links []struct {
		TG     int64 `db:"tg_user_id"`
		Person int64 `db:"person_id"`
	}
	if err := s.selectP(ctx, &links, `SELECT tg_user_id, person_id FROM chat_links WHERE tg_user_id = ANY($1)`, pq.Array(tgUserIDs)); err != nil {
		return fmt.Errorf("storage: prefetch chat links: %w", err)
	}
	c := actorCache{person: make(map[int64]int64, len(tgUserIDs)), roles: map[int64][]domain.Role{}}
	for _, id := range tgUserIDs {
		c.person[id] = 0
	}
	persons := make([]int64, 0, len(links))
	for _, l := range links {
		c.person[l.TG] = l.Person
		c.roles[l.Person] = nil
		persons = append(persons, l.Person)
	}
	if len(persons) > 0 {
		var rs []domain.Role
		err := s.selectP(ctx, &rs, `
			SELECT r.person_id, r.role, r.unit_id, u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind
			FROM roles r JOIN units u ON u.id = r.unit_id
			WHERE r.person_id = ANY($1) ORDER BY r.person_id, r.role, u.code`, pq.Array(persons))
		if err != nil {
			return fmt.Errorf("storage: prefetch roles: %w", err)
		}
		for _, r := range rs {
			c.roles[r.PersonID] = append(c.roles[r.PersonID], r)
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
