#!/usr/bin/env bash
# Webhook ingest against pgbench (issue #2): alternates pgbench's single-row
# INSERT and zhibu's webhook ingest, ROUNDS times, on the same server at the
# same concurrency, and prints each pair's ratio and the CPU each side's
# processes spent per transaction and per update. Alternating pairs keeps a
# busy moment of the shared machine from favouring one side. Needs
# PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and wrk and pgbench
# (apt-get install wrk postgresql-contrib; pgbench ships with the server).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-15}
CLIENT=${CLIENT:-wrk}
WORKERS=${WORKERS:-0} # telegram.workers: processing workers (fewer make bigger batches; 0: the default)
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
# cpu_ticks prints the CPU time (clock ticks, user + system) of the
# processes alive now, summed by name: postgres (every backend), pgbench,
# zhibu-ingest-be (the bench's server, its name cut by the kernel) and wrk.
cpu_ticks() {
	for st in /proc/[0-9]*/stat; do
		# the name is between the parentheses; utime, stime are fields 14, 15
		read -r line <"$st" 2>/dev/null || continue
		name=${line#*(}; name=${name%%)*}; rest=${line##*) }
		set -- $rest
		echo "$name $((${12} + ${13}))"
	done | awk '$1 ~ /^(postgres|pgbench|zhibu-ingest-be|wrk)$/ {t[$1] += $2} END {for (n in t) print n, t[n]}'
}
# cpu_window runs "$@" and, over its middle (from 2 s in to 2 s before the
# end of a DUR-second run, while every process is still alive: a backend's
# time is gone from /proc once it exits), writes to the file $CPU_OUT the
# cores each process group used. The command's output is passed through.
cpu_window() {
	"$@" &
	local pid=$! hz w=$((DUR - 4))
	hz=$(getconf CLK_TCK)
	sleep 2
	cpu_ticks >"$CPU_OUT.a"
	sleep "$w"
	cpu_ticks >"$CPU_OUT.b"
	wait "$pid"
	join <(sort "$CPU_OUT.a") <(sort "$CPU_OUT.b") | awk -v hz="$hz" -v w="$w" '{printf "%s %.3f\n", $1, ($3 - $2) / hz / w}' >"$CPU_OUT"
}
# per_unit prints what each process group in $CPU_OUT spent per unit of work
# at rate units/s, in µs of CPU.
per_unit() { awk -v r="$1" '$2 > 0.01 {printf "%s %.0f µs, ", $1, $2 * 1e6 / r}' "$CPU_OUT" | sed 's/, $//'; }
CPU_OUT=$(mktemp)
for i in $(seq "$ROUNDS"); do
	psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "TRUNCATE bench_insert"
	checkpoint
	# -l logs each transaction's latency (µs, third column): pgbench's own p99
	# at the same moment, to tell our tail from the machine's.
	logdir=$(mktemp -d)
	tps=$(cd "$logdir" && cpu_window "$PGBENCH" -h 127.0.0.1 -U postgres -n -c 32 -j 2 -T "$DUR" -l -f "$OLDPWD/bench/ingest/insert.sql" "$DB" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	pgcpu=$(per_unit "$tps")
	pgp99=$(cat "$logdir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f ms", a[int(NR*0.99)]/1000}')
	rm -rf "$logdir"
	checkpoint
	out=$(cpu_window /tmp/zhibu-ingest-bench -d "${DUR}s" -client "$CLIENT" -workers "$WORKERS")
	rate=$(sed -n 's/.* rate=\([0-9]*\) updates.*/\1/p' <<<"$out")
	echo "round $i (load average $(cut -d' ' -f1-3 /proc/loadavg)): pgbench ${tps%.*} TPS, p99 $pgp99"
	echo "$out"
	echo "CPU per pgbench transaction: $pgcpu; per update: $(per_unit "$rate")"
	echo "ratio $(awk -v a="$rate" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')"
done
rm -f "$CPU_OUT" "$CPU_OUT.a" "$CPU_OUT.b"
