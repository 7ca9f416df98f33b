#!/usr/bin/env bash
# Interleaved A/B of webhook ingest builds against pgbench (BENCHMARKS.md,
# "2026-12-03, third session"). Each round runs pgbench's one-row INSERT,
# then every build in turn (the order rotating by round), each after a
# CHECKPOINT, and prints each build's ratio to that round's pgbench with the
# load average. Builds are commits, built first into /tmp/ib_<commit>:
#   git archive C | tar -x -C /tmp/src_C && (cd /tmp/src_C && go build -o /tmp/ib_C ./bench/ingest)
# Run bench/ingest/run.sh once first (it creates the database and the
# pgbench table). usage: ab.sh ROUNDS DUR commit...
set -u
cd "$(dirname "$0")/../.."
ROUNDS=$1
DUR=$2
shift 2
DB=zhibu_bench
PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
PGBENCH=${PGBENCH:-pgbench}
checkpoint() { psql -q -h 127.0.0.1 -U postgres -d $DB -c CHECKPOINT; }
for i in $(seq "$ROUNDS"); do
	psql -q -h 127.0.0.1 -U postgres -d $DB -c "TRUNCATE bench_insert"
	checkpoint
	logdir=$(mktemp -d)
	la=$(cut -d' ' -f1 /proc/loadavg)
	tps=$(cd "$logdir" && "$PGBENCH" -h 127.0.0.1 -U postgres -n -c 32 -j 2 -T "$DUR" -l -f "$OLDPWD/bench/ingest/insert.sql" $DB 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	pgp99=$(cat "$logdir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int(NR*0.99)]/1000}')
	rm -rf "$logdir"
	echo "round $i load $la pgbench ${tps%.*} TPS p99 ${pgp99} ms"
	bs=("$@")
	n=${#bs[@]}
	for ((k = 0; k < n; k++)); do
		b=${bs[$(((k + i - 1) % n))]}
		checkpoint
		la=$(cut -d' ' -f1 /proc/loadavg)
		out=$(/tmp/ib_"$b" -d "${DUR}s" -client wrk)
		rate=$(sed -n 's/.* rate=\([0-9]*\) updates.*/\1/p' <<<"$out")
		p99=$(sed -n 's/.* p99=\([^ ]*\) .*/\1/p' <<<"$out")
		drained=$(sed -n 's/.*backlog drained \([^ ]*\) after.*/\1/p' <<<"$out")
		proc=$(sed -n 's/processed during the run=[0-9]* (\([0-9]*\) updates.*/\1/p' <<<"$out")
		echo "  $b load $la rate $rate p99 $p99 processed $proc/s drained $drained ratio $(awk -v a="$rate" -v b="$tps" 'BEGIN{printf "%.2f", a/b}')"
	done
done
