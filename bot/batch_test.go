package bot_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/lib/pq"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/bot"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/storage"
)

type batchEnv struct {
	t      testing.TB
	ctx    context.Context
	store  *storage.Store
	app    *app.App
	router *bot.Router
	fake   *tgfake.Server
	next   int64
	raws   map[int64][]byte
}

func newBatchEnv(t testing.TB) *batchEnv {
	store := testdb.New(t)
	a := app.New(store, config.Default(), time.Now, slog.New(slog.DiscardHandler))
	return &batchEnv{t: t, ctx: context.Background(), store: store, app: a,
		router: bot.NewRouter(a, "zhibu_bot", slog.New(slog.DiscardHandler)), fake: tgfake.New(tgfake.Options{}),
		raws: map[int64][]byte{}}
}

// store stores a private text message from user and returns its update id.
func (e *batchEnv) say(user int64, text string) int64 {
	e.t.Helper()
	from := models.User{ID: user, FirstName: "用户"}
	u := e.fake.TextMessage(e.fake.PrivateChat(from), from, text)
	e.next++
	u.ID = e.next
	raw, _ := json.Marshal(u)
	e.raws[u.ID] = raw
	if _, err := e.store.InsertUpdates(e.ctx, []storage.NewUpdate{{ID: u.ID, Raw: raw, ChatID: user, UserID: user, Kind: "message"}}); err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// jobs names stored updates for ProcessBatch, to be read from the store.
func jobs(ids ...int64) []bot.Job {
	js := make([]bot.Job, len(ids))
	for i, id := range ids {
		js[i] = bot.Job{UpdateID: id}
	}
	return js
}

// replies returns the texts enqueued for chat, in order.
func (e *batchEnv) replies(chat int64) []string {
	e.t.Helper()
	var ts []string
	if err := e.store.DB().Select(&ts, `SELECT payload->>'text' FROM outbox WHERE chat_id = $1 ORDER BY id`, chat); err != nil {
		e.t.Fatal(err)
	}
	return ts
}

// sameTransaction checks that the updates were processed in one
// transaction (one now() for all), not one by one after a failed batch.
func (e *batchEnv) sameTransaction(ids ...int64) {
	e.t.Helper()
	n := testdb.Count(e.t, e.store, `SELECT count(DISTINCT processed_at) FROM updates WHERE update_id = ANY($1)`, pq.Array(ids))
	if n != 1 {
		e.t.Fatalf("updates %v processed in %d transactions, want 1 batch", ids, n)
	}
}

func (e *batchEnv) outcome(id int64) (string, int) {
	e.t.Helper()
	var o struct {
		Outcome  *string `db:"outcome"`
		Attempts int     `db:"attempts"`
	}
	if err := e.store.DB().Get(&o, `SELECT outcome, attempts FROM updates WHERE update_id = $1`, id); err != nil {
		e.t.Fatal(err)
	}
	if o.Outcome == nil {
		return "", o.Attempts
	}
	return *o.Outcome, o.Attempts
}

// Within one batch, a sender bound by an earlier update of the batch is
// seen as bound by the later ones: the senders read ahead for the batch
// are read again after the binding.
func TestBatchSeesBindingMadeEarlierInTheBatch(t *testing.T) {
	e := newBatchEnv(t)
	unit, err := e.store.CreateUnit(e.ctx, "B1", "第一支部", domain.KindBranch, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pid, _, err := e.store.UpsertPerson(e.ctx, "王书记", "13800000001", unit.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddRole(e.ctx, pid, domain.RoleSecretary, unit.ID); err != nil {
		t.Fatal(err)
	}
	code, err := accounts.Of(e.app).NewBindCode(e.ctx, domain.Operator, pid)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{e.say(500, "/help"), e.say(501, "/help"), e.say(500, "/start "+code), e.say(500, "/help")}
	// Two of them as ingest hands them over (raw in hand), two to be read
	// from the store (as after a rescan).
	js := jobs(ids...)
	js[1].Raw, js[3].Raw = e.raws[ids[1]], e.raws[ids[3]]
	outcomes, err := e.router.ProcessBatch(e.ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(outcomes, ",") != "ok,ok,ok,ok" {
		t.Fatalf("outcomes %v", outcomes)
	}
	e.sameTransaction(ids...)
	rs := e.replies(500)
	if len(rs) != 3 || !strings.Contains(rs[0], "还没有绑定") || !strings.Contains(rs[1], "绑定成功") || !strings.Contains(rs[2], "/bind") {
		t.Fatalf("replies to the binding user, in order: %q", rs)
	}
	if rs := e.replies(501); len(rs) != 1 || !strings.Contains(rs[0], "还没有绑定") {
		t.Fatalf("replies to the other user: %q", rs)
	}
}

// An update that fails rolls its batch back; the others are then processed
// one by one, each once, and the failing one is counted and retried alone.
func TestBatchWithAFailingUpdateFallsBackToOneByOne(t *testing.T) {
	e := newBatchEnv(t)
	calls := 0
	e.router.Handle(bot.Command{Name: "boom", Handler: func(c *bot.Ctx) error {
		calls++
		panic("boom")
	}})
	a, b, c := e.say(600, "/help"), e.say(601, "/boom"), e.say(602, "/help")
	outcomes, err := e.router.ProcessBatch(e.ctx, jobs(a, b, c))
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v, want the panic reported", err)
	}
	if strings.Join(outcomes, ",") != "ok,error,ok" || calls != 2 {
		t.Fatalf("outcomes %v after %d calls, want ok,error,ok after 2 (batch, then alone)", outcomes, calls)
	}
	for _, chat := range []int64{600, 602} {
		if rs := e.replies(chat); len(rs) != 1 {
			t.Fatalf("chat %d got %d replies, want 1: %q", chat, len(rs), rs)
		}
	}
	if o, n := e.outcome(b); o != "" || n != 1 {
		t.Fatalf("failing update: outcome %q attempts %d, want pending with 1 failure", o, n)
	}
	// A batch holding an update that failed before sends it alone again:
	// after the third failure it is given up with an apology.
	for range 2 {
		d := e.say(603, "/help")
		if _, err := e.router.ProcessBatch(e.ctx, jobs(b, d)); err == nil {
			t.Fatal("no error for the failing update")
		}
		if o, _ := e.outcome(d); o != "ok" {
			t.Fatalf("batch-mate outcome %q", o)
		}
	}
	if o, n := e.outcome(b); o != "panic" || n != 3 || calls != 4 {
		t.Fatalf("after three failures: outcome %q attempts %d calls %d", o, n, calls)
	}
	if rs := e.replies(601); len(rs) != 1 || !strings.Contains(rs[0], "抱歉") {
		t.Fatalf("apology: %q", rs)
	}
}

// BenchmarkProcessBatch processes batches of 32 stored updates in one
// transaction each: /help from unbound senders (no statement of its own,
// the ingest benchmark's load) and a command that writes one row.
func BenchmarkProcessBatch(b *testing.B) {
	for _, cmd := range []string{"/help", "/write"} {
		b.Run(cmd[1:], func(b *testing.B) {
			e := newBatchEnv(b)
			e.router.Handle(bot.Command{Name: "write", Handler: func(c *bot.Ctx) error {
				if _, err := c.App.Store.CreateUnit(c, "W"+strconv.FormatInt(c.Update.ID, 10), "单位", domain.KindBranch, nil, time.Now()); err != nil {
					return err
				}
				return c.Reply("好。", nil)
			}})
			processBatches(b, e, cmd)
		})
	}
}

// processBatches runs b.N batches of 32 updates, each cmd from a user of its
// own, timing only ProcessBatch.
func processBatches(b *testing.B, e *batchEnv, cmd string) {
	b.Helper()
	for range b.N {
		b.StopTimer()
		ids := make([]int64, 32)
		for i := range ids {
			ids[i] = e.say(int64(1000+i), cmd)
		}
		js := jobs(ids...)
		for i := range js {
			js[i].Raw = e.raws[ids[i]]
		}
		b.StartTimer()
		if _, err := e.router.ProcessBatch(e.ctx, js); err != nil {
			b.Fatal(err)
		}
	}
}
