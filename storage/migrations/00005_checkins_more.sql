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
-- first) carries the caption, i.e. the /checkin command. The bot only routes
-- messages with a command, so the captionless photos are caught here, when
-- their update is stored:
--   * each album photo (largest size) is remembered in checkin_album_photos;
--   * if the album's check-in already exists, the photo is appended to its
--     evidence at once;
--   * a check-in created from a captioned album photo collects the photos
--     remembered so far (app.RecordCheckin), so a captionless photo arriving
--     BEFORE the captioned one is not lost either.
-- Both sides take the same transaction-scoped advisory lock per album
-- (see storage.LockAlbum), so a photo stored while the check-in is being
-- created is attached by one side or the other, never by neither.
CREATE TABLE checkin_album_photos (
    chat_id        bigint NOT NULL,
    media_group_id text NOT NULL,
    file_id        text NOT NULL,
    update_id      bigint NOT NULL,
    PRIMARY KEY (chat_id, media_group_id, file_id)
);

-- +goose StatementBegin
CREATE FUNCTION checkin_album_photo() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m    jsonb := NEW.raw->'message';
    mg   text;
    chat bigint;
    fid  text;
BEGIN
    mg := m->>'media_group_id';
    IF mg IS NULL OR jsonb_typeof(m->'photo') IS DISTINCT FROM 'array' THEN
        RETURN NULL;
    END IF;
    chat := (m->'chat'->>'id')::bigint;
    SELECT p->>'file_id' INTO fid
    FROM jsonb_array_elements(m->'photo') AS p
    ORDER BY COALESCE((p->>'width')::bigint, 0) * COALESCE((p->>'height')::bigint, 0) DESC,
             COALESCE((p->>'file_size')::bigint, 0) DESC
    LIMIT 1;
    IF chat IS NULL OR fid IS NULL OR fid = '' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('checkin-album:' || chat::text || ':' || mg, 0));
    INSERT INTO checkin_album_photos (chat_id, media_group_id, file_id, update_id)
    VALUES (chat, mg, fid, NEW.update_id)
    ON CONFLICT DO NOTHING;
    UPDATE checkins SET evidence = evidence || fid
    WHERE chat_id = chat AND media_group_id = mg AND NOT (fid = ANY (evidence));
    RETURN NULL;
EXCEPTION WHEN others THEN
    -- Never let evidence bookkeeping refuse an inbound update.
    RAISE WARNING 'checkin_album_photo: update %: %', NEW.update_id, SQLERRM;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER updates_checkin_album
    AFTER INSERT ON updates
    FOR EACH ROW
    WHEN (NEW.raw->'message' ? 'media_group_id')
    EXECUTE FUNCTION checkin_album_photo();

-- +goose Down
DROP TRIGGER updates_checkin_album ON updates;
DROP FUNCTION checkin_album_photo();
DROP TABLE checkin_album_photos, checkin_pending;
DROP INDEX checkins_album_idx;
ALTER TABLE checkin_items DROP COLUMN pos;
