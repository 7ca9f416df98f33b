-- +goose Up

-- A 支部党员大会 with no more than half of its members present is recorded
-- but does not count (SPEC §7.1): its item is flagged and left out of the
-- done summary, so the period stays open and the next meeting counts for it.
ALTER TABLE checkin_items ADD COLUMN below_quorum boolean NOT NULL DEFAULT false;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_done_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
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
                    WHERE c.withdrawn_at IS NULL AND c.rejected_at IS NULL AND NOT ci.below_quorum
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION health_done_refresh(units bigint[]) RETURNS void LANGUAGE plpgsql AS $$
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

ALTER TABLE checkin_items DROP COLUMN below_quorum;
