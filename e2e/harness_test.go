// Package e2e tests zhibu from outside, as its users and other programs use
// it: Telegram updates through the real webhook, replies read back from the
// fake Bot API, the CLI as an operator runs it, a real PostgreSQL per test.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
)

const (
	secret   = "test-secret_123"
	username = "zhibu_bot"
)

// H is one running zhibu against a fresh database and a fake Bot API.
type H struct {
	t     *testing.T
	Ctx   context.Context
	Fake  *tgfake.Server
	Srv   *cli.Server
	Base  string // http://host:port
	DBURL string
	Cfg   config.Config
	Clock clockwork.Clock
	Env   []string
	Log   *bytes.Buffer // written by the server: read it with logText
	logw  *lockedWriter
}

type option func(*hopts)

type hopts struct {
	cfg   func(*config.Config)
	clock clockwork.Clock
	dbURL string
	fake  *tgfake.Server
}

func withConfig(f func(*config.Config)) option { return func(o *hopts) { o.cfg = f } }
func withClock(c clockwork.Clock) option       { return func(o *hopts) { o.clock = c } }
func withDB(url string) option                 { return func(o *hopts) { o.dbURL = url } }

// withFake makes serve talk to another harness's fake Bot API (a second
// replica of the same bot); the webhook stays registered to the first.
func withFake(f *tgfake.Server) option { return func(o *hopts) { o.fake = f } }

// start runs serve in-process with the webhook registered at the fake, so
// SendUpdate travels fake -> HTTP webhook -> store -> worker -> outbox -> fake.
func start(t *testing.T, opts ...option) *H {
	t.Helper()
	var o hopts
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fake := o.fake
	if fake == nil {
		fake = tgfake.New(tgfake.Options{Username: username})
		if err := fake.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fake.Close)
	}
	if o.dbURL == "" {
		o.dbURL = testdb.URL(t)
	}
	cfg := config.Default()
	cfg.Database.URL = o.dbURL
	cfg.Telegram.Token = fake.Token()
	cfg.Telegram.APIURL = fake.URL()
	cfg.Telegram.WebhookSecret = secret
	cfg.Telegram.BotUsername = username
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Healthcheck.Every = 0
	cfg.Log.Level = "debug"
	// Every day a working day, so that scenarios run on any day of the
	// week; the official calendar's own tests turn it on.
	cfg.Healthcheck.Calendar = "none"
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	logs := &bytes.Buffer{}
	logw := &lockedWriter{w: logs}
	log := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := cli.StartServer(ctx, cfg, log, o.clock)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(10 * time.Second) })
	h := &H{t: t, Ctx: ctx, Fake: fake, Srv: srv, Base: "http://" + srv.Addr, DBURL: o.dbURL, Cfg: cfg, Clock: srv.Clock, Log: logs, logw: logw,
		Env: []string{"ZHIBU_DATABASE_URL=" + o.dbURL, "ZHIBU_TELEGRAM_BOT_USERNAME=" + username,
			"ZHIBU_HEALTHCHECK_CALENDAR=" + cfg.Healthcheck.Calendar}}
	if cfg.Webhooks.AllowPrivateTargets { // the CLI follows the server's setting
		h.Env = append(h.Env, "ZHIBU_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true")
	}
	if o.fake == nil {
		h.setWebhook()
	}
	return h
}

