package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/bot"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/handlers"
	"github.com/zhibu/zhibu/healthcheck"
	zclock "github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/scheduler"
)

// sandboxUsername is the fake bot's username in the offline sandbox.
const sandboxUsername = "zhibu_sandbox_bot"

func runServe(ctx context.Context, env Env, args []string) error {
	f := newFlags("serve", env)
	cfg, err := f.parseConfig(args)
	if err != nil {
		return err
	}
	// The format is chosen for stderr itself; the logs are held back until
	// the start-up block is out, so that it is the first thing one reads.
	held := &heldWriter{w: env.Stderr}
	cfg.Log.Format = logFormat(cfg.Log.Format, env.Stderr)
	log := newLogger(cfg, held)
	srv, err := StartServer(ctx, cfg, log, env.Clock)
	if err != nil {
		held.release(nil)
		return err
	}
	si := startInfo{Addr: srv.Addr, Sandbox: srv.Fake != nil, Bot: srv.App.BotUsername()}
	if srv.Fake != nil {
		si.FakeURL = srv.Fake.URL()
		si.Demo = srv.sandbox != nil
	}
	if f.configGiven() {
		si.ConfigFlag = " --config " + f.config
	}
	held.release(func(w io.Writer) { writeStartBlock(w, si) })
	<-ctx.Done()
	log.Info("shutting down")
	return srv.Shutdown(cfg.HTTP.ShutdownTimeout.D())
}

// Server is a running `zhibu serve`: exported so that tests start the real
// thing in-process.
type Server struct {
	Addr   string
	Store  *app.Store
	App    *app.App
	Pool   *bot.Pool
	Router *bot.Router
	Bot    *tgbot.Bot
	Fake   *tgfake.Server // nil unless sandbox
	Config config.Config
	Clock  clockwork.Clock
	// Scheduler runs the periodic jobs (nil until started).
	Scheduler *scheduler.Scheduler
	Outbox    *outbox.Dispatcher
	Elector   *leader.Elector

	http     *http.Server
	cancel   context.CancelFunc
	bg       sync.WaitGroup
	log      *slog.Logger
	shutdown []func()
	sandbox  *sandbox
}

