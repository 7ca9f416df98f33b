package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/internal/faultreport"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
)

// env is one test's world: a fresh database, the fake Bot API over real
// HTTP with flood control on, and a bot client pointed at it.
type env struct {
	t     *testing.T
	url   string
	store *storage.Store
	api   *tgfake.Server
	bot   *bot.Bot
}

// scaled limits keep tests short: the bot's global limit is Telegram's,
// chats are faster. Both the fake and the dispatcher use them.
var scaled = tgfake.Limits{GlobalPerSecond: 30, GlobalBurst: 30, ChatPerSecond: 5, ChatBurst: 3, GroupPerMinute: 300, GroupBurst: 20}

func scaledOptions() outbox.Options {
	return outbox.Options{GlobalPerSecond: scaled.GlobalPerSecond, ChatPerSecond: scaled.ChatPerSecond, GroupPerMinute: scaled.GroupPerMinute,
		PollInterval: 100 * time.Millisecond, BackoffBase: 100 * time.Millisecond, MaintainEvery: 200 * time.Millisecond}
}

func newEnv(t *testing.T, limits tgfake.Limits) *env {
	t.Helper()
	api := tgfake.New(tgfake.Options{Limits: limits})
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	url := testdb.URL(t)
	return &env{t: t, url: url, store: openStore(t, url), api: api, bot: newBot(t, api)}
}

func openStore(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), url, 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newBot(t testing.TB, api *tgfake.Server) *bot.Bot { return newBotAt(t, api.Token(), api.URL()) }

// newBotAt is a bot client of the Bot API at url (the fake's, or a proxy's
// in front of it).
func newBotAt(t testing.TB, token, url string) *bot.Bot {
	t.Helper()
	client := outbox.NewHTTPClient(outbox.Options{Workers: 64})
	b, err := bot.New(token, bot.WithServerURL(url), bot.WithSkipGetMe(), bot.WithHTTPClient(time.Minute, client))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) dispatcher(opts outbox.Options) (*outbox.Dispatcher, *prometheus.Registry) {
	return e.dispatcherOn(e.store, opts)
}

func (e *env) dispatcherOn(s *storage.Store, opts outbox.Options) (*outbox.Dispatcher, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	return outbox.New(s, outbox.NewTelegram(e.bot), opts, nil, reg), reg
}

// run starts d.Run; the returned stop cancels it and waits for it to return.
func run(t *testing.T, d *outbox.Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (e *env) enqueue(m storage.OutMessage) int64 {
	e.t.Helper()
	if err := e.store.Enqueue(context.Background(), m); err != nil {
		e.t.Fatal(err)
	}
	var id int64
	if err := e.store.DB().Get(&id, `SELECT id FROM outbox WHERE dedupe_key = $1`, m.DedupeKey); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) text(key string, chat int64, prio int) int64 {
	e.t.Helper()
	return e.enqueue(storage.OutMessage{DedupeKey: key, ChatID: chat, Priority: prio, Payload: map[string]string{"text": key}})
}

// setEpoch makes epoch the current fencing epoch of the leader key (as a
// take-over does).
func (e *env) setEpoch(key, epoch int64) {
	e.t.Helper()
	if _, err := e.store.DB().Exec(`INSERT INTO leader_epoch (key, epoch) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET epoch = EXCLUDED.epoch`, key, epoch); err != nil {
		e.t.Fatal(err)
	}
}

// row reads the outbox row of dedupe key key.
func (e *env) row(key string) storage.OutboxRecord {
	e.t.Helper()
	r, err := e.store.OutboxByKey(context.Background(), key)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) waitStatus(key, status string, timeout time.Duration) storage.OutboxRecord {
	e.t.Helper()
	var r storage.OutboxRecord
	testdb.Eventually(e.t, timeout, key+" "+status, func() bool { r = e.row(key); return r.Status == status })
	return r
}

func (e *env) waitMessages(n int, timeout time.Duration) []tgfake.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	got, err := e.api.WaitMessages(ctx, n)
	if err != nil {
		rows, _ := e.store.OutboxByStatus(context.Background(), "")
		for _, r := range rows {
			if r.Status != storage.OutboxSent {
				e.t.Logf("unsent: %s chat %d prio %d %s attempts %d failures %d not_before %s last_error %q",
					r.DedupeKey, r.ChatID, r.Priority, r.Status, r.Attempts, r.Failures, time.Until(r.NotBefore).Round(time.Millisecond), r.LastError.String)
			}
		}
		e.t.Fatal(err)
	}
	return got
}

// countByText counts the fake's messages per text (our texts are dedupe keys).
func countByText(msgs []tgfake.Message) map[string]int {
	c := map[string]int{}
	for _, m := range msgs {
		c[m.Text]++
	}
	return c
}

