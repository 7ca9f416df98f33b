package storage

import (
	"context"
	"fmt"
)

// APIToken is a stored API token (its hash only).
type APIToken struct {
	ID     int64  `db:"id"`
	UnitID int64  `db:"unit_id"`
	Role   string `db:"role"`
}

// CreateToken stores the hash of a new API token.
func (s *Store) CreateToken(ctx context.Context, hash []byte, unitID int64, role string) (int64, error) {
	var id int64
	err := s.q.QueryRowxContext(ctx, `INSERT INTO api_tokens (token_hash, unit_id, role) VALUES ($1, $2, $3) RETURNING id`, hash, unitID, role).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storage: create token: %w", err)
	}
	return id, nil
}

// TokenByHash finds a live token and notes its use.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (APIToken, error) {
	var t APIToken
	err := sqlxGet(ctx, s, &t, `UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, unit_id, role`, hash)
	return t, notFoundf(err, "api token")
}
