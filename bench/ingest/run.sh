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
WORKERS=${WORKERS:-4} # telegram.workers: processing workers (fewer make bigger batches)
DB=zhibu_bench
PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
PGBENCH=${PGBENCH:-pgbench}
go build -o /tmp/zhibu-ingest-bench ./bench/ingest
# The first run creates and migrates the database.
/tmp/zhibu-ingest-bench -d 2s -client "$CLIENT" >/dev/null
# The same column types as updates (raw json), so both sides store the same.
psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "DROP TABLE IF EXISTS bench_insert" -c "CREATE TABLE bench_insert (id bigint PRIMARY KEY, raw json NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
# Each measurement starts after a CHECKPOINT, so that neither pays for
# writing out what the one before it dirtied.
checkpoint() { psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "CHECKPOINT"; }
for i in $(seq "$ROUNDS"); do
	psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "TRUNCATE bench_insert"
	checkpoint
	# -l logs each transaction's latency (µs, third column): pgbench's own p99
	# at the same moment, to tell our tail from the machine's.
	logdir=$(mktemp -d)
	tps=$(cd "$logdir" && "$PGBENCH" -h 127.0.0.1 -U postgres -n -c 32 -j 2 -T "$DUR" -l -f "$OLDPWD/bench/ingest/insert.sql" "$DB" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	pgp99=$(cat "$logdir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f ms", a[int(NR*0.99)]/1000}')
	rm -rf "$logdir"
	checkpoint
	out=$(/tmp/zhibu-ingest-bench -d "${DUR}s" -client "$CLIENT" -workers "$WORKERS")
	rate=$(sed -n 's/.* rate=\([0-9]*\) updates.*/\1/p' <<<"$out")
	echo "round $i (load average $(cut -d' ' -f1-3 /proc/loadavg)): pgbench ${tps%.*} TPS, p99 $pgp99"
	echo "$out"
	echo "ratio $(awk -v a="$rate" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')"
done