// TestDeliversAllInOrderWithinLimits sends 300 messages to 10 private chats
// and 3 groups, enqueued beforehand with mixed priorities. It proves: every
// row is delivered exactly once, each chat receives its messages in
// (priority, id) order, the fake Bot API (enforcing the same limits) never
// answers 429, and the global rate holds at 30/s (the run cannot be faster
// than 300/30 s). Chat limits are scaled up (5/s, 300/min) to keep it short;
// TestDefaultPacing covers the real per-chat defaults.
func TestDeliversAllInOrderWithinLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	chats := []int64{-1001, -1002, -1003}
	for i := range 10 {
		chats = append(chats, int64(5001+i))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 300
	for i := range n {
		e.text(fmt.Sprintf("m%03d", i), chats[rng.IntN(len(chats))], rng.IntN(storage.PriorityBulk+1))
	}
	d, reg := e.dispatcher(scaledOptions())
	start := time.Now()
	run(t, d)
	msgs := e.waitMessages(n, 40*time.Second)
	took := time.Since(start)

	if c := e.api.TooManyRequests(); c != 0 {
		t.Errorf("fake Bot API answered 429 %d times", c)
	}
	for key, c := range countByText(msgs) {
		if c != 1 {
			t.Errorf("%s delivered %d times", key, c)
		}
	}
	rows, err := e.store.OutboxByStatus(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	rank := map[string][2]int64{}
	for _, r := range rows {
		rank[r.DedupeKey] = [2]int64{int64(r.Priority), r.ID}
	}
	for _, chat := range chats {
		var got [][2]int64
		for _, m := range e.api.MessagesTo(chat) {
			got = append(got, rank[m.Text])
		}
		if !slices.IsSortedFunc(got, func(a, b [2]int64) int {
			if a[0] != b[0] {
				return int(a[0] - b[0])
			}
			return int(a[1] - b[1])
		}) {
			t.Errorf("chat %d: out of order: %v", chat, got)
		}
	}
	testdb.Eventually(e.t, 5*time.Second, "all rows sent", func() bool {
		sent, _ := e.store.OutboxByStatus(context.Background(), storage.OutboxSent)
		return len(sent) == n
	})
	sent, _ := e.store.OutboxByStatus(context.Background(), storage.OutboxSent)
	for _, r := range sent {
		if !r.MessageID.Valid || !r.SentAt.Valid || r.Attempts != 1 {
			t.Fatalf("sent row lacks its record: %+v", r)
		}
	}
	// 300 sends at 30/s with a burst of 1 need at least 299/30 s.
	if min := 299 * time.Second / 30; took < min {
		t.Errorf("300 messages in %s: faster than the global limit allows (%s)", took, min)
	}
	t.Logf("300 messages in %s (%.1f/s)", took, float64(n)/took.Seconds())
	if v := metricValue(t, reg, "zhibu_outbox_sent_total", "", ""); v != n {
		t.Errorf("sent_total = %v", v)
	}
}

// TestDefaultPacing runs at the real defaults (30/s, 1/s per private chat,
// 20/min per group) against the fake at Telegram's defaults, and checks the
// spacing the fake saw: ≥ 1 s between messages of a private chat, ≥ 3 s in a
// group. With a burst of 1, 3 s spacing means no 60 s window ever holds more
// than 20 group messages however many are queued (the fake's group bucket
// allows a burst of 20, so only spacing shows the pacing before message 21;
// TestPacerWindows checks 100 messages on a simulated clock).
func TestDefaultPacing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tgfake.DefaultLimits())
	const group, private = int64(-777), int64(777)
	for i := range 4 {
		e.text(fmt.Sprintf("g%d", i), group, storage.PriorityDefault)
		e.text(fmt.Sprintf("p%d", i), private, storage.PriorityDefault)
	}
	d, _ := e.dispatcher(outbox.Options{})
	run(t, d)
	e.waitMessages(8, 20*time.Second)
	if c := e.api.TooManyRequests(); c != 0 {
		t.Errorf("429 answers: %d", c)
	}
	// The fake stamps each call when it arrives; scheduling jitter (-race,
	// a loaded machine) may shave some milliseconds off an interval, never
	// a whole token: unpaced sends would be milliseconds apart.
	const jitter = 100 * time.Millisecond
	for chat, gap := range map[int64]time.Duration{group: 3 * time.Second, private: time.Second} {
		var at []time.Time
		for _, c := range e.api.CallsTo("sendMessage") {
			if c.Params["chat_id"] == fmt.Sprint(chat) {
				at = append(at, c.At)
			}
		}
		for i := 1; i < len(at); i++ {
			if d := at[i].Sub(at[i-1]); d < gap-jitter {
				t.Errorf("chat %d: messages %d and %d only %s apart (want ≥ %s)", chat, i-1, i, d, gap)
			}
		}
	}
}

func TestRateLimitIsObeyed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	const chat = int64(42)
	e.text("first", chat, storage.PriorityReply)
	e.text("second", chat, storage.PriorityReply)
	e.api.FailNext("sendMessage", chat, tgfake.RetryAfter(2))
	d, reg := e.dispatcher(scaledOptions())
	run(t, d)
	e.waitMessages(2, 15*time.Second)
	// A message shows before its call is logged (the call's answer is
	// logged after the method ran): wait for the third call too.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.api.WaitFor(ctx, func(s *tgfake.Server) bool { return len(s.CallsTo("sendMessage")) >= 3 })

	calls := e.api.CallsTo("sendMessage")
	if len(calls) != 3 || calls[0].Status != http.StatusTooManyRequests {
		t.Fatalf("calls: %+v", calls)
	}
	if wait := calls[1].At.Sub(calls[0].At); wait < 2*time.Second {
		t.Errorf("retried %s after a 429 with retry_after 2", wait)
	}
	if calls[1].Params["text"] != "first" || calls[2].Params["text"] != "second" {
		t.Errorf("order after the 429: %s, %s", calls[1].Params["text"], calls[2].Params["text"])
	}
	r := e.waitStatus("first", storage.OutboxSent, 5*time.Second)
	if r.Attempts != 2 || r.Failures != 0 {
		t.Errorf("a 429 counted as a failure: %+v", r)
	}
	if v := metricValue(t, reg, "zhibu_outbox_rate_limited_total", "", ""); v != 1 {
		t.Errorf("rate_limited_total = %v", v)
	}
}

func TestTemporaryErrorIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	e.text("flaky", 43, storage.PriorityDefault)
	e.api.FailNext("sendMessage", 43, tgfake.InternalError())
	e.api.FailNext("sendMessage", 43, tgfake.Dropped())
	d, _ := e.dispatcher(scaledOptions())
	run(t, d)
	r := e.waitStatus("flaky", storage.OutboxSent, 10*time.Second)
	if got := countByText(e.api.Messages())["flaky"]; got != 1 {
		t.Fatalf("delivered %d times", got)
	}
	if r.Attempts != 3 || r.Failures != 2 {
		t.Errorf("counters: attempts %d failures %d", r.Attempts, r.Failures)
	}
	if n := len(e.api.CallsTo("sendMessage")); n != 3 {
		t.Errorf("%d calls", n)
	}
}

