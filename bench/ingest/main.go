// Command ingest measures webhook ingest: C concurrent clients POST
// /help-style updates to a running zhibu (started in-process, against the
// database in -db) over loopback; it reports updates/s and latency
// percentiles of the acknowledged requests. Compare with
//
//	pgbench -n -c 32 -j 2 -T 20 -f insert.sql <db>
//
// (a single-row INSERT per transaction) on the same server; see BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/storage"
)

// helpUpdate is the JSON of a private "/help" message as Telegram sends it:
// update id, message id, sender, date, chat.
const helpUpdate = `{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"bench"},` +
	`"date":%d,"chat":{"id":%d,"type":"private","first_name":"bench"},"text":"/help",` +
	`"entities":[{"type":"bot_command","offset":0,"length":5}]}}`

func main() {
	db := flag.String("db", "postgres://postgres@127.0.0.1:5432/zhibu_bench?sslmode=disable", "database URL (created if missing)")
	clients := flag.Int("c", 32, "concurrent clients")
	workers := flag.Int("workers", 0, "update-processing workers running meanwhile (telegram.workers; 0: its default)")
	users := flag.Int("users", 10000, "distinct users (private chats) the updates come from")
	dur := flag.Duration("d", 20*time.Second, "duration")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	client := flag.String("client", "go", `load generator: "go" (goroutines in this process) or "wrk" (wrk in a second process, as pgbench is; apt-get install wrk)`)
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*db, *client, *clients, *workers, *users, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(db, client string, clients, workers, users int, dur time.Duration) error {
	ctx := context.Background()
	if err := storage.EnsureDatabase(ctx, db); err != nil {
		return err
	}
	fake := tgfake.New(tgfake.Options{Limits: tgfake.Limits{Disabled: true}})
	if err := fake.Start(); err != nil {
		return err
	}
	defer fake.Close()
	cfg := config.Default()
	cfg.Database.URL = db
	cfg.Database.MaxOpenConns = 40
	cfg.Telegram.Token, cfg.Telegram.APIURL, cfg.Telegram.BotUsername = fake.Token(), fake.URL(), "zhibu_bot"
	cfg.Telegram.WebhookSecret = "bench"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Healthcheck.Every = 0
	if workers > 0 {
		cfg.Telegram.Workers = workers
	}
	workers = cfg.Telegram.Workers
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("BENCH_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := cli.StartServer(ctx, cfg, logger, nil)
	if err != nil {
		return err
	}
	defer srv.Shutdown(30 * time.Second)
	// Start from empty logs so that runs do not inherit each other's
	// update ids or outbox backlog.
	if _, err := srv.Store.DB().ExecContext(ctx, `TRUNCATE updates, outbox, audit_log`); err != nil {
		return err
	}
	before, err := readDBStats(ctx, srv.Store)
	if err != nil {
		return err
	}
	url := "http://" + srv.Addr + "/telegram/webhook"
	var res load
	switch client {
	case "go":
		res = goLoad(url, clients, users, dur)
	case "wrk":
		if res, err = wrkLoad(url, clients, users, dur); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-client %q: want go or wrk", client)
	}
	end := time.Now()
	// Processing runs meanwhile and must keep up: report how many of the
	// acknowledged updates were processed (with their replies enqueued)
	// within the run, and how long the rest took.
	var processed int
	if err := srv.Store.DB().GetContext(ctx, &processed, `SELECT count(*) FROM updates WHERE processed_at <= $1`, end); err != nil {
		return err
	}
	var backlog int
	for {
		if err := srv.Store.DB().GetContext(ctx, &backlog, `SELECT count(*) FROM updates WHERE processed_at IS NULL`); err != nil {
			return err
		}
		if backlog == 0 || time.Since(end) > time.Minute {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Printf("client=%s users=%d workers=%d clients=%d duration=%s acknowledged=%d failed=%d rate=%.0f updates/s p50=%s p99=%s max=%s\n",
		client, users, workers, clients, dur, res.ok, res.failed, float64(res.ok)/dur.Seconds(), res.p50, res.p99, res.max)
	fmt.Printf("processed during the run=%d (%.0f updates/s); backlog drained %s after the end (left: %d)\n",
		processed, float64(processed)/dur.Seconds(), time.Since(end).Round(time.Millisecond), backlog)
	// Backends publish their counters at most once a second.
	time.Sleep(1500 * time.Millisecond)
	after, err := readDBStats(ctx, srv.Store)
	if err != nil {
		return err
	}
	if n := float64(res.ok); n > 0 {
		fmt.Printf("per update, run and drain: %.2f transactions, %.0f bytes of WAL (whole server)\n",
			float64(after.Commits-before.Commits)/n, float64(after.WALBytes-before.WALBytes)/n)
	}
	return nil
}

// dbStats are the server's counters that explain a run's cost: its
// transactions (each pays a round trip and a WAL flush) and its WAL.
type dbStats struct {
	Commits  int64   `db:"commits"`
	WALBytes float64 `db:"wal_bytes"`
}

func readDBStats(ctx context.Context, st *storage.Store) (dbStats, error) {
	var s dbStats
	// The statistics snapshot of a transaction is frozen: read afresh.
	if _, err := st.DB().ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return s, err
	}
	err := st.DB().GetContext(ctx, &s, `
		SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
		       (SELECT wal_bytes FROM pg_stat_wal) AS wal_bytes`)
	return s, err
}

// load is what a load generator measured.
type load struct {
	ok, failed    int
	p50, p99, max time.Duration
}

// goLoad drives the webhook from goroutines in this process.
func goLoad(url string, clients, users int, dur time.Duration) load {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []time.Duration
			var buf []byte
			for i := 0; time.Now().Before(deadline); i++ {
				// Many users each send a little, as on Telegram (one user
				// cannot send 50 messages a second). The body is what
				// Telegram sends for "/help", built without reflection so
				// that the load generator takes little of the cores it
				// shares with the server.
				from := 7000 + (i*clients+c)%users
				id := next.Add(1)
				body := fmt.Appendf(buf[:0], helpUpdate, id, id%1_000_000+1, from, time.Now().Unix(), from)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "bench")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					if resp != nil {
						resp.Body.Close()
					}
					continue
				}
				// Read to the end so that the connection is reused.
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
	return load{ok: len(lat), failed: int(failed.Load()), p50: pct(0.5), p99: pct(0.99), max: lat[len(lat)-1]}
}

//go:embed help.lua
var helpLua []byte

// wrkLoad drives the webhook with wrk (a C load generator in a second
// process, as pgbench is for the comparison) and parses its report.
func wrkLoad(url string, clients, users int, dur time.Duration) (load, error) {
	script, err := os.CreateTemp("", "zhibu-help-*.lua")
	if err != nil {
		return load{}, err
	}
	defer os.Remove(script.Name())
	if _, err := script.Write(helpLua); err != nil {
		return load{}, err
	}
	script.Close()
	const threads = 2
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(clients), "-d", dur.String(),
		"--latency", "-s", script.Name(), url, "--", strconv.Itoa(users), strconv.Itoa(threads)).CombinedOutput()
	if err != nil {
		return load{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkTotal  = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkErrors = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)$`)
	wrkMax    = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+(\S+)`)
)

func parseWrk(out string) (load, error) {
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return load{}, fmt.Errorf("wrk: no request count in its report:\n%s", out)
	}
	total, _ := strconv.Atoi(m[1])
	var l load
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		l.failed, _ = strconv.Atoi(m[1])
	}
	if m := wrkErrors.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			l.failed += n
		}
	}
	l.ok = total - l.failed
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(strings.Replace(m[2], "us", "µs", 1))
		if err != nil {
			return load{}, fmt.Errorf("wrk: latency %q: %w", m[2], err)
		}
		if m[1] == "50" {
			l.p50 = d
		} else {
			l.p99 = d
		}
	}
	if m := wrkMax.FindStringSubmatch(out); m != nil {
		l.max, _ = time.ParseDuration(strings.Replace(m[1], "us", "µs", 1))
	}
	return l, nil
}
