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
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/bot/fakeapi"
	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/storage"
)

func main() {
	db := flag.String("db", "postgres://postgres@127.0.0.1:5432/zhibu_bench?sslmode=disable", "database URL (created if missing)")
	clients := flag.Int("c", 32, "concurrent clients")
	workers := flag.Int("workers", 4, "update-processing workers running meanwhile (telegram.workers)")
	users := flag.Int("users", 10000, "distinct users (private chats) the updates come from")
	dur := flag.Duration("d", 20*time.Second, "duration")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*db, *clients, *workers, *users, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(db string, clients, workers, users int, dur time.Duration) error {
	ctx := context.Background()
	if err := storage.EnsureDatabase(ctx, db); err != nil {
		return err
	}
	fake := fakeapi.New(fakeapi.Options{Limits: fakeapi.Limits{Disabled: true}})
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
	cfg.Telegram.Workers = workers
	srv, err := cli.StartServer(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	defer srv.Shutdown(30 * time.Second)
	// Start from empty logs so that runs do not inherit each other's
	// update ids or outbox backlog.
	if _, err := srv.Store.DB().ExecContext(ctx, `TRUNCATE updates, outbox, audit_log`); err != nil {
		return err
	}
	url := "http://" + srv.Addr + "/telegram/webhook"
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
			for i := 0; time.Now().Before(deadline); i++ {
				// Many users each send a little, as on Telegram (one user
				// cannot send 50 messages a second).
				from := models.User{ID: int64(7000 + (i*clients+c)%users), FirstName: "bench"}
				u := fake.TextMessage(fake.PrivateChat(from), from, "/help")
				u.ID = next.Add(1)
				body, _ := json.Marshal(u)
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
	fmt.Printf("users=%d workers=%d clients=%d duration=%s acknowledged=%d failed=%d rate=%.0f updates/s p50=%s p99=%s max=%s\n",
		users, workers, clients, dur, len(lat), failed.Load(), float64(len(lat))/dur.Seconds(), pct(0.5), pct(0.99), lat[len(lat)-1])
	return nil
}