// StartServer starts every part of serve and returns once it listens.
// clock nil means the wall clock; tests pass a fake one.
func StartServer(ctx context.Context, cfg config.Config, log *slog.Logger, clock clockwork.Clock) (*Server, error) {
	if clock == nil {
		clock = zclock.Real()
	}
	s := &Server{Config: cfg, log: log, Clock: clock}
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()
	if cfg.SandboxMode() {
		s.Fake = tgfake.New(tgfake.Options{Username: sandboxUsername, Now: clock.Now})
		if err := s.Fake.Start(); err != nil {
			return nil, fmt.Errorf("sandbox: start fake Bot API: %w", err)
		}
		s.shutdown = append(s.shutdown, s.Fake.Close)
		cfg.Telegram.Token = s.Fake.Token()
		cfg.Telegram.APIURL = s.Fake.URL()
		cfg.HTTP.Listen = sandboxListen(cfg, log)
		if cfg.Telegram.WebhookSecret == "" {
			cfg.Telegram.WebhookSecret = randomHex(16)
		}
		if err := app.EnsureDatabase(ctx, cfg.Database.URL); err != nil {
			return nil, err
		}
	} else if cfg.Telegram.Token == "" {
		return nil, fmt.Errorf("config: %s", errNoToken)
	} else if cfg.Telegram.Mode == "webhook" && cfg.Telegram.WebhookSecret == "" {
		return nil, fmt.Errorf("config: telegram.webhook_secret: required in webhook mode")
	}
	s.Config = cfg
	// Refuse at launch what would otherwise fail every scheduler run.
	if _, err := healthcheck.BuildObligations(cfg.Healthcheck); err != nil {
		return nil, err
	}
	if _, err := healthcheck.Of((&app.App{Cfg: cfg})).HealthRules(); err != nil {
		return nil, fmt.Errorf("config: healthcheck: %w", err)
	}

	store, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	s.Store = store
	s.shutdown = append(s.shutdown, func() { store.Close() })

	// One idle connection per delivery worker: the default transport keeps 2.
	b, err := tgbot.New(cfg.Telegram.Token, tgbot.WithServerURL(cfg.Telegram.APIURL), tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, outbox.NewHTTPClient(outbox.FromConfig(cfg.Delivery))))
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	s.Bot = b
	// Outside the sandbox serve starts without reaching the Bot API: when
	// telegram.bot_username is empty, getMe is retried in the background.
	username := cfg.Telegram.BotUsername
	if s.Fake != nil && username == "" {
		if username, err = botUsername(ctx, cfg); err != nil {
			return nil, err
		}
	}

	s.App = app.New(store, cfg, clock.Now, log)
	if username != "" {
		s.App.SetBotUsername(username)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(app.SQLDB(store), "zhibu"))
	s.Router = bot.NewRouter(s.App, username, log)
	s.Pool = bot.NewPool(s.Router, cfg.Telegram.Workers, log, reg)
	s.shutdown = append(s.shutdown, s.Pool.Close)

	if s.Fake != nil {
		if err := seedSandbox(ctx, s); err != nil {
			return nil, err
		}
	}
	if s.Fake != nil {
		if err := publishCommands(ctx, b, s.Router); err != nil {
			log.Warn("setMyCommands failed", slog.Any("err", err))
		}
	}

	engine := handlers.Routes(handlers.Deps{
		Updates: s.Pool, ErrMalformed: bot.ErrMalformed, DB: store, App: s.App,
		WebhookSecret: cfg.Telegram.WebhookSecret, MaxBodyBytes: int64(cfg.HTTP.MaxBodyBytes),
		TrustedProxies: cfg.HTTP.TrustedProxies,
		Gatherer:       reg, Log: log, Extra: extraRoutes(s),
	})
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	s.Addr = ln.Addr().String()
	s.http = newHTTPServer(cfg.HTTP, engine)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", slog.Any("err", err))
		}
	}()

	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.goBG(func() { s.Pool.Run(bgCtx) })
	switch {
	case s.Fake != nil:
		// The fake delivers updates to our own webhook, like Telegram would.
		if _, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: "http://" + s.Addr + "/telegram/webhook", SecretToken: cfg.Telegram.WebhookSecret}); err != nil {
			return nil, fmt.Errorf("sandbox: setWebhook: %w", err)
		}
	default:
		// getMe, setMyCommands, and deleteWebhook then getUpdates or
		// setWebhook: each retried until the Bot API answers.
		s.goBG(func() { s.reachBotAPI(bgCtx) })
	}
	if err := startBackground(bgCtx, s, reg); err != nil {
		return nil, err
	}
	ok = true
	log.Info("zhibu serving", slog.String("addr", s.Addr), slog.Bool("sandbox", s.Fake != nil), slog.String("bot", username))
	return s, nil
}

// newHTTPServer bounds header, body, write and idle times (SPEC §7.5).
func newHTTPServer(c config.HTTP, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, c.ReadTimeout.D()),
		ReadTimeout:       c.ReadTimeout.D(),
		WriteTimeout:      c.WriteTimeout.D(),
		IdleTimeout:       c.IdleTimeout.D(),
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
}

func (s *Server) goBG(fn func()) {
	s.bg.Add(1)
	go func() { defer s.bg.Done(); fn() }()
}

// Shutdown stops accepting requests, lets the updates and sends in hand
// finish, then closes the database. Stored updates not yet processed stay in
// the database for the next start.
func (s *Server) Shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	if s.http != nil {
		err = s.http.Shutdown(ctx)
	}
	if s.cancel != nil {
		s.cancel()
	}
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("shutdown: timed out waiting for workers"))
	}
	s.closeAll()
	return err
}

func (s *Server) closeAll() {
	for i := len(s.shutdown) - 1; i >= 0; i-- {
		s.shutdown[i]()
	}
	s.shutdown = nil
}

