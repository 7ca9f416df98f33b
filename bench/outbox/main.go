// Command outbox measures the outbox dispatcher's fan-out: -n messages to -n
// distinct private chats through the fake Bot API (its flood control on,
// global limit = -rate with a burst of -rate, like Telegram's 30/s), paced
// by a dispatcher configured for the same -rate. It reports the achieved
// rate as seen by the fake (first to last accepted call) over the allowed
// rate, the 429 answers, duplicates, and the dispatcher's CPU time and peak
// memory.
//
// The fake runs in a child process (this binary with -fake), so that the
// CPU time and memory measured with getrusage/runtime metrics are the
// dispatcher's own (client, driver, pacing), not the fake server's;
// PostgreSQL is a separate process anyway.
//
//	go run ./bench/outbox -n 10000 -rate 30      # ~5.5 minutes
//	go run ./bench/outbox -n 10000 -rate 1000    # paid broadcast
//
// Each run creates a scratch database (dropped at the end) on -pg.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-telegram/bot"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
)

func main() {
	n := flag.Int("n", 10000, "messages, one per distinct private chat")
	months := flag.Int("months", 0, "past months' outbox partitions to make first (7 = what retention.outbox: 180d keeps)")
	rate := flag.Float64("rate", 30, "global messages/s allowed (30 = Telegram's free limit; >30 = paid broadcast)")
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (a scratch database is created there)")
	fake := flag.Bool("fake", false, "internal: serve the fake Bot API (child process)")
	flag.Parse()
	var err error
	if *fake {
		err = serveFake(*rate)
	} else {
		err = run(*n, *rate, *pg, *months)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/outbox:", err)
		os.Exit(1)
	}
}

