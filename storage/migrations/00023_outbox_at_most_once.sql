-- +goose Up
-- At most once for the messages that must never arrive twice (the health
-- check's red notices: storage.AtMostOnce). Before the Bot API call of such
-- a row the dispatcher commits call_started_at; a row taken back in flight
-- (its leader replaced, its lease run out) whose call had begun is not sent
-- again but ends 'uncertain': it may or may not have been delivered.
-- NULL: no call under way whose result is unrecorded, or a row of any
-- other kind (at least once, as before).
ALTER TABLE outbox ADD COLUMN call_started_at timestamptz;
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check,
	ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain'));

-- +goose Down
UPDATE outbox SET status = 'failed' WHERE status = 'uncertain';
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check,
	ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed'));
ALTER TABLE outbox DROP COLUMN call_started_at;