// botUsername is telegram.bot_username, the sandbox bot's, or getMe's.
// reachBotAPI does, once the Bot API answers, what serve needs from it
// outside the sandbox: getMe when telegram.bot_username is empty, then
// setMyCommands, then deleteWebhook and polling or, with http.public_url,
// setWebhook. Every call is retried with a backoff up to a minute until ctx
// ends, so serve starts (and answers /healthz) while Telegram is unreachable.
func (s *Server) reachBotAPI(ctx context.Context) {
	cfg, log, b := s.Config, s.log, s.Bot
	retry := func(what string, fn func() error) bool {
		wait := time.Second
		for {
			err := fn()
			if err == nil {
				return true
			}
			log.Warn("telegram: "+what+" failed, retrying", slog.Any("err", err), slog.Duration("in", wait))
			select {
			case <-ctx.Done():
				return false
			case <-s.Clock.After(wait):
			}
			wait = min(2*wait, time.Minute)
		}
	}
	if s.App.BotUsername() == "" && !retry("getMe", func() error {
		name, err := botUsername(ctx, cfg)
		if err == nil {
			s.App.SetBotUsername(name)
			log.Info("bot username from getMe", slog.String("bot", name))
		}
		return err
	}) {
		return
	}
	if !retry("setMyCommands", func() error { return publishCommands(ctx, b, s.Router) }) {
		return
	}
	switch {
	case cfg.Telegram.Mode == "polling":
		if !retry("deleteWebhook", func() error {
			_, err := b.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{})
			return err
		}) {
			return
		}
		p := &bot.Poller{APIURL: cfg.Telegram.APIURL, Token: cfg.Telegram.Token, Pool: s.Pool, Log: log, Timeout: 50 * time.Second}
		_ = p.Run(ctx)
	case cfg.HTTP.PublicURL != "":
		url := strings.TrimRight(cfg.HTTP.PublicURL, "/") + "/telegram/webhook"
		if retry("setWebhook "+url, func() error {
			_, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: url, SecretToken: cfg.Telegram.WebhookSecret, MaxConnections: 40})
			return err
		}) {
			log.Info("webhook set", slog.String("url", url))
		}
	}
}

// errNoToken is what serve says when a real mode has no bot token.
const errNoToken = "telegram.token is empty: set it (ZHIBU_TELEGRAM_TOKEN), or run the offline sandbox with telegram.mode: sandbox (ZHIBU_TELEGRAM_MODE=sandbox; make run does)"

// sandboxListen keeps the sandbox, whose console needs no login and acts as
// anyone, on loopback: without sandbox.listen_any it binds 127.0.0.1 on the
// port of http.listen.
func sandboxListen(cfg config.Config, log *slog.Logger) string {
	addr := cfg.HTTP.Listen
	if cfg.Sandbox.ListenAny {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr // net.Listen reports it
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		return addr
	}
	loop := net.JoinHostPort("127.0.0.1", port)
	log.Warn("sandbox listens on loopback only; set sandbox.listen_any: true to expose it",
		slog.String("http.listen", addr), slog.String("addr", loop))
	return loop
}

func botUsername(ctx context.Context, cfg config.Config) (string, error) {
	if cfg.Telegram.BotUsername != "" {
		return cfg.Telegram.BotUsername, nil
	}
	if cfg.Telegram.Token == "" {
		return sandboxUsername, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := tgbot.New(cfg.Telegram.Token, tgbot.WithServerURL(cfg.Telegram.APIURL), tgbot.WithSkipGetMe())
	if err != nil {
		return "", fmt.Errorf("telegram: %w", err)
	}
	me, err := b.GetMe(ctx)
	if err != nil {
		return "", fmt.Errorf("telegram: getMe (set telegram.bot_username to skip): %w", err)
	}
	return me.Username, nil
}

func publishCommands(ctx context.Context, b *tgbot.Bot, r *bot.Router) error {
	var cmds []models.BotCommand
	for _, c := range r.Commands() {
		cmds = append(cmds, models.BotCommand{Command: c.Name, Description: c.Description})
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds})
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
