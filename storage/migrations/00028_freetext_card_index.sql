-- +goose Up

-- A reply to the card that shows a free-text reading corrects it (SPEC §7.3):
-- the card is found by the Telegram message replied to (PendingTextOfCard).
-- Only the cards, sent under the key freetext:<id>, are indexed: a small index,
-- and no cost to the other messages.
CREATE INDEX outbox_freetext_card_idx ON outbox (chat_id, tg_message_id) WHERE dedupe_key LIKE 'freetext:%';

-- +goose Down
DROP INDEX outbox_freetext_card_idx;
