-- +goose Up
-- The fencing epoch of each leader lock (leader.Key): a replica that takes
-- the advisory lock increments it on the lock's own session, and claims of
-- outbox rows carry the epoch they were made under; the database refuses a
-- claim whose epoch is no longer the current one (a leader that lost its
-- lock without knowing it).
CREATE TABLE leader_epoch (
	key        bigint PRIMARY KEY,
	epoch      bigint NOT NULL,
	taken_at   timestamptz NOT NULL DEFAULT now()
);

-- The leadership a row in flight was claimed under (NULL: no fence, or
-- claimed before this migration). A new leader puts back at once the rows
-- claimed under an older epoch of its key instead of waiting out their lease.
ALTER TABLE outbox ADD COLUMN claim_key bigint, ADD COLUMN claim_epoch bigint;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claim_key, DROP COLUMN claim_epoch;
DROP TABLE leader_epoch;
