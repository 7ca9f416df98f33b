-- +goose Up

-- A held meeting reported by a secretary: one sitting may meet several
-- obligations (checkin_items). Withdrawn (/undo) and rejected (驳回) check-ins
-- are kept and marked, never deleted, so the 台账 shows what happened.
CREATE TABLE checkins (
    id             bigserial PRIMARY KEY,
    branch_id      bigint NOT NULL REFERENCES units(id),
    held_on        date NOT NULL,
    present        int CHECK (present >= 0),
    total          int CHECK (total >= 1),
    topic          text NOT NULL DEFAULT '',
    evidence       text[] NOT NULL DEFAULT '{}',
    media_group_id text,
    source         text NOT NULL DEFAULT 'telegram',
    chat_id        bigint,
    message_id     bigint,
    recorded_by    bigint REFERENCES people(id),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    withdrawn_at   timestamptz,
    rejected_at    timestamptz,
    rejected_by    bigint REFERENCES people(id),
    reject_reason  text,
    CHECK (present IS NULL OR total IS NULL OR present <= total)
);
CREATE INDEX checkins_branch_idx ON checkins (branch_id, held_on);
CREATE INDEX checkins_recorded_by_idx ON checkins (recorded_by, recorded_at);
CREATE INDEX checkins_media_group_idx ON checkins (media_group_id) WHERE media_group_id IS NOT NULL;

-- Which obligation and period a check-in counts for, and for which unit (the
-- branch, or the party group for per-group obligations).
CREATE TABLE checkin_items (
    checkin_id  bigint NOT NULL REFERENCES checkins(id),
    obligation  text NOT NULL,
    period      text NOT NULL,
    unit_id     bigint NOT NULL REFERENCES units(id),
    late        boolean NOT NULL DEFAULT false,
    extra       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (checkin_id, obligation, unit_id)
);
CREATE INDEX checkin_items_lookup_idx ON checkin_items (unit_id, obligation, period);

-- +goose Down
DROP TABLE checkin_items, checkins;
