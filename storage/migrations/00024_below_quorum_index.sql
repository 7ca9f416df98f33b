-- +goose Up

-- Every health-check evaluation looks up the items below quorum
-- (BelowQuorumItems); without an index that read every check-in item (a
-- sequential scan of 2.9 million rows at 100,000 branches, 0.11–0.14 s of the
-- 0.94 s steady tick). Few items are ever below quorum: a partial index is small.
CREATE INDEX checkin_items_below_quorum_idx ON checkin_items (unit_id, obligation, period) WHERE below_quorum;

-- +goose Down
DROP INDEX checkin_items_below_quorum_idx;