// TestMaxAge: a temporary failure whose next try would come after max_age
// fails the row with the reason. The dispatcher's clock is moved to just
// before the message's max age.
func TestMaxAge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	e.text("stale", 44, storage.PriorityDefault)
	e.api.FailNext("sendMessage", 44, tgfake.InternalError())
	created := e.row("stale").CreatedAt
	opts := scaledOptions()
	opts.Now = func() time.Time { return created.Add(24*time.Hour - time.Second) }
	opts.BackoffBase = 4 * time.Second // the next try (2-4 s later) would be past max_age
	d, reg := e.dispatcher(opts)
	n, err := d.RunOnce(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	r := e.row("stale")
	if r.Status != storage.OutboxFailed || !strings.HasPrefix(r.FailedReason.String, "gave up after 1 attempts") ||
		!strings.Contains(r.FailedReason.String, "Internal Server Error") {
		t.Fatalf("row: %s %q", r.Status, r.FailedReason.String)
	}
	if v := metricValue(t, reg, "zhibu_outbox_failed_total", "reason", "max_age"); v != 1 {
		t.Errorf("failed_total{max_age} = %v", v)
	}
}

func TestBadRequestFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	e.text("bad", 45, storage.PriorityDefault)
	e.text("fine", 45, storage.PriorityDefault)
	e.api.FailNext("sendMessage", 45, tgfake.BadRequest("can't parse entities: unsupported start tag \"foo\" at byte offset 0"))
	d, _ := e.dispatcher(scaledOptions())
	n, err := d.RunOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	r := e.row("bad")
	if r.Status != storage.OutboxFailed || r.FailedReason.String != "Bad Request: can't parse entities: unsupported start tag \"foo\" at byte offset 0" {
		t.Fatalf("row: %s %q", r.Status, r.FailedReason.String)
	}
	if r.Attempts != 1 || len(e.api.CallsTo("sendMessage")) != 2 {
		t.Fatalf("retried a 400: %d attempts", r.Attempts)
	}
}

func TestBlockedChatIsUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, scaled)
	const chat = int64(46)
	unit, err := e.store.CreateUnit(ctx, "V1", "幸福村", "village", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	person, _, err := e.store.UpsertPerson(ctx, "张三", "13800000000", unit.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.LinkChat(ctx, person, chat, chat, "zhangsan"); err != nil {
		t.Fatal(err)
	}
	e.enqueue(storage.OutMessage{DedupeKey: "to-blocked", ChatID: chat, PersonID: person, Payload: map[string]string{"text": "你好"}})
	e.api.BlockChat(chat)
	d, reg := e.dispatcher(scaledOptions())
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	r := e.row("to-blocked")
	if r.Status != storage.OutboxFailed || r.FailedReason.String != "unreachable: Forbidden: bot was blocked by the user" {
		t.Fatalf("row: %s %q", r.Status, r.FailedReason.String)
	}
	link, err := e.store.ChatOf(ctx, person)
	if err != nil || !link.Unreachable {
		t.Fatalf("chat link not marked: %+v %v", link, err)
	}
	missed, err := e.store.FailedOutbox(ctx, storage.FailedQuery{UnreachableOnly: true})
	if err != nil || len(missed) != 1 || missed[0].PersonID == nil || *missed[0].PersonID != person {
		t.Fatalf("misses: %+v %v", missed, err)
	}
	if v := metricValue(t, reg, "zhibu_outbox_failed_total", "reason", "unreachable"); v != 1 {
		t.Errorf("failed_total{unreachable} = %v", v)
	}
}

func TestGroupMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, scaled)
	const oldID, newID = int64(-300), int64(-1000000000300)
	unit, err := e.store.CreateUnit(ctx, "B1", "一支部", "branch", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.BindGroup(ctx, oldID, unit.ID, "一支部群", 0); err != nil {
		t.Fatal(err)
	}
	e.api.Group(oldID, "一支部群")
	e.api.MigrateChat(oldID, newID)
	e.text("notice-1", oldID, storage.PriorityRed)
	e.text("notice-2", oldID, storage.PriorityYellow)
	d, _ := e.dispatcher(scaledOptions())
	n, err := d.RunOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	got := e.api.MessagesTo(newID)
	if len(got) != 2 || got[0].Text != "notice-1" || got[1].Text != "notice-2" {
		t.Fatalf("at the new id: %+v", got)
	}
	g, err := e.store.GroupOfUnit(ctx, unit.ID)
	if err != nil || g.ChatID != newID {
		t.Fatalf("binding: %+v %v", g, err)
	}
	if r := e.row("notice-1"); r.ChatID != newID || r.Failures != 0 {
		t.Fatalf("row: %+v", r)
	}
}

// TestStopAndRestart cancels a running dispatcher mid-way and starts a new
// one: everything arrives exactly once. A stop is graceful (the call in
// flight finishes and is recorded, rows not yet started go back), so not
// even the row in flight is repeated; a crash is TestCrashedRowsComeBack.
func TestStopAndRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	const n = 80
	for i := range n {
		e.text(fmt.Sprintf("r%02d", i), int64(100+i%8), i%3)
	}
	d1, _ := e.dispatcher(scaledOptions())
	stop := run(t, d1)
	e.waitMessages(25, 20*time.Second)
	stop()
	sending, _ := e.store.OutboxByStatus(context.Background(), storage.OutboxSending)
	if len(sending) != 0 {
		t.Errorf("%d rows left in flight after a graceful stop", len(sending))
	}
	before := len(e.api.Messages())
	if before >= n {
		t.Fatalf("everything was sent before the stop (%d)", before)
	}
	d2, _ := e.dispatcher(scaledOptions())
	run(t, d2)
	msgs := e.waitMessages(n, 30*time.Second)
	for key, c := range countByText(msgs) {
		if c != 1 {
			t.Errorf("%s delivered %d times", key, c)
		}
	}
	if len(countByText(msgs)) != n {
		t.Errorf("%d distinct messages of %d", len(countByText(msgs)), n)
	}
	t.Logf("%d sent before the stop, the rest after the restart", before)
}

