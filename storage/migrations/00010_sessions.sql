-- +goose Up

-- API tokens may expire (zhibu token create --expires); NULL never expires.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- Dashboard sessions (SPEC §7.5): the browser's cookie holds a random
-- session id, never the API token; only the id's SHA-256 is stored. A
-- session belongs to the token it was opened with and ends with it:
-- revoking the token deletes its sessions, and a lookup joins the token,
-- so an expired or revoked token's sessions stop working at once.
CREATE TABLE dashboard_sessions (
    id           bigserial PRIMARY KEY,
    session_hash bytea NOT NULL UNIQUE,
    token_id     bigint NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_token_idx ON dashboard_sessions (token_id);
CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at);

-- +goose Down
DROP TABLE dashboard_sessions;
ALTER TABLE api_tokens DROP COLUMN expires_at;
