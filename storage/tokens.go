package storage

import (
	"context"
	"fmt"
	"time"
)

// APIToken is a stored API token (its hash only).
type APIToken struct {
	ID        int64      `db:"id"`
	UnitID    int64      `db:"unit_id"`
	Role      string     `db:"role"`
	ExpiresAt *time.Time `db:"expires_at"`
}

// Expired reports whether the token has expired at now.
func (t APIToken) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// CreateToken stores the hash of a new API token, created at now; expires
// nil never expires.
func (s *Store) CreateToken(ctx context.Context, hash []byte, unitID int64, role string, now time.Time, expires *time.Time) (int64, error) {
	return getValue[int64](ctx, s, "create token", `INSERT INTO api_tokens (token_hash, unit_id, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		hash, unitID, role, now, expires)
}

// TokenByHash finds a token that is not revoked and, unless it has expired
// at now, notes its use. The caller refuses an expired one (Expired).
func (s *Store) TokenByHash(ctx context.Context, hash []byte, now time.Time) (APIToken, error) {
	return getOne[APIToken](ctx, s, "api token", `UPDATE api_tokens
		SET last_used_at = CASE WHEN expires_at IS NULL OR expires_at > $2 THEN $2 ELSE last_used_at END
		WHERE token_hash = $1 AND revoked_at IS NULL
		RETURNING id, unit_id, role, expires_at`, hash, now)
}

// TokenRow is a token as `zhibu token list` shows it (never its secret).
type TokenRow struct {
	ID         int64      `db:"id"`
	UnitCode   string     `db:"unit_code"`
	UnitName   string     `db:"unit_name"`
	Role       string     `db:"role"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  *time.Time `db:"expires_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

// Tokens lists the tokens that are not revoked (expired ones included) of
// the units in rootID's subtree (0: every unit), oldest first.
func (s *Store) Tokens(ctx context.Context, rootID int64) ([]TokenRow, error) {
	return selectAll[TokenRow](ctx, s, "list tokens", `SELECT t.id, u.code AS unit_code, u.name AS unit_name, t.role, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN units u ON u.id = t.unit_id
		WHERE t.revoked_at IS NULL AND ($1::bigint = 0 OR u.path @> ARRAY[$1::bigint])
		ORDER BY t.id`, rootID)
}

// RevokeToken marks a token revoked at now and deletes its dashboard
// sessions. It reports whether the token was live; ErrNotFound when there
// is no token with that id.
func (s *Store) RevokeToken(ctx context.Context, id int64, now time.Time) (bool, error) {
	revoked, err := getOne[*time.Time](ctx, s, fmt.Sprintf("api token %d", id), `SELECT revoked_at FROM api_tokens WHERE id = $1 FOR UPDATE`, id)
	if err != nil {
		return false, err
	}
	if err := exec(ctx, s, fmt.Sprintf("end sessions of token %d", id), `DELETE FROM dashboard_sessions WHERE token_id = $1`, id); err != nil {
		return false, err
	}
	if revoked != nil {
		return false, nil
	}
	if err := exec(ctx, s, fmt.Sprintf("revoke token %d", id), `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
		return false, err
	}
	return true, nil
}
