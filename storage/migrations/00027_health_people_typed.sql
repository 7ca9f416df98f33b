-- +goose Up

-- The read model's people as typed arrays instead of one chr(30)/chr(31)-
-- joined text ("s<person>:<chat>:<name>"): per unit, its secretaries and
-- its organisers, each as three arrays of one length in person order (id,
-- chat: 0 = not linked or the person blocked the bot, name). The driver
-- reads them; nothing splits or parses them by hand.
ALTER TABLE health_units
    ADD COLUMN secretary_ids   bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN secretary_chats bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN secretary_names text[]   NOT NULL DEFAULT '{}',
    ADD COLUMN organiser_ids   bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN organiser_chats bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN organiser_names text[]   NOT NULL DEFAULT '{}',
    ADD CONSTRAINT health_units_secretaries_check
        CHECK (cardinality(secretary_chats) = cardinality(secretary_ids) AND cardinality(secretary_names) = cardinality(secretary_ids)),
    ADD CONSTRAINT health_units_organisers_check
        CHECK (cardinality(organiser_chats) = cardinality(organiser_ids) AND cardinality(organiser_names) = cardinality(organiser_ids));

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_people_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    units := health_units_lock(units, 2);
    IF cardinality(units) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO health_units AS h (unit_id, secretary_ids, secretary_chats, secretary_names, organiser_ids, organiser_chats, organiser_names)
    SELECT x.u, COALESCE(s.sids, '{}'), COALESCE(s.schats, '{}'), COALESCE(s.snames, '{}'),
           COALESCE(s.oids, '{}'), COALESCE(s.ochats, '{}'), COALESCE(s.onames, '{}')
    FROM unnest(units) AS x(u)
    LEFT JOIN (
        SELECT r.unit_id,
               array_agg(p.id ORDER BY p.id) FILTER (WHERE r.role = 'secretary') AS sids,
               array_agg(t.chat ORDER BY p.id) FILTER (WHERE r.role = 'secretary') AS schats,
               array_agg(p.name ORDER BY p.id) FILTER (WHERE r.role = 'secretary') AS snames,
               array_agg(p.id ORDER BY p.id) FILTER (WHERE r.role = 'organiser') AS oids,
               array_agg(t.chat ORDER BY p.id) FILTER (WHERE r.role = 'organiser') AS ochats,
               array_agg(p.name ORDER BY p.id) FILTER (WHERE r.role = 'organiser') AS onames
        FROM unnest(units) AS y(u)
        JOIN roles r ON r.unit_id = y.u
        JOIN people p ON p.id = r.person_id
        LEFT JOIN chat_links c ON c.person_id = p.id
        CROSS JOIN LATERAL (SELECT CASE WHEN c.unreachable_at IS NULL THEN COALESCE(c.chat_id, 0) ELSE 0 END AS chat) t
        WHERE r.role IN ('secretary', 'organiser')
        GROUP BY r.unit_id
    ) s ON s.unit_id = x.u
    ORDER BY x.u
    ON CONFLICT (unit_id) DO UPDATE SET secretary_ids = EXCLUDED.secretary_ids, secretary_chats = EXCLUDED.secretary_chats,
        secretary_names = EXCLUDED.secretary_names, organiser_ids = EXCLUDED.organiser_ids,
        organiser_chats = EXCLUDED.organiser_chats, organiser_names = EXCLUDED.organiser_names;
END
$$;
-- +goose StatementEnd

-- The arrays are derived from roles, people and chat_links, as the text
-- was: recomputing them from those tables converts every row.
SELECT health_people_refresh(ARRAY(SELECT unit_id FROM roles UNION SELECT unit_id FROM health_units WHERE people <> ''));
ALTER TABLE health_units DROP COLUMN people;

-- health_period_seq agrees with domain/health.ParseKey on year 0000 too
-- (not a period: years run 1..9999).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_period_seq(p text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p LIKE '0000%' THEN NULL
        WHEN p ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN substr(p, 1, 4)::int * 12 + substr(p, 6, 2)::int - 1
        WHEN p ~ '^[0-9]{4}-[Qq][1-4]$' THEN substr(p, 1, 4)::int * 4 + substr(p, 7, 1)::int - 1
        WHEN p ~ '^[0-9]{4}$' THEN p::int
    END
$$;
-- +goose StatementEnd
SELECT health_done_refresh(ARRAY(SELECT DISTINCT unit_id FROM checkin_items WHERE period LIKE '0000%'));

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_period_seq(p text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN substr(p, 1, 4)::int * 12 + substr(p, 6, 2)::int - 1
        WHEN p ~ '^[0-9]{4}-[Qq][1-4]$' THEN substr(p, 1, 4)::int * 4 + substr(p, 7, 1)::int - 1
        WHEN p ~ '^[0-9]{4}$' THEN p::int
    END
$$;
-- +goose StatementEnd
SELECT health_done_refresh(ARRAY(SELECT DISTINCT unit_id FROM checkin_items WHERE period LIKE '0000%'));

ALTER TABLE health_units ADD COLUMN people text NOT NULL DEFAULT '';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_people_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
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

SELECT health_people_refresh(ARRAY(SELECT unit_id FROM roles UNION
    SELECT unit_id FROM health_units WHERE cardinality(secretary_ids) + cardinality(organiser_ids) > 0));
ALTER TABLE health_units DROP COLUMN secretary_ids, DROP COLUMN secretary_chats, DROP COLUMN secretary_names,
    DROP COLUMN organiser_ids, DROP COLUMN organiser_chats, DROP COLUMN organiser_names;