// TestCrashedRowsComeBack: rows claimed by a dispatcher that died (left
// 'sending') are sent once their lease runs out.
func TestCrashedRowsComeBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, scaled)
	for i := range 3 {
		e.text(fmt.Sprintf("c%d", i), int64(200+i), storage.PriorityDefault)
	}
	rows, err := e.store.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: time.Second, ByPriority: 10})
	if err != nil || len(rows) != 3 {
		t.Fatalf("claim: %d %v", len(rows), err)
	}
	d, reg := e.dispatcher(scaledOptions())
	run(t, d)
	e.waitMessages(3, 10*time.Second)
	if r := e.waitStatus("c0", storage.OutboxSent, 5*time.Second); r.Attempts != 2 {
		t.Errorf("attempts %d", r.Attempts)
	}
	if v := metricValue(t, reg, "zhibu_outbox_retried_total", "reason", "lease_expired"); v != 3 {
		t.Errorf("retried_total{lease_expired} = %v", v)
	}
}

// TestTwoDispatchersOneDatabase runs two dispatchers with their own pools on
// one database at once, without leader election: SKIP LOCKED and the
// one-per-chat claim keep every row to one send. (Their pacing adds up, so
// this test gives the fake room; TestReplicasUnderLeader is the deployment.)
func TestTwoDispatchersOneDatabase(t *testing.T) {
	t.Parallel()
	lim := scaled
	lim.GlobalPerSecond, lim.GlobalBurst = 100, 100
	lim.ChatPerSecond = 20
	e := newEnv(t, lim)
	const n = 200
	for i := range n {
		e.text(fmt.Sprintf("d%03d", i), int64(300+i%20), i%7)
	}
	opts := scaledOptions()
	opts.GlobalPerSecond = 40
	opts.ChatPerSecond = 8
	d1, _ := e.dispatcherOn(openStore(t, e.url), opts)
	d2, _ := e.dispatcherOn(openStore(t, e.url), opts)
	run(t, d1)
	run(t, d2)
	msgs := e.waitMessages(n, 30*time.Second)
	for key, c := range countByText(msgs) {
		if c != 1 {
			t.Errorf("%s delivered %d times", key, c)
		}
	}
	for _, chat := range []int64{300, 301, 319} {
		var prev string
		for _, m := range e.api.MessagesTo(chat) {
			if prev != "" && m.Text < prev && rowPriority(t, e, m.Text) == rowPriority(t, e, prev) {
				t.Errorf("chat %d: %s after %s", chat, m.Text, prev)
			}
			prev = m.Text
		}
	}
}

func rowPriority(t *testing.T, e *env, key string) int { return e.row(key).Priority }

func TestEditsAndCallbacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, scaled)
	const chat = int64(-555)
	kb := json.RawMessage(`{"inline_keyboard":[[{"text":"通过","callback_data":"claim:12:ok"},{"text":"驳回","callback_data":"claim:12:no"}]]}`)
	e.enqueue(storage.OutMessage{DedupeKey: "claim:12:card", ChatID: chat, Priority: storage.PriorityDefault,
		Payload: map[string]any{"text": "<b>积分申请</b> 张三 +5", "parse_mode": "HTML", "reply_markup": kb}})
	// Enqueued right after, ranked higher: it still waits for the card.
	e.enqueue(storage.OutMessage{DedupeKey: "claim:12:decided", ChatID: chat, Priority: storage.PriorityReply,
		Method: "editMessageText", Payload: map[string]any{"edit_of": "claim:12:card", "text": "<b>积分申请</b> 张三 +5 ✅ 已通过", "parse_mode": "HTML"}})
	d, _ := e.dispatcher(scaledOptions())
	if n, err := d.RunOnce(ctx); err != nil || n != 2 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	// The keyboard goes out as enqueued (no copy_text added by the library's types).
	if c := e.api.CallsTo("sendMessage"); len(c) != 1 || c[0].Params["reply_markup"] != string(kb) {
		t.Fatalf("sendMessage calls: %+v", c)
	}
	card := e.row("claim:12:card")
	m, ok := e.api.Message(chat, int(card.MessageID.Int64))
	if !ok || !m.Edited || m.Plain != "积分申请 张三 +5 ✅ 已通过" || len(m.Keyboard) != 0 {
		t.Fatalf("edited message: %+v", m)
	}
	if e.row("claim:12:decided").MessageID.Int64 != card.MessageID.Int64 {
		t.Fatal("edit row does not record the edited message id")
	}
	// The same edit again: "message is not modified" counts as done.
	e.enqueue(storage.OutMessage{DedupeKey: "claim:12:decided-again", ChatID: chat, Method: "editMessageText",
		Payload: map[string]any{"edit_of": "claim:12:card", "text": "<b>积分申请</b> 张三 +5 ✅ 已通过", "parse_mode": "HTML"}})
	// An answer to a button tap: no chat, no pacing.
	upd := e.api.CallbackQuery(e.api.Bot(), m, "claim:12:ok")
	e.enqueue(storage.OutMessage{DedupeKey: "cb:" + upd.CallbackQuery.ID, Method: "answerCallbackQuery",
		Payload: map[string]any{"callback_query_id": upd.CallbackQuery.ID, "text": "已通过"}})
	if n, err := d.RunOnce(ctx); err != nil || n != 2 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	if r := e.row("claim:12:decided-again"); r.Status != storage.OutboxSent {
		t.Fatalf("not-modified edit: %s %s", r.Status, r.LastError.String)
	}
	if a := e.api.CallbackAnswers(); len(a) != 1 || a[0].Text != "已通过" {
		t.Fatalf("answers: %+v", a)
	}
	// An edit of a message that failed fails too.
	e.api.FailNext("sendMessage", chat, tgfake.BadRequest("nope"))
	e.text("doomed", chat, storage.PriorityDefault)
	e.enqueue(storage.OutMessage{DedupeKey: "doomed:edit", ChatID: chat, Method: "editMessageReplyMarkup",
		Payload: map[string]any{"edit_of": "doomed", "reply_markup": kb}})
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if r := e.row("doomed:edit"); r.Status != storage.OutboxFailed || !strings.Contains(r.FailedReason.String, "was not sent") {
		t.Fatalf("edit of a failed message: %s %q", r.Status, r.FailedReason.String)
	}
}

