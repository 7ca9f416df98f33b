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
    dedupe_key    text COLLATE "C" NOT NULL UNIQUE,
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
-- Keys compare bytewise (COLLATE "C"): a province's morning logs tens of
-- thousands of lines, and the index need not know the language. digest_id
-- is not a foreign key: both rows are written by the same statement batch.
CREATE TABLE notification_log (
    key         text COLLATE "C" PRIMARY KEY,
    person_id   bigint NOT NULL,
    unit_id     bigint NOT NULL,
    obligation  text NOT NULL,
    period      text NOT NULL,
    level       text NOT NULL CHECK (level IN ('green','yellow','red','resolved')),
    slot        bigint NOT NULL,
    role        text NOT NULL,
    org_level   smallint NOT NULL DEFAULT 0,
    digest_id   bigint NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX notification_log_digest_idx ON notification_log (digest_id);

-- health_units holds, per unit (branch or party group; organisers' units
-- too), everything an evaluation reads about it besides the unit itself, so
-- that a province is one scan of one table joined to units. Each column has
-- one writer:
--
--   done    kept by triggers on checkins/checkin_items: per obligation, the
--           periods covered by a check-in neither withdrawn nor rejected, as
--           runs of consecutive periods, "committee_meeting 2025-11..2026-04,
--           committee_meeting 2026-06,life_meeting 2025" (a healthy branch
--           has one run per obligation however long its history);
--   people  kept by triggers on roles/people/chat_links: the secretaries and
--           organisers, separated by chr(30), "s<person>:<chat>:<name>" or
--           "o…" (chat 0 = not linked, or the person blocked the bot);
--   chat    kept by triggers on group_chats: the bound group (0 = none or it
--           refused the bot);
--   memory  written by evaluations: the lights that are yellow or red (to see
--           which changed) and per (recipient, item, level) the latest slot
--           logged (to plan only what is new) — a summary of
--           notification_log written in the same transaction; the log stays
--           the authority (a line this summary forgot is refused by the log's
--           key and planned again).
--
-- Triggers recompute a unit's column after taking a transaction lock on the
-- unit (per kind of column; the whole table for a bulk change), so that two
-- transactions changing one unit at once cannot each write a summary missing
-- the other's: the second waits, then reads the first's. Rows are written in
-- unit order, so that writers never deadlock.
CREATE TABLE health_units (
    unit_id  bigint PRIMARY KEY,
    done     text NOT NULL DEFAULT '',
    people   text NOT NULL DEFAULT '',
    chat     bigint NOT NULL DEFAULT 0,
    memory   text NOT NULL DEFAULT ''
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

-- health_units_lock locks the given units for the kind of column (1 done,
-- 2 people, 3 chat) and returns them sorted and distinct.
-- +goose StatementBegin
CREATE FUNCTION health_units_lock(units bigint[], kind int) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    sorted bigint[];
BEGIN
    sorted := ARRAY(SELECT DISTINCT u FROM unnest(units) u WHERE u IS NOT NULL ORDER BY u);
    IF cardinality(sorted) > 32 THEN
        LOCK TABLE health_units IN SHARE ROW EXCLUSIVE MODE;
    ELSE
        PERFORM pg_advisory_xact_lock(1751475310 + kind, (u % 2147483647)::int) FROM unnest(sorted) u;
    END IF;
    RETURN sorted;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_done_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    units := health_units_lock(units, 1);
    IF cardinality(units) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO health_units AS h (unit_id, done)
    SELECT x.u, COALESCE(s.done, '')
    FROM unnest(units) AS x(u)
    LEFT JOIN (
        SELECT unit_id, string_agg(obligation || ' ' || CASE WHEN lo = hi THEN lo ELSE lo || '..' || hi END, ',' ORDER BY obligation, first_seq) AS done
        FROM (
            SELECT unit_id, obligation, min(seq) AS first_seq,
                   (array_agg(period ORDER BY seq))[1] AS lo, (array_agg(period ORDER BY seq DESC))[1] AS hi
            FROM (
                SELECT unit_id, obligation, period, seq, shape,
                       seq - row_number() OVER (PARTITION BY unit_id, obligation, shape ORDER BY seq) AS run
                FROM (
                    SELECT DISTINCT ci.unit_id, ci.obligation, upper(ci.period) AS period, health_period_seq(ci.period) AS seq,
                           CASE WHEN length(ci.period) = 4 THEN 'Y' WHEN upper(substr(ci.period, 6, 1)) = 'Q' THEN 'Q' ELSE 'M' END AS shape
                    FROM unnest(units) AS x(u)
                    JOIN checkin_items ci ON ci.unit_id = x.u
                    JOIN checkins c ON c.id = ci.checkin_id
                    WHERE c.withdrawn_at IS NULL AND c.rejected_at IS NULL
                ) d
                WHERE seq IS NOT NULL
            ) g
            GROUP BY unit_id, obligation, shape, run
        ) r
        GROUP BY unit_id
    ) s ON s.unit_id = x.u
    ORDER BY x.u
    ON CONFLICT (unit_id) DO UPDATE SET done = EXCLUDED.done;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_people_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    units := health_units_lock(units, 2);
    IF cardinality(units) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO health_units AS h (unit_id, people)
    SELECT x.u, COALESCE(s.people, '')
    FROM unnest(units) AS x(u)
    LEFT JOIN (
        SELECT r.unit_id, string_agg(CASE WHEN r.role = 'secretary' THEN 's' ELSE 'o' END || p.id || ':' ||
               CASE WHEN c.unreachable_at IS NULL THEN COALESCE(c.chat_id, 0) ELSE 0 END || ':' ||
               translate(p.name, chr(31) || chr(30), '  '), chr(30) ORDER BY r.role DESC, p.id) AS people
        FROM unnest(units) AS y(u)
        JOIN roles r ON r.unit_id = y.u
        JOIN people p ON p.id = r.person_id
        LEFT JOIN chat_links c ON c.person_id = p.id
        WHERE r.role IN ('secretary', 'organiser')
        GROUP BY r.unit_id
    ) s ON s.unit_id = x.u
    ORDER BY x.u
    ON CONFLICT (unit_id) DO UPDATE SET people = EXCLUDED.people;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_chat_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    units := health_units_lock(units, 3);
    IF cardinality(units) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO health_units AS h (unit_id, chat)
    SELECT x.u, COALESCE((SELECT g.chat_id FROM group_chats g WHERE g.unit_id = x.u AND g.unreachable_at IS NULL), 0)
    FROM unnest(units) AS x(u)
    ORDER BY x.u
    ON CONFLICT (unit_id) DO UPDATE SET chat = EXCLUDED.chat;
END
$$;
-- +goose StatementEnd

-- Check-ins: items added, changed or removed; check-ins withdrawn, rejected
-- or restored.
-- +goose StatementBegin
CREATE FUNCTION health_items_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM health_done_refresh(ARRAY(SELECT unit_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM health_done_refresh(ARRAY(SELECT unit_id FROM old_rows));
    ELSE
        PERFORM health_done_refresh(ARRAY(SELECT unit_id FROM new_rows UNION SELECT unit_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_checkins_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM health_done_refresh(ARRAY(
        SELECT ci.unit_id
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN checkin_items ci ON ci.checkin_id = n.id
        WHERE (n.withdrawn_at IS NULL AND n.rejected_at IS NULL) IS DISTINCT FROM (o.withdrawn_at IS NULL AND o.rejected_at IS NULL)));
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- People: roles granted or removed, a renamed person, a chat linked,
-- unlinked or found unreachable.
-- +goose StatementBegin
CREATE FUNCTION health_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM health_people_refresh(ARRAY(SELECT unit_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM health_people_refresh(ARRAY(SELECT unit_id FROM old_rows));
    ELSE
        PERFORM health_people_refresh(ARRAY(SELECT unit_id FROM new_rows UNION SELECT unit_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_person_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM health_people_refresh(ARRAY(
        SELECT r.unit_id FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN roles r ON r.person_id = n.id
        WHERE n.name IS DISTINCT FROM o.name));
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM health_people_refresh(ARRAY(SELECT r.unit_id FROM new_rows n JOIN roles r ON r.person_id = n.person_id));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM health_people_refresh(ARRAY(SELECT r.unit_id FROM old_rows o JOIN roles r ON r.person_id = o.person_id));
    ELSE
        PERFORM health_people_refresh(ARRAY(
            SELECT r.unit_id FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id JOIN roles r ON r.person_id IN (n.person_id, o.person_id)
            WHERE (n.chat_id, n.unreachable_at IS NULL) IS DISTINCT FROM (o.chat_id, o.unreachable_at IS NULL)
            UNION
            SELECT r.unit_id FROM new_rows n JOIN roles r ON r.person_id = n.person_id
            WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.person_id = n.person_id)
            UNION
            SELECT r.unit_id FROM old_rows o JOIN roles r ON r.person_id = o.person_id
            WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.person_id = o.person_id)));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION health_groups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM health_chat_refresh(ARRAY(SELECT unit_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM health_chat_refresh(ARRAY(SELECT unit_id FROM old_rows));
    ELSE
        PERFORM health_chat_refresh(ARRAY(SELECT unit_id FROM new_rows UNION SELECT unit_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER health_items_insert AFTER INSERT ON checkin_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_items_changed();
CREATE TRIGGER health_items_update AFTER UPDATE ON checkin_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_items_changed();
CREATE TRIGGER health_items_delete AFTER DELETE ON checkin_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION health_items_changed();
CREATE TRIGGER health_checkins_update AFTER UPDATE ON checkins
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_checkins_changed();
CREATE TRIGGER health_roles_insert AFTER INSERT ON roles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_roles_changed();
CREATE TRIGGER health_roles_update AFTER UPDATE ON roles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_roles_changed();
CREATE TRIGGER health_roles_delete AFTER DELETE ON roles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION health_roles_changed();
CREATE TRIGGER health_people_update AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_person_renamed();
CREATE TRIGGER health_links_insert AFTER INSERT ON chat_links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_links_changed();
CREATE TRIGGER health_links_update AFTER UPDATE ON chat_links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_links_changed();
CREATE TRIGGER health_links_delete AFTER DELETE ON chat_links
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION health_links_changed();
CREATE TRIGGER health_groups_insert AFTER INSERT ON group_chats
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_groups_changed();
CREATE TRIGGER health_groups_update AFTER UPDATE ON group_chats
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_groups_changed();
CREATE TRIGGER health_groups_delete AFTER DELETE ON group_chats
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION health_groups_changed();

-- What existed before this migration.
SELECT health_done_refresh(ARRAY(SELECT DISTINCT unit_id FROM checkin_items));
SELECT health_people_refresh(ARRAY(SELECT DISTINCT unit_id FROM roles));
SELECT health_chat_refresh(ARRAY(SELECT unit_id FROM group_chats));

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
DROP TRIGGER health_groups_delete ON group_chats;
DROP TRIGGER health_groups_update ON group_chats;
DROP TRIGGER health_groups_insert ON group_chats;
DROP TRIGGER health_links_delete ON chat_links;
DROP TRIGGER health_links_update ON chat_links;
DROP TRIGGER health_links_insert ON chat_links;
DROP TRIGGER health_people_update ON people;
DROP TRIGGER health_roles_delete ON roles;
DROP TRIGGER health_roles_update ON roles;
DROP TRIGGER health_roles_insert ON roles;
DROP TRIGGER health_checkins_update ON checkins;
DROP TRIGGER health_items_delete ON checkin_items;
DROP TRIGGER health_items_update ON checkin_items;
DROP TRIGGER health_items_insert ON checkin_items;
DROP FUNCTION health_groups_changed(), health_links_changed(), health_person_renamed(), health_roles_changed(),
    health_checkins_changed(), health_items_changed(), health_chat_refresh(bigint[]), health_people_refresh(bigint[]),
    health_done_refresh(bigint[]), health_units_lock(bigint[], int), health_period_seq(text);
DROP TABLE health_runs, health_units, notification_log, notification_digests, health_acks, health_silences, health_exemptions;
