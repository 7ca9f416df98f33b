-- +goose Up

-- The branch health check (智能体检): what organisers decided about items
-- (exemptions, silences), what secretaries promised (acks), and the memory
-- that makes every notice go out at most once (notification_*).
--
-- An item is (unit, obligation, period): the unit is the branch, or the party
-- group for a per-group obligation; the period is its key ("2026-11",
-- "2026-Q4", "2026").

-- An organiser or admin above the branch excuses one item, with a reason.
-- Revoking marks the row; it is never deleted, so the 台账 shows it.
CREATE TABLE health_exemptions (
    id            bigserial PRIMARY KEY,
    unit_id       bigint NOT NULL REFERENCES units(id),
    obligation    text NOT NULL,
    period        text NOT NULL,
    reason        text NOT NULL CHECK (reason <> ''),
    created_by    bigint REFERENCES people(id),
    actor         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoked_by    bigint REFERENCES people(id),
    revoke_reason text
);
-- At most one standing exemption per item.
CREATE UNIQUE INDEX health_exemptions_item_idx ON health_exemptions (unit_id, obligation, period) WHERE revoked_at IS NULL;

-- A silence mutes notices about a unit's subtree (one obligation, or all when
-- obligation is NULL) for [starts_at, ends_at): the items are shown, not sent.
CREATE TABLE health_silences (
    id          bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units(id),
    obligation  text,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL CHECK (reason <> ''),
    created_by  bigint REFERENCES people(id),
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_by  bigint REFERENCES people(id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX health_silences_active_idx ON health_silences (ends_at) WHERE revoked_at IS NULL;

-- A secretary acknowledged (收到) a red item and promised a date: repeats of
-- its red notice pause until "until". The latest ack of an item counts.
CREATE TABLE health_acks (
    id          bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units(id),
    obligation  text NOT NULL,
    period      text NOT NULL,
    person_id   bigint NOT NULL REFERENCES people(id),
    acked_at    timestamptz NOT NULL,
    planned_on  date,
    until       timestamptz NOT NULL
);
CREATE INDEX health_acks_item_idx ON health_acks (unit_id, obligation, period, acked_at DESC, id DESC);

-- One digest: everything one person got from one evaluation, as one message
-- (several parts only past Telegram's length limit). dedupe_key is the
-- outbox key of its first part ("hc:<hash of its notice keys>"; parts
-- :1, :2, ...). A digest sent to the person's unit group (via_fallback) or
-- to nobody (undeliverable: no chat, no group) is a miss.
CREATE TABLE notification_digests (
    id            bigserial PRIMARY KEY,
    dedupe_key    text NOT NULL UNIQUE,
    person_id     bigint NOT NULL REFERENCES people(id),
    person_name   text NOT NULL,
    chat_id       bigint NOT NULL DEFAULT 0,
    via_fallback  boolean NOT NULL DEFAULT false,
    undeliverable boolean NOT NULL DEFAULT false,
    level         text NOT NULL,
    items         int NOT NULL,
    texts         text[] NOT NULL,
    at            timestamptz NOT NULL,          -- the evaluation instant
    sent_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_digests_misses_idx ON notification_digests (at DESC) WHERE via_fallback OR undeliverable;

-- The notification log: one row per notice line. Its key is the notice key
-- "person/unit/obligation/period/level/slot" (health.NoticeKey): a line is
-- logged, and so sent, at most once whatever restarts, retries or replicas.
-- Rows are written in the transaction that enqueues their digest.
CREATE TABLE notification_log (
    key         text PRIMARY KEY,
    person_id   bigint NOT NULL,
    unit_id     bigint NOT NULL,
    obligation  text NOT NULL,
    period      text NOT NULL,
    level       text NOT NULL CHECK (level IN ('green','yellow','red','resolved')),
    slot        bigint NOT NULL,
    role        text NOT NULL,
    org_level   smallint NOT NULL DEFAULT 0,
    digest_id   bigint NOT NULL REFERENCES notification_digests(id),
    at          timestamptz NOT NULL
);
CREATE INDEX notification_log_digest_idx ON notification_log (digest_id);

-- What the last evaluations left per unit (branch or group), so that the
-- next one reads a single row per unit: the lights that are yellow or red
-- (to see which changed) and, per (recipient, item, level), the latest slot
-- logged (to plan only what is new). It summarises notification_log and is
-- written in the same transaction; the log stays the authority (a line
-- this summary forgot is caught by the log's key and planned again).
CREATE TABLE health_memory (
    unit_id     bigint PRIMARY KEY,
    data        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What is done, per unit, kept by triggers on the check-in tables so that
-- an evaluation reads one short row per branch or group instead of every
-- check-in ever recorded. done lists, per obligation, the periods covered by
-- a check-in that is neither withdrawn nor rejected, as runs of consecutive
-- periods: "committee_meeting 2025-11..2026-04,committee_meeting 2026-06,
-- life_meeting 2025". A healthy branch has one run per obligation however
-- long its history.
CREATE TABLE health_done (
    unit_id  bigint PRIMARY KEY,
    done     text NOT NULL
);

-- health_period_seq numbers a period key within its kind (month, quarter,
-- year) so that consecutive periods differ by one; NULL for other shapes.
-- +goose StatementBegin
CREATE FUNCTION health_period_seq(p text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN substr(p, 1, 4)::int * 12 + substr(p, 6, 2)::int - 1
        WHEN p ~ '^[0-9]{4}-[Qq][1-4]$' THEN substr(p, 1, 4)::int * 4 + substr(p, 7, 1)::int - 1
        WHEN p ~ '^[0-9]{4}$' THEN p::int
    END
$$;
-- +goose StatementEnd

-- health_done_refresh recomputes the rows of the given units. It first
-- locks them (a transaction lock per unit; for a bulk change the table), so
-- that two check-ins of one unit committing at once cannot each write a
-- summary missing the other's: the second waits, then reads the first's.
-- +goose StatementBegin
CREATE FUNCTION health_done_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF units IS NULL OR cardinality(units) = 0 THEN
        RETURN;
    END IF;
    IF cardinality(units) > 32 THEN
        LOCK TABLE health_done IN SHARE ROW EXCLUSIVE MODE;
    ELSE
        PERFORM pg_advisory_xact_lock(1751475310, (u % 2147483647)::int) FROM (SELECT DISTINCT u FROM unnest(units) u ORDER BY u) x;
    END IF;
    DELETE FROM health_done h USING unnest(units) AS x(u) WHERE h.unit_id = x.u;
    INSERT INTO health_done (unit_id, done)
    SELECT unit_id, string_agg(obligation || ' ' || CASE WHEN lo = hi THEN lo ELSE lo || '..' || hi END, ',' ORDER BY obligation, first_seq)
    FROM (
        SELECT unit_id, obligation, min(seq) AS first_seq,
               (array_agg(period ORDER BY seq))[1] AS lo, (array_agg(period ORDER BY seq DESC))[1] AS hi
        FROM (
            SELECT unit_id, obligation, period, seq, shape,
                   seq - row_number() OVER (PARTITION BY unit_id, obligation, shape ORDER BY seq) AS run
            FROM (
                SELECT DISTINCT ci.unit_id, ci.obligation, upper(ci.period) AS period, health_period_seq(ci.period) AS seq,
                       CASE WHEN length(ci.period) = 4 THEN 'Y' WHEN upper(substr(ci.period, 6, 1)) = 'Q' THEN 'Q' ELSE 'M' END AS shape
                FROM (SELECT DISTINCT u FROM unnest(units) AS x(u)) x
                JOIN checkin_items ci ON ci.unit_id = x.u
                JOIN checkins c ON c.id = ci.checkin_id
                WHERE c.withdrawn_at IS NULL AND c.rejected_at IS NULL
            ) d
            WHERE seq IS NOT NULL
        ) g
        GROUP BY unit_id, obligation, shape, run
    ) r
    GROUP BY unit_id;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_done_items_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM health_done_refresh(ARRAY(SELECT DISTINCT unit_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM health_done_refresh(ARRAY(SELECT DISTINCT unit_id FROM old_rows));
    ELSE
        PERFORM health_done_refresh(ARRAY(SELECT unit_id FROM new_rows UNION SELECT unit_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_done_checkins_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM health_done_refresh(ARRAY(
        SELECT DISTINCT ci.unit_id
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN checkin_items ci ON ci.checkin_id = n.id
        WHERE (n.withdrawn_at IS NULL AND n.rejected_at IS NULL) IS DISTINCT FROM (o.withdrawn_at IS NULL AND o.rejected_at IS NULL)));
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER health_done_items_insert AFTER INSERT ON checkin_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_done_items_changed();
CREATE TRIGGER health_done_items_update AFTER UPDATE ON checkin_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_done_items_changed();
CREATE TRIGGER health_done_items_delete AFTER DELETE ON checkin_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION health_done_items_changed();
CREATE TRIGGER health_done_checkins_update AFTER UPDATE ON checkins
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_done_checkins_changed();

-- Check-ins recorded before this migration.
SELECT health_done_refresh(ARRAY(SELECT DISTINCT unit_id FROM checkin_items));

-- Evaluations that change state run one at a time (an advisory lock), and
-- this row says when the last one ran.
CREATE TABLE health_runs (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    root_id     bigint,
    started_at  timestamptz NOT NULL DEFAULT now(),
    took_ms     int NOT NULL,
    items       int NOT NULL,
    digests     int NOT NULL,
    lines       int NOT NULL,
    changes     int NOT NULL,
    deferred    boolean NOT NULL DEFAULT false
);

-- +goose Down
DROP TRIGGER health_done_checkins_update ON checkins;
DROP TRIGGER health_done_items_delete ON checkin_items;
DROP TRIGGER health_done_items_update ON checkin_items;
DROP TRIGGER health_done_items_insert ON checkin_items;
DROP FUNCTION health_done_checkins_changed(), health_done_items_changed(), health_done_refresh(bigint[]), health_period_seq(text);
DROP TABLE health_done, health_runs, health_memory, notification_log, notification_digests,
    health_acks, health_silences, health_exemptions;