// TestPaidBroadcast: with PaidBroadcast the sends carry allow_paid_broadcast
// and the global rate is the one configured (here 500/s against a fake
// allowing as much): 200 messages to distinct chats in well under a second
// of sending, no 429.
func TestPaidBroadcast(t *testing.T) {
	t.Parallel()
	lim := tgfake.DefaultLimits()
	lim.GlobalPerSecond, lim.GlobalBurst = 500, 500
	e := newEnv(t, lim)
	for i := range 200 {
		e.text(fmt.Sprintf("b%03d", i), int64(10_000+i), storage.PriorityBulk)
	}
	opts := outbox.Options{GlobalPerSecond: 500, PaidBroadcast: true}
	d, _ := e.dispatcher(opts)
	if n, err := d.RunOnce(context.Background()); err != nil || n != 200 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	calls := e.api.CallsTo("sendMessage")
	for _, c := range calls {
		if c.Params["allow_paid_broadcast"] != "true" {
			t.Fatalf("call without allow_paid_broadcast: %v", c.Params)
		}
	}
	// Arrival times at the fake jitter (the first calls also open their
	// connections, and -race on a loaded machine delays some more than
	// others), so compare the last 150 calls against their 149 intervals
	// of 2 ms with 20% slack: a dispatcher ignoring the rate would send them
	// within a few milliseconds.
	tail := calls[len(calls)-150:]
	if span := tail[len(tail)-1].At.Sub(tail[0].At); span < 149*time.Second/500*8/10 {
		t.Errorf("150 messages in %s: faster than 500/s", span)
	}
	if c := e.api.TooManyRequests(); c != 0 {
		t.Errorf("429 answers: %d", c)
	}
}

func TestPhoto(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	e.api.AddFile("photo-1", []byte("\xff\xd8 not really a jpeg"))
	e.enqueue(storage.OutMessage{DedupeKey: "photo", ChatID: 50, Method: "sendPhoto",
		Payload: map[string]any{"photo": "photo-1", "caption": "<b>主题党日</b> 现场", "parse_mode": "HTML"}})
	d, _ := e.dispatcher(scaledOptions())
	if n, err := d.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	m := e.api.MessagesTo(50)
	if len(m) != 1 || m[0].Photo != "photo-1" || m[0].Plain != "主题党日 现场" {
		t.Fatalf("photo: %+v", m)
	}
}

func TestLongTextIsSplit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	const chat = int64(47)
	var b strings.Builder
	b.WriteString("<b>本月台账</b>\n<i>")
	for i := range 400 {
		fmt.Fprintf(&b, "第%03d条：三会一课已按时召开 &amp; 已上传照片\n", i)
	}
	b.WriteString("</i>结束")
	kb := json.RawMessage(`{"inline_keyboard":[[{"text":"知道了","callback_data":"ack:1"}]]}`)
	e.text("anchor", chat, storage.PriorityReply)
	d, _ := e.dispatcher(scaledOptions())
	if _, err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	anchor := e.row("anchor").MessageID.Int64
	e.enqueue(storage.OutMessage{DedupeKey: "ledger", ChatID: chat, Payload: map[string]any{
		"text": b.String(), "parse_mode": "HTML", "reply_markup": kb, "reply_parameters": map[string]any{"message_id": anchor}}})
	if n, err := d.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	msgs := e.api.MessagesTo(chat)[1:]
	if len(msgs) < 2 {
		t.Fatalf("%d parts", len(msgs))
	}
	r := e.row("ledger")
	if len(r.MessageIDs) != len(msgs) || r.MessageID.Int64 != int64(msgs[len(msgs)-1].MessageID) {
		t.Fatalf("ids: %v / %d, %d parts", r.MessageIDs, r.MessageID.Int64, len(msgs))
	}
	var plain []string
	for i, m := range msgs {
		if (m.ReplyTo != 0) != (i == 0) || (len(m.Keyboard) != 0) != (i == len(msgs)-1) {
			t.Errorf("part %d: reply_to %d, keyboard %v", i, m.ReplyTo, m.Keyboard)
		}
		plain = append(plain, m.Plain)
	}
	if !strings.HasPrefix(plain[0], "本月台账\n第000条") || !strings.HasSuffix(plain[len(plain)-1], "第399条：三会一课已按时召开 & 已上传照片\n结束") {
		t.Errorf("texts: %q … %q", plain[0][:30], plain[len(plain)-1])
	}
}

// TestListenWakesTheDispatcher: with polling set to a minute, a message
// enqueued while the dispatcher waits arrives within seconds because
// Enqueue's NOTIFY wakes it.
func TestListenWakesTheDispatcher(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	opts := scaledOptions()
	opts.PollInterval = time.Minute
	opts.MaintainEvery = time.Minute
	opts.ListenURL = e.url
	d, _ := e.dispatcher(opts)
	run(t, d)
	time.Sleep(200 * time.Millisecond) // let it settle into its wait (not an assertion)
	start := time.Now()
	e.text("wake", 48, storage.PriorityReply)
	e.waitMessages(1, 10*time.Second)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("woke after %s", took)
	}
}

func TestMetricsGauges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	for i := range 3 {
		e.enqueue(storage.OutMessage{DedupeKey: fmt.Sprintf("later%d", i), ChatID: 49, Priority: storage.PriorityBulk,
			Payload: map[string]string{"text": "x"}, NotBefore: time.Now().Add(time.Hour)})
	}
	d, reg := e.dispatcher(scaledOptions())
	if _, err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := metricValue(t, reg, "zhibu_outbox_queue_depth", "priority", "6"); v != 3 {
		t.Errorf("queue_depth{6} = %v", v)
	}
	if v := metricValue(t, reg, "zhibu_outbox_oldest_due_seconds", "", ""); v != 0 {
		t.Errorf("oldest_due_seconds = %v (nothing is due)", v)
	}
}

