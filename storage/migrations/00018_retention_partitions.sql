-- +goose Up
-- Retention by partition (SPEC §7.7): the update log, the outbox and the
-- webhook attempts are kept in monthly partitions, and the retention job
-- (storage/retention.go) drops whole partitions once they are older than
-- their window instead of DELETEing rows.
--
-- Each table gets a partition key part_month: the first day of the UTC
-- month the row was written in (the database's clock, by default; rows
-- already stored take the month of their own timestamp). A unique key of a
-- partitioned table must contain the partition key, so the keys become
-- (update_id, part_month), (dedupe_key, part_month), (id, part_month) and
-- (delivery_id, attempt, part_month); the inserts that rely on them
-- (storage/updates.go, storage/outbox.go) also refuse a key stored in
-- another partition: an update_id for as long as it is kept, an outbox key
-- within the current and the previous month (storage/livemonths.go). See
-- docs/ARCHITECTURE.md (Retention).
--
-- Partitions are named <table>_pYYYYMM; <table>_default catches a month
-- whose partition does not exist yet, so that an insert never fails;
-- retention_ensure_partition moves such rows into their partition when it
-- is made. This migration makes the partitions of every month already
-- stored, the current month and the next; the job makes the months ahead.
SET LOCAL statement_timeout = 0;

-- +goose StatementBegin
CREATE FUNCTION retention_ensure_partition(tbl text, m date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	lo   date := date_trunc('month', m)::date;
	hi   date := (date_trunc('month', m) + interval '1 month')::date;
	part text := format('%s_p%s', tbl, to_char(date_trunc('month', m), 'YYYYMM'));
	cols text;
	stray boolean;
BEGIN
	-- Two callers at once (the migration and a job) make it once.
	PERFORM pg_advisory_xact_lock(hashtext('retention:' || tbl));
	IF to_regclass(part) IS NOT NULL THEN
		RETURN false;
	END IF;
	-- CREATE TABLE ... PARTITION OF would hold an ACCESS EXCLUSIVE lock on
	-- the parent, stopping every reader and writer meanwhile; ATTACH takes
	-- SHARE UPDATE EXCLUSIVE, which lets them run (the default partition,
	-- scanned for rows of this month, is locked for that moment).
	EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE)', part, tbl);
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE part_month >= %L AND part_month < %L)', tbl || '_default', lo, hi)
		INTO stray;
	IF stray THEN
		-- Rows of this month landed in the default partition before the
		-- partition existed: move them in, then attach.
		SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
		FROM pg_attribute WHERE attrelid = tbl::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
		EXECUTE format('WITH moved AS (DELETE FROM %I WHERE part_month >= %L AND part_month < %L RETURNING %s) INSERT INTO %I (%s) SELECT %s FROM moved',
			tbl || '_default', lo, hi, cols, part, cols, cols);
	END IF;
	-- The partition constraint as a CHECK spares ATTACH a scan of the table.
	EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (part_month >= %L AND part_month < %L)', part, part || '_month', lo, hi);
	EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', tbl, part, lo, hi);
	EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_month');
	RETURN true;
END $$;
-- +goose StatementEnd