// report is what the fake child tells about what it received.
type report struct {
	Messages int       `json:"messages"`
	Distinct int       `json:"distinct"`
	TooMany  int       `json:"too_many"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// serveFake runs the fake Bot API, prints its URL and token, then answers
// "report" lines on stdin until stdin closes.
func serveFake(rate float64) error {
	burst := max(int(rate), 1)
	api := tgfake.New(tgfake.Options{MaxRecords: 0, Limits: tgfake.Limits{
		GlobalPerSecond: rate, GlobalBurst: burst, ChatPerSecond: 1, ChatBurst: 3, GroupPerMinute: 20, GroupBurst: 20}})
	if err := api.Start(); err != nil {
		return err
	}
	defer api.Close()
	fmt.Printf("%s %s\n", api.URL(), api.Token())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		msgs := api.Messages()
		r := report{Messages: len(msgs), TooMany: api.TooManyRequests()}
		seen := map[string]bool{}
		for _, m := range msgs {
			seen[m.Text] = true
		}
		r.Distinct = len(seen)
		if len(msgs) > 0 {
			r.First, r.Last = msgs[0].At, msgs[len(msgs)-1].At
		}
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}
	return nil
}

type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startFake(rate float64) (*child, string, string, error) {
	cmd := exec.Command(os.Args[0], "-fake", "-rate", strconv.FormatFloat(rate, 'f', -1, 64))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", "", err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", "", err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	if !c.out.Scan() {
		return nil, "", "", errors.New("fake did not start")
	}
	url, token, _ := strings.Cut(c.out.Text(), " ")
	return c, url, token, nil
}

func (c *child) report() (report, error) {
	var r report
	if _, err := fmt.Fprintln(c.in, "report"); err != nil {
		return r, err
	}
	if !c.out.Scan() {
		return r, errors.New("fake gone")
	}
	return r, json.Unmarshal(c.out.Bytes(), &r)
}

func (c *child) stop() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024 // kilobytes on Linux
}

func run(n int, rate float64, pg string, months int) error {
	t0 := time.Now()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Scratch database.
	admin, err := sql.Open("postgres", pg)
	if err != nil {
		return err
	}
	defer admin.Close()
	name := fmt.Sprintf("zhibu_bench_outbox_%d", os.Getpid())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
		return err
	}
	defer admin.ExecContext(context.Background(), `DROP DATABASE `+pq.QuoteIdentifier(name)+` WITH (FORCE)`) //nolint:errcheck
	u, _ := url.Parse(pg)
	u.Path = "/" + name
	dbURL := u.String()
	db, err := sqlx.Connect("postgres", dbURL)
	if err != nil {
		return err
	}
	if err := storage.Migrate(ctx, db.DB, log); err != nil {
		return err
	}
	db.SetMaxOpenConns(20)
	store := storage.New(db)
	defer store.Close()
	// The months a production outbox keeps (retention.outbox: 180d, and
	// the two ahead): every claim's subqueries span them all.
	for i := 1; i <= months; i++ {
		if _, err := store.EnsurePartition(ctx, storage.TableOutbox, t0.AddDate(0, -i, 0)); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE outbox`); err != nil {
		return err
	}

	// Enqueue n messages to n distinct private chats.
	t0 = time.Now()
	err = store.InTx(ctx, func(tx *storage.Store) error {
		for i := range n {
			err := tx.Enqueue(ctx, storage.OutMessage{
				DedupeKey: fmt.Sprintf("bench:%d", i), ChatID: int64(1_000_000 + i), Priority: storage.PriorityBulk,
				Payload: map[string]any{"text": fmt.Sprintf("bench:%d", i), "parse_mode": "HTML"},
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("enqueued %d messages in %s\n", n, time.Since(t0).Round(time.Millisecond))

	fake, apiURL, token, err := startFake(rate)
	if err != nil {
		return err
	}
	defer fake.stop()

	opts := outbox.Options{GlobalPerSecond: rate, ChatPerSecond: 1, GroupPerMinute: 20, PaidBroadcast: rate > 30, ListenURL: dbURL}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b, err := bot.New(token, bot.WithServerURL(apiURL), bot.WithSkipGetMe(), bot.WithHTTPClient(time.Minute, client))
	if err != nil {
		return err
	}
	d := outbox.New(store, outbox.NewTelegram(b), opts, log, nil)
	fmt.Printf("dispatching at %.0f/s with %d workers (paid broadcast: %v)\n", rate, d.Options().Workers, opts.PaidBroadcast)

	runtime.GC()
	cpu0, start := cpuTime(), time.Now()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()

	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	var peakHeap, peakTotal uint64
	var left int
	for {
		time.Sleep(250 * time.Millisecond)
		metrics.Read(samples)
		peakHeap = max(peakHeap, samples[0].Value.Uint64())
		peakTotal = max(peakTotal, samples[1].Value.Uint64())
		if err := db.GetContext(ctx, &left, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')`); err != nil {
			return err
		}
		if left == 0 {
			break
		}
	}
	wall := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return err
	}
	cpu := cpuTime() - cpu0

	r, err := fake.report()
	if err != nil {
		return err
	}
	var sent, failed int
	_ = db.GetContext(ctx, &sent, `SELECT count(*) FROM outbox WHERE status = 'sent'`)
	_ = db.GetContext(ctx, &failed, `SELECT count(*) FROM outbox WHERE status = 'failed'`)
	span := r.Last.Sub(r.First)
	achieved := float64(r.Messages-1) / span.Seconds()
	fmt.Printf("\nmessages       %d sent, %d failed; fake received %d (%d distinct, %d duplicates)\n",
		sent, failed, r.Messages, r.Distinct, r.Messages-r.Distinct)
	fmt.Printf("429 answers    %d\n", r.TooMany)
	fmt.Printf("first→last     %s at the fake; %s wall from Run to all recorded\n", span.Round(time.Millisecond), wall.Round(time.Millisecond))
	fmt.Printf("rate           %.2f/s achieved / %.0f/s allowed = %.3f\n", achieved, rate, achieved/rate)
	fmt.Printf("cpu            %s (%.1f%% of one core; %.0f µs per message)\n", cpu.Round(time.Millisecond),
		100*cpu.Seconds()/wall.Seconds(), float64(cpu.Microseconds())/float64(max(sent, 1)))
	fmt.Printf("memory         peak Go heap objects %.1f MiB, peak Go total %.1f MiB, max RSS %.1f MiB\n",
		float64(peakHeap)/(1<<20), float64(peakTotal)/(1<<20), float64(maxRSS())/(1<<20))
	fmt.Printf("go             %s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	return nil
}
