-- +goose Up

-- Free text waiting for its sender's 确认 (SPEC §7.3): what the bot read from a
-- message that was not a command, kept until the sender confirms, edits or
-- cancels it, or it expires (24 hours). One per message: a redelivered
-- update finds its row again; used_at makes a double tap count once.
CREATE TABLE freetext_pending (
    id          bigserial PRIMARY KEY,
    chat_id     bigint NOT NULL,
    message_id  bigint NOT NULL,
    person_id   bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('checkin', 'claim')),
    reading     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz,
    outcome     text CHECK (outcome IN ('confirmed', 'edit', 'cancelled')),
    UNIQUE (chat_id, message_id)
);
CREATE INDEX freetext_pending_open_idx ON freetext_pending (created_at) WHERE used_at IS NULL;

-- +goose Down
DROP TABLE freetext_pending;
