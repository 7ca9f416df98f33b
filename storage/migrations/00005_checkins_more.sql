-- +goose Up

-- The order in which a check-in named its obligations (主题党日+党课), so that
-- the 台账 lists them as written.
ALTER TABLE checkin_items ADD COLUMN pos smallint NOT NULL DEFAULT 0;

CREATE INDEX checkins_album_idx ON checkins (chat_id, media_group_id) WHERE media_group_id IS NOT NULL;

-- A check-in waiting for its branch: the sender is secretary of several
-- branches and must tap one. Telegram limits callback data to 64 bytes, so
-- the parsed request waits here and the buttons carry "ci:<id>:<branch id>".
-- used_at is set once, when a tap records the check-in.
CREATE TABLE checkin_pending (
    id          bigserial PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    chat_id     bigint NOT NULL,
    request     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- Photos of Telegram albums. Telegram sends each photo of an album as its own
-- update with the same media_group_id, and only one of them (usually the
-- first) carries the caption, i.e. the /checkin command. Every album photo
-- (largest size) is remembered here as it is processed, and appended to the
-- album's check-in if that exists already; a check-in created from the
-- captioned photo collects the photos remembered so far, so a captionless
-- photo arriving BEFORE the captioned one is not lost either. Both sides
-- take the same transaction-scoped advisory lock per album (LockAlbum).
CREATE TABLE checkin_album_photos (
    chat_id        bigint NOT NULL,
    media_group_id text NOT NULL,
    file_id        text NOT NULL,
    update_id      bigint NOT NULL,
    PRIMARY KEY (chat_id, media_group_id, file_id)
);

-- +goose Down
DROP TABLE checkin_album_photos, checkin_pending;
DROP INDEX checkins_album_idx;
ALTER TABLE checkin_items DROP COLUMN pos;
