// Command healthcheck benchmarks one health-check evaluation at province
// scale: it seeds N branches (every default obligation, 11, owed by each;
// -seven-obligations for issue #4's set; a party group under every
// fourth, 10 check-ins per branch over seven months) with set-based SQL,
// then times one evaluation and reports the wall time and the process's
// peak RSS (getrusage). Run one mode per process so that each peak RSS is
// its own; see RESULTS.md for the sequence.
//
//	go run ./bench/healthcheck -branches 100000 -seed
//	go run ./bench/healthcheck -branches 100000 -mode dry
//	go run ./bench/healthcheck -branches 100000 -mode run -reset      # first evaluation: every prompt
//	go run ./bench/healthcheck -branches 100000 -mode run -at 2026-05-25T10:15:00+08:00  # the escalations held back at 10:00
//	go run ./bench/healthcheck -branches 100000 -mode run -at 2026-05-25T10:30:00+08:00  # steady state
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

func main() {
	branches := flag.Int("branches", 10000, "number of branches (a multiple of 1000)")
	dbName := flag.String("db", "", "database name (default zhibu_bench_hc_<branches>)")
	seed := flag.Bool("seed", false, "drop, create, migrate and seed the database")
	mode := flag.String("mode", "", "dry (Evaluate), run (RunHealthcheck, scheduler path) or keep (RunHealthcheck keeping lights and digests, CLI path)")
	reset := flag.Bool("reset", false, "before -mode run: forget every notice, light and outbox row (a first evaluation)")
	atFlag := flag.String("at", "2026-05-25T10:00:00+08:00", "evaluation instant")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the evaluation to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile (live objects after the evaluation) to this file")
	sevenObligations := flag.Bool("seven-obligations", false, "owe only the seven obligations of issue #4 (by default every default obligation, with SPEC §7.1's heart_talk, dues, secretary_lecture and term_end, which the seed checks in)")
	flag.Parse()
	if *branches < 1000 || *branches%1000 != 0 {
		fail(fmt.Errorf("-branches must be a positive multiple of 1000"))
	}
	name := *dbName
	if name == "" {
		name = fmt.Sprintf("zhibu_bench_hc_%d", *branches)
	}
	url := "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
	ctx := context.Background()
	if *seed {
		if err := seedDB(ctx, name, url, *branches); err != nil {
			fail(err)
		}
	}
	if *mode == "" {
		return
	}
	at, err := time.Parse(time.RFC3339, *atFlag)
	if err != nil {
		fail(err)
	}
	store, err := storage.Open(ctx, url, 4)
	if err != nil {
		fail(err)
	}
	defer store.Close()
	if *reset {
		if _, err := store.DB().ExecContext(ctx, `TRUNCATE notification_log, notification_digests, health_runs, outbox, events CASCADE`); err != nil {
			fail(err)
		}
		if _, err := store.DB().ExecContext(ctx, `UPDATE health_units SET memory = '' WHERE memory <> ''`); err != nil {
			fail(err)
		}
	}
	cfg := config.Default()
	cfg.Database.URL = url
	if *sevenObligations {
		for _, code := range []string{"heart_talk", "dues", "secretary_lecture", "term_end"} {
			cfg.Healthcheck.Obligations = append(cfg.Healthcheck.Obligations, config.Obligation{Code: code, Disabled: true})
		}
	}
	a := app.New(store, cfg, func() time.Time { return at }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runtime.GC()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var ev *healthcheck.Evaluation
	switch *mode {
	case "dry":
		ev, err = healthcheck.Of(a).Evaluate(ctx, domain.System, at, "")
	case "run":
		ev, err = healthcheck.Of(a).RunHealthcheck(ctx, domain.System, at, "", false)
	case "keep":
		ev, err = healthcheck.Of(a).RunHealthcheck(ctx, domain.System, at, "", true)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	took := time.Since(start)
	if err != nil {
		fail(err)
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			fail(err)
		}
		f.Close()
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("branches=%d mode=%s at=%s wall=%.3fs peak_rss=%.1fMB lights=%d counts=%+v items=%d digests=%d lines=%d messages=%d changes=%d\n",
		*branches, *mode, at.Format(time.RFC3339), took.Seconds(), float64(ru.Maxrss)/1024, len(ev.Lights), ev.Counts, ev.Items, ev.Sent,
		ev.Stats.Lines, ev.Messages, ev.Changes)
	for _, t := range ev.Timings {
		fmt.Printf("  %-30s %8.3fs\n", t.Phase, t.Took.Seconds())
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// seedDB recreates the database and fills it. Ids are arithmetic so that
// every table is one INSERT … SELECT over generate_series:
//
//	counties  10+c            (N/1000; no parent)
//	townships 100000+t        (N/100, ten per county)
//	villages  200000+v        (N/10, ten per township)
//	branches  1000000+b       (N, ten per village; theme day 1..28)
//	groups    2000000+b       (every fourth branch has one party group)
//	people: secretary b+1 (90% linked), township organiser 1000000+t,
//	county organiser 2000000+c (all linked); half the branches have a group chat
//	checkins  b*10+k+1        (k = 0..9, see the pattern below)
func seedDB(ctx context.Context, name, url string, n int) error {
	admin, err := sqlx.Open("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return err
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := storage.Migrate(ctx, db.DB, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return err
	}
	steps := []struct{ what, sql string }{
		{"counties", `INSERT INTO units (id, code, name, kind, parent_id, path, started_on)
			SELECT 10+c, 'C'||c, '第'||c||'县', 'county', NULL, ARRAY[10+c], '2025-11-01' FROM generate_series(0, $1/1000-1) c`},
		{"townships", `INSERT INTO units (id, code, name, kind, parent_id, path, started_on)
			SELECT 100000+t, 'T'||t, '第'||t||'镇', 'township', 10+t/10, ARRAY[10+t/10, 100000+t], '2025-11-01' FROM generate_series(0, $1/100-1) t`},
		{"villages", `INSERT INTO units (id, code, name, kind, parent_id, path, started_on)
			SELECT 200000+v, 'V'||v, '第'||v||'村', 'village', 100000+v/10, ARRAY[10+v/100, 100000+v/10, 200000+v], '2025-11-01'
			FROM generate_series(0, $1/10-1) v`},
		{"branches", `INSERT INTO units (id, code, name, kind, parent_id, path, theme_day, started_on)
			SELECT 1000000+b, 'B'||b, '第'||b||'党支部', 'branch', 200000+b/10, ARRAY[10+b/1000, 100000+b/100, 200000+b/10, 1000000+b],
			       1 + b%28, '2025-11-01'
			FROM generate_series(0, $1-1) b`},
		// SPEC §7.1's mix: every 10th branch (b%10 = 3) is small (5 members,
		// no 支委会, never owed one), every 5th (b%5 = 2) a compound
		// (小区功能型) branch; committees' terms end in 2028, except every
		// 25th (within six months: yellow) and every 100th (passed: red).
		{"branch attributes", `UPDATE units SET
			branch_type = CASE WHEN (id-1000000) % 5 = 2 THEN 'compound' ELSE 'village' END,
			members = CASE WHEN (id-1000000) % 10 = 3 THEN 5 ELSE 12 END,
			committee = (id-1000000) % 10 <> 3,
			term_end = CASE WHEN (id-1000000) % 100 = 7 THEN date '2026-03-31'
			                WHEN (id-1000000) % 25 = 7 THEN date '2026-09-30'
			                ELSE date '2028-06-30' END
			WHERE kind = 'branch' AND $1 > 0`},
		{"groups", `INSERT INTO units (id, code, name, kind, parent_id, path, started_on)
			SELECT 2000000+b, 'G'||b, '第一党小组', 'group', 1000000+b, ARRAY[10+b/1000, 100000+b/100, 200000+b/10, 1000000+b, 2000000+b], '2025-11-01'
			FROM generate_series(0, $1-1, 4) b`},
		{"people", `INSERT INTO people (id, name)
			SELECT b+1, '书记'||b FROM generate_series(0, $1-1) b
			UNION ALL SELECT 1000000+t, '组织委员'||t FROM generate_series(0, $1/100-1) t
			UNION ALL SELECT 2000000+c, '部长'||c FROM generate_series(0, $1/1000-1) c`},
		{"roles", `INSERT INTO roles (person_id, role, unit_id)
			SELECT b+1, 'secretary', 1000000+b FROM generate_series(0, $1-1) b
			UNION ALL SELECT 1000000+t, 'organiser', 100000+t FROM generate_series(0, $1/100-1) t
			UNION ALL SELECT 2000000+c, 'organiser', 10+c FROM generate_series(0, $1/1000-1) c`},
		{"chat links", `INSERT INTO chat_links (person_id, tg_user_id, chat_id)
			SELECT id, 5000000000+id, 5000000000+id FROM people WHERE id > $1 OR id % 10 <> 0`},
		{"group chats", `INSERT INTO group_chats (chat_id, unit_id)
			SELECT -(1000000000000+b), 1000000+b FROM generate_series(0, $1-1, 2) b`},
		{"checkins", `INSERT INTO checkins (id, branch_id, held_on, withdrawn_at, rejected_at)
			SELECT b*10+k+1, 1000000+b, p.held,
			       CASE WHEN k = 7 THEN p.held + interval '1 day' END, CASE WHEN k = 8 THEN p.held + interval '2 days' END
			FROM generate_series(0, $1-1) b
			CROSS JOIN (VALUES (0, date '2025-11-10'), (1, date '2025-12-10'), (2, date '2026-01-10'), (3, date '2026-02-10'),
			                   (4, date '2026-03-10'), (5, date '2026-04-10'), (6, date '2026-05-10'), (7, date '2026-04-20'),
			                   (8, date '2026-03-20'), (9, date '2026-02-20')) AS p(k, held)`},
		// One sitting covers several obligations. Missed on purpose:
		// every 20th branch February's meetings, every 50th (from 1) the
		// 2025 yearly ones; 20% have not met yet in May (k = 6 is their
		// early Q2 assembly instead); k = 7 is withdrawn, k = 8 rejected,
		// k = 9 an extra record. 党费 is collected at every monthly sitting,
		// 谈心谈话 and 书记讲党课 of 2025 in December (2026's are still open).
		// A branch without 支委会 records no 支委会, one without party
		// groups no 党小组会.
		{"checkin items", `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id)
			SELECT b*10+p.k+1, p.ob, p.period,
			       CASE WHEN p.ob = 'group_meeting' AND b % 4 = 0 THEN 2000000+b ELSE 1000000+b END
			FROM generate_series(0, $1-1) b
			CROSS JOIN (VALUES
				(0, 'committee_meeting', '2025-11'), (0, 'theme_day', '2025-11'), (0, 'group_meeting', '2025-11'), (0, 'dues', '2025-11'),
				(1, 'committee_meeting', '2025-12'), (1, 'theme_day', '2025-12'), (1, 'group_meeting', '2025-12'), (1, 'dues', '2025-12'),
				(1, 'general_meeting', '2025-Q4'), (1, 'party_lecture', '2025-Q4'), (1, 'life_meeting', '2025'), (1, 'member_appraisal', '2025'),
				(1, 'heart_talk', '2025'), (1, 'secretary_lecture', '2025'),
				(2, 'committee_meeting', '2026-01'), (2, 'theme_day', '2026-01'), (2, 'group_meeting', '2026-01'), (2, 'dues', '2026-01'),
				(3, 'committee_meeting', '2026-02'), (3, 'theme_day', '2026-02'), (3, 'group_meeting', '2026-02'), (3, 'dues', '2026-02'),
				(4, 'committee_meeting', '2026-03'), (4, 'theme_day', '2026-03'), (4, 'group_meeting', '2026-03'), (4, 'dues', '2026-03'),
				(4, 'general_meeting', '2026-Q1'), (4, 'party_lecture', '2026-Q1'),
				(5, 'committee_meeting', '2026-04'), (5, 'theme_day', '2026-04'), (5, 'group_meeting', '2026-04'), (5, 'dues', '2026-04'),
				(6, 'committee_meeting', '2026-05'), (6, 'theme_day', '2026-05'), (6, 'group_meeting', '2026-05'), (6, 'dues', '2026-05'),
				(6, 'general_meeting', '2026-Q2'),
				(7, 'committee_meeting', '2026-04'), (8, 'theme_day', '2026-03'), (9, 'committee_meeting', '2026-02')
			) AS p(k, ob, period)
			WHERE NOT (p.k = 3 AND b % 20 = 0)
			  AND NOT (p.k = 1 AND p.ob IN ('life_meeting', 'member_appraisal') AND b % 50 = 1)
			  AND NOT (p.k = 6 AND p.ob <> 'general_meeting' AND b % 5 = 0)
			  AND NOT (p.k = 6 AND p.ob = 'general_meeting' AND b % 5 <> 0)
			  AND NOT (p.ob = 'committee_meeting' AND b % 10 = 3)
			  AND NOT (p.ob = 'group_meeting' AND b % 4 <> 0)`},
		{"sequences", `SELECT setval('units_id_seq', 3000000), setval('people_id_seq', 3000000), setval('checkins_id_seq', $1::bigint*10+1)`},
	}
	for _, s := range steps {
		start := time.Now()
		if _, err := db.ExecContext(ctx, s.sql, n); err != nil {
			return fmt.Errorf("seed %s: %w", s.what, err)
		}
		fmt.Fprintf(os.Stderr, "seeded %s in %s\n", s.what, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vacuum analyze in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