// metricValue reads one series of a registered metric (0 if absent).
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					ok = true
				}
			}
			if ok {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// TestReplicasUnderLeader is the deployment: two replicas, each with its
// own pool, elector and dispatcher under leader.Run. Only the leader sends;
// when it stops, the other takes over within a second and finishes. Every
// message arrives once and the fake never answers 429 — the new leader
// starts its chat pacing from the old leader's last sends.
func TestReplicasUnderLeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tgfake.Limits{GlobalPerSecond: 30, GlobalBurst: 30, ChatPerSecond: 5, ChatBurst: 1, GroupPerMinute: 300, GroupBurst: 1})
	const n = 120
	for i := range n {
		chat := int64(400 + i%6)
		if i%2 == 1 {
			chat = -chat
		}
		e.text(fmt.Sprintf("l%03d", i), chat, i%4)
	}
	type replica struct {
		el   *leader.Elector
		stop func()
	}
	var reps []*replica
	// The fake allows no burst at all here, so that a hand-over sending to a
	// chat too early is caught; the dispatcher runs 30% under the fake's
	// rates (286 ms between a chat's messages against the fake's 200 ms) so
	// that scheduling jitter on a loaded machine is not mistaken for that.
	opts := scaledOptions()
	opts.ChatPerSecond, opts.GroupPerMinute = 3.5, 210
	for range 2 {
		s := openStore(t, e.url)
		d, _ := e.dispatcherOn(s, opts)
		el := leader.NewElector(s.DB().DB, leader.Key("outbox-test"), nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = leader.Run(ctx, el, 100*time.Millisecond, d.Run) }()
		r := &replica{el: el, stop: func() { cancel(); <-done }}
		t.Cleanup(r.stop)
		reps = append(reps, r)
	}
	e.waitMessages(40, 20*time.Second)
	first, second := reps[0], reps[1]
	if !first.el.Leading() {
		first, second = second, first
	}
	if !first.el.Leading() || second.el.Leading() {
		t.Fatalf("leading: %v %v", first.el.Leading(), second.el.Leading())
	}
	stopped := time.Now()
	first.stop()
	testdb.Eventually(e.t, 3*time.Second, "the other replica to lead", second.el.Leading)
	t.Logf("took over in %s", time.Since(stopped))
	msgs := e.waitMessages(n, 30*time.Second)
	for key, c := range countByText(msgs) {
		if c != 1 {
			t.Errorf("%s delivered %d times", key, c)
		}
	}
	if c := e.api.TooManyRequests(); c != 0 {
		t.Errorf("429 answers: %d", c)
	}
}

// TestWarmStartPacesRecentChats: a message sent to a chat by a previous
// leader (recorded in the database just now) delays this dispatcher's next
// message to that chat by the chat's interval.
func TestWarmStartPacesRecentChats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, tgfake.DefaultLimits())
	e.text("before", 78, storage.PriorityDefault)
	rows, err := e.store.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: time.Minute, ByPriority: 1})
	if err != nil || len(rows) != 1 {
		t.Fatalf("claim: %v %v", rows, err)
	}
	sentAt := time.Now()
	if ok, err := e.store.OutboxSent(ctx, rows[0].ID, rows[0].Attempts, []int64{1}, sentAt); !ok || err != nil {
		t.Fatal(ok, err)
	}
	e.text("after", 78, storage.PriorityDefault)
	d, _ := e.dispatcher(outbox.Options{}) // 1/s per private chat
	if n, err := d.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	calls := e.api.CallsTo("sendMessage")
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	if gap := calls[0].At.Sub(sentAt); gap < time.Second-10*time.Millisecond {
		t.Errorf("sent %s after the previous leader's message to the chat (want ≥ 1s)", gap)
	}
}

// TestStaleFenceStopsDelivery: a dispatcher running under a leadership that
// another replica has superseded (its fencing epoch is no longer current)
// is refused its claims by the database, sends nothing and stops.
func TestStaleFenceStopsDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, tgfake.DefaultLimits())
	e.text("fenced", 91, storage.PriorityDefault)
	key := leader.Key("fence-test")
	e.setEpoch(key, 5)
	d, _ := e.dispatcher(scaledOptions())
	rctx, cancel := context.WithTimeout(leader.WithFence(ctx, leader.Fence{Key: key, Epoch: 4}), 10*time.Second)
	defer cancel()
	if err := d.Run(rctx); !errors.Is(err, storage.ErrStaleLeader) {
		t.Fatalf("Run under a stale fence: %v, want ErrStaleLeader", err)
	}
	if n := len(e.api.CallsTo("sendMessage")); n != 0 {
		t.Fatalf("%d messages sent under a stale fence", n)
	}
	if r := e.row("fenced"); r.Status != "pending" || r.Attempts != 0 {
		t.Fatalf("row after the refused claim: %+v", r)
	}
	// Under the current epoch the same dispatcher delivers it.
	dctx, stop := context.WithCancel(leader.WithFence(ctx, leader.Fence{Key: key, Epoch: 5}))
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	e.waitStatus("fenced", "sent", 10*time.Second)
	stop()
	<-done
}

