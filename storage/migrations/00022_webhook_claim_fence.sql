-- +goose Up
-- The leadership a webhook delivery in flight was claimed under, as on the
-- outbox (migration 00013): claims carry the leader's fencing epoch, the
-- database refuses one whose epoch is no longer current, and a new leader
-- puts back at once the deliveries claimed under an older epoch of its key
-- instead of waiting out their lease. NULL: no fence, or claimed before
-- this migration (their lease brings them back).
ALTER TABLE webhook_deliveries ADD COLUMN claim_key bigint, ADD COLUMN claim_epoch bigint;

-- +goose Down
ALTER TABLE webhook_deliveries DROP COLUMN claim_key, DROP COLUMN claim_epoch;