func (h *H) setWebhook() {
	h.t.Helper()
	form := "url=" + h.Base + "/telegram/webhook&secret_token=" + secret
	resp, err := http.Post(h.Fake.URL()+"/bot"+h.Fake.Token()+"/setWebhook", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		h.t.Fatalf("setWebhook: %d", resp.StatusCode)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// logText is the server's log so far, read under the writer's lock (the
// server's goroutines write to it while the test reads).
func (h *H) logText() string {
	h.logw.mu.Lock()
	defer h.logw.mu.Unlock()
	return h.Log.String()
}

// cli runs a zhibu subcommand like an operator against the test database.
func (h *H) cli(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = cli.Run(h.Ctx, args, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: h.Env, Clock: h.Clock})
	return out.String(), errb.String(), code
}

// mustCLI runs a subcommand that must succeed.
func (h *H) mustCLI(args ...string) string {
	h.t.Helper()
	out, errs, code := h.cli(args...)
	if code != 0 {
		h.t.Fatalf("zhibu %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// seed imports the standard test county.
func (h *H) seed() {
	h.t.Helper()
	h.mustCLI("import", "units", "testdata/units.csv")
	h.mustCLI("import", "people", "testdata/people.csv")
}

// startViaProxy starts the harness on a fresh database reached through a
// proxy the test can cut; the CLI the test runs reaches it directly, at
// url.
func startViaProxy(t *testing.T) (h *H, proxy *testdb.Proxy, url string) {
	t.Helper()
	url = testdb.URL(t)
	proxy, viaProxy := testdb.NewProxy(t, url)
	h = start(t, withDB(viaProxy))
	h.Env = []string{"ZHIBU_DATABASE_URL=" + url, "ZHIBU_TELEGRAM_BOT_USERNAME=" + username}
	return h, proxy, url
}

// startUnits sets every unit's start date to startedOn(its code) and
// returns the units.
func (h *H) startUnits(startedOn func(code string) time.Time) []domain.Unit {
	h.t.Helper()
	us, err := h.Srv.Store.AllUnits(h.Ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, u := range us {
		if err := h.Srv.Store.SetStartedOn(h.Ctx, u.ID, startedOn(u.Code)); err != nil {
			h.t.Fatal(err)
		}
	}
	return us
}

// link binds a Telegram user to the person with phone, directly.
func (h *H) link(phone string, user models.User) {
	h.t.Helper()
	p, err := h.Srv.Store.PersonByPhone(h.Ctx, phone)
	if err != nil {
		h.t.Fatalf("link %s: %v", phone, err)
	}
	if err := h.Srv.Store.LinkChat(h.Ctx, p.ID, user.ID, user.ID, user.Username); err != nil {
		h.t.Fatal(err)
	}
}

// bindCode issues a bind code for the person with phone.
func (h *H) bindCode(phone string) string {
	h.t.Helper()
	p, err := h.Srv.Store.PersonByPhone(h.Ctx, phone)
	if err != nil {
		h.t.Fatal(err)
	}
	code, err := accounts.Of(h.Srv.App).NewBindCode(h.Ctx, domain.Operator, p.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}

// send delivers an update through the webhook and waits until it has been
// processed; it returns the update id.
func (h *H) send(u models.Update) int64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.Ctx, 15*time.Second)
	defer cancel()
	id, err := h.Fake.SendUpdateAndWait(ctx, u)
	if err != nil {
		h.t.Fatalf("deliver update: %v", err)
	}
	h.waitProcessed(id)
	return id
}

func (h *H) waitProcessed(id int64) string {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if o, err := h.Srv.Store.UpdateOutcome(h.Ctx, id); err == nil && o != "" {
			return o
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("update %d not processed in time", id)
	return ""
}

// say sends a text message from user in chat and returns the update id.
func (h *H) say(chat models.Chat, from models.User, text string) int64 {
	h.t.Helper()
	return h.send(h.Fake.TextMessage(chat, from, text))
}

// waitMsg waits for a message to chatID whose text contains want.
func (h *H) waitMsg(chatID int64, want string) tgfake.Message {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range h.Fake.MessagesTo(chatID) {
			if strings.Contains(m.Text+m.Caption, want) {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	var got []string
	for _, m := range h.Fake.MessagesTo(chatID) {
		got = append(got, m.Text)
	}
	h.t.Fatalf("no message to %d containing %q; got %q", chatID, want, got)
	return tgfake.Message{}
}

// noMsg asserts that no message to chatID contains s (after what was queued drains).
func (h *H) noMsg(chatID int64, s string) {
	h.t.Helper()
	h.drainOutbox()
	for _, m := range h.Fake.MessagesTo(chatID) {
		if strings.Contains(m.Text, s) {
			h.t.Fatalf("unexpected message to %d: %q", chatID, m.Text)
		}
	}
}

// drainOutbox waits until nothing is pending or in flight in the outbox.
func (h *H) drainOutbox() {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM outbox WHERE status IN ('pending','sending') AND not_before <= now()`); err == nil && n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatal("outbox did not drain")
}

func user(id int64, name string) models.User {
	return models.User{ID: id, FirstName: name, Username: fmt.Sprintf("u%d", id)}
}
