#!/usr/bin/env bash
# Seeds and times the health check at 10,000 and 100,000 branches (see
# RESULTS.md). Each measurement is its own process so that its peak RSS is
# its own. Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust).
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o /tmp/zhibu-hcbench ./bench/healthcheck
for n in ${BRANCHES:-10000 100000}; do
	[ -n "${NOSEED:-}" ] || /tmp/zhibu-hcbench -branches "$n" -seed
	echo "== $n branches (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
	# The scheduler's evaluation in a steady state. The 10:00 run is a first
	# evaluation: it sends every first red (secretaries, townships) but holds
	# back the escalations to the counties, which never go out at the same
	# moment as an item's first red (SPEC §7.2); the 10:15 tick sends them.
	# The 10:30 one finds nothing new (the common case, every 15m).
	/tmp/zhibu-hcbench -branches "$n" -mode run -reset -at 2026-05-25T10:00:00+08:00 >/dev/null
	/tmp/zhibu-hcbench -branches "$n" -mode run -at 2026-05-25T10:15:00+08:00
	/tmp/zhibu-hcbench -branches "$n" -mode run -at 2026-05-25T10:30:00+08:00
	# The next morning's run: the daily red repeats and the light changes of
	# midnight go out at 08:00.
	/tmp/zhibu-hcbench -branches "$n" -mode run -at 2026-05-26T08:00:00+08:00
	# A dry run (zhibu healthcheck --dry-run): every light and every digest
	# kept in memory to be printed.
	/tmp/zhibu-hcbench -branches "$n" -mode dry -at 2026-05-26T08:15:00+08:00
	# The first of a month: May's periods close at midnight (the steady
	# 23:45 tick sends the catch-up first), the 00:15 run records the new
	# reds and the 08:00 run sends the month's digests.
	/tmp/zhibu-hcbench -branches "$n" -mode run -at 2026-05-31T23:45:00+08:00 >/dev/null
	/tmp/zhibu-hcbench -branches "$n" -mode run -at 2026-06-01T00:15:00+08:00
	/tmp/zhibu-hcbench -branches "$n" -mode run -at 2026-06-01T08:00:00+08:00
	# The very first evaluation of a province: every secretary's prompt.
	/tmp/zhibu-hcbench -branches "$n" -mode run -reset -at 2026-05-25T10:00:00+08:00
done
