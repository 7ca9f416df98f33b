package storage

import (
	"context"
	"time"
)

// A dashboard session (SPEC §7.5) is known by the SHA-256 of the random id
// in the browser's cookie; it belongs to the API token it was opened with.

// DashSession is a live session and the token behind it.
type DashSession struct {
	ID        int64     `db:"session_id"`
	ExpiresAt time.Time `db:"session_expires_at"`
	Token     APIToken  `db:"token"`
}

// CreateSession stores a new session of tokenID, opened at now, until
// expires. Sessions that had expired at now are deleted on the way.
func (s *Store) CreateSession(ctx context.Context, hash []byte, tokenID int64, now, expires time.Time) (int64, error) {
	if err := exec(ctx, s, "prune sessions", `DELETE FROM dashboard_sessions WHERE expires_at <= $1`, now); err != nil {
		return 0, err
	}
	return getValue[int64](ctx, s, "create session", `INSERT INTO dashboard_sessions (session_hash, token_id, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $3) RETURNING id`, hash, tokenID, now, expires)
}

// SessionByHash finds a session that has not expired at now and whose token
// is neither revoked nor expired, and notes its use (the session's last
// seen, the token's last used). ErrNotFound otherwise.
func (s *Store) SessionByHash(ctx context.Context, hash []byte, now time.Time) (DashSession, error) {
	return getOne[DashSession](ctx, s, "dashboard session", `WITH live AS (
			UPDATE dashboard_sessions s SET last_seen_at = $2
			FROM api_tokens t
			WHERE s.session_hash = $1 AND s.expires_at > $2 AND t.id = s.token_id
			  AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
			RETURNING s.id, s.expires_at, t.id AS token_id, t.unit_id, t.role, t.expires_at AS token_expires_at
		), used AS (
			UPDATE api_tokens SET last_used_at = $2 WHERE id IN (SELECT token_id FROM live)
		)
		SELECT id AS session_id, expires_at AS session_expires_at, token_id AS "token.id", unit_id AS "token.unit_id",
		       role AS "token.role", token_expires_at AS "token.expires_at" FROM live`, hash, now)
}

// DeleteSession ends a session (logout, or one found dead); deleting one
// that is not there is no error.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return exec(ctx, s, "delete session", `DELETE FROM dashboard_sessions WHERE session_hash = $1`, hash)
}

// SessionCount counts the stored sessions of a token (expired ones too).
func (s *Store) SessionCount(ctx context.Context, tokenID int64) (int, error) {
	return getValue[int](ctx, s, "count sessions", `SELECT count(*) FROM dashboard_sessions WHERE token_id = $1`, tokenID)
}
