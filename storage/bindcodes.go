package storage

import (
	"context"
	"fmt"
	"time"
)

// CreateBindCode stores the hash of a fresh bind code for a person and, in
// the same statement, revokes the person's older unused codes (SPEC §7.5):
// only the newest code handed out works.
func (s *Store) CreateBindCode(ctx context.Context, personID int64, hash []byte, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `
		WITH revoked AS (DELETE FROM bind_codes WHERE person_id = $1 AND used_at IS NULL)
		INSERT INTO bind_codes (person_id, code_hash, expires_at) VALUES ($1, $2, $3)`, personID, hash, expires)
	if err != nil {
		return fmt.Errorf("storage: create bind code: %w", err)
	}
	return nil
}

// ConsumeBindCode marks an unused, unexpired code used and returns its
// person. Wrong, used and expired codes all return domain.ErrNotFound, so
// the caller cannot tell them apart (and cannot reveal which it was).
func (s *Store) ConsumeBindCode(ctx context.Context, hash []byte, now time.Time) (int64, error) {
	var personID int64
	err := s.q.QueryRowxContext(ctx, `
		UPDATE bind_codes SET used_at = $2
		WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING person_id`, hash, now).Scan(&personID)
	return personID, notFoundf(err, "bind code")
}
