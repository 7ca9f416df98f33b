// Command points benchmarks the village points at county scale: it seeds
// N households (100 per village, one linked villager each, a reviewer, a
// shopkeeper and a review group per village) with E ledger entries spread
// over twelve months and a pending claim for every third household, all
// with set-based SQL; then it measures
//
//   - /points: the use case behind the command (the household's balance,
//     points in publicity, pending claims and last entries) from U
//     concurrent users for a fixed time, closed loop without think time:
//     p50/p90/p99/max. -scope update adds what the bot's router does for
//     every update (a transaction, the sender's actor from their Telegram
//     id); -scope query is the storage statement alone;
//
//   - settlement: one Settle over every village for the periods just
//     ended at -at, of every kind in points.settle (-settle overrides it;
//     on 1 January the month and the year, which sums the settled months),
//     rankings frozen, posts and events written; then a second run that
//     must find nothing to do.
//
//     go run ./bench/points -seed                      # 20,000 households, 2,000,000 entries
//     go run ./bench/points -mode points -users 32 -duration 30s
//     go run ./bench/points -mode settle
//
// See RESULTS.md for figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

func main() {
	households := flag.Int("households", 20000, "households (a multiple of 100: 100 per village)")
	entries := flag.Int("entries", 2000000, "ledger entries (a multiple of -households)")
	dbName := flag.String("db", "zhibu_bench_points", "database name")
	seed := flag.Bool("seed", false, "drop, create, migrate and seed the database")
	mode := flag.String("mode", "", "points or settle")
	users := flag.Int("users", 32, "concurrent /points users")
	duration := flag.Duration("duration", 30*time.Second, "how long /points runs (after a 3s warm-up)")
	conns := flag.Int("conns", 20, "database pool size (database.max_open_conns; default as configured)")
	scope := flag.String("scope", "usecase", "what one /points call is: usecase (App.HouseholdPoints for the sender, actor known), update (also a transaction and the actor from the Telegram id, as the bot's router adds) or query (the storage statement alone)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	settleKinds := flag.String("settle", "", "points.settle for -mode settle, comma-separated (month,year); default as configured")
	atFlag := flag.String("at", "2026-11-01T00:05:00+08:00", "clock of the run: /points reads balances at it, settle closes the month before it")
	flag.Parse()
	if *households < 100 || *households%100 != 0 || *entries%*households != 0 {
		fail(fmt.Errorf("-households must be a multiple of 100 and -entries a multiple of -households"))
	}
	url := "postgres://postgres@127.0.0.1:5432/" + *dbName + "?sslmode=disable"
	ctx := context.Background()
	if *seed {
		if err := seedDB(ctx, *dbName, url, *households, *entries/(*households)); err != nil {
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
	store, err := storage.Open(ctx, url, *conns)
	if err != nil {
		fail(err)
	}
	defer store.Close()
	// A database seeded by an older version gets the migrations since, as
	// serve would apply them (00025 sums its ledger into point_totals once).
	if err := storage.Migrate(ctx, store.DB().DB, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
		fail(err)
	}
	cfg := config.Default()
	cfg.Database.URL = url
	if *settleKinds != "" {
		cfg.Points.Settle, cfg.Points.Settlement = strings.Split(*settleKinds, ","), ""
	}
	a := app.New(store, cfg, func() time.Time { return at }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	switch *mode {
	case "points":
		var call func(context.Context, *app.App, int64) (villagepoints.PointsView, error)
		switch *scope {
		case "usecase":
			call = useCaseCall(ctx, a, *households)
		case "update":
			call = updateCall
		case "query":
			call = snapshotCall
		default:
			fail(fmt.Errorf("unknown -scope %q", *scope))
		}
		fmt.Printf("scope=%s conns=%d\n", *scope, *conns)
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
		benchPoints(ctx, a, call, *households, *users, *duration)
	case "settle":
		benchSettle(ctx, a, store, at)
	default:
		fail(fmt.Errorf("unknown -mode %q", *mode))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// useCaseCall is App.HouseholdPoints for a villager whose actor the router
// resolved already (resolved here once per household, before timing).
func useCaseCall(ctx context.Context, a *app.App, households int) func(context.Context, *app.App, int64) (villagepoints.PointsView, error) {
	actors := make([]domain.Actor, households)
	for h := range actors {
		actor, err := accounts.Of(a).ActorByTelegram(ctx, 5000000001+int64(h))
		if err != nil {
			fail(err)
		}
		actors[h] = actor
	}
	return func(ctx context.Context, a *app.App, tgUser int64) (villagepoints.PointsView, error) {
		return villagepoints.Of(a).HouseholdPoints(ctx, actors[tgUser-5000000001], "")
	}
}

// updateCall is what the bot's router adds around it for one update: a
// transaction and the sender's actor from their Telegram id.
func updateCall(ctx context.Context, a *app.App, tgUser int64) (villagepoints.PointsView, error) {
	var v villagepoints.PointsView
	err := a.InTx(ctx, func(a *app.App) error {
		actor, err := accounts.Of(a).ActorByTelegram(ctx, tgUser)
		if err != nil {
			return err
		}
		v, err = villagepoints.Of(a).HouseholdPoints(ctx, actor, "")
		return err
	})
	return v, err
}

// snapshotCall is the household snapshot statement alone (person = tg - 5000000000).
func snapshotCall(ctx context.Context, a *app.App, tgUser int64) (villagepoints.PointsView, error) {
	s, err := a.Store.HouseholdPoints(ctx, 0, tgUser-5000000000, a.Now(), 8)
	if err != nil {
		return villagepoints.PointsView{}, err
	}
	return villagepoints.PointsView{Household: s.Household, Balance: s.Balance, Publicity: s.Publicity, PendingClaims: s.PendingPoints,
		PendingCount: s.PendingCount, Entries: s.Entries}, nil
}

func benchPoints(ctx context.Context, a *app.App, call func(context.Context, *app.App, int64) (villagepoints.PointsView, error), households, users int, d time.Duration) {
	// Sanity: a call answers with the seeded entries.
	v, err := call(ctx, a, 5000000001)
	if err != nil {
		fail(err)
	}
	fmt.Printf("sample: household %s balance=%d publicity=%d pending=%d(%d) entries=%d\n",
		v.Household.Code, v.Balance, v.Publicity, v.PendingClaims, v.PendingCount, len(v.Entries))
	run := func(d time.Duration) []time.Duration {
		var mu sync.Mutex
		var all []time.Duration
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		for u := 0; u < users; u++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 7))
				var mine []time.Duration
				for time.Now().Before(stop) {
					h := r.IntN(households)
					start := time.Now()
					if _, err := call(ctx, a, 5000000001+int64(h)); err != nil {
						fail(err)
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}(uint64(u))
		}
		wg.Wait()
		return all
	}
	run(3 * time.Second) // warm-up: pool, plans, caches
	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Join(strings.Fields(string(b))[:min(3, len(strings.Fields(string(b))))], " ")
	}
	loadBefore := load()
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	lat := run(d)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("loadavg before=%s after=%s (other work on the machine shows here)\n", loadBefore, load())
	fmt.Printf("/points users=%d duration=%s calls=%d throughput=%.0f/s p50=%s p90=%s p99=%s max=%s client_cpu_per_call=%s\n",
		users, d, len(lat), float64(len(lat))/d.Seconds(), q(0.50).Round(10*time.Microsecond), q(0.90).Round(10*time.Microsecond),
		q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond), (cpu / time.Duration(len(lat))).Round(time.Microsecond))
}

func benchSettle(ctx context.Context, a *app.App, store *storage.Store, at time.Time) {
	period := villagepoints.Of(a).CurrentPeriod(at).Prev().Key()
	// Settlements are append-only (a trigger refuses DELETE); the bench
	// database's owner bypasses triggers to run the same periods again:
	// every configured kind's period just ended (with its posts), so that
	// a run on 1 January settles the month and the year each time.
	var keys []string
	for _, kind := range villagepoints.Of(a).SettleKinds() {
		p, err := points.PeriodAt(kind, at, a.Loc)
		if err != nil {
			fail(err)
		}
		keys = append(keys, p.Prev().Key())
	}
	conn, err := store.DB().Connx(ctx)
	if err != nil {
		fail(err)
	}
	for _, q := range []string{`SET session_replication_role = replica`,
		`WITH gone AS (DELETE FROM settlements WHERE period = ANY($1) RETURNING id)
		DELETE FROM settlement_posts WHERE settlement_id IN (SELECT id FROM gone)`,
		`SET session_replication_role = DEFAULT`} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, pq.Array(keys))
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			fail(err)
		}
	}
	if err := conn.Close(); err != nil {
		fail(err)
	}
	fmt.Printf("settling %s\n", strings.Join(keys, ", "))
	start := time.Now()
	res, err := villagepoints.Of(a).Settle(ctx, domain.System, at)
	if err != nil {
		fail(err)
	}
	took := time.Since(start)
	var villages, ranked int
	if err := store.DB().QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(households), 0) FROM settlements WHERE period = $1`, period).Scan(&villages, &ranked); err != nil {
		fail(err)
	}
	fmt.Printf("settle period=%s villages=%d households=%d posted=%d wall=%.3fs\n", res.Period, villages, ranked, res.Posted, took.Seconds())
	start = time.Now()
	res, err = villagepoints.Of(a).Settle(ctx, domain.System, at)
	if err != nil {
		fail(err)
	}
	fmt.Printf("settle again period=%s settled=%d wall=%.3fs\n", res.Period, res.Settled, time.Since(start).Seconds())
}

// seedDB recreates the database and fills it with arithmetic ids:
//
//	county 1; townships 10+t (20 villages each); villages 1000+v (100 households each)
//	households h+1 (code H001..H100 in their village); villager h+1 (tg 5000000001+h)
//	reviewer 1000000+v, shopkeeper 2000000+v; review group -(1000000000000+v)
//	ledger: per household `per` entries every 3.65 days from 2025-11-01: awards
//	+1..+5 (3 days of publicity), every 10th a redemption, every 25th a deduction
//	claims: a pending claim for every third household
func seedDB(ctx context.Context, name, url string, n, per int) error {
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
	villages := n / 100
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"units", `INSERT INTO units (id, code, name, kind, parent_id, path)
			SELECT 1, 'QA', '乾安县', 'county', NULL, ARRAY[1::bigint]
			UNION ALL SELECT 10+t, 'QA-T'||t, '第'||t||'镇', 'township', 1, ARRAY[1, 10+t] FROM generate_series(0, ($1-1)/20) t
			UNION ALL SELECT 1000+v, 'QA-T'||(v/20)||'-V'||v, '第'||v||'村', 'village', 10+v/20, ARRAY[1, 10+v/20, 1000+v]
				FROM generate_series(0, $1-1) v`, []any{villages}},
		{"households", `INSERT INTO households (id, unit_id, code)
			SELECT h+1, 1000+h/100, 'H'||lpad((h%100+1)::text, 3, '0') FROM generate_series(0, $1-1) h`, []any{n}},
		{"people", `INSERT INTO people (id, name, phone, household_id)
			SELECT h+1, '村民'||h, '139'||lpad(h::text, 8, '0'), h+1 FROM generate_series(0, $1-1) h
			UNION ALL SELECT 1000000+v, '评议员'||v, NULL, NULL FROM generate_series(0, $2-1) v
			UNION ALL SELECT 2000000+v, '店主'||v, NULL, NULL FROM generate_series(0, $2-1) v`, []any{n, villages}},
		{"roles", `INSERT INTO roles (person_id, role, unit_id)
			SELECT h+1, 'villager', 1000+h/100 FROM generate_series(0, $1-1) h
			UNION ALL SELECT 1000000+v, 'reviewer', 1000+v FROM generate_series(0, $2-1) v
			UNION ALL SELECT 2000000+v, 'shopkeeper', 1000+v FROM generate_series(0, $2-1) v`, []any{n, villages}},
		{"chat links", `INSERT INTO chat_links (person_id, tg_user_id, chat_id)
			SELECT id, 5000000000+id, 5000000000+id FROM people`, nil},
		{"group chats", `INSERT INTO group_chats (chat_id, unit_id) SELECT -(1000000000000+v), 1000+v FROM generate_series(0, $1-1) v`, []any{villages}},
		{"ledger", `INSERT INTO point_ledger (household_id, village_id, kind, points, item_code, item_name, goods, recorded_at, effective_at, actor)
			SELECT h+1, 1000+h/100, x.kind, x.points, x.code, x.name, x.goods, x.at,
			       CASE WHEN x.kind = 'redemption' THEN x.at ELSE x.at + interval '3 days' END, 'bench'
			FROM generate_series(0, $1-1) h
			CROSS JOIN generate_series(0, $2-1) k
			CROSS JOIN LATERAL (SELECT
				CASE WHEN k % 10 = 9 THEN 'redemption' WHEN k % 25 = 7 THEN 'deduction' ELSE 'award' END AS kind,
				CASE WHEN k % 10 = 9 THEN -(1 + (h+k) % 5) WHEN k % 25 = 7 THEN -3 ELSE 1 + (h*7+k) % 5 END AS points,
				CASE WHEN k % 10 = 9 THEN '' WHEN k % 25 = 7 THEN 'C08' ELSE 'B0'||(1 + k % 6) END AS code,
				CASE WHEN k % 10 = 9 THEN '' WHEN k % 25 = 7 THEN '乱倒垃圾、污水' ELSE '积分项目' END AS name,
				CASE WHEN k % 10 = 9 THEN '日用品' ELSE '' END AS goods,
				timestamptz '2025-11-01 08:00+08' + (k * 365.0 / $2) * interval '1 day' + (h % 600) * interval '1 minute' AS at
			) x`, []any{n, per}},
		{"claims", `INSERT INTO claims (village_id, household_id, person_id, recorded_by, kind, item_code, item_name, category, points,
				evidence, status, claimed_at)
			SELECT 1000+h/100, h+1, h+1, h+1, 'claim', 'B04', '拾金不昧', '道德建设类', 3, 'witness', 'pending',
			       timestamptz '2026-10-30 09:00+08' + (h % 1000) * interval '1 minute'
			FROM generate_series(0, $1-1, 3) h`, []any{n}},
		{"sequences", `SELECT setval('units_id_seq', 100000), setval('people_id_seq', 3000000), setval('households_id_seq', $1::bigint + 1)`, []any{n}},
	}
	for _, s := range steps {
		start := time.Now()
		if _, err := db.ExecContext(ctx, s.sql, s.args...); err != nil {
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
