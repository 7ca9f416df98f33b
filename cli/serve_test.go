package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
)

// syncBuffer is a stderr the test can read while serve writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeStartBlock: `zhibu serve` in the sandbox prints what to do next —
// console, dashboard, the token command the login page suggests, two things
// to try — before any log line; stderr is not a terminal, so the logs are JSON.
func TestServeStartBlock(t *testing.T) {
	url := testdb.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	env := Env{Stdout: &bytes.Buffer{}, Stderr: stderr, Environ: []string{
		"ZHIBU_DATABASE_URL=" + url, "ZHIBU_HTTP_LISTEN=127.0.0.1:0", "ZHIBU_HEALTHCHECK_EVERY=0", "ZHIBU_TELEGRAM_MODE=sandbox",
	}}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"serve"}, env) }()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(stderr.String(), "运行日志") {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		case <-deadline:
			t.Fatalf("no start-up block after 60s:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
	}
	out := stderr.String()
	lines := strings.Split(out, "\n")
	firstJSON := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "{") {
			if !json.Valid([]byte(l)) {
				t.Fatalf("log line %d is not JSON: %s", i, l)
			}
			if firstJSON < 0 {
				firstJSON = i
			}
		}
	}
	if firstJSON < 0 {
		t.Fatalf("no JSON log lines:\n%s", out)
	}
	block := strings.Join(lines[:firstJSON], "\n")
	for _, want := range []string{
		"离线沙盒", "/sandbox", "看板", "/login",
		"./bin/zhibu token create --unit QA --role admin",
		"补上个月的支委会打卡", "由红灯变成绿灯",
	} {
		if !strings.Contains(block, want) {
			t.Errorf("start-up block lacks %q:\n%s", want, block)
		}
	}
	if !strings.Contains(block, "http://127.0.0.1:") {
		t.Errorf("start-up block has no URL to open:\n%s", block)
	}
	if strings.Count(out, "zhibu 已启动") != 1 {
		t.Errorf("want exactly one start-up block:\n%s", out)
	}
	// The logs came after the block, none were lost.
	if !strings.Contains(strings.Join(lines[firstJSON:], "\n"), `"msg":"zhibu serving"`) {
		t.Errorf("the serving log line is missing after the block:\n%s", out)
	}
	// The login page suggests the same command.
	page, err := os.ReadFile(filepath.Join("..", "web", "templates", "dashboard_pages.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), tokenCommand("", "QA")) {
		t.Errorf("the login page does not suggest %q", tokenCommand("", "QA"))
	}
}

func TestLogFormat(t *testing.T) {
	file, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var buf bytes.Buffer
	for _, c := range []struct {
		name, format string
		w            interface{ Write([]byte) (int, error) }
		want         string
	}{
		{"auto buffer", "auto", &buf, "json"},
		{"auto file", "auto", file, "json"},
		{"auto pipe", "auto", w, "json"},
		{"explicit text", "text", &buf, "text"},
		{"explicit json", "json", &buf, "json"},
		{"explicit text on file", "text", file, "text"},
	} {
		if got := logFormat(c.format, c.w); got != c.want {
			t.Errorf("%s: logFormat(%q) = %q, want %q", c.name, c.format, got, c.want)
		}
	}
	// A terminal, when the test has one.
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if got := logFormat("auto", tty); got != "text" {
			t.Errorf("auto on a terminal = %q, want text", got)
		}
		if got := logFormat("json", tty); got != "json" {
			t.Errorf("json on a terminal = %q, want json", got)
		}
	}
}

func TestBrowseURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"0.0.0.0:8080":   "http://127.0.0.1:8080",
		"[::]:9000":      "http://127.0.0.1:9000",
		":8080":          "http://127.0.0.1:8080",
		"[::1]:8080":     "http://[::1]:8080",
	} {
		if got := browseURL(addr); got != want {
			t.Errorf("browseURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
