package tgfake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
)

// start runs a server and a go-telegram/bot client pointed at it.
func start(t *testing.T, opts Options) (*Server, *bot.Bot) {
	t.Helper()
	s := New(opts)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithSkipGetMe(),
		bot.WithErrorsHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var noLimits = Limits{Disabled: true}

// rawResp is a decoded Bot API answer.
type rawResp struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  map[string]any  `json:"parameters"`
}

// post sends one raw request and decodes the answer.
func post(t *testing.T, s *Server, path, contentType, body string) (int, rawResp) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, rawResp) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var r rawResp
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: not JSON: %q", req.URL.Path, data)
	}
	return resp.StatusCode, r
}

// form posts url-encoded parameters to a method.
func form(t *testing.T, s *Server, method string, vals url.Values) (int, rawResp) {
	t.Helper()
	return post(t, s, "/bot"+s.Token()+"/"+method, "application/x-www-form-urlencoded", vals.Encode())
}
