-- +goose Up

-- Failed /start attempts (wrong, used or expired bind codes), one row per
-- failure, so that every replica counts the same failures of a Telegram
-- account when it rate-limits them (SPEC §7.5). `at` is the server clock's.
CREATE TABLE bind_failures (
    id         bigserial PRIMARY KEY,
    tg_user_id bigint NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX bind_failures_user_at_idx ON bind_failures (tg_user_id, at);

-- A redeemed bind code for a person already linked to another Telegram
-- account waits here for the new account's confirmation (SPEC §7.5).
CREATE TABLE relink_requests (
    id         bigserial PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    tg_user_id bigint NOT NULL,
    chat_id    bigint NOT NULL,
    username   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'cancelled'))
);
CREATE INDEX relink_requests_person_idx ON relink_requests (person_id);

-- +goose Down
DROP TABLE relink_requests, bind_failures;
