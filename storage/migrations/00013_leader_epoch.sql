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

-- +goose Down
DROP TABLE leader_epoch;