// TestFaultBotAPI429PausesEverySend (SPEC §7.7): one 429 with retry_after
// 2 pauses every chat of the bot, not only the one refused: no call reaches
// the API until 2 s have passed (calls already in flight when the 429 came
// back aside), and then a single call goes first. Nothing is lost or sent
// twice, a red notice among them included. The fault suite's case
// botapi-429.
func TestFaultBotAPI429PausesEverySend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	// The first call is refused, whichever chat it is for, so that most
	// messages are still queued when the pause begins however the machine
	// schedules the dispatcher.
	const n = 30
	wants := e.texts("w", 500, n-1)
	wants = append(wants, e.red("w-red", 500+n-1))
	var refused atomic.Bool
	e.api.OnCall(func(method string, params map[string]string) *tgfake.Failure {
		if method == "sendMessage" && refused.CompareAndSwap(false, true) {
			f := tgfake.RetryAfter(2)
			return &f
		}
		return nil
	})
	d, _ := e.dispatcher(scaledOptions())
	run(t, d)
	e.waitMessages(n, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // anything late would show now
	faultreport.Report(t, faultreport.Tally("botapi-429", e.api.Messages(), wants, faultreport.NoTakeover), 0)

	calls := e.api.CallsTo("sendMessage")
	var at time.Time
	for _, c := range calls {
		if c.Status == http.StatusTooManyRequests {
			at = c.At
		}
	}
	if at.IsZero() {
		t.Fatalf("no 429 among %d calls", len(calls))
	}
	// The dispatcher learns of the 429 a moment after the fake logged it;
	// a call begun before that may still arrive.
	const inFlight = 150 * time.Millisecond
	var after []time.Time
	for _, c := range calls {
		if d := c.At.Sub(at); d > inFlight && d < 2*time.Second {
			t.Errorf("a call %s after a bot-wide 429 with retry_after 2 (chat %s)", d, c.Params["chat_id"])
		}
		if c.At.Sub(at) >= 2*time.Second {
			after = append(after, c.At)
		}
	}
	if len(after) < 2 {
		t.Fatalf("%d calls after the pause", len(after))
	}
	// The first call after the pause is a probe: the next waits for its answer.
	if gap := after[1].Sub(after[0]); gap <= 0 {
		t.Errorf("the probe after the pause had company: %s", gap)
	}
}

// TestFaultBotAPI500BacksOffBotWide: a Bot API answering 500 to
// everything is not hammered: after a few failures in a row every send
// pauses, longer each time, and sends resume when it recovers, losing
// nothing and sending nothing twice (a 500 proves the message was not
// delivered, so a red notice is sent again too). The fault suite's case
// botapi-500.
func TestFaultBotAPI500BacksOffBotWide(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	wants := e.texts("f", 600, 9)
	wants = append(wants, e.red("f-red", 609))
	var down atomic.Bool
	down.Store(true)
	e.api.OnCall(func(method string, _ map[string]string) *tgfake.Failure {
		if method == "sendMessage" && down.Load() {
			f := tgfake.InternalError()
			return &f
		}
		return nil
	})
	d, _ := e.dispatcher(scaledOptions())
	run(t, d)
	time.Sleep(4 * time.Second)
	failedCalls := len(e.api.CallsTo("sendMessage"))
	down.Store(false)
	e.waitMessages(10, 90*time.Second)
	time.Sleep(300 * time.Millisecond) // anything late would show now
	faultreport.Report(t, faultreport.Tally("botapi-500", e.api.Messages(), wants, faultreport.NoTakeover), 0)
	// Without a bot-wide back-off the per-row one (100 ms base here) would
	// make hundreds of calls in 4 s; with it the streak pauses 1 s, 2 s, ...
	if failedCalls > 60 {
		t.Fatalf("%d calls in 4 s against a Bot API answering 500", failedCalls)
	}
	t.Logf("%d calls in 4 s of 500s", failedCalls)
}

// TestNewLeaderSendsTheOldLeadersRowsAtOnce (SPEC §7.7): rows a dead leader
// had claimed are sent by the next within seconds of its take-over, not
// after their lease.
func TestNewLeaderSendsTheOldLeadersRowsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, scaled)
	key := leader.Key("takeover-test")
	e.setEpoch(key, 1)
	for i := range 3 {
		e.text(fmt.Sprintf("inflight%d", i), int64(700+i), storage.PriorityDefault)
	}
	// The old leader claims them (lease: an hour) and dies.
	rows, err := e.store.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: time.Hour, ByPriority: 10,
		Fence: storage.LeaderFence{Key: key, Epoch: 1}})
	if err != nil || len(rows) != 3 {
		t.Fatalf("old leader's claim: %d %v", len(rows), err)
	}
	e.setEpoch(key, 2)
	d, reg := e.dispatcher(scaledOptions())
	dctx, stop := context.WithCancel(leader.WithFence(ctx, leader.Fence{Key: key, Epoch: 2}))
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	defer func() { stop(); <-done }()
	began := time.Now()
	e.waitMessages(3, 10*time.Second)
	t.Logf("the old leader's rows sent %s after the take-over", time.Since(began))
	if v := metricValue(t, reg, "zhibu_outbox_retried_total", "reason", "leader_changed"); v != 3 {
		t.Errorf("retried_total{reason=leader_changed} = %v", v)
	}
}

// holdFirstCalls makes the first sendMessage call of each of texts hang at
// the fake Bot API until release; arrived receives each text as its call
// comes in. Later calls of the same text go through.
func holdFirstCalls(t *testing.T, api *tgfake.Server, texts ...string) (arrived <-chan string, release func()) {
	ch, gate := make(chan string, len(texts)), make(chan struct{})
	var held sync.Map
	api.OnCall(func(method string, p map[string]string) *tgfake.Failure {
		if method != "sendMessage" || !slices.Contains(texts, p["text"]) {
			return nil
		}
		if _, again := held.LoadOrStore(p["text"], true); !again {
			ch <- p["text"]
			<-gate
		}
		return nil
	})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return ch, release
}

// callsWithText counts the sendMessage calls the fake received with text.
func callsWithText(api *tgfake.Server, text string) int {
	n := 0
	for _, c := range api.CallsTo("sendMessage") {
		if c.Params["text"] == text {
			n++
		}
	}
	return n
}

