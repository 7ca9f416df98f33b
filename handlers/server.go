// Package handlers is zhibu's HTTP surface on gin: the Telegram webhook, the
// JSON API, the dashboard, health and metrics. One route table (Routes),
// thin handlers, one place that turns errors into statuses (fail).
package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/texts"
)

// api is what the HTTP API says (internal/texts/api.yaml).
var api = texts.API

// UpdateSink stores an inbound Telegram update (bot.Pool implements it).
// Ingest must return when ctx ends, even if the database does not answer:
// the webhook answers 503 at its deadline (SPEC §7.7).
type UpdateSink interface {
	Ingest(ctx context.Context, raw []byte) (duplicate bool, err error)
}

// Pinger checks the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the handlers' dependencies.
type Deps struct {
	Updates       UpdateSink
	ErrMalformed  error // the sink's error for a body that is not an update
	DB            Pinger
	App           *app.App
	WebhookSecret string
	MaxBodyBytes  int64
	// TrustedProxies may set the client address by X-Forwarded-For; none
	// when empty.
	TrustedProxies []string
	Gatherer       prometheus.Gatherer
	Log            *slog.Logger
	// Extra registers further routes (API, dashboard) on the engine.
	Extra []func(*gin.Engine)
}

// Routes builds the gin engine with every route.
func Routes(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Only config-validated addresses get here; an empty list trusts none.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		if d.Log != nil {
			d.Log.Error("http.trusted_proxies", slog.Any("err", err))
		}
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(recovery(d.Log), accessLog(d.Log))
	h := &handler{d: d}
	r.POST("/telegram/webhook", h.telegramWebhook)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", h.readyz)
	if d.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))
	}
	// Registered on the engine, not the v1 group: it needs no token.
	r.GET(OpenAPIPath, serveOpenAPI)
	v1 := r.Group("/api/v1")
	if d.App != nil {
		v1.Use(bodyLimit(d.MaxBodyBytes), bearerAuth(d.App, d.Log))
	}
	if d.App != nil {
		routes(r, v1, d)
	}
	for _, f := range d.Extra {
		f(r)
	}
	return r
}

type handler struct{ d Deps }

// readBody reads a request's body of at most limit bytes. On failure it has
// answered, 413 over the limit and 400 otherwise, and returns false.
func readBody(c *gin.Context, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(c, http.StatusRequestEntityTooLarge, api.T("body.too_large"))
			return nil, false
		}
		fail(c, http.StatusBadRequest, "cannot read body")
		return nil, false
	}
	return body, true
}

// telegramWebhook stores the update before answering: 2xx only once it is
// committed, so a crash or a database outage makes Telegram redeliver.
func (h *handler) telegramWebhook(c *gin.Context) {
	got := c.GetHeader("X-Telegram-Bot-Api-Secret-Token")
	if h.d.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.d.WebhookSecret)) != 1 {
		fail(c, http.StatusUnauthorized, "secret token mismatch")
		return
	}
	body, ok := readBody(c, h.d.MaxBodyBytes)
	if !ok {
		return
	}
	// The sink hands the update to a batcher and returns when ctx ends,
	// whatever the batcher's statement is doing (UpdateSink), so a deadline
	// is enough here; /readyz, which calls the driver itself, needs bounded.
	ctx, cancel := context.WithTimeout(c.Request.Context(), dbBudget)
	dup, err := h.d.Updates.Ingest(ctx, body)
	cancel()
	switch {
	case errors.Is(err, h.d.ErrMalformed):
		fail(c, http.StatusBadRequest, "body is not a Telegram update")
	case err != nil:
		h.d.Log.Error("webhook: store update", slog.Any("err", err))
		fail(c, http.StatusServiceUnavailable, "cannot store the update now; retry")
	case dup:
		c.Data(http.StatusOK, jsonType, okDuplicate)
	default:
		c.Data(http.StatusOK, jsonType, okStored)
	}
}

// dbBudget is how long the webhook and /readyz wait for the database
// before answering 503: they must answer within 2 s whatever the failure
// (SPEC §7.7), and the rest of the 2 s is left for the network.
const dbBudget = 1500 * time.Millisecond

// bounded runs fn with a context that ends after d and returns at the
// deadline even if fn does not: under a silent partition a lib/pq call
// ignores its context (it sends a cancel request over a new connection,
// which hangs too) until the connection's TCP user timeout. fn keeps
// running in the background until then, writing only its own variables,
// which the caller must not read after a timeout.
func bounded(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// fn may have finished at the same moment: prefer its answer.
		select {
		case err := <-done:
			return err
		default:
		}
		return fmt.Errorf("database did not answer within %s: %w", d, ctx.Err())
	}
}

// The webhook's answers, encoded once: every update gets one.
var (
	okStored    = []byte(`{"ok":true}`)
	okDuplicate = []byte(`{"duplicate":true,"ok":true}`)
)

const jsonType = "application/json; charset=utf-8"

func (h *handler) readyz(c *gin.Context) {
	if err := bounded(c.Request.Context(), dbBudget, h.d.DB.Ping); err != nil {
		fail(c, http.StatusServiceUnavailable, "database unreachable")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// internalError is the body of a 500: the details are in the log.
var internalError = api.T("internal")

// BadJSON says in Chinese what is wrong with a request body that did not
// decode, naming the field where it can, without the decoder's English.
func BadJSON(err error) string {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		return api.T("body.wrong_type", "field", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return api.T("body.unknown_field", "field", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return api.T("body.not_json")
}

// fail writes the one JSON error shape every endpoint uses.
func fail(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// failErr answers a use case's error with its status (statusOf). The body
// says what is wrong in Chinese (domain.UserMessage), never the Go error
// chain, which goes to the log when it is a failure of ours.
func failErr(c *gin.Context, log *slog.Logger, err error) {
	status := statusOf(err)
	msg, ok := domain.UserMessage(err)
	switch {
	case status == http.StatusRequestEntityTooLarge:
		fail(c, status, api.T("body.too_large"))
	case status == http.StatusInternalServerError || !ok:
		log.Error("request failed", slog.String("path", c.FullPath()), slog.Any("err", err))
		fail(c, http.StatusInternalServerError, internalError)
	default:
		fail(c, status, msg)
	}
}

func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				log.Error("http panic", slog.String("path", c.FullPath()), slog.Any("panic", v))
				fail(c, http.StatusInternalServerError, internalError)
			}
		}()
		c.Next()
	}
}

// accessLog logs requests without query strings or headers (which may carry
// secrets).
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := clock.Monotonic()
		c.Next()
		log.Debug("http", slog.String("method", c.Request.Method), slog.String("path", c.FullPath()),
			slog.Int("status", c.Writer.Status()), slog.Duration("took", time.Since(start)))
	}
}
