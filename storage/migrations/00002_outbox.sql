-- +goose Up

-- Delivery bookkeeping for the outbox dispatcher (package outbox).
--   attempts        API calls tried (counted when a row is claimed, so a crash
--                   in flight counts too); a 429 is an attempt but no failure
--   failures        temporary failures (5xx, timeouts): drives the back-off
--   lease_until     a row in 'sending' whose lease ran out goes back to
--                   'pending' (the dispatcher holding it died)
--   tg_message_ids  Telegram message ids of the parts sent so far (a long text
--                   goes out as several messages); tg_message_id is the last
--   edit_of         for editMessageText/editMessageReplyMarkup: the dedupe key
--                   of the message to edit, taken from the payload
ALTER TABLE outbox
    ADD COLUMN failures        int NOT NULL DEFAULT 0,
    ADD COLUMN lease_until     timestamptz,
    ADD COLUMN last_attempt_at timestamptz,
    ADD COLUMN failed_at       timestamptz,
    ADD COLUMN tg_message_ids  bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN edit_of         text GENERATED ALWAYS AS (payload->>'edit_of') STORED;

-- The oldest pending rows first: the share of every claim reserved for age,
-- so that no priority class starves.
CREATE INDEX outbox_pending_age_idx ON outbox (id) WHERE status = 'pending';
-- A chat's messages in order: a row goes out only when no earlier row of its
-- chat is pending or in flight.
CREATE INDEX outbox_chat_order_idx ON outbox (chat_id, priority, id)
    WHERE status IN ('pending', 'sending') AND method <> 'answerCallbackQuery';
CREATE INDEX outbox_lease_idx ON outbox (lease_until) WHERE status = 'sending';
CREATE INDEX outbox_failed_idx ON outbox (failed_at) WHERE status = 'failed';
-- Recent sends: a new leader paces chats its predecessor just wrote to.
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE status = 'sent';

-- +goose Down
DROP INDEX outbox_sent_at_idx, outbox_failed_idx, outbox_lease_idx, outbox_chat_order_idx, outbox_pending_age_idx;
ALTER TABLE outbox
    DROP COLUMN edit_of,
    DROP COLUMN tg_message_ids,
    DROP COLUMN failed_at,
    DROP COLUMN last_attempt_at,
    DROP COLUMN lease_until,
    DROP COLUMN failures;
