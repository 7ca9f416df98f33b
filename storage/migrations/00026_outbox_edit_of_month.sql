-- +goose Up

-- An edit (editMessageText with edit_of) names its original by dedupe key,
-- which may be a row of any month. The claim looked the original up in every
-- month's partition, for every row it claimed and every edit it considered;
-- edit_of_month is the original's part_month, written with the edit
-- (Store.Enqueue), so the claim searches that one partition. NULL for an edit
-- whose original did not exist when it was enqueued: such an edit is never
-- due, as before (its original never went out), and expires.
ALTER TABLE outbox ADD COLUMN edit_of_month date;

-- Only the rows the claim can still take need it.
UPDATE outbox o SET edit_of_month = (SELECT max(k.part_month) FROM outbox k WHERE k.dedupe_key = o.edit_of)
WHERE o.edit_of IS NOT NULL AND o.status IN ('pending', 'sending');

-- +goose Down
ALTER TABLE outbox DROP COLUMN edit_of_month;
