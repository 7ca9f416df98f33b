package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
)

// TestServeNoTokenRefuses: webhook or polling without a token no longer
// falls into the sandbox; serve refuses and says how to get the sandbox.
func TestServeNoTokenRefuses(t *testing.T) {
	for _, mode := range []string{"webhook", "polling"} {
		var stderr bytes.Buffer
		env := Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Environ: []string{
			"ZHIBU_DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable",
			"ZHIBU_HTTP_LISTEN=127.0.0.1:0", "ZHIBU_TELEGRAM_MODE=" + mode,
		}}
		if code := Run(context.Background(), []string{"serve"}, env); code == 0 {
			t.Fatalf("%s: serve without a token exited 0", mode)
		}
		for _, want := range []string{"telegram.token is empty", "ZHIBU_TELEGRAM_TOKEN", "telegram.mode: sandbox"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr lacks %q:\n%s", mode, want, stderr.String())
			}
		}
	}
}

func TestSandboxListen(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		listen string
		any    bool
		want   string
	}{
		{"0.0.0.0:8080", false, "127.0.0.1:8080"},
		{":8080", false, "127.0.0.1:8080"},
		{"[::]:0", false, "127.0.0.1:0"},
		{"127.0.0.1:8080", false, "127.0.0.1:8080"},
		{"[::1]:8080", false, "[::1]:8080"},
		{"localhost:8080", false, "localhost:8080"},
		{"0.0.0.0:8080", true, "0.0.0.0:8080"},
	} {
		cfg := config.Default()
		cfg.HTTP.Listen, cfg.Sandbox.ListenAny = c.listen, c.any
		if got := sandboxListen(cfg, log); got != c.want {
			t.Errorf("sandboxListen(%q, listen_any=%v) = %q, want %q", c.listen, c.any, got, c.want)
		}
	}
}

// TestSandboxLoopbackOnly: the sandbox asked to listen on 0.0.0.0 binds
// 127.0.0.1, unless sandbox.listen_any.
func TestSandboxLoopbackOnly(t *testing.T) {
	url := testdb.URL(t)
	for _, any := range []bool{false, true} {
		cfg := config.Default()
		cfg.Database.URL = url
		cfg.Telegram.Mode = "sandbox"
		cfg.HTTP.Listen = "0.0.0.0:0"
		cfg.Healthcheck.Every = 0
		cfg.Sandbox.Demo = false
		cfg.Sandbox.ListenAny = any
		srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err != nil {
			t.Fatalf("listen_any=%v: start the sandbox: %v", any, err)
		}
		host, _, _ := net.SplitHostPort(srv.Addr)
		_ = srv.Shutdown(10e9)
		loop := net.ParseIP(host).IsLoopback()
		if loop == any {
			t.Errorf("listen_any=%v: sandbox listens on %s", any, srv.Addr)
		}
	}
}

// TestServeUnreachableBotAPI: in webhook mode with no bot_username and a Bot
// API that refuses connections, serve still starts and answers /healthz;
// getMe is retried in the background.
func TestServeUnreachableBotAPI(t *testing.T) {
	cfg := config.Default()
	cfg.Database.URL = testdb.URL(t)
	cfg.Telegram.Token = "1:abc"
	cfg.Telegram.APIURL = "http://127.0.0.1:1"
	cfg.Telegram.WebhookSecret = "s3cret"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Healthcheck.Every = 0
	var logs syncBuffer
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatalf("serve refused to start with an unreachable Bot API: %v", err)
	}
	defer func() { _ = srv.Shutdown(10e9) }()
	resp, err := http.Get("http://" + srv.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "getMe failed, retrying"); {
		if time.Now().After(deadline) {
			t.Fatalf("no getMe retry logged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
