#!/usr/bin/env bash
# Webhook ingest against pgbench (issue #2): alternates pgbench's single-row
# INSERT and zhibu's webhook ingest, ROUNDS times, on the same server at the
# same concurrency, and prints each pair's ratio. Alternating pairs keeps a
# busy moment of the shared machine from favouring one side. Needs
# PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and wrk and pgbench
# (apt-get install wrk postgresql-contrib; pgbench ships with the server).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-15}
CLIENT=${CLIENT:-wrk}
DB=zhibu_bench
PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
PGBENCH=${PGBENCH:-pgbench}
go build -o /tmp/zhibu-ingest-bench ./bench/ingest
# The first run creates and migrates the database.
/tmp/zhibu-ingest-bench -d 2s -client "$CLIENT" >/dev/null
psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "CREATE TABLE IF NOT EXISTS bench_insert (id bigint PRIMARY KEY, raw jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
# Each measurement starts after a CHECKPOINT, so that neither pays for
# writing out what the one before it dirtied.
checkpoint() { psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "CHECKPOINT"; }
for i in $(seq "$ROUNDS"); do
	psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "TRUNCATE bench_insert"
	checkpoint
	tps=$("$PGBENCH" -h 127.0.0.1 -U postgres -n -c 32 -j 2 -T "$DUR" -f bench/ingest/insert.sql "$DB" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	checkpoint
	out=$(/tmp/zhibu-ingest-bench -d "${DUR}s" -client "$CLIENT")
	rate=$(sed -n 's/.* rate=\([0-9]*\) updates.*/\1/p' <<<"$out")
	echo "round $i (load average $(cut -d' ' -f1-3 /proc/loadavg)): pgbench ${tps%.*} TPS"
	echo "$out"
	echo "ratio $(awk -v a="$rate" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')"
done
