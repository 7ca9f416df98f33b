-- +goose Up

-- The inbound update log keeps each update as Telegram sent it. jsonb
-- refuses some valid JSON (a "\u0000" escape, a lone surrogate) and
-- rewrites the rest (key order, duplicate keys, number spelling); json
-- keeps the text as received and only checks its syntax. Nothing queries
-- inside raw; it is read back whole.
ALTER TABLE updates ALTER COLUMN raw TYPE json USING raw::json;

-- +goose Down
ALTER TABLE updates ALTER COLUMN raw TYPE jsonb USING raw::jsonb;