-- retention_convert turns table tbl into a table partitioned by month,
-- keeping every row (the month of time_col) and every index, constraint,
-- default and sequence; its unique keys gain part_month.
-- +goose StatementBegin
CREATE FUNCTION retention_convert(tbl text, time_col text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	old     text := tbl || '_unpartitioned';
	r       record;
	idxdefs text[] := '{}';
	condefs text[] := '{}';
	cols    text;
	m       date;
BEGIN
	-- Secondary indexes, as written for tbl: made again on the new table.
	FOR r IN SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
		FROM pg_index i WHERE i.indrelid = tbl::regclass
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
	LOOP
		idxdefs := idxdefs || r.def;
		EXECUTE format('DROP INDEX %s', r.name);
	END LOOP;
	-- Keys and foreign keys (CHECK constraints are copied by LIKE).
	FOR r IN SELECT conname, contype, pg_get_constraintdef(oid) AS def
		FROM pg_constraint WHERE conrelid = tbl::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC
	LOOP
		IF r.contype IN ('p', 'u') THEN
			r.def := regexp_replace(r.def, '^(PRIMARY KEY|UNIQUE) \(([^)]*)\)', '\1 (\2, part_month)');
		END IF;
		condefs := condefs || format('ADD CONSTRAINT %I %s', r.conname, r.def);
		EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, r.conname);
	END LOOP;

	EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
	EXECUTE format($f$CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS,
		part_month date NOT NULL DEFAULT (date_trunc('month', now() AT TIME ZONE 'UTC'))::date) PARTITION BY RANGE (part_month)$f$, tbl, old);
	FOR r IN SELECT a.attname, pg_get_serial_sequence(old, a.attname) AS seq
		FROM pg_attribute a WHERE a.attrelid = old::regclass AND a.attnum > 0 AND NOT a.attisdropped
	LOOP
		IF r.seq IS NOT NULL THEN
			EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.%I', r.seq, tbl, r.attname);
		END IF;
	END LOOP;

	EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
	FOR m IN EXECUTE format($f$SELECT DISTINCT date_trunc('month', %I AT TIME ZONE 'UTC')::date FROM %I$f$, time_col, old) LOOP
		PERFORM retention_ensure_partition(tbl, m);
	END LOOP;
	PERFORM retention_ensure_partition(tbl, (date_trunc('month', now() AT TIME ZONE 'UTC'))::date);
	PERFORM retention_ensure_partition(tbl, (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')::date);

	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
	FROM pg_attribute WHERE attrelid = old::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
	EXECUTE format($f$INSERT INTO %I (%s, part_month) SELECT %s, date_trunc('month', %I AT TIME ZONE 'UTC')::date FROM %I$f$,
		tbl, cols, cols, time_col, old);

	IF cardinality(condefs) > 0 THEN
		EXECUTE format('ALTER TABLE %I %s', tbl, array_to_string(condefs, ', '));
	END IF;
	FOREACH cols IN ARRAY idxdefs LOOP
		EXECUTE cols;
	END LOOP;
	EXECUTE format('DROP TABLE %I', old);
	EXECUTE format('ANALYZE %I', tbl);
END $$;
-- +goose StatementEnd

SELECT retention_convert('updates', 'received_at');
SELECT retention_convert('outbox', 'created_at');
SELECT retention_convert('webhook_attempts', 'at');
DROP FUNCTION retention_convert(text, text);

-- +goose Down
SET LOCAL statement_timeout = 0;

-- retention_unconvert turns a table partitioned by month back into a plain
-- one, keeping every row; its keys lose part_month.
-- +goose StatementBegin
CREATE FUNCTION retention_unconvert(tbl text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	old     text := tbl || '_partitioned';
	r       record;
	idxdefs text[] := '{}';
	condefs text[] := '{}';
	cols    text;
BEGIN
	FOR r IN SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
		FROM pg_index i WHERE i.indrelid = tbl::regclass
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
	LOOP
		idxdefs := idxdefs || r.def;
		EXECUTE format('DROP INDEX %s', r.name);
	END LOOP;
	FOR r IN SELECT conname, contype, pg_get_constraintdef(oid) AS def
		FROM pg_constraint WHERE conrelid = tbl::regclass AND contype IN ('p', 'u', 'f') AND conparentid = 0 ORDER BY contype DESC
	LOOP
		IF r.contype IN ('p', 'u') THEN
			r.def := replace(r.def, ', part_month)', ')');
		END IF;
		condefs := condefs || format('ADD CONSTRAINT %I %s', r.conname, r.def);
		EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, r.conname);
	END LOOP;
	EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
	EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)', tbl, old);
	EXECUTE format('ALTER TABLE %I DROP COLUMN part_month', tbl);
	FOR r IN SELECT a.attname, pg_get_serial_sequence(old, a.attname) AS seq
		FROM pg_attribute a WHERE a.attrelid = old::regclass AND a.attnum > 0 AND NOT a.attisdropped
	LOOP
		IF r.seq IS NOT NULL THEN
			EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.%I', r.seq, tbl, r.attname);
		END IF;
	END LOOP;
	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
	FROM pg_attribute WHERE attrelid = tbl::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
	EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM %I', tbl, cols, cols, old);
	IF tbl = 'outbox' THEN
		-- An outbox key is refused only within the live months (the current
		-- and the previous one, storage/livemonths.go), so a key may be
		-- stored in two months: the older rows take their month as a
		-- suffix, which keeps every row and makes the key unique again.
		UPDATE outbox o SET dedupe_key = o.dedupe_key || '#' || to_char(p.part_month, 'YYYY-MM')
		FROM outbox_partitioned p
		WHERE p.id = o.id AND EXISTS (
			SELECT 1 FROM outbox_partitioned q WHERE q.dedupe_key = p.dedupe_key AND q.part_month > p.part_month);
	END IF;
	IF cardinality(condefs) > 0 THEN
		EXECUTE format('ALTER TABLE %I %s', tbl, array_to_string(condefs, ', '));
	END IF;
	FOREACH cols IN ARRAY idxdefs LOOP
		EXECUTE cols;
	END LOOP;
	EXECUTE format('DROP TABLE %I', old);
END $$;
-- +goose StatementEnd

SELECT retention_unconvert('webhook_attempts');
SELECT retention_unconvert('outbox');
SELECT retention_unconvert('updates');
DROP FUNCTION retention_unconvert(text);
DROP FUNCTION retention_ensure_partition(text, date);
