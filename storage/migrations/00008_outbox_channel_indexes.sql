-- +goose Up

-- Every channel (telegram, wecom, dingtalk, feishu) has its own dispatcher,
-- and each claims only its channel's rows. With the channel first in the
-- pending indexes, a robot dispatcher woken by a Telegram reply finds that
-- it has nothing to do at once, instead of walking every pending Telegram
-- row (which under load made its empty claims the costliest statement).
DROP INDEX outbox_pending_idx, outbox_pending_age_idx;
CREATE INDEX outbox_pending_idx ON outbox (channel, priority, id) WHERE status = 'pending';
CREATE INDEX outbox_pending_age_idx ON outbox (channel, id) WHERE status = 'pending';

-- +goose Down
DROP INDEX outbox_pending_idx, outbox_pending_age_idx;
CREATE INDEX outbox_pending_idx ON outbox (priority, id) WHERE status = 'pending';
CREATE INDEX outbox_pending_age_idx ON outbox (id) WHERE status = 'pending';