// TestRedNoticeInFlightAtATakeOverIsNotSentAgain (SPEC §7.7, "a red notice
// never twice"): the old leader's calls of a red health notice and of an
// ordinary message hang at the Bot API when another replica takes over.
// The new leader sends the ordinary message again at once (it may have
// been delivered: the one duplicate) but not the red notice, which ends
// uncertain, logged and counted; the old leader's late answers change
// nothing.
func TestRedNoticeInFlightAtATakeOverIsNotSentAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	key := leader.Key("redonce-test")
	e.setEpoch(key, 1)
	e.enqueue(storage.OutMessage{DedupeKey: "red", ChatID: 801, Kind: storage.KindHealth, Priority: storage.PriorityRed,
		Payload: map[string]string{"text": "red"}})
	e.text("plain", 802, storage.PriorityDefault)
	arrived, release := holdFirstCalls(t, e.api, "red", "plain")

	old, _ := e.dispatcher(scaledOptions())
	odone, ostop := runFenced(old, leader.Fence{Key: key, Epoch: 1})
	defer ostop()
	for range 2 {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the old leader did not make both calls")
		}
	}

	// Another replica takes over while both calls hang.
	e.setEpoch(key, 2)
	d, reg := e.dispatcher(scaledOptions())
	done, stop := runFenced(d, leader.Fence{Key: key, Epoch: 2})
	defer func() { stop(); <-done }()
	red := e.waitStatus("red", storage.OutboxUncertain, 10*time.Second)
	// The fake records a call once it answers: the old leader's are held.
	testdb.Eventually(e.t, 10*time.Second, "the new leader to send the ordinary message again", func() bool { return callsWithText(e.api, "plain") == 1 })
	e.waitStatus("plain", storage.OutboxSent, 10*time.Second)

	// The old leader's calls complete (Telegram would have delivered both);
	// its results are refused and it stops.
	release()
	select {
	case err := <-odone:
		if !errors.Is(err, storage.ErrStaleLeader) {
			t.Errorf("old leader's Run: %v, want ErrStaleLeader", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the old leader did not stop")
	}
	got := countByText(e.api.Messages())
	if n := e.row("plain"); n.Status != storage.OutboxSent || n.Attempts != 2 {
		t.Errorf("ordinary row after the old leader's answer: %+v", n)
	}
	if got["red"] != 1 || callsWithText(e.api, "red") != 1 {
		t.Errorf("red notice: %d delivered, %d calls; want the old leader's one only", got["red"], callsWithText(e.api, "red"))
	}
	if got["plain"] != 2 {
		t.Errorf("ordinary message delivered %d times, want twice (the old leader's and the new one's)", got["plain"])
	}
	if r := e.row("red"); r.Status != storage.OutboxUncertain || r.FailedReason.String != storage.LeaderReplacedReason || r.Attempts != red.Attempts {
		t.Errorf("red row after the old leader's answer: %+v", r)
	}
	wantMetric(t, reg, "zhibu_outbox_uncertain_total", "leader_changed", 1)
	wantMetric(t, reg, "zhibu_outbox_retried_total", "leader_changed", 1)
}

// runFenced starts d.Run under leader fence f; stop cancels it, done
// receives what Run returned.
func runFenced(d *outbox.Dispatcher, f leader.Fence) (done <-chan error, stop func()) {
	ctx, cancel := context.WithCancel(leader.WithFence(context.Background(), f))
	ch := make(chan error, 1)
	go func() { ch <- d.Run(ctx) }()
	return ch, cancel
}

// wantMetric checks the counter name{reason} of reg.
func wantMetric(t *testing.T, reg *prometheus.Registry, name, reason string, want float64) {
	t.Helper()
	if v := metricValue(t, reg, name, "reason", reason); v != want {
		t.Errorf("%s{reason=%s} = %v, want %v", name, reason, v, want)
	}
}

// TestRedNoticeWithoutAnAnswerIsNotSentAgain: a red notice whose call
// times out (the Bot API delivers it but answers too late) ends uncertain
// and is not sent again, while an ordinary message in the same situation
// is sent again; a red notice the Bot API refused with an error (a 500) was
// not delivered, and is sent again.
func TestRedNoticeWithoutAnAnswerIsNotSentAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	red := func(key string, chat int64) {
		e.enqueue(storage.OutMessage{DedupeKey: key, ChatID: chat, Kind: storage.KindHealth, Priority: storage.PriorityRed,
			Payload: map[string]string{"text": key}})
	}
	red("red-slow", 811)
	e.text("plain-slow", 812, storage.PriorityDefault)
	red("red-500", 813)
	var seen sync.Map
	e.api.OnCall(func(method string, p map[string]string) *tgfake.Failure {
		if _, again := seen.LoadOrStore(p["text"], true); method != "sendMessage" || again {
			return nil
		}
		f := tgfake.Slow(time.Second)
		if p["text"] == "red-500" {
			f = tgfake.InternalError()
		}
		return &f
	})
	opts := scaledOptions()
	opts.SendTimeout = 300 * time.Millisecond
	d, reg := e.dispatcher(opts)
	run(t, d)
	r := e.waitStatus("red-slow", storage.OutboxUncertain, 10*time.Second)
	e.waitStatus("plain-slow", storage.OutboxSent, 10*time.Second)
	e.waitStatus("red-500", storage.OutboxSent, 10*time.Second)
	testdb.Eventually(e.t, 5*time.Second, "the slow calls to be delivered", func() bool {
		got := countByText(e.api.Messages())
		return got["red-slow"] == 1 && got["plain-slow"] == 2
	})
	time.Sleep(300 * time.Millisecond) // a late call would show now
	for text, want := range map[string]int{"red-slow": 1, "plain-slow": 2, "red-500": 2} {
		if n := callsWithText(e.api, text); n != want {
			t.Errorf("%s: %d calls, want %d", text, n, want)
		}
	}
	if got := countByText(e.api.Messages()); got["red-slow"] != 1 || got["red-500"] != 1 {
		t.Errorf("red notices delivered %v, want each once", got)
	}
	if !strings.HasPrefix(r.FailedReason.String, "no answer to its call: ") {
		t.Errorf("red-slow reason %q", r.FailedReason.String)
	}
	wantMetric(t, reg, "zhibu_outbox_uncertain_total", "no_answer", 1)
}
